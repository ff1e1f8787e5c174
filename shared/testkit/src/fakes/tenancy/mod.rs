//! The tenancy stores in memory, one fake per port, with the DynamoDB adapters' observable
//! behaviour: versions start at 1 and an update of a stale version is a `Conflict` (of a
//! missing item, `NotFound`); a create of an existing key is `AlreadyExists`; a taken
//! authorization is gone; a token is deleted only if not newer; listings come in key order,
//! in pages that carry a token while full, as DynamoDB's do. Every fake can make its next
//! calls fail, or its next updates lose a race to another writer ([`Faults`]), and can be
//! looked into.

mod keyed;
mod retirements;
mod versioned;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{Page, PageToken, StoreError, TenancyStores, Versioned};

pub use keyed::{
    InMemoryAuthorizations, InMemoryMailboxes, InMemorySubscriptions, InMemorySyncStatus,
    InMemoryTokens,
};
pub use retirements::InMemoryRetirements;
pub use versioned::{InMemoryConnections, InMemoryContracts, InMemorySeats};

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

/// One fake of each tenancy store, to hand out as ports and to look into.
#[derive(Clone)]
pub struct InMemoryTenancy {
    pub contracts: Arc<InMemoryContracts>,
    pub seats: Arc<InMemorySeats>,
    pub connections: Arc<InMemoryConnections>,
    pub tokens: Arc<InMemoryTokens>,
    pub subscriptions: Arc<InMemorySubscriptions>,
    /// Works on the connections, tokens and subscriptions above.
    pub retirements: Arc<InMemoryRetirements>,
    pub mailboxes: Arc<InMemoryMailboxes>,
    pub authorizations: Arc<InMemoryAuthorizations>,
    pub sync_status: Arc<InMemorySyncStatus>,
}

impl Default for InMemoryTenancy {
    fn default() -> Self {
        let connections = Arc::new(InMemoryConnections::default());
        let tokens = Arc::new(InMemoryTokens::default());
        let subscriptions = Arc::new(InMemorySubscriptions::default());
        Self {
            contracts: Arc::default(),
            seats: Arc::default(),
            retirements: Arc::new(InMemoryRetirements::new(
                connections.clone(),
                tokens.clone(),
                subscriptions.clone(),
            )),
            connections,
            tokens,
            subscriptions,
            mailboxes: Arc::default(),
            authorizations: Arc::default(),
            sync_status: Arc::default(),
        }
    }
}

impl InMemoryTenancy {
    /// The fakes as the ports the use cases take.
    pub fn stores(&self) -> TenancyStores {
        TenancyStores {
            contracts: self.contracts.clone(),
            seats: self.seats.clone(),
            connections: self.connections.clone(),
            tokens: self.tokens.clone(),
            subscriptions: self.subscriptions.clone(),
            retirements: self.retirements.clone(),
            mailboxes: self.mailboxes.clone(),
            authorizations: self.authorizations.clone(),
            sync_status: self.sync_status.clone(),
        }
    }
}
