//! What hiresync puts on its queues, and for whom: the message bodies producers and
//! consumers share, and the ports a use case sends them through.
//!
//! A function depends on this crate for what it sends or reads, never on the use cases
//! that produce it: `webhook-intake` sends [`SyncJob`]s without knowing OAuth, KMS or any
//! provider client. The SQS adapter that implements the ports lives in `hiresync-runtime`;
//! an in-memory one for use-case tests lives in the test kit.

use hiresync_domain::access::{Effect, ReconnectReason};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

mod ports;

pub use ports::{dedup_id, FanOutQueue, NotWired, NoticeQueue, QueueError, Queues, SyncJobQueue};

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
}
