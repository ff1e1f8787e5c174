//! Deleting one message (its thread goes with its last one), and removing a whole thread
//! with its messages, messages first.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::{Delete, DeleteRequest, Update, WriteRequest};
use hiresync_domain::ids::{ContractId, SeatId};

use super::records::{MessageRecord, ThreadRecord};
use super::{n, s, DynamoMailStore, THREAD};
use crate::batch::{batch_write, BatchPolicy};
use crate::condition::conditional;
use crate::error::{built, StoreError};
use crate::items::key;
use crate::keys;
use crate::race::{retry_on_race, Attempt};
use crate::transact;

impl DynamoMailStore {
    /// Deletes a message and its Message-ID guard; when it was the thread's last message,
    /// the thread goes too. Returns whether the message was there.
    ///
    /// Race with a message stored meanwhile in the same thread: the thread is dropped only
    /// on condition that its message count is zero, and the count moves in the same
    /// transactions as the message items, so a concurrent store keeps the thread. A message
    /// stored after the thread was dropped creates it afresh (private, as any new thread).
    pub async fn delete_message(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        let pk = keys::mail_pk(contract, seat);
        let sk = keys::message_sk(thread_id, provider_id);
        let thread_sk = keys::thread_sk(thread_id);
        // Cleared when the guard belongs to another copy, or when the thread is missing.
        let with_guard = AtomicBool::new(true);
        let with_thread = AtomicBool::new(true);
        let delete = |sk: &str| {
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(&pk, sk)))
        };
        retry_on_race(|| async {
            let Some(stored) = self.items().get::<MessageRecord>(&pk, &sk).await? else {
                return Ok(Attempt::Done(false));
            };
            let mut items = vec![
                transact::delete(delete(&sk).condition_expression("attribute_exists(pk)"))?,
                transact::delete(delete(&keys::provider_pointer_sk(provider_id)))?,
            ];
            let guard_index = match stored.internet_message_id.as_deref() {
                Some(mid) if with_guard.load(Ordering::Relaxed) => {
                    items.push(transact::delete(
                        delete(&keys::message_id_guard_sk(mid))
                            .condition_expression(
                                "attribute_not_exists(pk) OR provider_id = :provider",
                            )
                            .expression_attribute_values(":provider", s(provider_id)),
                    )?);
                    Some(items.len() - 1)
                }
                _ => None,
            };
            let thread_index = if with_thread.load(Ordering::Relaxed) {
                items.push(transact::update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(&pk, &thread_sk)))
                        .update_expression("SET #version = #version + :one ADD #count :minus_one")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_names("#count", "message_count")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":minus_one", n(-1)),
                )?);
                Some(items.len() - 1)
            } else {
                None
            };
            let Some(cancelled) = transact::send(&self.client, items).await? else {
                if with_thread.load(Ordering::Relaxed) {
                    self.drop_thread_if_empty(&pk, &thread_sk).await?;
                }
                return Ok(Attempt::Done(true));
            };
            let failed = |index: Option<usize>| {
                index.is_some_and(|i| cancelled.condition_failed(i).is_some())
            };
            if failed(Some(0)) {
                // Deleted meanwhile: the next read says so.
            } else if failed(guard_index) {
                with_guard.store(false, Ordering::Relaxed);
            } else if failed(thread_index) {
                with_thread.store(false, Ordering::Relaxed);
            } else {
                return cancelled.retry_if_contended();
            }
            Ok(Attempt::Lost(cancelled.into_error()))
        })
        .await
    }

    /// Drops a thread that has no message left; returns whether it did.
    async fn drop_thread_if_empty(&self, pk: &str, thread_sk: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, thread_sk)))
            .condition_expression("attribute_exists(pk) AND #count <= :zero")
            .expression_attribute_names("#count", "message_count")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        Ok(conditional("DynamoDB DeleteItem", result)?.is_ok())
    }

    /// Removes a thread with all its messages and their Message-ID guards, leaving no
    /// tombstone (for a purge; the sync removes threads with
    /// [`remove_thread_for_rule`](hiresync_domain::ports::ThreadStore::remove_thread_for_rule)
    /// and [`remove_thread_for_inactivity`](Self::remove_thread_for_inactivity)). Returns
    /// how many messages were removed.
    ///
    /// Messages go first and the thread last, so an interrupted removal leaves a thread
    /// that the next attempt (or the next expiry run) finds again, never orphaned
    /// messages. The thread is deleted on condition that its version is the one read
    /// before its messages were listed: a message stored meanwhile changes it, and the
    /// removal goes round again.
    pub async fn remove_thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<usize, StoreError> {
        let pk = keys::mail_pk(contract, seat);
        let thread_sk = keys::thread_sk(thread_id);
        let removed = AtomicUsize::new(0);
        retry_on_race(|| async {
            let thread = self.items().get::<ThreadRecord>(&pk, &thread_sk).await?;
            let messages = self
                .items()
                .query_all::<MessageRecord>(&pk, &keys::thread_messages_prefix(thread_id))
                .await?;
            removed.fetch_add(messages.len(), Ordering::Relaxed);
            let mut doomed = BTreeSet::new();
            for message in messages {
                if let Some(mid) = &message.internet_message_id {
                    doomed.insert(keys::message_id_guard_sk(mid));
                }
                doomed.insert(keys::provider_pointer_sk(&message.provider_id));
                doomed.insert(message.sk);
            }
            let requests = doomed
                .iter()
                .map(|sk| {
                    let delete = DeleteRequest::builder().set_key(Some(key(&pk, sk))).build();
                    built("DynamoDB BatchWriteItem", delete)
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<Vec<_>, _>>()?;
            batch_write(&self.client, &self.table, requests, BatchPolicy::default()).await?;
            let Some(thread) = thread else {
                return Ok(Attempt::Done(removed.load(Ordering::Relaxed)));
            };
            if self
                .delete_thread_at(&pk, &thread_sk, thread.version)
                .await?
            {
                return Ok(Attempt::Done(removed.load(Ordering::Relaxed)));
            }
            Ok(Attempt::Lost(StoreError::Conflict {
                entity: THREAD,
                key: format!("{pk}/{thread_sk}"),
                expected: thread.version,
                found: None,
            }))
        })
        .await
    }

    /// Deletes the thread if it is still at `version`, or is gone already.
    async fn delete_thread_at(&self, pk: &str, sk: &str, version: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_not_exists(pk) OR #version = :version")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", n(version))
            .send()
            .await;
        Ok(conditional("DynamoDB DeleteItem", result)?.is_ok())
    }
}
