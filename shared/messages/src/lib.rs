//! What hiresync puts on its queues, and for whom: the message bodies producers and
//! consumers share, and the ports a use case sends them through.
//!
//! A function depends on this crate for what it sends or reads, never on the use cases
//! that produce it: `webhook-intake` sends [`SyncJob`]s without knowing OAuth, KMS or any
//! provider client. The SQS adapter that implements the ports lives in `hiresync-runtime`;
//! an in-memory one for use-case tests lives in the test kit.

use hiresync_domain::access::{Effect, ReconnectReason};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{BookingId, ContractId, SeatId};
use hiresync_domain::purge::PurgeCounts;
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

mod interview;
mod ports;

pub use interview::{
    InmailMeeting, InmailMessage, InterviewDetails, InterviewNotConfirmed, NotConfirmedReason,
    VideoFailure, CANDIDATE_NOT_CONFIRMED, CANDIDATE_VIDEO_PROBLEM,
};
pub use ports::{
    dedup_id, BookingQueue, FanOutQueue, InmailQueue, NotWired, NoticeQueue, PurgeQueue,
    QueueError, Queues, SyncJobQueue,
};

/// One page of a settings change's fan-out (`DeauthorizationsQueue`): the effects reach the
/// contract's connections page by page, each page enqueuing the next, so a contract with
/// 10,000 seats completes without one invocation doing it all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanOutPage {
    pub contract: ContractId,
    pub effects: Vec<Effect>,
    /// When the admin made the change; newer authorizations are left alone.
    pub issued_at: Timestamp,
    /// Where this page starts; `None` for the first.
    pub page: Option<String>,
    /// The change this page belongs to (contract version), for logs and deduplication.
    pub change: String,
}

/// What `DeauthorizationsQueue` carries: pages of a settings change, and the product's seat
/// events (the rule delivers their detail alone), which take the former holder's
/// authorizations away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FanOutMessage {
    Page(FanOutPage),
    /// `seat.transferred`.
    Transferred(SeatTransferred),
    /// `seat.parked`.
    Parked(SeatParked),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatTransferred {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// The new holder (the product's user id, the `sub` of their tokens).
    pub holder: hiresync_domain::ids::UserId,
    pub transferred_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatParked {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    pub parked_at: Timestamp,
}

/// Why a connection must be synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncReason {
    /// First connection, or back after more than six months: one year back.
    Historical,
    /// Back within six months: from the stored cursor.
    Resume,
    /// A push subscription lapsed or was recreated: changes may have been missed.
    CatchUp,
    /// A provider pushed a change notification.
    Push,
    /// The weekly check of stored messages against the mailbox: what the mailbox no longer
    /// has (deleted where no notification or delta said so) is deleted here.
    Reconcile,
}

/// A sync job (`SyncJobsQueue`, FIFO, one message group per connection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    pub contract: ContractId,
    pub seat: SeatId,
    pub kind: ConnectionKind,
    pub reason: SyncReason,
    pub requested_at: Timestamp,
}

impl SyncJob {
    /// One sync at a time per connection.
    pub fn group(&self) -> String {
        format!("{}:{}:{}", self.contract, self.seat, self.kind.as_str())
    }
}

/// A booked or moved interview to put in the recruiter's calendar (`BookingsQueue`, FIFO).
/// The consumer reads the booking as stored: a job for an older revision than the booking
/// has now is done by the newer one's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingJob {
    pub contract: ContractId,
    pub seat: SeatId,
    pub booking: BookingId,
    pub revision: u32,
    pub requested_at: Timestamp,
}

impl BookingJob {
    /// One booking's revisions in order.
    pub fn group(&self) -> String {
        format!("{}:{}:{}", self.contract, self.seat, self.booking)
    }

    /// One message per revision, however often the candidate's request is retried.
    pub fn dedup(&self) -> String {
        dedup_id(&format!(
            "{}:{}:r{}",
            self.seat, self.booking, self.revision
        ))
    }
}

/// A notice to a recruiter (`NotificationsQueue`), for the product to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// The seat must authorize this connection again.
    ReauthorizationNeeded {
        contract: ContractId,
        seat: SeatId,
        kind: ConnectionKind,
        reason: ReconnectReason,
        at: Timestamp,
    },
    /// An interview booked through the seat's scheduler is in its calendar without the
    /// video meeting it was booked with; the candidate was only told that something went
    /// wrong with the video and to contact the recruiter. `message` is `reason`'s text for
    /// the recruiter ([`VideoFailure::message`]). Sent at least once: the product may see
    /// the same `booking` and `revision` twice and shows it once.
    VideoLinkFailed {
        contract: ContractId,
        seat: SeatId,
        booking: BookingId,
        revision: u32,
        /// The candidate's name, or their address when the link had no name.
        candidate: String,
        reason: VideoFailure,
        message: String,
        at: Timestamp,
    },
}

/// What `PurgeQueue` carries: the product's contract lifecycle events (the rule delivers
/// their detail alone) and the steps of a purge, each of which queues the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PurgeMessage {
    Step(PurgeStep),
    /// `contract.suspended`: the contract is suspended as of `suspended_at`.
    Suspended(ContractSuspended),
    /// `contract.reactivated`: the contract is active again as of `reactivated_at`.
    Reactivated(ContractReactivated),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSuspended {
    pub contract_id: ContractId,
    pub suspended_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractReactivated {
    pub contract_id: ContractId,
    pub reactivated_at: Timestamp,
}

/// One step of the purge of the run that follows the suspension at `suspended_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum PurgeStep {
    /// One page of the contract's seats: a seat step for each, then the next page; the
    /// last page queues the verification.
    Seats {
        contract: ContractId,
        suspended_at: Timestamp,
        page: Option<String>,
    },
    /// One seat's data; a step that runs out of time queues its own continuation with
    /// what it deleted so far.
    Seat {
        contract: ContractId,
        suspended_at: Timestamp,
        seat: SeatId,
        #[serde(default)]
        deleted: PurgeCounts,
    },
    /// Waits for every seat, then re-reads every key pattern of the contract and writes the
    /// receipt; queued again while seats are unfinished or the provider owes a revoke.
    Verify {
        contract: ContractId,
        suspended_at: Timestamp,
        attempt: u32,
    },
}

impl PurgeStep {
    pub fn contract(&self) -> &ContractId {
        match self {
            PurgeStep::Seats { contract, .. }
            | PurgeStep::Seat { contract, .. }
            | PurgeStep::Verify { contract, .. } => contract,
        }
    }
}

#[cfg(test)]
mod purge_tests {
    use super::*;

    #[test]
    fn lifecycle_events_and_steps_are_told_apart() {
        let suspended: PurgeMessage = serde_json::from_str(
            r#"{"contract_id": "acme", "suspended_at": "2026-11-01T10:00:00Z"}"#,
        )
        .unwrap();
        assert!(matches!(suspended, PurgeMessage::Suspended(_)));
        let reactivated: PurgeMessage = serde_json::from_str(
            r#"{"contract_id": "acme", "reactivated_at": "2026-11-02T10:00:00Z"}"#,
        )
        .unwrap();
        assert!(matches!(reactivated, PurgeMessage::Reactivated(_)));
        let step = PurgeMessage::Step(PurgeStep::Verify {
            contract: ContractId::parse("acme").unwrap(),
            suspended_at: "2026-11-01T10:00:00Z".parse().unwrap(),
            attempt: 2,
        });
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(serde_json::from_str::<PurgeMessage>(&json).unwrap(), step);
        // Neither an event with a field too many, nor an id that is not one, is taken.
        for bad in [
            r#"{"contract_id": "acme", "suspended_at": "2026-11-01T10:00:00Z", "x": 1}"#,
            r#"{"contract_id": "a#b", "suspended_at": "2026-11-01T10:00:00Z"}"#,
            r#"{"contract_id": "acme", "suspended_at": "yesterday"}"#,
            r#"{"step": "seat", "contract": "acme"}"#,
        ] {
            assert!(serde_json::from_str::<PurgeMessage>(bad).is_err(), "{bad}");
        }
    }
}
