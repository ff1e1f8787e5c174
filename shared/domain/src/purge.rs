//! The purge of a suspended contract's third-party data, and its receipt.
//!
//! Third-party data is what came from the seats' mailboxes and calendars or lets us reach
//! them: synced mail and everything derived from it, sync status and cursors, scheduling
//! data, push subscriptions, tokens and the mailbox claims. First-party data (the contract,
//! its seats and settings, the candidate directory) is the product's own and stays.
//!
//! A purge runs per suspension: its id is the instant of the suspension, so a duplicated
//! event continues the same run and a later suspension starts a new one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::SeatId;
use crate::Timestamp;

/// One class of third-party data, as the receipt counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    Threads,
    Messages,
    /// The guards that keep a message stored once (by its RFC Message-ID).
    MessageIds,
    /// Pointers from a provider's message id to its thread.
    ProviderIds,
    SkipDecisions,
    Tombstones,
    SyncStatus,
    /// Connection records: the account, its grant, the historical anchor and cursors.
    Connections,
    Tokens,
    PushSubscriptions,
    /// Deauthorizations whose provider clean-up (stop, revoke) is not done yet; each holds
    /// the sealed token only to revoke it.
    Retirements,
    MailboxClaims,
    /// Links and bookings.
    Scheduling,
    /// What the provider told us about the contract's tenant (Graph's subscription limit).
    ProviderLimits,
    /// The contract's Zoom connection (the account and its sealed tokens) and the Zoom
    /// sign-ins in progress (each with its PKCE verifier).
    Zoom,
    /// Anything else found under a seat's keys.
    Other,
}

impl DataClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Threads => "threads",
            DataClass::Messages => "messages",
            DataClass::MessageIds => "message_ids",
            DataClass::ProviderIds => "provider_ids",
            DataClass::SkipDecisions => "skip_decisions",
            DataClass::Tombstones => "tombstones",
            DataClass::SyncStatus => "sync_status",
            DataClass::Connections => "connections",
            DataClass::Tokens => "tokens",
            DataClass::PushSubscriptions => "push_subscriptions",
            DataClass::Retirements => "retirements",
            DataClass::MailboxClaims => "mailbox_claims",
            DataClass::Scheduling => "scheduling",
            DataClass::ProviderLimits => "provider_limits",
            DataClass::Zoom => "zoom",
            DataClass::Other => "other",
        }
    }
}

/// How many items of each class were deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PurgeCounts(pub BTreeMap<DataClass, u64>);

impl PurgeCounts {
    pub fn add(&mut self, class: DataClass, n: u64) {
        if n > 0 {
            *self.0.entry(class).or_default() += n;
        }
    }

    pub fn merge(&mut self, other: &PurgeCounts) {
        for (class, n) in &other.0 {
            self.add(*class, *n);
        }
    }

    pub fn get(&self, class: DataClass) -> u64 {
        self.0.get(&class).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// What one seat's purge did and found afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatPurge {
    pub seat: SeatId,
    pub deleted: PurgeCounts,
    /// Retirements left for the renewal job: the provider could not be reached to stop a
    /// subscription or revoke a grant. Nothing is fetched with them; their sealed token is
    /// deleted once the provider confirms.
    pub awaiting_provider: u32,
    pub finished_at: Timestamp,
}

/// The outcome of re-reading every key pattern of the contract after its purge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Classes still found, with the seat they were found under (`None`: the contract's own
    /// partition).
    pub found: Vec<(Option<SeatId>, DataClass)>,
    pub checked_at: Option<Timestamp>,
}

impl Verification {
    pub fn is_clean(&self) -> bool {
        self.found.is_empty()
    }

    /// Only retirements are left: the provider still owes a stop or a revoke.
    pub fn only_awaiting_provider(&self) -> bool {
        !self.found.is_empty()
            && self
                .found
                .iter()
                .all(|(_, class)| *class == DataClass::Retirements)
    }
}

/// The receipt of one purge run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReceipt {
    /// The suspension's instant: the run's id.
    pub suspended_at: Timestamp,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Seats of the contract when the run listed them.
    pub seats: Vec<SeatPurge>,
    /// The sum over seats and the contract's own partition.
    pub deleted: PurgeCounts,
    pub verification: Option<Verification>,
}

impl PurgeReceipt {
    pub fn started(suspended_at: Timestamp, now: Timestamp) -> Self {
        Self {
            suspended_at,
            started_at: now,
            finished_at: None,
            seats: Vec::new(),
            deleted: PurgeCounts::default(),
            verification: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_merge_and_skip_zeroes() {
        let mut a = PurgeCounts::default();
        a.add(DataClass::Threads, 2);
        a.add(DataClass::Messages, 0);
        let mut b = PurgeCounts::default();
        b.add(DataClass::Threads, 1);
        b.add(DataClass::Tokens, 1);
        a.merge(&b);
        assert_eq!(a.get(DataClass::Threads), 3);
        assert_eq!(a.get(DataClass::Messages), 0);
        assert!(!a.0.contains_key(&DataClass::Messages));
        assert_eq!(a.total(), 4);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"threads": 3, "tokens": 1})
        );
        a.add(DataClass::Zoom, 2);
        assert_eq!(serde_json::to_value(&a).unwrap()["zoom"], 2);
        assert_eq!(DataClass::Zoom.as_str(), "zoom");
    }

    #[test]
    fn a_verification_is_clean_only_when_nothing_is_found() {
        let seat = SeatId::parse("s1").unwrap();
        let mut v = Verification::default();
        assert!(v.is_clean());
        assert!(!v.only_awaiting_provider());
        v.found.push((Some(seat.clone()), DataClass::Retirements));
        assert!(!v.is_clean());
        assert!(v.only_awaiting_provider());
        v.found.push((Some(seat), DataClass::Messages));
        assert!(!v.only_awaiting_provider());
    }
}
