//! Synced mail on the MailTable: threads, their messages, Message-ID guards and skip
//! decisions, all in the partition of the seat that owns the mailbox (docs/data-model.md,
//! patterns 12-17). Threads are private to that seat until its holder shares them.
//!
//! # Storing a message: two steps, in this order
//!
//! 1. One TransactWriteItems with
//!    - the message, on condition that its provider id is new;
//!    - its Message-ID guard, on condition that the guard is new or already points at this
//!      provider id (the same RFC message seen in Inbox and in Sent Items is stored once);
//!    - the thread, as an update that only fills attributes the thread does not have yet
//!      (`if_not_exists`) and counts the message (`ADD message_count 1`). It has no
//!      condition, so an existing thread never cancels the transaction.
//! 2. A conditional UpdateItem that moves the thread's last activity, and the expiry keys
//!    derived from it, forward only: `activity_us < :us`. When the condition fails a newer
//!    message got there first, and that failure is the expected outcome, not an error.
//!
//! A thread's last activity is therefore only ever written by "forward" updates (or by
//! its creation), so any order of delivery ends at the latest activity. Step 2 also runs
//! when step 1 finds the message already stored: a crash between the steps makes the
//! caller fail, the queue redelivers, step 1 answers `AlreadyStored` and step 2 happens
//! then. Nothing is lost, and the thread never shows activity of a message that is not
//! stored (step 2 follows a committed step 1).
//!
//! # Deleting and counting
//!
//! The thread counts its message items (`message_count`) in the same transactions that
//! create and delete them. Dropping a thread whose last message was deleted is a delete
//! conditional on that count being zero, so a message stored meanwhile keeps its thread.
//!
//! # Removing a thread, and what stays of it
//!
//! A thread removed because a message broke a sync rule
//! ([`DynamoMailStore::remove_thread_for_rule`]) or because it went idle
//! ([`DynamoMailStore::remove_thread_for_inactivity`]) leaves a [`ThreadTombstone`]: its
//! participants, last activity, when and why it was removed. The sync policy reads it as the
//! thread's state, so a later one-to-one message (or a replayed older one) of a thread that
//! became a group conversation never starts it again, and a thread removed for inactivity
//! syncs only what came after the removal.
//!
//! The tombstone is written first and the thread removed after it: an interrupted removal
//! leaves a live thread beside its tombstone, which the next judgement reads together and
//! removes again. Tombstones merge (participants are a union, activity moves forward, a
//! removal for a rule outranks one for inactivity), so duplicated and reordered removals end
//! in the same item, and a removal that changes nothing writes nothing.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, DeleteRequest, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::{Direction, Message, SkipRecord, Thread, ThreadTombstone, Visibility};
use hiresync_domain::ports::StoreOutcome;
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::batch::{batch_write, BatchPolicy};
use crate::error::StoreError;
use crate::items::{decode, encode, key, Item, Record};
use crate::keys;
use hiresync_domain::ports::{Page, PageToken};

/// Attempts of an operation that re-reads and retries when it races with another writer.
const MAX_ATTEMPTS: u32 = 5;
/// DynamoDB's limits on key attributes, in bytes.
const MAX_PARTITION_KEY: usize = 2048;
const MAX_SORT_KEY: usize = 1024;

const THREAD: &str = "thread";
const MESSAGE: &str = "message";
const GUARD: &str = "message_id";
const SKIP: &str = "skip";
const POINTER: &str = "provider_id";
const TOMBSTONE: &str = "thread tombstone";

#[derive(Serialize, Deserialize)]
struct TombstoneItem {
    pk: String,
    sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    participants: BTreeSet<EmailAddress>,
    started_from_product: bool,
    last_activity_at: Timestamp,
    removed_at: Timestamp,
    reason: String,
    /// Epoch seconds at which DynamoDB may remove the item.
    ttl: i64,
    version: u64,
}

impl Record for TombstoneItem {
    const ENTITY: &'static str = TOMBSTONE;
}

impl TombstoneItem {
    fn new(t: &ThreadTombstone, version: u64) -> Self {
        Self {
            pk: keys::mail_pk(&t.seat),
            sk: keys::tombstone_sk(&t.thread_id),
            entity: TOMBSTONE.to_owned(),
            contract_id: t.contract.clone(),
            seat_id: t.seat.clone(),
            thread_id: t.thread_id.clone(),
            participants: t.participants.clone(),
            started_from_product: t.started_from_product,
            last_activity_at: t.last_activity_at,
            removed_at: t.removed_at,
            reason: t.reason.clone(),
            ttl: t.forget_after().as_second(),
            version,
        }
    }

    fn into_domain(self) -> ThreadTombstone {
        ThreadTombstone {
            contract: self.contract_id,
            seat: self.seat_id,
            thread_id: self.thread_id,
            participants: self.participants,
            started_from_product: self.started_from_product,
            last_activity_at: self.last_activity_at,
            removed_at: self.removed_at,
            reason: self.reason,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ThreadRecord {
    pk: String,
    sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    counterpart: EmailAddress,
    visibility: Visibility,
    started_from_product: bool,
    last_activity_at: Timestamp,
    /// `last_activity_at` as microseconds since the epoch: a number, so that a condition
    /// can compare it (RFC 3339 strings with optional fractions do not sort as time).
    activity_us: i64,
    counterpart_pk: String,
    counterpart_sk: String,
    expiry_pk: String,
    expiry_sk: String,
    /// The number of message items of the thread, kept in the transactions that write and
    /// delete them.
    message_count: i64,
    version: u64,
}

impl Record for ThreadRecord {
    const ENTITY: &'static str = THREAD;
}

impl ThreadRecord {
    /// A new thread with activity at `at`. New threads are private whatever `thread` says:
    /// sharing is the owner's act ([`DynamoMailStore::set_visibility`]), never a side effect
    /// of syncing.
    fn new(thread: &Thread, at: Timestamp) -> Self {
        let expires_at = expiry_of(thread, at);
        Self {
            pk: keys::mail_pk(&thread.seat_id),
            sk: keys::thread_sk(&thread.thread_id),
            entity: THREAD.to_owned(),
            contract_id: thread.contract_id.clone(),
            seat_id: thread.seat_id.clone(),
            thread_id: thread.thread_id.clone(),
            counterpart: thread.counterpart.clone(),
            visibility: Visibility::Private,
            started_from_product: thread.started_from_product,
            last_activity_at: at,
            activity_us: at.as_microsecond(),
            counterpart_pk: keys::counterpart_pk(&thread.contract_id, &thread.counterpart),
            counterpart_sk: keys::counterpart_sk(&thread.seat_id, &thread.thread_id),
            expiry_pk: keys::expiry_pk(&thread.seat_id, &thread.thread_id, expires_at),
            expiry_sk: keys::expiry_sk(expires_at, &thread.seat_id, &thread.thread_id),
            message_count: 0,
            version: 0,
        }
    }

    fn into_domain(self) -> Thread {
        Thread {
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            thread_id: self.thread_id,
            counterpart: self.counterpart,
            visibility: self.visibility,
            started_from_product: self.started_from_product,
            last_activity_at: self.last_activity_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct MessageRecord {
    pk: String,
    sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    provider_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    internet_message_id: Option<String>,
    direction: Direction,
    from: EmailAddress,
    to: Vec<EmailAddress>,
    cc: Vec<EmailAddress>,
    bcc: Vec<EmailAddress>,
    subject: String,
    sent_at: Timestamp,
}

impl Record for MessageRecord {
    const ENTITY: &'static str = MESSAGE;
}

impl MessageRecord {
    fn new(m: &Message) -> Self {
        Self {
            pk: keys::mail_pk(&m.seat_id),
            sk: keys::message_sk(&m.thread_id, &m.provider_id),
            entity: MESSAGE.to_owned(),
            contract_id: m.contract_id.clone(),
            seat_id: m.seat_id.clone(),
            thread_id: m.thread_id.clone(),
            provider_id: m.provider_id.clone(),
            internet_message_id: m.internet_message_id.clone(),
            direction: m.direction,
            from: m.from.clone(),
            to: m.to.clone(),
            cc: m.cc.clone(),
            bcc: m.bcc.clone(),
            subject: m.subject.clone(),
            sent_at: m.sent_at,
        }
    }

    fn into_domain(self) -> Message {
        Message {
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            thread_id: self.thread_id,
            provider_id: self.provider_id,
            internet_message_id: self.internet_message_id,
            direction: self.direction,
            from: self.from,
            to: self.to,
            cc: self.cc,
            bcc: self.bcc,
            subject: self.subject,
            sent_at: self.sent_at,
        }
    }
}

/// Points an RFC Message-ID at the one message stored for it.
#[derive(Serialize, Deserialize)]
struct GuardRecord {
    pk: String,
    sk: String,
    entity: String,
    provider_id: String,
    thread_id: String,
}

impl Record for GuardRecord {
    const ENTITY: &'static str = "message-id guard";
}

#[derive(Serialize, Deserialize)]
struct SkipItem {
    pk: String,
    sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    counterpart: EmailAddress,
    provider_id: String,
    /// The message's thread; absent on decisions recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thread_id: Option<String>,
    at: Timestamp,
    code: String,
    explanation: String,
    decided_at: Timestamp,
    /// Epoch seconds at which DynamoDB may remove the item.
    ttl: i64,
}

impl Record for SkipItem {
    const ENTITY: &'static str = "skip decision";
}

impl SkipItem {
    fn into_domain(self) -> SkipRecord {
        SkipRecord {
            contract: self.contract_id,
            seat: self.seat_id,
            counterpart: self.counterpart,
            provider_id: self.provider_id,
            at: self.at,
            code: self.code,
            explanation: self.explanation,
            decided_at: self.decided_at,
        }
    }
}

/// The instant a thread last active at `at` expires (the domain's rule).
fn expiry_of(thread: &Thread, at: Timestamp) -> Timestamp {
    Thread {
        last_activity_at: at,
        ..thread.clone()
    }
    .expires_at()
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A request builder's error: a bug in this module, reported like DynamoDB's own.
fn built<T, E>(result: Result<T, E>) -> Result<T, StoreError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.map_err(|e| StoreError::Backend {
        operation: "DynamoDB TransactWriteItems",
        source: Box::new(e),
    })
}

fn check_key(entity: &'static str, key: &str, max: usize) -> Result<(), StoreError> {
    if key.len() > max {
        return Err(StoreError::Invalid {
            entity,
            problem: format!(
                "key {}... is {} bytes; DynamoDB allows {max}",
                key.chars().take(64).collect::<String>(),
                key.len()
            ),
        });
    }
    Ok(())
}

/// A cancelled transaction: why each of its items failed, in the order they were sent.
struct Cancelled {
    reasons: Vec<CancellationReason>,
    error: StoreError,
}

impl Cancelled {
    fn condition_failed(&self, index: usize) -> bool {
        self.reasons
            .get(index)
            .and_then(CancellationReason::code)
            .is_some_and(|code| code == "ConditionalCheckFailed")
    }

    fn old_item(&self, index: usize) -> Option<Item> {
        self.reasons.get(index).and_then(|r| r.item()).cloned()
    }

    /// Another transaction was working on one of the items: retrying may succeed.
    fn contended(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
    }
}

async fn backoff(attempt: u32) {
    let ceiling = Duration::from_millis(25).saturating_mul(1 << attempt.min(6));
    tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
}

crate::items::dynamo_store!(
    /// Synced threads and messages (MailTable).
    DynamoMailStore
);

impl DynamoMailStore {
    /// Stores `message` of `thread`, idempotently (see the module documentation for the two
    /// steps and their order).
    ///
    /// The activity recorded is the later of `thread.last_activity_at` and the message's
    /// `sent_at`. A thread seen for the first time is created private; an existing thread
    /// keeps its visibility, counterpart and creation facts.
    ///
    /// A message already stored under the same provider id but with different content is
    /// refused with [`StoreError::AlreadyExists`]: providers' ids are stable, so this is a
    /// mapping bug to look at, not something to overwrite silently.
    pub async fn store_message(
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
        let thread_record = ThreadRecord::new(thread, at);
        let message_record = MessageRecord::new(message);
        let guard = message
            .internet_message_id
            .as_deref()
            .map(|mid| GuardRecord {
                pk: message_record.pk.clone(),
                sk: keys::message_id_guard_sk(mid),
                entity: GUARD.to_owned(),
                provider_id: message.provider_id.clone(),
                thread_id: message.thread_id.clone(),
            });
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

    /// Step 1: message, guard and thread-if-missing in one transaction.
    async fn write_message(
        &self,
        thread: &ThreadRecord,
        record: &MessageRecord,
        guard: Option<&GuardRecord>,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        let mut items = vec![TransactWriteItem::builder()
            .put(built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(encode(record)?))
                    .condition_expression("attribute_not_exists(pk)")
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build(),
            )?)
            .build()];
        let guard_index = match guard {
            Some(guard) => {
                items.push(
                    TransactWriteItem::builder()
                        .put(built(
                            Put::builder()
                                .table_name(&self.table)
                                .set_item(Some(encode(guard)?))
                                .condition_expression(
                                    "attribute_not_exists(pk) OR provider_id = :provider",
                                )
                                .expression_attribute_values(
                                    ":provider",
                                    s(guard.provider_id.clone()),
                                )
                                .return_values_on_condition_check_failure(
                                    ReturnValuesOnConditionCheckFailure::AllOld,
                                )
                                .build(),
                        )?)
                        .build(),
                );
                Some(items.len() - 1)
            }
            None => None,
        };
        items.push(self.thread_upsert(thread)?);
        // A thread removed for a rule stays out, whoever writes: its tombstone must be
        // absent, or say the thread only went quiet (a removal for inactivity, which a new
        // message may revive).
        items.push(
            TransactWriteItem::builder()
                .condition_check(built(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(
                            &record.pk,
                            &keys::tombstone_sk(&message.thread_id),
                        )))
                        .condition_expression("attribute_not_exists(pk) OR #reason = :inactivity")
                        .expression_attribute_names("#reason", "reason")
                        .expression_attribute_values(
                            ":inactivity",
                            s(ThreadTombstone::INACTIVITY.to_owned()),
                        )
                        .build(),
                )?)
                .build(),
        );
        let tombstone_index = items.len() - 1;
        // The provider id's pointer to its thread: unconditional, it only ever says the same.
        items.push(
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(encode(&GuardRecord {
                            pk: record.pk.clone(),
                            sk: keys::provider_pointer_sk(&message.provider_id),
                            entity: POINTER.to_owned(),
                            provider_id: message.provider_id.clone(),
                            thread_id: message.thread_id.clone(),
                        })?))
                        .build(),
                )?)
                .build(),
        );

        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(cancelled) = self.transact(items.clone()).await? else {
                return Ok(StoreOutcome::Stored);
            };
            if cancelled.condition_failed(tombstone_index) {
                return Ok(StoreOutcome::ThreadRemoved);
            }
            if cancelled.condition_failed(0) {
                let stored = match cancelled.old_item(0) {
                    Some(item) => Some(decode::<MessageRecord>(item)?),
                    None => {
                        self.items()
                            .get::<MessageRecord>(&record.pk, &record.sk)
                            .await?
                    }
                };
                match stored.map(MessageRecord::into_domain) {
                    Some(stored) if stored == *message => return Ok(StoreOutcome::AlreadyStored),
                    Some(_) => {
                        return Err(StoreError::AlreadyExists {
                            entity: MESSAGE,
                            key: format!("{}/{} (with different content)", record.pk, record.sk),
                        })
                    }
                    // Deleted since: try again.
                    None => {}
                }
            } else if let Some(index) = guard_index.filter(|i| cancelled.condition_failed(*i)) {
                let current = match cancelled.old_item(index) {
                    Some(item) => Some(decode::<GuardRecord>(item)?),
                    None => match guard {
                        Some(g) => self.items().get::<GuardRecord>(&g.pk, &g.sk).await?,
                        None => None,
                    },
                };
                if let Some(current) = current {
                    return Ok(StoreOutcome::DuplicateOfOther {
                        provider_id: current.provider_id,
                    });
                }
            } else if !cancelled.contended() {
                return Err(cancelled.error);
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(cancelled.error);
            }
            backoff(attempt).await;
        }
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
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&thread.pk, &thread.sk)))
                .update_expression(format!("SET {} ADD #count :one", sets.join(", ")))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
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
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(crate::error::dynamo("DynamoDB UpdateItem", e)),
        }
    }

    /// Runs a transaction. `Ok(None)` when it committed, `Ok(Some(..))` when it was
    /// cancelled (a condition failed, or another transaction held an item).
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Cancelled>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match e.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(cancel) => {
                    Ok(Some(Cancelled {
                        reasons: cancel.cancellation_reasons().to_vec(),
                        error: StoreError::Backend {
                            operation: "DynamoDB TransactWriteItems",
                            source: Box::new(
                                TransactWriteItemsError::TransactionCanceledException(cancel),
                            ),
                        },
                    }))
                }
                other => Err(StoreError::Backend {
                    operation: "DynamoDB TransactWriteItems",
                    source: Box::new(other),
                }),
            },
        }
    }

    /// Deletes a message and its Message-ID guard; when it was the thread's last message,
    /// the thread goes too. Returns whether the message was there.
    ///
    /// Race with a message stored meanwhile in the same thread: the thread is dropped only
    /// on condition that its message count is zero, and the count moves in the same
    /// transactions as the message items, so a concurrent store keeps the thread. A message
    /// stored after the thread was dropped creates it afresh (private, as any new thread).
    pub async fn delete_message(
        &self,
        seat: &SeatId,
        thread_id: &str,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        let pk = keys::mail_pk(seat);
        let sk = keys::message_sk(thread_id, provider_id);
        let thread_sk = keys::thread_sk(thread_id);
        // Cleared when the guard belongs to another copy, or when the thread is missing.
        let mut with_guard = true;
        let mut with_thread = true;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(stored) = self.items().get::<MessageRecord>(&pk, &sk).await? else {
                return Ok(false);
            };
            let delete = |sk: &str| {
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, sk)))
            };
            let mut items = vec![
                TransactWriteItem::builder()
                    .delete(built(
                        delete(&sk)
                            .condition_expression("attribute_exists(pk)")
                            .build(),
                    )?)
                    .build(),
                TransactWriteItem::builder()
                    .delete(built(
                        delete(&keys::provider_pointer_sk(provider_id)).build(),
                    )?)
                    .build(),
            ];
            let guard_index = match stored.internet_message_id.as_deref() {
                Some(mid) if with_guard => {
                    items.push(
                        TransactWriteItem::builder()
                            .delete(built(
                                delete(&keys::message_id_guard_sk(mid))
                                    .condition_expression(
                                        "attribute_not_exists(pk) OR provider_id = :provider",
                                    )
                                    .expression_attribute_values(":provider", s(provider_id))
                                    .build(),
                            )?)
                            .build(),
                    );
                    Some(items.len() - 1)
                }
                _ => None,
            };
            let thread_index = if with_thread {
                items.push(
                    TransactWriteItem::builder()
                        .update(built(
                            Update::builder()
                                .table_name(&self.table)
                                .set_key(Some(key(&pk, &thread_sk)))
                                .update_expression(
                                    "SET #version = #version + :one ADD #count :minus_one",
                                )
                                .condition_expression("attribute_exists(pk)")
                                .expression_attribute_names("#version", "version")
                                .expression_attribute_names("#count", "message_count")
                                .expression_attribute_values(":one", n(1))
                                .expression_attribute_values(":minus_one", n(-1))
                                .build(),
                        )?)
                        .build(),
                );
                Some(items.len() - 1)
            } else {
                None
            };
            let Some(cancelled) = self.transact(items).await? else {
                if with_thread {
                    self.drop_thread_if_empty(&pk, &thread_sk).await?;
                }
                return Ok(true);
            };
            if cancelled.condition_failed(0) {
                // Deleted meanwhile: the next read says so.
            } else if guard_index.is_some_and(|i| cancelled.condition_failed(i)) {
                with_guard = false;
            } else if thread_index.is_some_and(|i| cancelled.condition_failed(i)) {
                with_thread = false;
            } else if !cancelled.contended() {
                return Err(cancelled.error);
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(cancelled.error);
            }
            backoff(attempt).await;
        }
    }

    /// Deletes a message known only by its provider id (what a delete notification
    /// carries). Returns whether it was stored.
    pub async fn delete_by_provider_id(
        &self,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        let pointer = self
            .items()
            .get::<GuardRecord>(
                &keys::mail_pk(seat),
                &keys::provider_pointer_sk(provider_id),
            )
            .await?;
        match pointer {
            Some(p) => self.delete_message(seat, &p.thread_id, provider_id).await,
            None => Ok(false),
        }
    }

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
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(crate::error::dynamo("DynamoDB DeleteItem", e)),
        }
    }

    pub async fn thread(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<Thread>, StoreError> {
        Ok(self
            .items()
            .get::<ThreadRecord>(&keys::mail_pk(seat), &keys::thread_sk(thread_id))
            .await?
            .map(ThreadRecord::into_domain))
    }

    /// One page of a seat's threads, in key order, at most `limit` of them.
    ///
    /// A thread's messages share its key prefix (`T#`), so the query reads them and a filter
    /// keeps the threads; pages are topped up until `limit` threads or the end.
    pub async fn threads_of_seat(
        &self,
        seat: &SeatId,
        limit: i32,
        page: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError> {
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let pk = keys::mail_pk(seat);
        let mut threads: Vec<Thread> = Vec::new();
        let mut last_sk: Option<String> = None;
        let mut start = page.map(|t| t.as_str().to_owned());
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .filter_expression("#entity = :thread")
                .expression_attribute_names("#entity", "entity")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(keys::THREAD_PREFIX))
                .expression_attribute_values(":thread", s(THREAD))
                .limit(i32::try_from(limit.saturating_mul(10).clamp(50, 1000)).unwrap_or(1000))
                .set_exclusive_start_key(start.as_deref().map(|sk| key(&pk, sk)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| crate::error::dynamo("DynamoDB Query", e))?;
            for item in out.items.unwrap_or_default() {
                if threads.len() == limit {
                    // More threads follow this page: resume after the last one returned.
                    return Ok(Page {
                        items: threads,
                        next: last_sk.map(PageToken::from_string),
                    });
                }
                let record = decode::<ThreadRecord>(item)?;
                last_sk = Some(record.sk.clone());
                threads.push(record.into_domain());
            }
            let next = out.last_evaluated_key.and_then(|k| match k.get("sk") {
                Some(AttributeValue::S(sk)) => Some(sk.clone()),
                _ => None,
            });
            match next {
                None => {
                    return Ok(Page {
                        items: threads,
                        next: None,
                    })
                }
                Some(next) if threads.len() == limit => {
                    return Ok(Page {
                        items: threads,
                        next: Some(PageToken::from_string(next)),
                    })
                }
                Some(next) => start = Some(next),
            }
        }
    }

    /// The messages of a thread, oldest first.
    pub async fn messages(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        let mut messages: Vec<Message> = self
            .items()
            .query_all::<MessageRecord>(
                &keys::mail_pk(seat),
                &keys::thread_messages_prefix(thread_id),
            )
            .await?
            .into_iter()
            .map(MessageRecord::into_domain)
            .collect();
        messages.sort_by(|a, b| (a.sent_at, &a.provider_id).cmp(&(b.sent_at, &b.provider_id)));
        Ok(messages)
    }

    /// The threads of `contract` with `counterpart` that `viewer` may see: its own, and
    /// those other seats shared with the organization. The domain decides
    /// ([`Thread::visible_to`]); the index is eventually consistent.
    pub async fn threads_with_counterpart(
        &self,
        contract: &ContractId,
        counterpart: &EmailAddress,
        viewer: &SeatId,
    ) -> Result<Vec<Thread>, StoreError> {
        let mut threads = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by-counterpart")
                .key_condition_expression("counterpart_pk = :pk")
                .expression_attribute_values(":pk", s(keys::counterpart_pk(contract, counterpart)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| crate::error::dynamo("DynamoDB Query", e))?;
            for item in out.items.unwrap_or_default() {
                let thread = decode::<ThreadRecord>(item)?.into_domain();
                if thread.visible_to(contract, viewer) {
                    threads.push(thread);
                }
            }
            match out.last_evaluated_key {
                Some(next) => start = Some(next),
                None => return Ok(threads),
            }
        }
    }

    /// The owner's choice of who sees a thread. [`StoreError::NotFound`] when there is no
    /// such thread.
    pub async fn set_visibility(
        &self,
        seat: &SeatId,
        thread_id: &str,
        visibility: Visibility,
    ) -> Result<(), StoreError> {
        let pk = keys::mail_pk(seat);
        let sk = keys::thread_sk(thread_id);
        let value =
            serde_dynamo::to_attribute_value(visibility).map_err(|source| StoreError::Encode {
                entity: THREAD,
                source: Box::new(source),
            })?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)))
            .update_expression("SET #visibility = :visibility, #version = #version + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#visibility", "visibility")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":visibility", value)
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Err(StoreError::NotFound {
                    entity: THREAD,
                    key: format!("{pk}/{sk}"),
                })
            }
            Err(e) => Err(crate::error::dynamo("DynamoDB UpdateItem", e)),
        }
    }

    /// The threads in `day`'s expiry bucket whose expiry is at or before `now`, as (seat,
    /// thread id), at most `per_shard` from each of the bucket's 32 shards, earliest first
    /// within a shard. Expiry keys are written rounded up to the second, so a thread is
    /// never returned before it has expired (at worst up to a second late).
    pub async fn expired_threads(
        &self,
        day: jiff::civil::Date,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(SeatId, String)>, StoreError> {
        // Every key of the second `now` falls in sorts before this bound.
        let upper = format!("{}#\u{10FFFF}", keys::sortable_instant(now));
        let mut expired = Vec::new();
        for shard in 0..keys::EXPIRY_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by-expiry")
                .key_condition_expression("expiry_pk = :pk AND expiry_sk <= :upper")
                .expression_attribute_values(":pk", s(keys::expiry_bucket_pk(day, shard)))
                .expression_attribute_values(":upper", s(upper.clone()))
                .limit(per_shard.max(1))
                .send()
                .await
                .map_err(|e| crate::error::dynamo("DynamoDB Query", e))?;
            for item in out.items.unwrap_or_default() {
                expired.push(thread_key_of(&item)?);
            }
        }
        Ok(expired)
    }

    /// Removes a thread with all its messages and their Message-ID guards, leaving no
    /// tombstone (for a purge; the sync removes threads with
    /// [`remove_thread_for_rule`](Self::remove_thread_for_rule) and
    /// [`remove_thread_for_inactivity`](Self::remove_thread_for_inactivity)). Returns how
    /// many messages were removed.
    ///
    /// Messages go first and the thread last, so an interrupted removal leaves a thread
    /// that the next attempt (or the next expiry run) finds again, never orphaned
    /// messages. The thread is deleted on condition that its version is the one read
    /// before its messages were listed: a message stored meanwhile changes it, and the
    /// removal goes round again.
    pub async fn remove_thread(&self, seat: &SeatId, thread_id: &str) -> Result<usize, StoreError> {
        let pk = keys::mail_pk(seat);
        let thread_sk = keys::thread_sk(thread_id);
        let mut removed = 0;
        let mut expected = 0;
        for _ in 0..MAX_ATTEMPTS {
            let thread = self.items().get::<ThreadRecord>(&pk, &thread_sk).await?;
            let messages = self
                .items()
                .query_all::<MessageRecord>(&pk, &keys::thread_messages_prefix(thread_id))
                .await?;
            removed += messages.len();
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
                    built(DeleteRequest::builder().set_key(Some(key(&pk, sk))).build())
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<Vec<_>, _>>()?;
            batch_write(&self.client, &self.table, requests, BatchPolicy::default()).await?;
            let Some(thread) = thread else {
                return Ok(removed);
            };
            expected = thread.version;
            if self
                .delete_thread_at(&pk, &thread_sk, thread.version)
                .await?
            {
                return Ok(removed);
            }
        }
        Err(StoreError::Conflict {
            entity: THREAD,
            key: format!("{pk}/{thread_sk}"),
            expected,
            found: None,
        })
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
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(crate::error::dynamo("DynamoDB DeleteItem", e)),
        }
    }

    /// Remembers why a message was not synced, for 30 days after the decision. Recording
    /// the same message again replaces the earlier decision. Prefer
    /// [`record_skip_in_thread`](Self::record_skip_in_thread) when the thread is known.
    pub async fn record_skip(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        self.put_skip(skip, None).await
    }

    /// [`record_skip`](Self::record_skip), remembering the message's thread too, so that
    /// [`skips_in_thread`](Self::skips_in_thread) finds the decision when the thread
    /// changes.
    pub async fn record_skip_in_thread(
        &self,
        skip: &SkipRecord,
        thread_id: &str,
    ) -> Result<(), StoreError> {
        self.put_skip(skip, Some(thread_id)).await
    }

    async fn put_skip(&self, skip: &SkipRecord, thread_id: Option<&str>) -> Result<(), StoreError> {
        let item = SkipItem {
            pk: keys::mail_pk(&skip.seat),
            sk: keys::skip_sk(&skip.counterpart, skip.at, &skip.provider_id),
            entity: SKIP.to_owned(),
            contract_id: skip.contract.clone(),
            seat_id: skip.seat.clone(),
            counterpart: skip.counterpart.clone(),
            provider_id: skip.provider_id.clone(),
            thread_id: thread_id.map(str::to_owned),
            at: skip.at,
            code: skip.code.clone(),
            explanation: skip.explanation.clone(),
            decided_at: skip.decided_at,
            ttl: skip.forget_after().as_second(),
        };
        check_key(SkipItem::ENTITY, &item.sk, MAX_SORT_KEY)?;
        self.items().put(&item).await
    }

    /// The skip decisions of `seat` for messages with `counterpart`, newest message first.
    /// Decisions past their 30 days may linger until DynamoDB's TTL sweeps them.
    pub async fn skips_for(
        &self,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        let pk = keys::mail_pk(seat);
        let mut skips = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(keys::skips_prefix(counterpart)))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| crate::error::dynamo("DynamoDB Query", e))?;
            for item in out.items.unwrap_or_default() {
                skips.push(decode::<SkipItem>(item)?.into_domain());
            }
            match out.last_evaluated_key {
                Some(next) => start = Some(next),
                None => return Ok(skips),
            }
        }
    }
}

impl DynamoMailStore {
    /// The decisions of `seat` with code `code` for messages of `thread_id` with
    /// `counterpart`, newest message first, at most `limit`. Decisions recorded without
    /// their thread ([`record_skip`](Self::record_skip)) are never among them.
    pub async fn skips_in_thread(
        &self,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        let pk = keys::mail_pk(seat);
        let mut skips = Vec::new();
        let mut start: Option<Item> = None;
        while skips.len() < limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .filter_expression("#thread = :thread AND #code = :code")
                .expression_attribute_names("#thread", "thread_id")
                .expression_attribute_names("#code", "code")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(keys::skips_prefix(counterpart)))
                .expression_attribute_values(":thread", s(thread_id))
                .expression_attribute_values(":code", s(code))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| crate::error::dynamo("DynamoDB Query", e))?;
            for item in out.items.unwrap_or_default() {
                skips.push(decode::<SkipItem>(item)?.into_domain());
            }
            match out.last_evaluated_key {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        skips.truncate(limit);
        Ok(skips)
    }

    /// Forgets a decision that no longer holds (the message is stored now, or gone).
    pub async fn forget_skip(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        let sk = keys::skip_sk(&skip.counterpart, skip.at, &skip.provider_id);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mail_pk(&skip.seat), &sk)))
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB DeleteItem", e))?;
        Ok(())
    }

    /// The tombstone of a removed thread, if it has one.
    pub async fn tombstone(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<ThreadTombstone>, StoreError> {
        Ok(self
            .items()
            .get::<TombstoneItem>(&keys::mail_pk(seat), &keys::tombstone_sk(thread_id))
            .await?
            .map(TombstoneItem::into_domain))
    }

    /// The live thread and the tombstone of `thread_id`, read together: what the sync
    /// policy judges a message of it against. Both may exist, after a thread removed for
    /// inactivity became active again, or when a removal was interrupted.
    pub async fn thread_with_tombstone(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<(Option<Thread>, Option<ThreadTombstone>), StoreError> {
        tokio::try_join!(
            self.thread(seat, thread_id),
            self.tombstone(seat, thread_id)
        )
    }

    /// Removes a thread because a message broke a sync rule (`tombstone.reason` is the
    /// rule's code), and keeps its tombstone: `tombstone` merged with the tombstone already
    /// there and with what the live thread knows (its counterpart, activity and origin).
    /// Returns how many messages were removed.
    ///
    /// Idempotent: a thread already removed keeps its tombstone (merged, and not written
    /// again when nothing changes) and nothing else happens. A thread with no stored
    /// messages at all gets a tombstone too, so a group conversation whose newest message
    /// was judged first never starts as a one-to-one thread from an older message.
    pub async fn remove_thread_for_rule(
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
        if let Some(thread) = self.thread(&tombstone.seat, &tombstone.thread_id).await? {
            buried = buried.with_thread(&thread);
        }
        self.keep_tombstone(buried).await?;
        self.remove_thread(&tombstone.seat, &tombstone.thread_id)
            .await
    }

    /// Removes a thread that has had no activity for six months at `now` (the domain's
    /// [`Thread::is_expired`]) and keeps a tombstone with reason
    /// [`ThreadTombstone::INACTIVITY`] removed at `now`: the policy then syncs only the
    /// thread's messages after `now` (its rule 8). For the retention sweep, with the
    /// threads [`expired_threads`](Self::expired_threads) lists.
    ///
    /// `None` when there is no such thread, or when it is no longer expired (a message came
    /// since it was listed): nothing is written then. Otherwise how many messages were
    /// removed. A message stored between that check and the removal leaves with the thread,
    /// as with any removal.
    pub async fn remove_thread_for_inactivity(
        &self,
        seat: &SeatId,
        thread_id: &str,
        now: Timestamp,
    ) -> Result<Option<usize>, StoreError> {
        let Some(thread) = self.thread(seat, thread_id).await? else {
            return Ok(None);
        };
        if !thread.is_expired(now) {
            return Ok(None);
        }
        self.keep_tombstone(ThreadTombstone::for_inactivity(&thread, now))
            .await?;
        Ok(Some(self.remove_thread(seat, thread_id).await?))
    }

    /// Writes `tombstone` merged into the one stored, on condition that the stored one is
    /// still the one read; writes nothing when the merge changes nothing.
    async fn keep_tombstone(&self, tombstone: ThreadTombstone) -> Result<(), StoreError> {
        let pk = keys::mail_pk(&tombstone.seat);
        let sk = keys::tombstone_sk(&tombstone.thread_id);
        check_key(TOMBSTONE, &sk, MAX_SORT_KEY)?;
        let mut last_error = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let result = match self.items().get::<TombstoneItem>(&pk, &sk).await? {
                None => {
                    self.items()
                        .create(&TombstoneItem::new(&tombstone.clone().bounded(), 0))
                        .await
                }
                Some(stored) => {
                    let version = stored.version;
                    let current = stored.into_domain();
                    let merged = current.clone().merge(tombstone.clone());
                    if merged == current {
                        return Ok(());
                    }
                    self.items()
                        .replace(&TombstoneItem::new(&merged, version + 1), version)
                        .await
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e @ (StoreError::AlreadyExists { .. } | StoreError::Conflict { .. })) => {
                    last_error = Some(e);
                    backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(StoreError::Conflict {
            entity: TOMBSTONE,
            key: format!("{pk}/{sk}"),
            expected: 0,
            found: None,
        }))
    }
}

/// (seat, thread id) from the table keys of a thread item (a keys-only index entry).
fn thread_key_of(item: &Item) -> Result<(SeatId, String), StoreError> {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.as_str(),
        _ => "",
    };
    let (pk, sk) = (part("pk"), part("sk"));
    let undecodable = |problem: String| StoreError::Decode {
        entity: THREAD,
        key: format!("{pk}/{sk}"),
        source: problem.into(),
    };
    let seat = pk
        .strip_prefix(keys::SEAT_PREFIX)
        .ok_or_else(|| undecodable("not a seat's partition".to_owned()))?;
    let seat = SeatId::parse(seat).map_err(|e| undecodable(e.to_string()))?;
    let thread_id = keys::thread_id_of_sk(sk)
        .ok_or_else(|| undecodable("not a thread's sort key".to_owned()))?;
    Ok((seat, thread_id))
}

/// The mail ports over the inherent operations above. The contract is not part of the mail
/// keys yet (`SEAT#<seat>`); the ports already carry it so the keys can follow.
#[async_trait::async_trait]
impl hiresync_domain::ports::ThreadStore for DynamoMailStore {
    async fn store_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        DynamoMailStore::store_message(self, thread, message).await
    }

    async fn thread_with_tombstone(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<(Option<Thread>, Option<ThreadTombstone>), StoreError> {
        DynamoMailStore::thread_with_tombstone(self, seat, thread_id).await
    }

    async fn messages(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        DynamoMailStore::messages(self, seat, thread_id).await
    }

    async fn delete_by_provider_id(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        DynamoMailStore::delete_by_provider_id(self, seat, provider_id).await
    }

    async fn remove_thread_for_rule(
        &self,
        tombstone: &ThreadTombstone,
    ) -> Result<usize, StoreError> {
        DynamoMailStore::remove_thread_for_rule(self, tombstone).await
    }
}

#[async_trait::async_trait]
impl hiresync_domain::ports::MailReader for DynamoMailStore {
    async fn threads_of_seat(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError> {
        DynamoMailStore::threads_of_seat(self, seat, limit, start).await
    }

    async fn messages(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        DynamoMailStore::messages(self, seat, thread_id).await
    }
}

#[async_trait::async_trait]
impl hiresync_domain::ports::SkipLog for DynamoMailStore {
    async fn record(&self, skip: &SkipRecord, thread_id: Option<&str>) -> Result<(), StoreError> {
        self.put_skip(skip, thread_id).await
    }

    async fn skips_for(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        DynamoMailStore::skips_for(self, seat, counterpart).await
    }

    async fn skips_in_thread(
        &self,
        _contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        DynamoMailStore::skips_in_thread(self, seat, counterpart, thread_id, code, limit).await
    }

    async fn forget(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        self.forget_skip(skip).await
    }
}
