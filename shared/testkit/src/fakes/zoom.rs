//! The contract's Zoom connection and sign-ins in memory, with the DynamoDB adapter's
//! observable behaviour: a sign-in is begun once per id and taken once, by its contract
//! only; `put` replaces whatever was stored with the version one past it (1 where none
//! was); `update` is a `Conflict` unless the stored connection is the one read (same
//! version, same `connected_at`), also when it is gone; `remove` hands back what it
//! removed. A test can make the next call of an operation fail, as if DynamoDB could not be
//! reached, write as another writer would, and look inside.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::ids::{ContractId, UserId};
use hiresync_domain::ports::{StoreError, Versioned, ZoomStore};
use hiresync_domain::zoom::{PendingZoom, StoredZoom};
use secrecy::SecretString;

const CONNECTION: &str = "zoom connection";
const SIGN_IN: &str = "zoom sign-in";

#[derive(Default)]
struct State {
    connections: BTreeMap<ContractId, Versioned<StoredZoom>>,
    pending: BTreeMap<(ContractId, String), (PendingZoom, SecretString)>,
    failures: BTreeMap<&'static str, VecDeque<()>>,
    updates: u32,
}

impl State {
    fn check(&mut self, operation: &'static str) -> Result<(), StoreError> {
        match self
            .failures
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(()) => Err(StoreError::Backend {
                operation,
                source: Box::new(std::io::Error::other("storage unavailable (fake)")),
            }),
            None => Ok(()),
        }
    }

    /// As the adapter's `put`: the version moves on from what was stored.
    fn replace(&mut self, zoom: &StoredZoom) -> Versioned<StoredZoom> {
        let contract = zoom.account.contract_id.clone();
        let version = self.connections.get(&contract).map_or(1, |v| v.version + 1);
        let written = Versioned {
            value: zoom.clone(),
            version,
        };
        self.connections.insert(contract, written.clone());
        written
    }
}

/// The Zoom items of every contract, in memory.
#[derive(Default)]
pub struct InMemoryZoomStore {
    state: Mutex<State>,
}

impl InMemoryZoomStore {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The next call of `operation` (a method name: `begin`, `take_pending`, `get`, `put`,
    /// `update`, `remove`) fails as if DynamoDB could not be reached; calling again queues
    /// another.
    pub fn fail_next(&self, operation: &'static str) {
        self.with(|s| s.failures.entry(operation).or_default().push_back(()));
    }

    /// The contract's stored connection, with its version.
    pub fn stored(&self, contract: &ContractId) -> Option<Versioned<StoredZoom>> {
        self.with(|s| s.connections.get(contract).cloned())
    }

    /// Writes `zoom` as another writer would (a refresh elsewhere): its version moves on.
    pub fn overwrite(&self, zoom: &StoredZoom) -> Versioned<StoredZoom> {
        self.with(|s| s.replace(zoom))
    }

    /// The contract's sign-ins begun and not taken.
    pub fn pending(&self, contract: &ContractId) -> Vec<PendingZoom> {
        self.with(|s| {
            s.pending
                .iter()
                .filter(|((c, _), _)| c == contract)
                .map(|(_, (p, _))| p.clone())
                .collect()
        })
    }

    /// How many successful `update` calls there were.
    pub fn updates(&self) -> u32 {
        self.with(|s| s.updates)
    }
}

#[async_trait]
impl ZoomStore for InMemoryZoomStore {
    async fn begin(
        &self,
        pending: &PendingZoom,
        verifier: &SecretString,
    ) -> Result<(), StoreError> {
        self.with(|s| {
            s.check("begin")?;
            let key = (pending.contract_id.clone(), pending.id.clone());
            if s.pending.contains_key(&key) {
                return Err(StoreError::AlreadyExists {
                    entity: SIGN_IN,
                    key: format!("{key:?}"),
                });
            }
            s.pending.insert(key, (pending.clone(), verifier.clone()));
            Ok(())
        })
    }

    async fn take_pending(
        &self,
        contract: &ContractId,
        id: &str,
        admin: &UserId,
    ) -> Result<Option<(PendingZoom, SecretString)>, StoreError> {
        self.with(|s| {
            s.check("take_pending")?;
            let key = (contract.clone(), id.to_owned());
            if s.pending
                .get(&key)
                .is_some_and(|(p, _)| &p.user_id != admin)
            {
                return Ok(None);
            }
            Ok(s.pending.remove(&key))
        })
    }

    async fn get(
        &self,
        contract: &ContractId,
    ) -> Result<Option<Versioned<StoredZoom>>, StoreError> {
        self.with(|s| {
            s.check("get")?;
            Ok(s.connections.get(contract).cloned())
        })
    }

    async fn put(&self, zoom: &StoredZoom) -> Result<Versioned<StoredZoom>, StoreError> {
        self.with(|s| {
            s.check("put")?;
            Ok(s.replace(zoom))
        })
    }

    async fn update(
        &self,
        read: &Versioned<StoredZoom>,
        next: &StoredZoom,
    ) -> Result<Versioned<StoredZoom>, StoreError> {
        self.with(|s| {
            s.check("update")?;
            let contract = &read.value.account.contract_id;
            if next.account.contract_id != *contract {
                return Err(StoreError::Invalid {
                    entity: CONNECTION,
                    problem: "an update cannot move the connection to another contract".into(),
                });
            }
            let current = s.connections.get(contract);
            let same = current.is_some_and(|c| {
                c.version == read.version
                    && c.value.account.connected_at == read.value.account.connected_at
            });
            if !same {
                return Err(StoreError::Conflict {
                    entity: CONNECTION,
                    key: format!("{contract:?}"),
                    expected: read.version,
                    found: current.map(|c| c.version),
                });
            }
            let written = Versioned {
                value: next.clone(),
                version: read.version + 1,
            };
            s.connections.insert(contract.clone(), written.clone());
            s.updates += 1;
            Ok(written)
        })
    }

    async fn remove(&self, contract: &ContractId) -> Result<Option<StoredZoom>, StoreError> {
        self.with(|s| {
            s.check("remove")?;
            Ok(s.connections.remove(contract).map(|v| v.value))
        })
    }
}

#[cfg(test)]
mod tests {
    use hiresync_domain::ids::EmailAddress;
    use hiresync_domain::sealed::Sealed;
    use hiresync_domain::zoom::{ZoomAccount, ZoomState, ZoomTokens};
    use hiresync_domain::Timestamp;
    use secrecy::ExposeSecret;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn contract(id: &str) -> ContractId {
        ContractId::parse(id).unwrap()
    }

    fn zoom(c: &str, connected_at: &str) -> StoredZoom {
        let sealed = |b: u8| Sealed {
            key_id: "k".into(),
            wrapped_key: vec![b],
            nonce: vec![b],
            ciphertext: vec![b],
        };
        StoredZoom {
            account: ZoomAccount {
                contract_id: contract(c),
                account_id: "acc".into(),
                authorized_as: EmailAddress::parse("admin@acme.example").unwrap(),
                connected_by: UserId::parse("u").unwrap(),
                connected_at: at(connected_at),
                state: ZoomState::Connected,
                refused_at: None,
            },
            tokens: ZoomTokens {
                refresh: sealed(1),
                access: sealed(2),
                access_expires_at: at("2037-03-02T10:00:00Z"),
            },
        }
    }

    /// The fake never waits: its futures are ready at the first poll.
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the fake waited"),
        }
    }

    #[test]
    fn a_sign_in_is_taken_once_and_by_its_contract_only() {
        ready(a_sign_in_is_taken_once());
    }

    async fn a_sign_in_is_taken_once() {
        let store = InMemoryZoomStore::default();
        let p = PendingZoom::new(
            "st".into(),
            contract("acme"),
            UserId::parse("u").unwrap(),
            at("2037-03-02T09:00:00Z"),
        );
        store.begin(&p, &SecretString::from("v")).await.unwrap();
        assert!(store.begin(&p, &SecretString::from("v")).await.is_err());
        let u = UserId::parse("u").unwrap();
        let other = UserId::parse("other").unwrap();
        assert!(store
            .take_pending(&contract("globex"), "st", &u)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .take_pending(&contract("acme"), "st", &other)
            .await
            .unwrap()
            .is_none());
        let (taken, verifier) = store
            .take_pending(&contract("acme"), "st", &u)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((taken, verifier.expose_secret()), (p, "v"));
        assert!(store
            .take_pending(&contract("acme"), "st", &u)
            .await
            .unwrap()
            .is_none());
    }

    #[test]
    fn writes_over_a_stale_read_conflict() {
        ready(stale_writes());
    }

    async fn stale_writes() {
        let store = InMemoryZoomStore::default();
        let c = contract("acme");
        let first = store
            .put(&zoom("acme", "2037-03-02T09:00:00Z"))
            .await
            .unwrap();
        assert_eq!(first.version, 1);
        let mut refreshed = first.value.clone();
        refreshed.tokens.access_expires_at = at("2037-03-02T11:00:00Z");
        let second = store.update(&first, &refreshed).await.unwrap();
        assert_eq!(second.version, 2);
        let stale = store.update(&first, &refreshed).await.unwrap_err();
        assert!(matches!(stale, StoreError::Conflict { found: Some(2), .. }));

        // Removed and connected again: the old read is not the new connection's.
        assert_eq!(store.remove(&c).await.unwrap(), Some(refreshed.clone()));
        let gone = store.update(&second, &refreshed).await.unwrap_err();
        assert!(matches!(gone, StoreError::Conflict { found: None, .. }));
        let again = store
            .put(&zoom("acme", "2037-03-02T12:00:00Z"))
            .await
            .unwrap();
        assert_eq!(again.version, 1);
        let first_again = store.update(&first, &refreshed).await.unwrap_err();
        assert!(matches!(first_again, StoreError::Conflict { .. }));

        store.fail_next("get");
        assert!(matches!(
            store.get(&c).await,
            Err(StoreError::Backend { .. })
        ));
        assert_eq!(store.get(&c).await.unwrap(), Some(again));
    }
}
