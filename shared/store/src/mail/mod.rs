//! Synced mail on the MailTable: threads, their messages, Message-ID guards and skip
//! decisions, all in the partition of the seat that owns the mailbox (docs/data-model.md,
//! patterns 12-17). Threads are private to that seat until its holder shares them.
//!
//! The sync reaches this store through the domain's ports ([`ThreadStore`], [`SkipLog`]),
//! the seats' routes through [`MailReader`]; the few operations no port has yet (the
//! retention sweep's, the owner's sharing, the counterpart view) are inherent methods.
//!
//! | file | what it does |
//! |---|---|
//! | `records.rs` | the item shapes and their mapping to the domain's types |
//! | `threads.rs` | [`ThreadStore`]: storing a message (below), a thread and its tombstone |
//! | `views.rs` | [`MailReader`], the counterpart view, a thread's visibility |
//! | `deletes.rs` | deleting a message, removing a thread with its messages |
//! | `tombstones.rs` | what stays of a removed thread; removal for inactivity |
//! | `expiry.rs` | which threads have expired |
//! | `skips.rs` | [`SkipLog`]: the decisions not to sync |
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
//! ([`ThreadStore::remove_thread_for_rule`]) or because it went idle
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
//!
//! [`ThreadStore`]: hiresync_domain::ports::ThreadStore
//! [`ThreadStore::remove_thread_for_rule`]: hiresync_domain::ports::ThreadStore::remove_thread_for_rule
//! [`MailReader`]: hiresync_domain::ports::MailReader
//! [`SkipLog`]: hiresync_domain::ports::SkipLog
//! [`ThreadTombstone`]: hiresync_domain::mail::ThreadTombstone

mod deletes;
mod expiry;
mod records;
mod skips;
mod threads;
mod tombstones;
mod views;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::StoreError;

/// DynamoDB's limits on key attributes, in bytes.
const MAX_PARTITION_KEY: usize = 2048;
pub(crate) const MAX_SORT_KEY: usize = 1024;

/// The `entity` attribute of each item shape (and the name errors give it).
const THREAD: &str = "thread";
const MESSAGE: &str = "message";
const GUARD: &str = "message_id";
const SKIP: &str = "skip";
const POINTER: &str = "provider_id";
const TOMBSTONE: &str = "thread tombstone";

crate::items::dynamo_store!(
    /// Synced threads and messages (MailTable).
    DynamoMailStore
);

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Refuses a key DynamoDB would refuse, before anything is written.
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
