//! The port methods under their former inherent names and signatures (without the
//! contract), for the callers outside this crate that do not go through the ports yet.
//! Each goes as soon as nothing calls it; new code uses [`ThreadStore`], [`MailReader`]
//! and [`SkipLog`].
//!
//! [`MailReader`]: hiresync_domain::ports::MailReader

use hiresync_domain::ids::{EmailAddress, SeatId};
use hiresync_domain::mail::{Message, SkipRecord, Thread};
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

    /// [`ThreadStore::messages`] (and `MailReader::messages`).
    pub async fn messages(
        &self,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        self.seat_messages(seat, thread_id).await
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

    /// [`SkipLog::skips_for`].
    pub async fn skips_for(
        &self,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        self.seat_skips(seat, counterpart).await
    }
}
