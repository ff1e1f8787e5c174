//! Each connection's sync status, beside the connection in the contract's partition.
//! One writer per connection (the sync-jobs FIFO group), so a plain put suffices.

use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::sync_status::SyncStatus;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::items::Record;
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::SyncStatusStore;

#[derive(Serialize, Deserialize)]
struct StatusRecord {
    pk: String,
    sk: String,
    #[serde(flatten)]
    status: SyncStatus,
}

impl Record for StatusRecord {
    const ENTITY: &'static str = "sync status";
}

crate::items::dynamo_store!(
    /// Where each mailbox's sync stands.
    DynamoSyncStatusStore
);

#[async_trait]
impl SyncStatusStore for DynamoSyncStatusStore {
    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<SyncStatus>, StoreError> {
        Ok(self
            .items()
            .get::<StatusRecord>(
                &keys::contract_pk(contract),
                &keys::sync_status_sk(seat, kind),
            )
            .await?
            .map(|r| r.status))
    }

    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        status: &SyncStatus,
    ) -> Result<(), StoreError> {
        self.items()
            .put(&StatusRecord {
                pk: keys::contract_pk(contract),
                sk: keys::sync_status_sk(seat, kind),
                status: status.clone(),
            })
            .await
    }
}
