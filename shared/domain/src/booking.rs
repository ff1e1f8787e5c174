//! An interview a candidate booked from a recruiter's scheduling link.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{BookingId, ContractId, EmailAddress, SeatId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Chosen by the candidate; the calendar event is not confirmed yet.
    Requested,
    /// The event exists in the recruiter's calendar.
    Confirmed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BookingError {
    #[error("a meeting must end after it starts")]
    EmptySlot,
    #[error("booking {0} is cancelled")]
    Cancelled(BookingId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    pub candidate: EmailAddress,
    pub start: Timestamp,
    pub end: Timestamp,
    pub state: BookingState,
    /// Bumped by every reschedule, so confirmations of an older slot are recognised.
    pub revision: u32,
}

impl Booking {
    pub fn request(
        id: BookingId,
        contract_id: ContractId,
        seat_id: SeatId,
        candidate: EmailAddress,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Self, BookingError> {
        if end <= start {
            return Err(BookingError::EmptySlot);
        }
        Ok(Self {
            id,
            contract_id,
            seat_id,
            candidate,
            start,
            end,
            state: BookingState::Requested,
            revision: 0,
        })
    }

    /// Moves the booking to a new slot; it must be confirmed again.
    pub fn reschedule(&mut self, start: Timestamp, end: Timestamp) -> Result<(), BookingError> {
        if self.state == BookingState::Cancelled {
            return Err(BookingError::Cancelled(self.id.clone()));
        }
        if end <= start {
            return Err(BookingError::EmptySlot);
        }
        self.start = start;
        self.end = end;
        self.state = BookingState::Requested;
        self.revision += 1;
        Ok(())
    }
}
