//! The sync's port ([`ThreadStore`]): storing a message into its thread (the two steps of
//! the module documentation), reading a thread with its tombstone, and the removals the
//! sync asks for.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::mail::{Message, Thread, ThreadTombstone};
use hiresync_domain::ports::{Page, PageToken, StoreOutcome, ThreadStore};

use super::records::{GuardRecord, MessageRecord, ThreadRecord};
use super::{
    check_key, n, s, DynamoMailStore, GUARD, MAX_PARTITION_KEY, MAX_SORT_KEY, MESSAGE, THREAD,
    TOMBSTONE,
};
use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{decode, encode, key};
use crate::keys;
use crate::race::{retry_on_race, Attempt};
use crate::transact;

/// Every key names the contract with the seat (`SEAT#<contract>#<seat>`): the same seat id
/// in another contract is another mailbox.
#[async_trait]
impl ThreadStore for DynamoMailStore {
    /// Stores `message` of `thread`, idempotently (see the module documentation for the two
    /// steps and their order).
    ///
    /// The activity recorded is the later of `thread.last_activity_at` and the message's
    /// `sent_at`. A thread seen for the first time is created as the domain creates it
    /// ([`Thread::first_seen`]: private); an existing thread keeps its visibility,
    /// counterpart and creation facts.
    ///
    /// A message already stored under the same provider id but with different content is
    /// refused with [`StoreError::AlreadyExists`]: providers' ids are stable, so this is a
    /// mapping bug to look at, not something to overwrite silently.
    async fn store_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        if thread.contract_id != message.contract_id
            || thread.seat_id != message.seat_id
            || thread.thread_id != message.thread_id
        {
            return Err(StoreError::Invalid {
                entity: MESSAGE,
                problem: format!(
                    "message {} belongs to {}/{}/{}, not to thread {}/{}/{}",
                    message.provider_id,
                    message.contract_id,
                    message.seat_id,
                    message.thread_id,
                    thread.contract_id,
                    thread.seat_id,
                    thread.thread_id
                ),
            });
        }
        let at = thread.last_activity_at.max(message.sent_at);
        let thread_record = ThreadRecord::first_seen(thread, at);
        let message_record = MessageRecord::new(message);
        let guard = GuardRecord::guard(message);
        check_key(THREAD, &thread_record.pk, MAX_PARTITION_KEY)?;
        check_key(THREAD, &thread_record.sk, MAX_SORT_KEY)?;
        check_key(THREAD, &thread_record.counterpart_pk, MAX_PARTITION_KEY)?;
        check_key(THREAD, &thread_record.counterpart_sk, MAX_SORT_KEY)?;
        check_key(THREAD, &thread_record.expiry_sk, MAX_SORT_KEY)?;
        check_key(MESSAGE, &message_record.sk, MAX_SORT_KEY)?;
        if let Some(guard) = &guard {
            check_key(GUARD, &guard.sk, MAX_SORT_KEY)?;
        }

        let outcome = self
            .write_message(&thread_record, &message_record, guard.as_ref(), message)
            .await?;
        if outcome == StoreOutcome::Stored || outcome == StoreOutcome::AlreadyStored {
            self.advance_activity(&thread_record).await?;
        }
        Ok(outcome)
    }

    async fn thread_with_tombstone(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<(Option<Thread>, Option<ThreadTombstone>), StoreError> {
        tokio::try_join!(
            self.thread(contract, seat, thread_id),
            self.tombstone(contract, seat, thread_id)
        )
    }

    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        let mut messages: Vec<Message> = self
            .items()
            .query_all::<MessageRecord>(
                &keys::mail_pk(contract, seat),
                &keys::thread_messages_prefix(thread_id),
            )
            .await?
            .into_iter()
            .map(MessageRecord::into_domain)
            .collect();
        messages.sort_by(|a, b| (a.sent_at, &a.provider_id).cmp(&(b.sent_at, &b.provider_id)));
        Ok(messages)
    }

    /// Resolves the provider id through its pointer, then
    /// [`delete_message`](DynamoMailStore::delete_message).
    /// The provider-id pointers of the seat's partition, in key order; a token is the
    /// sort key of the last pointer of the page before.
    async fn stored_provider_ids(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<String>, StoreError> {
        let prefix = keys::provider_pointer_sk("");
        if start
            .is_some_and(|t| t.as_str().len() > MAX_SORT_KEY || !t.as_str().starts_with(&prefix))
        {
            return Err(StoreError::BadPageToken);
        }
        let page = self
            .items()
            .query_prefix::<GuardRecord>(
                &keys::mail_pk(contract, seat),
                &prefix,
                limit.clamp(1, 1000),
                start,
            )
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|p| p.provider_id).collect(),
            next: page.next,
        })
    }

    async fn delete_by_provider_id(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        let pointer = self
            .items()
            .get::<GuardRecord>(
                &keys::mail_pk(contract, seat),
                &keys::provider_pointer_sk(provider_id),
            )
            .await?;
        match pointer {
            Some(p) => {
                self.delete_message(contract, seat, &p.thread_id, provider_id)
                    .await
            }
            None => Ok(false),
        }
    }

    /// Keeps `tombstone` merged with the tombstone already there and with what the live
    /// thread knows (its counterpart, activity and origin), then removes the thread.
    ///
    /// A thread already removed keeps its tombstone (merged, and not written again when
    /// nothing changes) and nothing else happens. A thread with no stored messages at all
    /// gets a tombstone too, so a group conversation whose newest message was judged first
    /// never starts as a one-to-one thread from an older message.
    async fn remove_thread_for_rule(
        &self,
        tombstone: &ThreadTombstone,
    ) -> Result<usize, StoreError> {
        if tombstone.removed_for_inactivity() {
            return Err(StoreError::Invalid {
                entity: TOMBSTONE,
                problem: "a removal for inactivity goes through remove_thread_for_inactivity"
                    .to_owned(),
            });
        }
        let mut buried = tombstone.clone();
        if let Some(thread) = self
            .thread(&tombstone.contract, &tombstone.seat, &tombstone.thread_id)
            .await?
        {
            buried = buried.with_thread(&thread);
        }
        self.keep_tombstone(buried).await?;
        self.remove_thread(&tombstone.contract, &tombstone.seat, &tombstone.thread_id)
            .await
    }
}

impl DynamoMailStore {
    /// A seat's thread, if it has one by that id.
    pub async fn thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<Thread>, StoreError> {
        Ok(self
            .items()
            .get::<ThreadRecord>(&keys::mail_pk(contract, seat), &keys::thread_sk(thread_id))
            .await?
            .map(ThreadRecord::into_domain))
    }

    /// Step 1: message, guard and thread-if-missing in one transaction, on condition that
    /// the thread was not removed for a rule.
    async fn write_message(
        &self,
        thread: &ThreadRecord,
        record: &MessageRecord,
        guard: Option<&GuardRecord>,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        let put = |item| Put::builder().table_name(&self.table).set_item(Some(item));
        let mut items = vec![transact::put(
            put(encode(record)?)
                .condition_expression("attribute_not_exists(pk)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                ),
        )?];
        let guard_index = match guard {
            Some(guard) => {
                items.push(transact::put(
                    put(encode(guard)?)
                        .condition_expression("attribute_not_exists(pk) OR provider_id = :provider")
                        .expression_attribute_values(":provider", s(guard.provider_id.clone()))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        ),
                )?);
                Some(items.len() - 1)
            }
            None => None,
        };
        items.push(self.thread_upsert(thread)?);
        // A thread removed for a rule stays out, whoever writes: its tombstone must be
        // absent, or say the thread only went quiet (a removal for inactivity, which a new
        // message may revive), or be one an earlier version left for a third participant
        // (which keeps nothing out any more: `ThreadTombstone::is_void`).
        items.push(transact::check(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    &record.pk,
                    &keys::tombstone_sk(&message.thread_id),
                )))
                .condition_expression("attribute_not_exists(pk) OR #reason IN (:inactivity, :void)")
                .expression_attribute_names("#reason", "reason")
                .expression_attribute_values(
                    ":inactivity",
                    s(ThreadTombstone::INACTIVITY.to_owned()),
                )
                .expression_attribute_values(
                    ":void",
                    s(ThreadTombstone::VOID_PARTICIPANTS.to_owned()),
                ),
        )?);
        let tombstone_index = items.len() - 1;
        // The provider id's pointer to its thread: unconditional, it only ever says the same.
        items.push(transact::put(put(encode(&GuardRecord::pointer(message))?))?);

        retry_on_race(|| async {
            let Some(cancelled) = transact::send(&self.client, items.clone()).await? else {
                return Ok(Attempt::Done(StoreOutcome::Stored));
            };
            if cancelled.condition_failed(tombstone_index).is_some() {
                return Ok(Attempt::Done(StoreOutcome::ThreadRemoved));
            }
            if let Some(failed) = cancelled.condition_failed(0) {
                let stored = match failed.old {
                    Some(item) => Some(decode::<MessageRecord>(item)?),
                    None => {
                        self.items()
                            .get::<MessageRecord>(&record.pk, &record.sk)
                            .await?
                    }
                };
                return match stored.map(MessageRecord::into_domain) {
                    Some(stored) if stored == *message => {
                        Ok(Attempt::Done(StoreOutcome::AlreadyStored))
                    }
                    Some(_) => Err(StoreError::AlreadyExists {
                        entity: MESSAGE,
                        key: format!("{}/{} (with different content)", record.pk, record.sk),
                    }),
                    // Deleted since: try again.
                    None => Ok(Attempt::Lost(cancelled.into_error())),
                };
            }
            if let Some(failed) = guard_index.and_then(|i| cancelled.condition_failed(i)) {
                let current = match (failed.old, guard) {
                    (Some(item), _) => Some(decode::<GuardRecord>(item)?),
                    (None, Some(g)) => self.items().get::<GuardRecord>(&g.pk, &g.sk).await?,
                    (None, None) => None,
                };
                return match current {
                    Some(current) => Ok(Attempt::Done(StoreOutcome::DuplicateOfOther {
                        provider_id: current.provider_id,
                    })),
                    // The other copy was deleted since: try again.
                    None => Ok(Attempt::Lost(cancelled.into_error())),
                };
            }
            cancelled.retry_if_contended()
        })
        .await
    }

    /// The thread half of step 1: fills in every attribute the thread does not have yet,
    /// counts the message, bumps the version. Never fails on an existing thread.
    fn thread_upsert(&self, thread: &ThreadRecord) -> Result<TransactWriteItem, StoreError> {
        let mut attributes = encode(thread)?;
        for managed in ["pk", "sk", "message_count", "version"] {
            attributes.remove(managed);
        }
        let mut attributes: Vec<(String, AttributeValue)> = attributes.into_iter().collect();
        attributes.sort_by(|a, b| a.0.cmp(&b.0));
        let mut names = HashMap::from([
            ("#version".to_owned(), "version".to_owned()),
            ("#count".to_owned(), "message_count".to_owned()),
        ]);
        let mut values = HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]);
        let mut sets = Vec::with_capacity(attributes.len() + 1);
        for (i, (name, value)) in attributes.into_iter().enumerate() {
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
            sets.push(format!("#a{i} = if_not_exists(#a{i}, :a{i})"));
        }
        sets.push("#version = if_not_exists(#version, :zero) + :one".to_owned());
        transact::update(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&thread.pk, &thread.sk)))
                .update_expression(format!("SET {} ADD #count :one", sets.join(", ")))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values)),
        )
    }

    /// Step 2: moves the thread's activity and expiry keys forward, never back. A failed
    /// condition means the stored activity is as new or newer (or the thread is gone).
    async fn advance_activity(&self, thread: &ThreadRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&thread.pk, &thread.sk)))
            .update_expression(
                "SET last_activity_at = :at, activity_us = :us, expiry_pk = :epk, \
                 expiry_sk = :esk, #version = #version + :one",
            )
            .condition_expression("attribute_exists(pk) AND activity_us < :us")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":at", s(thread.last_activity_at.to_string()))
            .expression_attribute_values(":us", n(thread.activity_us))
            .expression_attribute_values(":epk", s(thread.expiry_pk.clone()))
            .expression_attribute_values(":esk", s(thread.expiry_sk.clone()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        let _moved_or_already_newer = conditional("DynamoDB UpdateItem", result)?;
        Ok(())
    }
}
