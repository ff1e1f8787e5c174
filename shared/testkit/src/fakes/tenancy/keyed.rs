//! The stores written by key: tokens, subscriptions, pending authorizations, sync status.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::authorization::PendingAuthorization;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{
    AuthorizationStore, MailboxClaims, MailboxHolder, StoreError, StoredToken, SubscriptionStore,
    SyncStatusStore, TokenStore,
};
use hiresync_domain::subscription::PushSubscription;
use hiresync_domain::sync_status::SyncStatus;
use jiff::Timestamp;
use secrecy::SecretString;

use super::{connection_key, ConnectionKey, Faults};

#[derive(Default)]
pub struct InMemoryTokens {
    pub(super) items: Mutex<BTreeMap<ConnectionKey, StoredToken>>,
    pub faults: Faults,
}

impl InMemoryTokens {
    pub fn stored(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Option<StoredToken> {
        let key = connection_key(contract, seat, kind);
        self.items.lock().unwrap().get(&key).cloned()
    }
}

#[async_trait]
impl TokenStore for InMemoryTokens {
    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<(), StoreError> {
        self.faults.check("tokens.put")?;
        let key = connection_key(contract, seat, kind);
        self.items.lock().unwrap().insert(key, token.clone());
        Ok(())
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<StoredToken>, StoreError> {
        self.faults.check("tokens.get")?;
        Ok(self.stored(contract, seat, kind))
    }

    /// Compared to the millisecond, as the adapter stores the instant.
    async fn rotate(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<bool, StoreError> {
        self.faults.check("tokens.rotate")?;
        let key = connection_key(contract, seat, kind);
        let mut items = self.items.lock().unwrap();
        let same = items.get(&key).is_some_and(|t| {
            t.authorized_at.as_millisecond() == token.authorized_at.as_millisecond()
        });
        if same {
            items.insert(key, token.clone());
        }
        Ok(same)
    }
}

/// How many shards the adapter's renewal index has; `due` answers at most `per_shard` from
/// each, so at most this many times `per_shard` in all here.
const RENEWAL_SHARDS: usize = 16;

#[derive(Default)]
pub struct InMemorySubscriptions {
    pub(super) items: Mutex<BTreeMap<String, (PushSubscription, Timestamp)>>,
    pub faults: Faults,
}

impl InMemorySubscriptions {
    /// Every stored subscription, by id.
    pub fn all(&self) -> Vec<PushSubscription> {
        let items = self.items.lock().unwrap();
        items.values().map(|(sub, _)| sub.clone()).collect()
    }

    /// When a stored subscription is due for renewal.
    pub fn renew_at(&self, id: &str) -> Option<Timestamp> {
        self.items.lock().unwrap().get(id).map(|(_, at)| *at)
    }
}

#[async_trait]
impl SubscriptionStore for InMemorySubscriptions {
    async fn put(&self, sub: &PushSubscription, renew_at: Timestamp) -> Result<(), StoreError> {
        self.faults.check("subscriptions.put")?;
        let mut items = self.items.lock().unwrap();
        items.insert(sub.id.clone(), (sub.clone(), renew_at));
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<PushSubscription>, StoreError> {
        self.faults.check("subscriptions.get")?;
        Ok(self.items.lock().unwrap().get(id).map(|(s, _)| s.clone()))
    }

    async fn get_many(&self, ids: &[String]) -> Result<Vec<PushSubscription>, StoreError> {
        self.faults.check("subscriptions.get_many")?;
        let items = self.items.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| items.get(id).map(|(s, _)| s.clone()))
            .collect())
    }

    async fn defer(&self, id: &str, at: Timestamp, failures: u32) -> Result<bool, StoreError> {
        self.faults.check("subscriptions.defer")?;
        Ok(match self.items.lock().unwrap().get_mut(id) {
            Some((sub, renew_at)) => {
                *renew_at = at;
                sub.failures = failures;
                true
            }
            None => false,
        })
    }

    async fn make_due(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.faults.check("subscriptions.make_due")?;
        Ok(match self.items.lock().unwrap().get_mut(id) {
            Some((_, renew_at)) => {
                *renew_at = at;
                true
            }
            None => false,
        })
    }

    async fn delete(&self, sub: &PushSubscription) -> Result<(), StoreError> {
        self.faults.check("subscriptions.delete")?;
        self.items.lock().unwrap().remove(&sub.id);
        Ok(())
    }

    async fn for_connection(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        self.faults.check("subscriptions.for_connection")?;
        let items = self.items.lock().unwrap();
        Ok(items
            .values()
            .map(|(sub, _)| sub)
            .filter(|sub| {
                &sub.contract_id == contract
                    && &sub.seat_id == seat
                    && sub.kind.connection_kind() == kind
            })
            .cloned()
            .collect())
    }

    /// Due first, then by id.
    async fn due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        self.faults.check("subscriptions.due")?;
        let items = self.items.lock().unwrap();
        let mut due: Vec<(Timestamp, PushSubscription)> = items
            .values()
            .filter(|(_, at)| *at <= now)
            .map(|(sub, at)| (*at, sub.clone()))
            .collect();
        due.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        let limit = usize::try_from(per_shard.max(1)).unwrap_or(1) * RENEWAL_SHARDS;
        Ok(due.into_iter().take(limit).map(|(_, sub)| sub).collect())
    }
}

#[derive(Default)]
pub struct InMemoryAuthorizations {
    items: Mutex<BTreeMap<String, (PendingAuthorization, SecretString)>>,
    pub faults: Faults,
}

impl InMemoryAuthorizations {
    /// How many sign-ins are started and not taken.
    pub fn pending(&self) -> usize {
        self.items.lock().unwrap().len()
    }
}

#[async_trait]
impl AuthorizationStore for InMemoryAuthorizations {
    async fn create(
        &self,
        pending: &PendingAuthorization,
        pkce_verifier: &SecretString,
    ) -> Result<(), StoreError> {
        self.faults.check("authorizations.create")?;
        let mut items = self.items.lock().unwrap();
        if items.contains_key(&pending.id) {
            return Err(StoreError::AlreadyExists {
                entity: "pending authorization",
                key: pending.id.clone(),
            });
        }
        items.insert(pending.id.clone(), (pending.clone(), pkce_verifier.clone()));
        Ok(())
    }

    async fn take(
        &self,
        id: &str,
    ) -> Result<Option<(PendingAuthorization, SecretString)>, StoreError> {
        self.faults.check("authorizations.take")?;
        Ok(self.items.lock().unwrap().remove(id))
    }
}

#[derive(Default)]
pub struct InMemorySyncStatus {
    items: Mutex<BTreeMap<ConnectionKey, SyncStatus>>,
    /// Statuses taken out of the catch-up listing until written again.
    forgotten: Mutex<std::collections::BTreeSet<ConnectionKey>>,
    pub faults: Faults,
}

#[async_trait]
impl SyncStatusStore for InMemorySyncStatus {
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<SyncStatus>, StoreError> {
        self.faults.check("sync_status.get")?;
        let key = connection_key(contract, seat, kind);
        Ok(self.items.lock().unwrap().get(&key).cloned())
    }

    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        status: &SyncStatus,
    ) -> Result<(), StoreError> {
        self.faults.check("sync_status.put")?;
        let key = connection_key(contract, seat, kind);
        self.forgotten.lock().unwrap().remove(&key);
        self.items.lock().unwrap().insert(key, status.clone());
        Ok(())
    }

    async fn quiet_since(
        &self,
        before: jiff::Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(ContractId, SeatId, ConnectionKind)>, StoreError> {
        self.faults.check("sync_status.quiet_since")?;
        let forgotten = self.forgotten.lock().unwrap();
        let mut quiet: Vec<_> = self
            .items
            .lock()
            .unwrap()
            .iter()
            .filter(|(key, _)| !forgotten.contains(*key))
            .map(|(key, s)| (s.last_success_at.unwrap_or(s.stage_started_at), key.clone()))
            .filter(|(since, _)| *since < before)
            .collect();
        quiet.sort();
        let limit = usize::try_from(per_shard.max(1)).unwrap_or(1) * 16;
        Ok(quiet
            .into_iter()
            .take(limit)
            .filter_map(|(_, (c, s, k))| Some((c, s, ConnectionKind::from_name(k)?)))
            .collect())
    }

    async fn forget_quiet(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<(), StoreError> {
        self.faults.check("sync_status.forget_quiet")?;
        let key = connection_key(contract, seat, kind);
        if self.items.lock().unwrap().contains_key(&key) {
            self.forgotten.lock().unwrap().insert(key);
        }
        Ok(())
    }
}

type MailboxKey = (String, &'static str, String);

fn mailbox_key(provider: Provider, kind: ConnectionKind, address: &EmailAddress) -> MailboxKey {
    (
        format!("{provider:?}"),
        kind.as_str(),
        address.as_str().to_owned(),
    )
}

#[derive(Default)]
pub struct InMemoryMailboxes {
    items: Mutex<BTreeMap<MailboxKey, MailboxHolder>>,
    pub faults: Faults,
}

impl InMemoryMailboxes {
    /// How many accounts are held.
    pub fn held(&self) -> usize {
        self.items.lock().unwrap().len()
    }
}

#[async_trait]
impl MailboxClaims for InMemoryMailboxes {
    async fn holder(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
    ) -> Result<Option<MailboxHolder>, StoreError> {
        self.faults.check("mailboxes.holder")?;
        let key = mailbox_key(provider, kind, address);
        Ok(self.items.lock().unwrap().get(&key).cloned())
    }

    async fn claim(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        from: Option<&MailboxHolder>,
        to: &MailboxHolder,
    ) -> Result<(), StoreError> {
        self.faults.check("mailboxes.claim")?;
        let key = mailbox_key(provider, kind, address);
        let mut items = self.items.lock().unwrap();
        if items.get(&key) != from {
            return Err(StoreError::Conflict {
                entity: "mailbox claim",
                key: format!("{key:?}"),
                expected: 0,
                found: None,
            });
        }
        items.insert(key, to.clone());
        Ok(())
    }

    async fn release(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        holder: &MailboxHolder,
    ) -> Result<bool, StoreError> {
        self.faults.check("mailboxes.release")?;
        let key = mailbox_key(provider, kind, address);
        let mut items = self.items.lock().unwrap();
        let held = items.get(&key) == Some(holder);
        if held {
            items.remove(&key);
        }
        Ok(held)
    }
}
