//! An interview a candidate booked from a recruiter's scheduling link: one per link (an
//! initial interview between the seat holder and the candidate), moved by the candidate
//! while the link is valid.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::availability::Slot;
use crate::ids::{BookingId, ContractId, EmailAddress, SeatId, UserId};
use crate::scheduler::link::{Invitee, SchedulingLink};
use crate::scheduler::MeetingType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Chosen by the candidate; the calendar event of this revision is not made yet.
    Requested,
    /// The event of this revision is in the recruiter's calendar.
    Confirmed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BookingError {
    #[error("a meeting must end after it starts")]
    EmptySlot,
    #[error("booking {0} is cancelled")]
    Cancelled(BookingId),
    #[error("the interview is already at that time")]
    SameTime,
    #[error("the link's hash is not usable as a booking id")]
    Link,
}

/// What the confirmation made in the recruiter's calendar (and at the video provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedEvent {
    pub event_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
    /// The revision the event shows.
    pub revision: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// The link's token hash.
    pub link: String,
    pub invitee: Invitee,
    pub conversation: String,
    /// The seat holder the interview is with, and the calendar it goes in.
    pub holder: UserId,
    pub calendar: EmailAddress,
    pub start: Timestamp,
    pub end: Timestamp,
    pub meeting: MeetingType,
    /// The zone the candidate chose to see times in (confirmations use it).
    pub invitee_zone: String,
    pub state: BookingState,
    /// Bumped by every reschedule, so work for an older time is recognised.
    pub revision: u32,
    pub booked_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<BookedEvent>,
    /// The day the interview falls on in the seat's zone, which its daily cap counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_day: Option<jiff::civil::Date>,
    /// The Zoom meeting made for the interview (the contract's Zoom account), recorded as
    /// soon as Zoom made it: later attempts and reschedules move this one, never make
    /// another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<BookedZoom>,
}

/// A booking's Zoom meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedZoom {
    /// Zoom's meeting id (an int64, as text).
    pub meeting_id: String,
    pub join_url: String,
}

impl Booking {
    /// The booking made through `link`: its id is the link's (one interview per link).
    pub fn id_for(link: &SchedulingLink) -> Result<BookingId, BookingError> {
        let short: String = link.token_hash.chars().take(32).collect();
        BookingId::parse(format!("b-{short}")).map_err(|_| BookingError::Link)
    }

    pub fn request(
        link: &SchedulingLink,
        slot: Slot,
        meeting: MeetingType,
        invitee_zone: String,
        now: Timestamp,
    ) -> Result<Self, BookingError> {
        if slot.end <= slot.start {
            return Err(BookingError::EmptySlot);
        }
        Ok(Self {
            id: Self::id_for(link)?,
            contract_id: link.contract_id.clone(),
            seat_id: link.seat_id.clone(),
            link: link.token_hash.clone(),
            invitee: link.invitee.clone(),
            conversation: link.conversation.clone(),
            holder: link.holder.clone(),
            calendar: link.calendar.clone(),
            start: slot.start,
            end: slot.end,
            meeting,
            invitee_zone,
            state: BookingState::Requested,
            revision: 0,
            booked_at: now,
            event: None,
            local_day: None,
            zoom: None,
        })
    }

    pub fn slot(&self) -> Slot {
        Slot {
            start: self.start,
            end: self.end,
        }
    }

    /// Moves the booking to `slot`; the new time must be confirmed again.
    pub fn reschedule(
        &mut self,
        slot: Slot,
        invitee_zone: String,
        now: Timestamp,
    ) -> Result<(), BookingError> {
        if self.state == BookingState::Cancelled {
            return Err(BookingError::Cancelled(self.id.clone()));
        }
        if slot.end <= slot.start {
            return Err(BookingError::EmptySlot);
        }
        if slot == self.slot() {
            return Err(BookingError::SameTime);
        }
        self.start = slot.start;
        self.end = slot.end;
        self.invitee_zone = invitee_zone;
        self.state = BookingState::Requested;
        self.revision += 1;
        self.booked_at = now;
        Ok(())
    }
}
