//! The tenancy stores in memory, one fake per port, with the DynamoDB adapters' observable
//! behaviour: versions start at 1 and an update of a stale version is a `Conflict` (of a
//! missing item, `NotFound`); a create of an existing key is `AlreadyExists`; a taken
//! authorization is gone; a token is deleted only if not newer; listings come in key order,
//! in pages that carry a token while full, as DynamoDB's do. Every fake can make its next
//! calls fail, or its next updates lose a race to another writer ([`Faults`]), and can be
//! looked into.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hiresync_domain::authorization::PendingAuthorization;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Contract;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{
    AuthorizationStore, ConnectionStore, ContractStore, Page, PageToken, SeatStore, StoreError,
    StoredToken, SubscriptionStore, SyncStatusStore, TokenStore, Versioned,
};
use hiresync_domain::seat::Seat;
use hiresync_domain::subscription::PushSubscription;
use hiresync_domain::sync_status::SyncStatus;
use jiff::Timestamp;
use secrecy::SecretString;

/// Makes the next calls of a fake fail as if its backend could not be reached, or its next
/// updates lose a race to another writer.
#[derive(Default)]
pub struct Faults {
    failures: Mutex<u32>,
    races: Mutex<u32>,
}

impl Faults {
    /// The next `n` calls fail.
    pub fn fail_next(&self, n: u32) {
        *self.failures.lock().unwrap() = n;
    }

    /// The next `n` versioned updates find that someone else wrote the item first (its
    /// version moves on) and fail with a conflict.
    pub fn race_next(&self, n: u32) {
        *self.races.lock().unwrap() = n;
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        if !take(&self.failures) {
            return Ok(());
        }
        Err(StoreError::Backend {
            operation,
            source: Box::new(std::io::Error::other("storage unavailable (fake)")),
        })
    }
}

fn take(counter: &Mutex<u32>) -> bool {
    let mut left = counter.lock().unwrap();
    let hit = *left > 0;
    *left = left.saturating_sub(1);
    hit
}

/// A versioned item's update, as the adapters condition it.
fn replace<K: Ord + Clone + std::fmt::Debug, T: Clone>(
    items: &mut BTreeMap<K, Versioned<T>>,
    faults: &Faults,
    entity: &'static str,
    key: K,
    read: &Versioned<T>,
    value: &T,
) -> Result<Versioned<T>, StoreError> {
    let describe = format!("{key:?}");
    if take(&faults.races) {
        if let Some(current) = items.get_mut(&key) {
            current.version += 1;
        }
    }
    match items.get(&key) {
        None => Err(StoreError::NotFound {
            entity,
            key: describe,
        }),
        Some(current) if current.version != read.version => Err(StoreError::Conflict {
            entity,
            key: describe,
            expected: read.version,
            found: Some(current.version),
        }),
        Some(_) => {
            let written = Versioned {
                value: value.clone(),
                version: read.version + 1,
            };
            items.insert(key, written.clone());
            Ok(written)
        }
    }
}

/// A first write, refused where the key is taken.
fn create<K: Ord + std::fmt::Debug, T: Clone>(
    items: &mut BTreeMap<K, Versioned<T>>,
    entity: &'static str,
    key: K,
    value: &T,
) -> Result<Versioned<T>, StoreError> {
    if items.contains_key(&key) {
        return Err(StoreError::AlreadyExists {
            entity,
            key: format!("{key:?}"),
        });
    }
    let written = Versioned {
        value: value.clone(),
        version: 1,
    };
    items.insert(key, written.clone());
    Ok(written)
}

/// One page of `items` after `start`, at most `limit`, with a token while the page is full
/// (DynamoDB hands back its last key whenever it stopped at the limit).
fn page<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    limit: i32,
    start: Option<&PageToken>,
) -> Page<T> {
    let limit = usize::try_from(limit.max(1)).unwrap_or(1);
    let taken: Vec<(String, T)> = items
        .filter(|(key, _)| start.is_none_or(|s| key.as_str() > s.as_str()))
        .take(limit)
        .collect();
    let next = (taken.len() == limit)
        .then(|| {
            taken
                .last()
                .map(|(key, _)| PageToken::from_string(key.clone()))
        })
        .flatten();
    Page {
        items: taken.into_iter().map(|(_, item)| item).collect(),
        next,
    }
}

type ConnectionKey = (ContractId, SeatId, &'static str);

fn connection_key(c: &ContractId, s: &SeatId, k: ConnectionKind) -> ConnectionKey {
    (c.clone(), s.clone(), k.as_str())
}

#[derive(Default)]
pub struct InMemoryContracts {
    items: Mutex<BTreeMap<ContractId, Versioned<Contract>>>,
    ceilings: Mutex<HashMap<ContractId, u32>>,
    pub faults: Faults,
}

impl InMemoryContracts {
    pub fn stored(&self, id: &ContractId) -> Option<Versioned<Contract>> {
        self.items.lock().unwrap().get(id).cloned()
    }

    pub fn ceiling(&self, id: &ContractId) -> Option<u32> {
        self.ceilings.lock().unwrap().get(id).copied()
    }
}

#[async_trait]
impl ContractStore for InMemoryContracts {
    async fn create(&self, contract: &Contract) -> Result<Versioned<Contract>, StoreError> {
        self.faults.check("contracts.create")?;
        let mut items = self.items.lock().unwrap();
        create(&mut items, "contract", contract.id.clone(), contract)
    }

    async fn get(&self, id: &ContractId) -> Result<Option<Versioned<Contract>>, StoreError> {
        self.faults.check("contracts.get")?;
        Ok(self.stored(id))
    }

    async fn update(
        &self,
        read: &Versioned<Contract>,
        contract: &Contract,
    ) -> Result<Versioned<Contract>, StoreError> {
        self.faults.check("contracts.update")?;
        let mut items = self.items.lock().unwrap();
        replace(
            &mut items,
            &self.faults,
            "contract",
            contract.id.clone(),
            read,
            contract,
        )
    }

    async fn graph_ceiling(&self, id: &ContractId) -> Result<Option<u32>, StoreError> {
        self.faults.check("contracts.graph_ceiling")?;
        Ok(self.ceiling(id))
    }

    /// As the adapter does: the last one learned is kept.
    async fn remember_graph_ceiling(
        &self,
        id: &ContractId,
        minutes: u32,
    ) -> Result<(), StoreError> {
        self.faults.check("contracts.remember_graph_ceiling")?;
        self.ceilings.lock().unwrap().insert(id.clone(), minutes);
        Ok(())
    }
}

#[derive(Default)]
pub struct InMemorySeats {
    items: Mutex<BTreeMap<(ContractId, SeatId), Versioned<Seat>>>,
    pub faults: Faults,
}

impl InMemorySeats {
    pub fn stored(&self, contract: &ContractId, seat: &SeatId) -> Option<Versioned<Seat>> {
        let key = (contract.clone(), seat.clone());
        self.items.lock().unwrap().get(&key).cloned()
    }
}

#[async_trait]
impl SeatStore for InMemorySeats {
    async fn create(&self, seat: &Seat) -> Result<Versioned<Seat>, StoreError> {
        self.faults.check("seats.create")?;
        let key = (seat.contract_id.clone(), seat.id.clone());
        create(&mut self.items.lock().unwrap(), "seat", key, seat)
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<Versioned<Seat>>, StoreError> {
        self.faults.check("seats.get")?;
        Ok(self.stored(contract, seat))
    }

    async fn update(
        &self,
        read: &Versioned<Seat>,
        seat: &Seat,
    ) -> Result<Versioned<Seat>, StoreError> {
        self.faults.check("seats.update")?;
        let key = (seat.contract_id.clone(), seat.id.clone());
        replace(
            &mut self.items.lock().unwrap(),
            &self.faults,
            "seat",
            key,
            read,
            seat,
        )
    }

    async fn list(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Seat>>, StoreError> {
        self.faults.check("seats.list")?;
        let items = self.items.lock().unwrap();
        let of_contract = items
            .iter()
            .filter(|((c, _), _)| c == contract)
            .map(|((_, s), v)| (s.as_str().to_owned(), v.clone()));
        Ok(page(of_contract, limit, start))
    }
}

#[derive(Default)]
pub struct InMemoryConnections {
    items: Mutex<BTreeMap<ConnectionKey, Versioned<Connection>>>,
    pub faults: Faults,
}

impl InMemoryConnections {
    pub fn stored(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Option<Versioned<Connection>> {
        let key = connection_key(contract, seat, kind);
        self.items.lock().unwrap().get(&key).cloned()
    }

    /// Every connection, in key order.
    pub fn all(&self) -> Vec<Connection> {
        let items = self.items.lock().unwrap();
        items.values().map(|v| v.value.clone()).collect()
    }

    /// Writes `connection` as if another writer had: its version moves on.
    pub fn overwrite(&self, connection: &Connection) {
        let key = connection_key(
            &connection.contract_id,
            &connection.seat_id,
            connection.kind,
        );
        let mut items = self.items.lock().unwrap();
        let version = items.get(&key).map_or(1, |v| v.version + 1);
        items.insert(
            key,
            Versioned {
                value: connection.clone(),
                version,
            },
        );
    }
}

#[async_trait]
impl ConnectionStore for InMemoryConnections {
    async fn create(&self, connection: &Connection) -> Result<Versioned<Connection>, StoreError> {
        self.faults.check("connections.create")?;
        let key = connection_key(
            &connection.contract_id,
            &connection.seat_id,
            connection.kind,
        );
        create(
            &mut self.items.lock().unwrap(),
            "connection",
            key,
            connection,
        )
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<Versioned<Connection>>, StoreError> {
        self.faults.check("connections.get")?;
        Ok(self.stored(contract, seat, kind))
    }

    async fn update(
        &self,
        read: &Versioned<Connection>,
        connection: &Connection,
    ) -> Result<Versioned<Connection>, StoreError> {
        self.faults.check("connections.update")?;
        let key = connection_key(
            &connection.contract_id,
            &connection.seat_id,
            connection.kind,
        );
        replace(
            &mut self.items.lock().unwrap(),
            &self.faults,
            "connection",
            key,
            read,
            connection,
        )
    }

    async fn list_by_contract(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Connection>>, StoreError> {
        self.faults.check("connections.list_by_contract")?;
        let items = self.items.lock().unwrap();
        let of_contract = items
            .iter()
            .filter(|((c, _, _), _)| c == contract)
            .map(|((_, s, k), v)| (format!("{}#{k}", s.as_str()), v.clone()));
        Ok(page(of_contract, limit, start))
    }

    async fn list_for_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<Versioned<Connection>>, StoreError> {
        self.faults.check("connections.list_for_seat")?;
        let items = self.items.lock().unwrap();
        Ok(items
            .iter()
            .filter(|((c, s, _), _)| c == contract && s == seat)
            .map(|(_, v)| v.clone())
            .collect())
    }
}

#[derive(Default)]
pub struct InMemoryTokens {
    items: Mutex<BTreeMap<ConnectionKey, StoredToken>>,
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
    async fn delete_unless_newer(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        issued_at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.faults.check("tokens.delete_unless_newer")?;
        let key = connection_key(contract, seat, kind);
        let mut items = self.items.lock().unwrap();
        let deletable = items
            .get(&key)
            .is_some_and(|t| t.authorized_at.as_millisecond() <= issued_at.as_millisecond());
        if deletable {
            items.remove(&key);
        }
        Ok(deletable)
    }
}

/// How many shards the adapter's renewal index has; `due` answers at most `per_shard` from
/// each, so at most this many times `per_shard` in all here.
const RENEWAL_SHARDS: usize = 16;

#[derive(Default)]
pub struct InMemorySubscriptions {
    items: Mutex<BTreeMap<String, (PushSubscription, Timestamp)>>,
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
        self.items.lock().unwrap().insert(key, status.clone());
        Ok(())
    }
}

/// One fake of each tenancy store, to hand out as ports and to look into.
#[derive(Clone, Default)]
pub struct InMemoryTenancy {
    pub contracts: Arc<InMemoryContracts>,
    pub seats: Arc<InMemorySeats>,
    pub connections: Arc<InMemoryConnections>,
    pub tokens: Arc<InMemoryTokens>,
    pub subscriptions: Arc<InMemorySubscriptions>,
    pub authorizations: Arc<InMemoryAuthorizations>,
    pub sync_status: Arc<InMemorySyncStatus>,
}
