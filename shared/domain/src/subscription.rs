//! Provider push subscriptions (Graph subscriptions, Gmail watches, Calendar channels) and
//! when each must be renewed.
//!
//! Lifetimes are configuration, not constants: the providers' documented ceilings disagree
//! (Graph's Outlook limit has been published as 4,230 and 10,080 minutes), so the caller
//! passes what it has configured and what a tenant has taught it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::connection::ConnectionKind;
use crate::ids::{ContractId, SeatId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionKind {
    /// Graph subscription on every message of the mailbox (`me/messages`): a change in any
    /// folder, archive and the user's own folders included. What a mail connection has.
    GraphMessages,
    /// Graph subscription on the Inbox's messages (earlier versions; retired on renewal).
    GraphInbox,
    /// Graph subscription on Sent Items' messages (earlier versions; retired on renewal).
    GraphSentItems,
    /// Graph subscription on Deleted Items' messages (earlier versions; retired on
    /// renewal).
    GraphDeletedItems,
    /// Graph subscription on the calendar's events.
    GraphEvents,
    /// Gmail `users.watch` (one per mailbox, no id of its own).
    GmailWatch,
    /// Google Calendar `events.watch` channel.
    CalendarChannel,
}

impl SubscriptionKind {
    pub fn connection_kind(self) -> ConnectionKind {
        match self {
            SubscriptionKind::GraphMessages
            | SubscriptionKind::GraphInbox
            | SubscriptionKind::GraphSentItems
            | SubscriptionKind::GraphDeletedItems
            | SubscriptionKind::GmailWatch => ConnectionKind::Email,
            SubscriptionKind::GraphEvents | SubscriptionKind::CalendarChannel => {
                ConnectionKind::Calendar
            }
        }
    }
}

/// The configured lifetimes and renewal margins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// What we ask Graph for; a tenant's learned ceiling may lower it.
    pub graph_minutes: u32,
    /// What we ask for a Calendar channel (`params.ttl`).
    pub calendar_ttl: SignedDuration,
    /// Renew this long before a subscription expires.
    pub renew_before: SignedDuration,
    /// Gmail asks for a fresh watch at least this often, whatever its expiration says.
    pub gmail_rewatch_every: SignedDuration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            graph_minutes: 4_200,
            calendar_ttl: SignedDuration::from_hours(7 * 24),
            renew_before: SignedDuration::from_hours(24),
            gmail_rewatch_every: SignedDuration::from_hours(24),
        }
    }
}

impl Lifetimes {
    /// The expiration to request for a Graph subscription created or renewed at `now`.
    pub fn graph_expiration(&self, now: Timestamp, learned_ceiling: Option<u32>) -> Timestamp {
        let minutes = learned_ceiling.map_or(self.graph_minutes, |c| c.min(self.graph_minutes));
        add(now, SignedDuration::from_mins(i64::from(minutes)))
    }

    pub fn calendar_expiration(&self, now: Timestamp) -> Timestamp {
        add(now, self.calendar_ttl)
    }
}

fn add(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn sub(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_sub(d).unwrap_or(Timestamp::MIN)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    /// Graph subscription id, Calendar channel id, or `gmail:<address>` for a Gmail watch.
    pub id: String,
    pub kind: SubscriptionKind,
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// The Calendar channel's resource id, needed to stop it.
    pub resource_id: Option<String>,
    /// SHA-256 (hex) of the Graph clientState or the Calendar channel token; the secret
    /// itself is never stored.
    pub secret_hash: Option<String>,
    pub expires_at: Timestamp,
    /// When it was last created or renewed.
    pub renewed_at: Timestamp,
    /// Renewals that failed in a row since the last success.
    #[serde(default)]
    pub failures: u32,
}

/// The first wait after a failed renewal; each further failure in a row doubles it.
pub const RENEWAL_RETRY_FIRST: SignedDuration = SignedDuration::from_mins(15);
/// The longest wait between renewal attempts of a subscription that keeps failing.
pub const RENEWAL_RETRY_MAX: SignedDuration = SignedDuration::from_hours(6);

impl PushSubscription {
    /// When to try again after the `failures`-th failed renewal in a row at `now`: 15
    /// minutes, doubling, at most 6 hours. A subscription that keeps failing thus gives way
    /// to the others due in its shard instead of heading every run.
    pub fn retry_at(now: Timestamp, failures: u32) -> Timestamp {
        let doublings = failures.saturating_sub(1).min(16);
        let wait = RENEWAL_RETRY_FIRST
            .checked_mul(1i32 << doublings)
            .unwrap_or(RENEWAL_RETRY_MAX)
            .min(RENEWAL_RETRY_MAX);
        add(now, wait)
    }

    /// The id of a mailbox's Gmail watch (Pub/Sub pushes name the mailbox, not a watch).
    pub fn gmail_watch_id(address: &str) -> String {
        format!("gmail:{}", address.to_lowercase())
    }

    /// When renewal is due: a margin before expiry, and for Gmail at least daily.
    pub fn renew_at(&self, lifetimes: &Lifetimes) -> Timestamp {
        let before_expiry = sub(self.expires_at, lifetimes.renew_before);
        match self.kind {
            SubscriptionKind::GmailWatch => {
                before_expiry.min(add(self.renewed_at, lifetimes.gmail_rewatch_every))
            }
            _ => before_expiry,
        }
    }

    /// Whether notifications may have been lost: the subscription lapsed before renewal,
    /// so a catch-up sync must follow.
    pub fn lapsed(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sub_of(kind: SubscriptionKind, renewed: &str, expires: &str) -> PushSubscription {
        PushSubscription {
            id: "s".into(),
            kind,
            contract_id: ContractId::parse("c").unwrap(),
            seat_id: SeatId::parse("s").unwrap(),
            resource_id: None,
            secret_hash: None,
            expires_at: ts(expires),
            renewed_at: ts(renewed),
            failures: 0,
        }
    }

    #[test]
    fn graph_expiration_honours_the_configured_and_the_learned_ceiling() {
        let l = Lifetimes::default();
        let now = ts("2026-03-02T00:00:00Z");
        assert_eq!(l.graph_expiration(now, None), ts("2026-03-04T22:00:00Z"));
        assert_eq!(
            l.graph_expiration(now, Some(1_440)),
            ts("2026-03-03T00:00:00Z")
        );
        assert_eq!(
            l.graph_expiration(now, Some(10_070)),
            ts("2026-03-04T22:00:00Z")
        );
    }

    #[test]
    fn renewal_is_due_a_margin_before_expiry_and_daily_for_gmail() {
        let l = Lifetimes::default();
        let graph = sub_of(
            SubscriptionKind::GraphInbox,
            "2026-03-02T00:00:00Z",
            "2026-03-04T22:00:00Z",
        );
        assert_eq!(graph.renew_at(&l), ts("2026-03-03T22:00:00Z"));
        let gmail = sub_of(
            SubscriptionKind::GmailWatch,
            "2026-03-02T00:00:00Z",
            "2026-03-09T00:00:00Z",
        );
        assert_eq!(gmail.renew_at(&l), ts("2026-03-03T00:00:00Z"));
        assert!(!graph.lapsed(ts("2026-03-04T21:59:59Z")));
        assert!(graph.lapsed(ts("2026-03-04T22:00:00Z")));
    }

    #[test]
    fn kinds_belong_to_their_connection() {
        assert_eq!(
            SubscriptionKind::GraphSentItems.connection_kind(),
            ConnectionKind::Email
        );
        assert_eq!(
            SubscriptionKind::GraphDeletedItems.connection_kind(),
            ConnectionKind::Email
        );
        assert_eq!(
            SubscriptionKind::CalendarChannel.connection_kind(),
            ConnectionKind::Calendar
        );
    }

    #[test]
    fn kinds_are_stored_under_their_snake_case_names() {
        for (kind, name) in [
            (SubscriptionKind::GraphInbox, "graph_inbox"),
            (SubscriptionKind::GraphSentItems, "graph_sent_items"),
            (SubscriptionKind::GraphDeletedItems, "graph_deleted_items"),
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<SubscriptionKind>(name.into()).unwrap(),
                kind
            );
        }
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;

    #[test]
    fn a_failing_renewal_waits_longer_each_time_up_to_six_hours() {
        let now: Timestamp = "2026-03-04T07:00:00Z".parse().unwrap();
        let waits: Vec<i64> = [1, 2, 3, 4, 5, 6, 40]
            .iter()
            .map(|n| (PushSubscription::retry_at(now, *n).as_second() - now.as_second()) / 60)
            .collect();
        assert_eq!(waits, vec![15, 30, 60, 120, 240, 360, 360]);
    }
}
