//! Retirements: the deauthorization step over the connection, token and subscription fakes
//! at once, as the adapter's transaction does it, and the provider work it leaves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hiresync_domain::connection::Connection;
use hiresync_domain::ports::{RetirementStore, StoreError, Versioned};
use hiresync_domain::retirement::Retirement;
use jiff::Timestamp;

use super::keyed::{InMemorySubscriptions, InMemoryTokens};
use super::versioned::InMemoryConnections;
use super::{connection_key, replace, ConnectionKey, Faults};

type RetirementKey = (ConnectionKey, u64);

fn retirement_key(r: &Retirement) -> RetirementKey {
    (
        connection_key(&r.contract_id, &r.seat_id, r.kind),
        r.version,
    )
}

/// How many shards the adapter's index has (see the subscriptions fake).
const SHARDS: usize = 16;

pub struct InMemoryRetirements {
    connections: Arc<InMemoryConnections>,
    tokens: Arc<InMemoryTokens>,
    subscriptions: Arc<InMemorySubscriptions>,
    items: Mutex<BTreeMap<RetirementKey, (Retirement, Timestamp)>>,
    pub faults: Faults,
}

impl InMemoryRetirements {
    pub fn new(
        connections: Arc<InMemoryConnections>,
        tokens: Arc<InMemoryTokens>,
        subscriptions: Arc<InMemorySubscriptions>,
    ) -> Self {
        Self {
            connections,
            tokens,
            subscriptions,
            items: Mutex::default(),
            faults: Faults::default(),
        }
    }

    /// Every retirement kept, with when it is due.
    pub fn all(&self) -> Vec<(Retirement, Timestamp)> {
        self.items.lock().unwrap().values().cloned().collect()
    }
}

#[async_trait]
impl RetirementStore for InMemoryRetirements {
    async fn retire(
        &self,
        read: &Versioned<Connection>,
        changed: &Connection,
        retirement: &Retirement,
    ) -> Result<Versioned<Connection>, StoreError> {
        self.faults.check("retirements.retire")?;
        let key = connection_key(&changed.contract_id, &changed.seat_id, changed.kind);
        let mut connections = self.connections.items.lock().unwrap();
        let mut tokens = self.tokens.items.lock().unwrap();
        let mut subscriptions = self.subscriptions.items.lock().unwrap();
        if let Some(taken) = &retirement.token {
            if tokens.get(&key) != Some(taken) {
                return Err(StoreError::Conflict {
                    entity: "token",
                    key: format!("{key:?}"),
                    expected: 0,
                    found: None,
                });
            }
        }
        let written = replace(
            &mut connections,
            &self.connections.faults,
            "connection",
            key.clone(),
            read,
            changed,
        )?;
        if retirement.token.is_some() {
            tokens.remove(&key);
        }
        for sub in &retirement.subscriptions {
            subscriptions.remove(&sub.id);
        }
        if retirement.has_provider_work() {
            self.items.lock().unwrap().insert(
                retirement_key(retirement),
                (retirement.clone(), retirement.retired_at),
            );
        }
        Ok(written)
    }

    /// Due first, then by key.
    async fn due(&self, now: Timestamp, per_shard: i32) -> Result<Vec<Retirement>, StoreError> {
        self.faults.check("retirements.due")?;
        let items = self.items.lock().unwrap();
        let mut due: Vec<(Timestamp, RetirementKey, Retirement)> = items
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(key, (r, at))| (*at, key.clone(), r.clone()))
            .collect();
        due.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let limit = usize::try_from(per_shard.max(1)).unwrap_or(1) * SHARDS;
        Ok(due.into_iter().take(limit).map(|(_, _, r)| r).collect())
    }

    async fn of_seat(
        &self,
        contract: &hiresync_domain::ids::ContractId,
        seat: &hiresync_domain::ids::SeatId,
    ) -> Result<Vec<Retirement>, StoreError> {
        self.faults.check("retirements.of_seat")?;
        Ok(self
            .items
            .lock()
            .unwrap()
            .values()
            .filter(|(r, _)| &r.contract_id == contract && &r.seat_id == seat)
            .map(|(r, _)| r.clone())
            .collect())
    }

    async fn defer(
        &self,
        retirement: &Retirement,
        at: Timestamp,
        failures: u32,
    ) -> Result<bool, StoreError> {
        self.faults.check("retirements.defer")?;
        Ok(
            match self
                .items
                .lock()
                .unwrap()
                .get_mut(&retirement_key(retirement))
            {
                Some((kept, due)) => {
                    *due = at;
                    kept.failures = failures;
                    true
                }
                None => false,
            },
        )
    }

    async fn finish(&self, retirement: &Retirement) -> Result<(), StoreError> {
        self.faults.check("retirements.finish")?;
        self.items
            .lock()
            .unwrap()
            .remove(&retirement_key(retirement));
        Ok(())
    }
}
