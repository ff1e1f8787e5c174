//! A recipient-specific scheduling link: minted for one candidate of one seat, sent in an
//! InMail (one per recipient of a bulk InMail, or in an existing conversation), usable while
//! it is valid and the seat's calendar is still the one it was minted against.
//!
//! Only a hash of the link's token is stored; the token itself is known to the candidate
//! alone. The link books one initial interview between the seat holder and the candidate,
//! which the candidate may move while the link is valid.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::ids::{ContractId, EmailAddress, ProfileId, SeatId, UserId};
use crate::seat::Seat;

/// Who the link is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitee {
    pub email: EmailAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileId>,
}

/// The longest name kept for an invitee.
pub const MAX_NAME_CHARS: usize = 120;
/// The longest conversation id the product may give.
pub const MAX_CONVERSATION_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulingLink {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// The lowercase hex SHA-256 of the token: how the link is found.
    pub token_hash: String,
    pub invitee: Invitee,
    /// The InMail conversation the link was sent in: where confirmations are posted.
    pub conversation: String,
    /// The seat's holder when the link was minted: the interview is with them.
    pub holder: UserId,
    /// The calendar the link offers time from (its authorized address).
    pub calendar: EmailAddress,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What a candidate opening the link may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Book, or move the interview booked through it.
    Usable,
    /// Past its validity: the candidate replies to the InMail instead.
    Expired,
    /// The seat changed hands (or nobody holds it): no one can vouch for the new holder's
    /// calendar, so the link books nothing.
    SeatChanged,
    /// The calendar the link offered is no longer authorized (deauthorized, to be
    /// reconnected, or another account now).
    CalendarGone,
}

impl LinkState {
    pub fn is_usable(self) -> bool {
        self == LinkState::Usable
    }

    /// A code for logs and the product.
    pub fn code(self) -> &'static str {
        match self {
            LinkState::Usable => "usable",
            LinkState::Expired => "expired",
            LinkState::SeatChanged => "seat_changed",
            LinkState::CalendarGone => "calendar_gone",
        }
    }
}

impl SchedulingLink {
    /// The link's state at `now`, given the seat and its calendar connection as stored.
    pub fn state(&self, now: Timestamp, seat: &Seat, calendar: Option<&Connection>) -> LinkState {
        if now >= self.expires_at {
            return LinkState::Expired;
        }
        if seat.holder.as_ref() != Some(&self.holder) {
            return LinkState::SeatChanged;
        }
        match calendar {
            Some(c) if c.is_authorized() && c.grant.address == self.calendar => LinkState::Usable,
            _ => LinkState::CalendarGone,
        }
    }
}
