//! Storage of the scheduler: each seat's settings, the links minted for candidates, the
//! bookings and the time they hold, and a short-lived copy of a seat's busy time.
//!
//! Everything but the settings lives in the seat's partition (so the contract purge takes
//! it); every method names the contract and seat.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::availability::Busy;
use crate::booking::Booking;
use crate::ids::{BookingId, ContractId, SeatId};
use crate::scheduler::link::SchedulingLink;
use crate::scheduler::SeatScheduler;

use super::{StoreError, Versioned};

/// A seat's scheduler settings (kept through a contract's suspension: they are the
/// recruiter's, not third-party data).
#[async_trait]
pub trait SchedulerSettingsStore: Send + Sync {
    async fn scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<SeatScheduler>, StoreError>;
    async fn save_scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        settings: &SeatScheduler,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// How an attempt to hold a booking's time ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The booking is stored and holds its time (and released the time it held before).
    Held(Box<Versioned<Booking>>),
    /// Another booking holds some of that time: nothing was written.
    Taken,
    /// The booking changed since it was read (a concurrent reschedule): nothing was written.
    Changed,
}

#[async_trait]
pub trait SchedulingStore: Send + Sync {
    /// Stores a new link; the same link again changes nothing.
    async fn put_link(&self, link: &SchedulingLink) -> Result<(), StoreError>;
    async fn link(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        token_hash: &str,
    ) -> Result<Option<SchedulingLink>, StoreError>;

    async fn booking(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        id: &BookingId,
    ) -> Result<Option<Versioned<Booking>>, StoreError>;

    /// Takes `booking`'s time, all or nothing: the booking written (new when `previous` is
    /// `None`, else only if it is still at `previous`'s version) with every time bucket it
    /// holds, and the buckets of `previous` it no longer needs released. With `daily_cap`,
    /// the booking's local day (`Booking::local_day`) counts it among at most that many
    /// ([`Hold::Taken`] when the day is full); a move to another day gives the old day's
    /// place back.
    async fn hold(
        &self,
        booking: &Booking,
        previous: Option<&Versioned<Booking>>,
        daily_cap: Option<u32>,
    ) -> Result<Hold, StoreError>;

    /// Replaces a booking if it is still at `read`'s version (a confirmation recording its
    /// event); [`StoreError::Conflict`] otherwise. Cancelling it releases its time and its
    /// place in its day's count.
    async fn update_booking(
        &self,
        read: &Versioned<Booking>,
        booking: &Booking,
    ) -> Result<Versioned<Booking>, StoreError>;

    /// The seat's live bookings that end after `from`, at most `limit`.
    async fn bookings_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        limit: usize,
    ) -> Result<Vec<Booking>, StoreError>;

    /// The seat's busy time as last read, when read at or after `fresh_since` and covering
    /// `[from, to)`.
    async fn cached_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        to: Timestamp,
        fresh_since: Timestamp,
    ) -> Result<Option<Vec<Busy>>, StoreError>;
    async fn cache_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        to: Timestamp,
        busy: &[Busy],
        read_at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// What is cached of a seat's busy time, forgotten when its calendar changes (a push from
/// the provider), so the next page shows the calendar as it is.
#[async_trait]
pub trait BusyCache: Send + Sync {
    async fn forget_busy(&self, contract: &ContractId, seat: &SeatId) -> Result<(), StoreError>;
}
