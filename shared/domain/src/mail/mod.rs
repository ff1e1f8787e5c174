//! Synced threads and messages: private to the owning seat unless its holder shares them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{ContractId, EmailAddress, SeatId};
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
    /// Whether the conversation was started from the product.
    pub started_from_product: bool,
    pub last_activity_at: Timestamp,
}

impl Thread {
    /// A thread seen for the first time. Every new thread is private to the seat whose
    /// mailbox it came from: sharing it is its owner's act, never a side effect of syncing.
    pub fn first_seen(
        contract_id: ContractId,
        seat_id: SeatId,
        thread_id: String,
        counterpart: EmailAddress,
        started_from_product: bool,
        at: Timestamp,
    ) -> Self {
        Thread {
            contract_id,
            seat_id,
            thread_id,
            counterpart,
            visibility: Visibility::Private,
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

    /// Whether `seat` of `contract` can see this thread: the owner always, other seats of
    /// the same contract only when the owner shared it. A transferred seat keeps its data,
    /// and so does its visibility.
    pub fn visible_to(&self, contract: &ContractId, seat: &SeatId) -> bool {
        &self.contract_id == contract
            && (&self.seat_id == seat || self.visibility == Visibility::Organization)
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

    #[test]
    fn private_by_default_and_shared_only_within_the_contract() {
        let mut t = thread("2026-03-31T09:00:00Z");
        let c1 = ContractId::parse("c1").unwrap();
        let c2 = ContractId::parse("c2").unwrap();
        let owner = SeatId::parse("s1").unwrap();
        let other = SeatId::parse("s2").unwrap();
        assert!(t.visible_to(&c1, &owner));
        assert!(!t.visible_to(&c1, &other));
        t.visibility = Visibility::Organization;
        assert!(t.visible_to(&c1, &other));
        assert!(!t.visible_to(&c2, &other));
    }
}
