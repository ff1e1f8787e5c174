//! The stores whose writes are versioned: contracts, seats, connections.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Contract;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{
    ConnectionStore, ContractStore, Page, PageToken, SeatStore, StoreError, Versioned,
};
use hiresync_domain::seat::Seat;

use super::{connection_key, create, page, replace, ConnectionKey, Faults};

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

    /// As the adapter does: the lowest one learned is kept.
    async fn remember_graph_ceiling(
        &self,
        id: &ContractId,
        minutes: u32,
    ) -> Result<(), StoreError> {
        self.faults.check("contracts.remember_graph_ceiling")?;
        let mut ceilings = self.ceilings.lock().unwrap();
        let kept = ceilings.entry(id.clone()).or_insert(minutes);
        *kept = (*kept).min(minutes);
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
    pub(super) items: Mutex<BTreeMap<ConnectionKey, Versioned<Connection>>>,
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
