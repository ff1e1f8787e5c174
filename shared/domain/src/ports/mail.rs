//! Storage of synced mail and of the decisions not to sync, by capability.
//!
//! Everything here belongs to one seat's mailbox, and every method names the contract and
//! the seat: mail is private to the seat whose mailbox it came from.

use async_trait::async_trait;

use crate::ids::{ContractId, EmailAddress, SeatId};
use crate::mail::{Message, SkipRecord, Thread, ThreadTombstone};

use super::{Page, PageToken, StoreError};

/// What became of a message handed to [`ThreadStore::store_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    /// The same message was stored before (a replayed or duplicated delivery).
    AlreadyStored,
    /// The same RFC Message-ID is already stored under another provider id (the same
    /// message in two folders); this copy was not stored.
    DuplicateOfOther {
        provider_id: String,
    },
    /// The thread was removed for a rule (its tombstone says so) and must stay out; nothing
    /// was written. Only a writer that judged without the tombstone meets this.
    ThreadRemoved,
}

/// What the sync writes and judges against: a seat's threads, their messages, and the
/// tombstones of removed threads.
#[async_trait]
pub trait ThreadStore: Send + Sync {
    /// Stores `message` of `thread`, idempotently: once per provider id and per RFC
    /// Message-ID; the thread's activity only moves forward; a thread seen for the first
    /// time is created private, an existing one keeps its visibility and origin. A message
    /// of a thread removed for a rule is refused ([`StoreOutcome::ThreadRemoved`]).
    async fn store_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError>;

    /// The live thread and the tombstone of `thread_id`, read together: what the sync
    /// policy judges a message of it against. Both may exist (a thread back after a
    /// removal for inactivity, or an interrupted removal).
    async fn thread_with_tombstone(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<(Option<Thread>, Option<ThreadTombstone>), StoreError>;

    /// The messages of a thread, oldest first.
    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError>;

    /// One page of the provider ids of the seat's stored messages, at most `limit`, in a
    /// stable order: what a reconciliation checks against the mailbox, slice by slice.
    async fn stored_provider_ids(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<String>, StoreError>;

    /// Deletes a message known only by its provider id (what a delete carries); the thread
    /// goes with its last message. Returns whether it was stored.
    async fn delete_by_provider_id(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError>;

    /// Removes a thread because a message broke a sync rule (`tombstone.reason` is the
    /// rule's code) and keeps its tombstone, merged with any tombstone already there and
    /// with what the live thread knows. Idempotent. Returns how many messages were removed.
    async fn remove_thread_for_rule(
        &self,
        tombstone: &ThreadTombstone,
    ) -> Result<usize, StoreError>;
}

/// What a seat reads of its own synced mail.
#[async_trait]
pub trait MailReader: Send + Sync {
    /// One page of a seat's threads, at most `limit` of them.
    async fn threads_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError>;

    /// The messages of a thread, oldest first.
    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError>;

    /// The token that resumes [`MailReader::threads_of_seat`] right after `thread`, for a
    /// caller that stops short of a page it was given.
    fn resume_after(&self, thread: &Thread) -> PageToken;
}

/// Who sees which thread: a candidate's conversations as one person may see them, and the
/// owner's choice to share a thread.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// The contract's threads matched to `profile` that `viewer` may see
    /// ([`Thread::visible_to`]): their own private ones and those shared with the contract.
    ///
    /// [`Thread::visible_to`]: crate::mail::Thread::visible_to
    async fn of_profile(
        &self,
        viewer: &crate::mail::Viewer,
        profile: &crate::ids::ProfileId,
    ) -> Result<Vec<Thread>, StoreError>;

    /// A seat's thread, if it has one by that id.
    async fn thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<Thread>, StoreError>;

    /// Stores who sees a thread ([`StoreError::NotFound`] when there is no such thread).
    /// The caller has checked that the owner asks ([`Thread::set_visibility`]).
    ///
    /// [`Thread::set_visibility`]: crate::mail::Thread::set_visibility
    async fn set_visibility(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
        visibility: crate::mail::Visibility,
    ) -> Result<(), StoreError>;
}

/// The decisions not to sync a message, kept for a while so that "why did this not sync?"
/// has an answer.
#[async_trait]
pub trait SkipLog: Send + Sync {
    /// Remembers a decision (replacing an earlier one on the same message and counterpart).
    /// With its thread, [`SkipLog::skips_in_thread`] can find it again when the thread
    /// changes.
    async fn record(&self, skip: &SkipRecord, thread_id: Option<&str>) -> Result<(), StoreError>;

    /// The decisions of a seat for messages with `counterpart`, newest message first.
    async fn skips_for(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError>;

    /// The decisions with `code` for messages of `thread_id` with `counterpart`, newest
    /// message first, at most `limit`. Decisions recorded without their thread are never
    /// among them.
    async fn skips_in_thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError>;

    /// Forgets a decision that no longer holds (the message is stored now, or gone).
    async fn forget(&self, skip: &SkipRecord) -> Result<(), StoreError>;

    /// How many decisions a seat has, by code, whoever the counterpart: what an admin may
    /// see of a seat's skipped mail (never an address or a subject).
    async fn skip_counts(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError>;
}

/// A thread the expiry index lists as expired: its contract, seat and id.
pub type ExpiredThread = (ContractId, SeatId, String);

/// What the retention sweep works with: the expiry index, one bucket per day, the removal
/// for inactivity (which leaves the tombstone the sync policy judges later mail against),
/// and the sweep's own mark of the first day that may still hold expired threads.
#[async_trait]
pub trait Retention: Send + Sync {
    /// The threads in `day`'s bucket expired at `now`, at most `per_shard` from each shard.
    async fn expired(
        &self,
        day: jiff::civil::Date,
        now: jiff::Timestamp,
        per_shard: i32,
    ) -> Result<Vec<ExpiredThread>, StoreError>;
    /// Removes the thread if it is still expired at `now`, keeping its tombstone; how many
    /// messages went with it, or `None` when it is gone or came back to life meanwhile.
    async fn remove_for_inactivity(
        &self,
        thread: &ExpiredThread,
        now: jiff::Timestamp,
    ) -> Result<Option<usize>, StoreError>;
    /// The first day whose bucket may still hold expired threads; `None` before any run.
    async fn sweep_mark(&self) -> Result<Option<jiff::civil::Date>, StoreError>;
    async fn set_sweep_mark(&self, day: jiff::civil::Date) -> Result<(), StoreError>;
}
