//! What a connection leaves behind at its provider when it loses its authorization: a grant
//! to revoke and push subscriptions to stop.
//!
//! Losing an authorization is local first. The connection's state, its stored token and its
//! subscription records change in one step, so from that instant nothing is fetched or
//! renewed for it; the provider's side is this separate piece of work, kept until the
//! provider has confirmed it and retried with growing waits meanwhile. A provider that
//! fails never undoes nor delays the deauthorization.

use jiff::Timestamp;

use crate::connection::ConnectionKind;
use crate::contract::Provider;
use crate::ids::{ContractId, EmailAddress, SeatId};
use crate::ports::StoredToken;
use crate::subscription::PushSubscription;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    pub kind: ConnectionKind,
    pub provider: Provider,
    /// The account the grant was for.
    pub address: EmailAddress,
    /// The connection version its deauthorization wrote: one retirement per change, so a
    /// seat that connects and disconnects again has a second one beside the first.
    pub version: u64,
    /// The sealed refresh token taken from the connection, if it had one (needed to stop
    /// and to revoke anything at the provider).
    pub token: Option<StoredToken>,
    /// The subscriptions to stop, as they were when the connection lost its authorization.
    pub subscriptions: Vec<PushSubscription>,
    pub retired_at: Timestamp,
    /// Attempts at the provider that failed in a row.
    pub failures: u32,
}

impl Retirement {
    /// Whether anything is left to do at the provider: without a token nothing there can
    /// be stopped or revoked (the subscriptions run out on their own), so no work is kept.
    pub fn has_provider_work(&self) -> bool {
        self.token.is_some()
    }

    /// When to try again after the `failures`-th failed attempt in a row at `now`: the
    /// waits of a failing renewal (15 minutes, doubling, at most 6 hours), for ever. A
    /// provider that is down for a day is still cleaned up after.
    pub fn retry_at(now: Timestamp, failures: u32) -> Timestamp {
        PushSubscription::retry_at(now, failures)
    }
}
