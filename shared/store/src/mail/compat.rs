//! The port methods under their former inherent names and signatures (without the
//! contract), for the callers outside this crate that do not go through the ports yet.
//! Each goes as soon as nothing calls it; new code uses [`ThreadStore`], [`MailReader`]
//! and [`SkipLog`].
//!
//! [`MailReader`]: hiresync_domain::ports::MailReader

use hiresync_domain::ids::{EmailAddress, SeatId};
use hiresync_domain::mail::{Message, SkipRecord, Thread, ThreadTombstone};
use hiresync_domain::ports::{Page, PageToken, SkipLog, StoreOutcome, ThreadStore};

use super::DynamoMailStore;
use crate::error::StoreError;

impl DynamoMailStore {
    /// [`ThreadStore::store_message`].
    pub async fn store_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        ThreadStore::store_message(self, thread, message).await
    }

    /// [`ThreadStore::thread_with_tombstone`].
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

    /// [`ThreadStore::messages`] (and `MailReader::messages`).
    pub async fn messages(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        self.seat_messages(seat, thread_id).await
    }

    /// [`ThreadStore::delete_by_provider_id`].
    pub async fn delete_by_provider_id(
        &self,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        self.delete_provider_id(seat, provider_id).await
    }

    /// [`ThreadStore::remove_thread_for_rule`].
    pub async fn remove_thread_for_rule(
        &self,
        tombstone: &ThreadTombstone,
    ) -> Result<usize, StoreError> {
        ThreadStore::remove_thread_for_rule(self, tombstone).await
    }

    /// [`MailReader::threads_of_seat`](hiresync_domain::ports::MailReader::threads_of_seat).
    pub async fn threads_of_seat(
        &self,
        seat: &SeatId,
        limit: i32,
        page: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError> {
        self.seat_threads(seat, limit, page).await
    }

    /// [`SkipLog::record`] without the message's thread.
    pub async fn record_skip(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        SkipLog::record(self, skip, None).await
    }

    /// [`SkipLog::record`] with the message's thread.
    pub async fn record_skip_in_thread(
        &self,
        skip: &SkipRecord,
        thread_id: &str,
    ) -> Result<(), StoreError> {
        SkipLog::record(self, skip, Some(thread_id)).await
    }

    /// [`SkipLog::skips_for`].
    pub async fn skips_for(
        &self,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        self.seat_skips(seat, counterpart).await
    }

    /// [`SkipLog::skips_in_thread`].
    pub async fn skips_in_thread(
        &self,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        self.seat_skips_in_thread(seat, counterpart, thread_id, code, limit)
            .await
    }

    /// [`SkipLog::forget`].
    pub async fn forget_skip(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        SkipLog::forget(self, skip).await
    }
}
