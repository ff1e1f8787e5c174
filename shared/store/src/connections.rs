use std::collections::BTreeSet;

use hiresync_domain::connection::{Connection, ConnectionKind, ConnectionState, Cursor, Grant};
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::items::Record;
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::ConnectionStore;
use hiresync_domain::ports::Versioned;
use hiresync_domain::ports::{Page, PageToken};

#[derive(Serialize, Deserialize)]
pub(crate) struct ConnectionRecord {
    pk: String,
    sk: String,
    version: u64,
    contract_id: ContractId,
    seat_id: SeatId,
    kind: ConnectionKind,
    provider: Provider,
    address: EmailAddress,
    scopes: BTreeSet<String>,
    /// Absent on connections stored before it was kept (read as personal).
    #[serde(default)]
    organization: Option<String>,
    status: ConnectionState,
    first_authorized_at: Timestamp,
    last_authorized_at: Timestamp,
    deauthorized_at: Option<Timestamp>,
    historical_anchor: Timestamp,
    cursor: Cursor,
    /// Who authorized it; absent on connections stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorized_by: Option<UserId>,
    /// The mailbox's other addresses; absent when it has none (or before they were read).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    aliases: BTreeSet<EmailAddress>,
}

impl Record for ConnectionRecord {
    const ENTITY: &'static str = "connection";
}

impl ConnectionRecord {
    pub(crate) fn new(c: &Connection, version: u64) -> Self {
        Self {
            pk: keys::contract_pk(&c.contract_id),
            sk: keys::connection_sk(&c.seat_id, c.kind),
            version,
            contract_id: c.contract_id.clone(),
            seat_id: c.seat_id.clone(),
            kind: c.kind,
            provider: c.grant.provider,
            address: c.grant.address.clone(),
            scopes: c.grant.scopes.clone(),
            organization: c.grant.organization.clone(),
            status: c.state,
            first_authorized_at: c.first_authorized_at,
            last_authorized_at: c.last_authorized_at,
            deauthorized_at: c.deauthorized_at,
            historical_anchor: c.historical_anchor,
            cursor: c.cursor.clone(),
            authorized_by: c.authorized_by.clone(),
            aliases: c.aliases.clone(),
        }
    }

    fn into_domain(self) -> Versioned<Connection> {
        Versioned {
            version: self.version,
            value: Connection {
                contract_id: self.contract_id,
                seat_id: self.seat_id,
                kind: self.kind,
                grant: Grant {
                    provider: self.provider,
                    address: self.address,
                    scopes: self.scopes,
                    organization: self.organization,
                },
                state: self.status,
                first_authorized_at: self.first_authorized_at,
                last_authorized_at: self.last_authorized_at,
                deauthorized_at: self.deauthorized_at,
                historical_anchor: self.historical_anchor,
                cursor: self.cursor,
                authorized_by: self.authorized_by,
                aliases: self.aliases,
            },
        }
    }
}

crate::items::dynamo_store!(
    /// Each seat's email and calendar connections. They live in the contract's partition so
    /// that a settings change reaches every connection of the contract with one query.
    DynamoConnectionStore
);

#[async_trait]
impl ConnectionStore for DynamoConnectionStore {
    /// Stores a seat's first connection of a kind; `AlreadyExists` if it has one.
    async fn create(&self, connection: &Connection) -> Result<Versioned<Connection>, StoreError> {
        self.items()
            .create(&ConnectionRecord::new(connection, 1))
            .await?;
        Ok(Versioned {
            value: connection.clone(),
            version: 1,
        })
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<Versioned<Connection>>, StoreError> {
        Ok(self
            .items()
            .get::<ConnectionRecord>(
                &keys::contract_pk(contract),
                &keys::connection_sk(seat, kind),
            )
            .await?
            .map(ConnectionRecord::into_domain))
    }

    async fn update(
        &self,
        read: &Versioned<Connection>,
        connection: &Connection,
    ) -> Result<Versioned<Connection>, StoreError> {
        let version = read.version + 1;
        self.items()
            .replace(&ConnectionRecord::new(connection, version), read.version)
            .await?;
        Ok(Versioned {
            value: connection.clone(),
            version,
        })
    }

    /// One page of every connection of a contract (both kinds, every seat).
    async fn list_by_contract(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Connection>>, StoreError> {
        let page = self
            .items()
            .query_prefix::<ConnectionRecord>(
                &keys::contract_pk(contract),
                keys::CONNECTION_PREFIX,
                limit,
                start,
            )
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(ConnectionRecord::into_domain)
                .collect(),
            next: page.next,
        })
    }

    /// A seat's connections, at most one per kind.
    async fn list_for_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<Versioned<Connection>>, StoreError> {
        Ok(self
            .items()
            .query_all::<ConnectionRecord>(
                &keys::contract_pk(contract),
                &keys::seat_connections_prefix(seat),
            )
            .await?
            .into_iter()
            .map(ConnectionRecord::into_domain)
            .collect())
    }
}
