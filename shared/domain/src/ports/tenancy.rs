//! Storage of contracts, seats, connections and what belongs to them, by capability.
//!
//! Every key that holds a contract's data carries the contract: each method names the
//! contract (and seat) it reads or writes, and an adapter never finds an item by an id
//! alone unless that id is globally unique by construction (a subscription id a provider
//! minted, a pending authorization's random id).

use async_trait::async_trait;
use jiff::Timestamp;

use crate::authorization::PendingAuthorization;
use crate::connection::{Connection, ConnectionKind};
use crate::contract::{Contract, Provider};
use crate::directory::DirectoryEntry;
use crate::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use crate::retirement::Retirement;
use crate::sealed::Sealed;
use crate::seat::Seat;
use crate::subscription::PushSubscription;
use crate::sync_status::SyncStatus;

use std::sync::Arc;

use secrecy::SecretString;

use super::{Page, PageToken, StoreError, Versioned};

/// Contracts and their settings. Writes are versioned: an update carries the version it
/// read and fails with [`StoreError::Conflict`] when someone changed it meanwhile.
#[async_trait]
pub trait ContractStore: Send + Sync {
    /// A new contract; [`StoreError::AlreadyExists`] if it has one.
    async fn create(&self, contract: &Contract) -> Result<Versioned<Contract>, StoreError>;
    async fn get(&self, id: &ContractId) -> Result<Option<Versioned<Contract>>, StoreError>;
    async fn update(
        &self,
        read: &Versioned<Contract>,
        contract: &Contract,
    ) -> Result<Versioned<Contract>, StoreError>;
    /// The longest Graph subscription lifetime the contract's tenant accepted, if learned.
    async fn graph_ceiling(&self, id: &ContractId) -> Result<Option<u32>, StoreError>;
    /// Remembers a ceiling Graph named when it clamped a subscription's lifetime; the
    /// lowest one learned is kept (a higher one than stored never replaces it). Requests
    /// ask for no more than the stored ceiling, so a higher one only comes from a race
    /// between two first requests or from a resource of the tenant with a longer limit,
    /// and keeping it would have the next request of the other refused and retried.
    async fn remember_graph_ceiling(&self, id: &ContractId, minutes: u32)
        -> Result<(), StoreError>;
}

#[async_trait]
pub trait SeatStore: Send + Sync {
    /// A new seat; [`StoreError::AlreadyExists`] if the contract has it.
    async fn create(&self, seat: &Seat) -> Result<Versioned<Seat>, StoreError>;
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<Versioned<Seat>>, StoreError>;
    async fn update(
        &self,
        read: &Versioned<Seat>,
        seat: &Seat,
    ) -> Result<Versioned<Seat>, StoreError>;
    async fn list(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Seat>>, StoreError>;
}

/// Each seat's email and calendar connections.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// A seat's first connection of a kind; [`StoreError::AlreadyExists`] if it has one.
    async fn create(&self, connection: &Connection) -> Result<Versioned<Connection>, StoreError>;
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<Versioned<Connection>>, StoreError>;
    async fn update(
        &self,
        read: &Versioned<Connection>,
        connection: &Connection,
    ) -> Result<Versioned<Connection>, StoreError>;
    /// One page of every connection of a contract (both kinds, every seat).
    async fn list_by_contract(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Connection>>, StoreError>;
    /// A seat's connections, at most one per kind.
    async fn list_for_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<Versioned<Connection>>, StoreError>;
}

/// A sealed refresh token and the authorization it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub sealed: Sealed,
    pub authorized_at: Timestamp,
}

/// Sealed refresh tokens, one per connection.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<(), StoreError>;
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<StoredToken>, StoreError>;
    /// Replaces the token with its rotated successor, only while the stored token belongs
    /// to the same authorization (`token.authorized_at`): a rotation never brings back a
    /// deleted token nor overwrites a newer grant's. Returns whether it was written.
    async fn rotate(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<bool, StoreError>;
}

/// Push subscriptions (Graph subscriptions, Gmail watches, Calendar channels).
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Stores (or replaces) a subscription, due for renewal at `renew_at`.
    async fn put(&self, sub: &PushSubscription, renew_at: Timestamp) -> Result<(), StoreError>;
    /// The subscription a provider's notification names.
    async fn get(&self, id: &str) -> Result<Option<PushSubscription>, StoreError>;
    /// The subscriptions of `ids` that exist, read in batches (a webhook delivery names
    /// many); in no particular order.
    async fn get_many(&self, ids: &[String]) -> Result<Vec<PushSubscription>, StoreError>;
    /// Makes a stored subscription due for renewal at `at`, changing nothing else (a
    /// renewal written meanwhile stands); `false` when it is gone.
    async fn make_due(&self, id: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// After a failed renewal: due again at `at`, with `failures` in a row recorded,
    /// changing nothing else; `false` when it is gone.
    async fn defer(&self, id: &str, at: Timestamp, failures: u32) -> Result<bool, StoreError>;
    async fn delete(&self, sub: &PushSubscription) -> Result<(), StoreError>;
    async fn for_connection(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Vec<PushSubscription>, StoreError>;
    /// The subscriptions due for renewal at `now`, at most `per_shard` from each shard.
    async fn due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<PushSubscription>, StoreError>;
}

/// Connections losing their authorization, and the provider work each leaves
/// ([`Retirement`]).
#[async_trait]
pub trait RetirementStore: Send + Sync {
    /// A connection's deauthorization in one step: writes `changed` over `read`
    /// ([`StoreError::Conflict`] if the connection moved on), deletes the stored token
    /// `retirement` took (a conflict if the stored one is no longer that token: rotated, or
    /// replaced by a newer grant) and the subscription records it holds, and keeps the
    /// retirement, due at once, when it has provider work.
    async fn retire(
        &self,
        read: &Versioned<Connection>,
        changed: &Connection,
        retirement: &Retirement,
    ) -> Result<Versioned<Connection>, StoreError>;
    /// The retirements due at `now`, at most `per_shard` from each shard.
    async fn due(&self, now: Timestamp, per_shard: i32) -> Result<Vec<Retirement>, StoreError>;
    /// After a failed attempt: due again at `at`, with `failures` in a row recorded; `false`
    /// when it is gone.
    async fn defer(
        &self,
        retirement: &Retirement,
        at: Timestamp,
        failures: u32,
    ) -> Result<bool, StoreError>;
    /// The provider confirmed everything: the retirement and its sealed token are deleted.
    async fn finish(&self, retirement: &Retirement) -> Result<(), StoreError>;
    /// Every retirement of one seat, due or not (a purge finishes them at once).
    async fn of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<Retirement>, StoreError>;
}

/// The seat whose connection holds a mailbox or calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxHolder {
    pub contract: ContractId,
    pub seat: SeatId,
}

/// One connection per account: which seat holds each mailbox (and each calendar) of each
/// provider, across every contract.
#[async_trait]
pub trait MailboxClaims: Send + Sync {
    async fn holder(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
    ) -> Result<Option<MailboxHolder>, StoreError>;
    /// Gives the account to `to`, on condition that `from` still holds it (`None`: nobody);
    /// [`StoreError::Conflict`] when that changed meanwhile.
    async fn claim(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        from: Option<&MailboxHolder>,
        to: &MailboxHolder,
    ) -> Result<(), StoreError>;
    /// Lets the account go, if `holder` still holds it; returns whether it did.
    async fn release(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        holder: &MailboxHolder,
    ) -> Result<bool, StoreError>;
}

/// Sign-ins started and not yet completed.
#[async_trait]
pub trait AuthorizationStore: Send + Sync {
    async fn create(
        &self,
        pending: &PendingAuthorization,
        pkce_verifier: &SecretString,
    ) -> Result<(), StoreError>;
    /// Removes and returns a pending authorization: a second take of the same id finds
    /// nothing, so a callback completes at most once.
    async fn take(
        &self,
        id: &str,
    ) -> Result<Option<(PendingAuthorization, SecretString)>, StoreError>;
}

/// Each connection's visible sync status.
#[async_trait]
pub trait SyncStatusStore: Send + Sync {
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<SyncStatus>, StoreError>;
    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        status: &SyncStatus,
    ) -> Result<(), StoreError>;
    /// The connections whose last successful sync (or, never successful, whose stage start)
    /// is before `before`, at most `per_shard` from each shard, the quietest first.
    async fn quiet_since(
        &self,
        before: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(ContractId, SeatId, ConnectionKind)>, StoreError>;
    /// Takes a connection out of [`SyncStatusStore::quiet_since`] until its next status is
    /// written (it no longer syncs); nothing if it has no status.
    async fn forget_quiet(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<(), StoreError>;
}

/// What became of a directory write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryWrite {
    Applied,
    /// The directory already holds this version or a newer one; nothing changed.
    Stale {
        stored_version: u64,
    },
}

/// Reading the candidate directory, as the sync policy needs it.
#[async_trait]
pub trait DirectoryReader: Send + Sync {
    async fn get(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
    ) -> Result<Option<DirectoryEntry>, StoreError>;
    async fn find_by_email(
        &self,
        contract: &ContractId,
        address: &EmailAddress,
    ) -> Result<Option<DirectoryEntry>, StoreError>;
}

/// Keeping the candidate directory in step with the product's events, whatever their
/// order: a write older than what is stored changes nothing, and a removal is never
/// undone by a late update.
#[async_trait]
pub trait DirectoryWriter: Send + Sync {
    async fn upsert(&self, entry: &DirectoryEntry) -> Result<DirectoryWrite, StoreError>;
    async fn remove(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
        source_version: u64,
    ) -> Result<DirectoryWrite, StoreError>;
}

/// Every tenancy store, as the use cases that work on connections take them.
#[derive(Clone)]
pub struct TenancyStores {
    pub contracts: Arc<dyn ContractStore>,
    pub seats: Arc<dyn SeatStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub retirements: Arc<dyn RetirementStore>,
    pub mailboxes: Arc<dyn MailboxClaims>,
    pub authorizations: Arc<dyn AuthorizationStore>,
    pub sync_status: Arc<dyn SyncStatusStore>,
}
