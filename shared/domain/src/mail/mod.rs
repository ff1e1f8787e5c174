//! Synced threads and messages: private to the owning seat unless its holder shares them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{ContractId, EmailAddress, ProfileId, SeatId, UserId};
use crate::time;

mod skip;
mod tombstone;

pub use skip::{SkipRecord, SKIP_RETENTION_DAYS};
pub use tombstone::{ThreadTombstone, TOMBSTONE_PARTICIPANTS, TOMBSTONE_RETENTION_DAYS};

/// Months without activity after which a thread is removed.
pub const INACTIVITY_MONTHS: i32 = 6;

/// Who can see a synced thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only the seat that owns the mailbox (the default for everything synced).
    #[default]
    Private,
    /// Every seat of the contract.
    Organization,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Sent,
    Received,
}

/// A 1:1 conversation between a seat and one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// The provider's thread or conversation id.
    pub thread_id: String,
    pub counterpart: EmailAddress,
    pub visibility: Visibility,
    /// The person the thread was synced for: who connected the mailbox (the bearer token's
    /// `sub`). `None` on threads synced before holders were recorded: the seat's.
    #[serde(default)]
    pub holder: Option<UserId>,
    /// The candidate profile the counterpart matched when the thread was first synced; it
    /// stays with the thread (the candidate's conversations are found by it).
    #[serde(default)]
    pub profile: Option<ProfileId>,
    /// Whether the conversation was started from the product.
    pub started_from_product: bool,
    pub last_activity_at: Timestamp,
}

/// Where a new thread comes from: whom it was synced for, the profile its counterpart
/// matched, and whether the conversation was started from the product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub holder: Option<UserId>,
    pub profile: Option<ProfileId>,
    pub started_from_product: bool,
}

/// Who is looking: the caller's contract, seat and person, from its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub contract: ContractId,
    pub seat: SeatId,
    pub user: UserId,
}

/// Only a thread's owner may change who sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("only the person a thread was synced for can change who sees it")]
pub struct NotOwner;

impl Thread {
    /// A thread seen for the first time. Every new thread is private to the seat whose
    /// mailbox it came from: sharing it is its owner's act, never a side effect of syncing.
    pub fn first_seen(
        contract_id: ContractId,
        seat_id: SeatId,
        thread_id: String,
        counterpart: EmailAddress,
        origin: Origin,
        at: Timestamp,
    ) -> Self {
        let Origin {
            holder,
            profile,
            started_from_product,
        } = origin;
        Thread {
            contract_id,
            seat_id,
            thread_id,
            counterpart,
            visibility: Visibility::Private,
            holder,
            profile,
            started_from_product,
            last_activity_at: at,
        }
    }

    /// Records a message at `at`. Activity only moves forward, so messages stored out of
    /// order never make a thread look older than it is.
    pub fn record_activity(&mut self, at: Timestamp) {
        self.last_activity_at = self.last_activity_at.max(at);
    }

    /// The instant from which the thread counts as inactive and is removed.
    pub fn expires_at(&self) -> Timestamp {
        time::add_months(self.last_activity_at, INACTIVITY_MONTHS)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at()
    }

    /// Whether the thread is `viewer`'s own: synced into their seat for them (a thread
    /// recorded without a holder is its seat's).
    pub fn is_owned_by(&self, viewer: &Viewer) -> bool {
        self.contract_id == viewer.contract
            && self.seat_id == viewer.seat
            && self.holder.as_ref().is_none_or(|h| *h == viewer.user)
    }

    /// Whether `viewer` can see this thread: a private one only the person it was synced
    /// for, in its seat (after a transfer, neither the new holder nor other seats); a
    /// shared one every seat of the same contract. The data stays with the seat either way.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        match self.visibility {
            Visibility::Private => self.is_owned_by(viewer),
            Visibility::Organization => self.contract_id == viewer.contract,
        }
    }

    /// The owner shares the thread with the organization or makes it private again;
    /// whether it changed.
    pub fn set_visibility(
        &mut self,
        viewer: &Viewer,
        visibility: Visibility,
    ) -> Result<bool, NotOwner> {
        if !self.is_owned_by(viewer) {
            return Err(NotOwner);
        }
        let changed = self.visibility != visibility;
        self.visibility = visibility;
        Ok(changed)
    }
}

/// One synced message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    pub thread_id: String,
    /// The provider's stable id (Graph immutable id, Gmail message id).
    pub provider_id: String,
    /// The RFC 5322 Message-ID, stable across folders and systems.
    pub internet_message_id: Option<String>,
    pub direction: Direction,
    pub from: EmailAddress,
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub bcc: Vec<EmailAddress>,
    pub subject: String,
    pub sent_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(last: &str) -> Thread {
        Thread {
            contract_id: ContractId::parse("c1").unwrap(),
            seat_id: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            counterpart: EmailAddress::parse("cand@example.org").unwrap(),
            visibility: Visibility::default(),
            holder: None,
            profile: None,
            started_from_product: false,
            last_activity_at: last.parse().unwrap(),
        }
    }

    #[test]
    fn a_thread_expires_exactly_six_calendar_months_after_its_last_activity() {
        let t = thread("2026-03-31T09:00:00Z");
        assert_eq!(t.expires_at(), "2026-09-30T09:00:00Z".parse().unwrap());
        assert!(!t.is_expired("2026-09-30T08:59:59Z".parse().unwrap()));
        assert!(t.is_expired("2026-09-30T09:00:00Z".parse().unwrap()));
    }

    #[test]
    fn activity_never_moves_backwards() {
        let mut t = thread("2026-03-31T09:00:00Z");
        t.record_activity("2026-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(t.last_activity_at, "2026-03-31T09:00:00Z".parse().unwrap());
        t.record_activity("2026-04-01T00:00:00Z".parse().unwrap());
        assert_eq!(t.last_activity_at, "2026-04-01T00:00:00Z".parse().unwrap());
    }

    fn viewer(contract: &str, seat: &str, user: &str) -> Viewer {
        Viewer {
            contract: ContractId::parse(contract).unwrap(),
            seat: SeatId::parse(seat).unwrap(),
            user: UserId::parse(user).unwrap(),
        }
    }

    #[test]
    fn private_to_its_holder_and_shared_only_within_the_contract() {
        let mut t = thread("2026-03-31T09:00:00Z");
        t.holder = Some(UserId::parse("u1").unwrap());
        let owner = viewer("c1", "s1", "u1");
        // the seat's new holder after a transfer, another seat, another contract's same seat
        let successor = viewer("c1", "s1", "u9");
        let colleague = viewer("c1", "s2", "u2");
        let stranger = viewer("c2", "s1", "u1");
        assert!(t.visible_to(&owner));
        for v in [&successor, &colleague, &stranger] {
            assert!(!t.visible_to(v), "{v:?}");
        }
        // only the owner shares it
        for v in [&successor, &colleague, &stranger] {
            assert_eq!(t.set_visibility(v, Visibility::Organization), Err(NotOwner));
        }
        assert_eq!(t.set_visibility(&owner, Visibility::Organization), Ok(true));
        assert_eq!(
            t.set_visibility(&owner, Visibility::Organization),
            Ok(false)
        );
        assert!(t.visible_to(&successor));
        assert!(t.visible_to(&colleague));
        assert!(!t.visible_to(&stranger));
        // and makes it private again
        assert_eq!(t.set_visibility(&owner, Visibility::Private), Ok(true));
        assert!(!t.visible_to(&colleague));
    }

    #[test]
    fn a_thread_synced_before_holders_were_recorded_is_its_seats() {
        let t = thread("2026-03-31T09:00:00Z");
        assert_eq!(t.holder, None);
        assert!(t.visible_to(&viewer("c1", "s1", "anyone")));
        assert!(!t.visible_to(&viewer("c1", "s2", "anyone")));
    }
}
