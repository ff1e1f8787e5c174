//! Each connection's sync status, beside the connection in the contract's partition.
//! One writer per connection (the sync-jobs FIFO group), so a plain put suffices.

use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::sync_status::SyncStatus;
use hiresync_domain::Timestamp;
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
    /// `QUIET#<n>` / `<quiet since>#<contract>#<seat>#<kind>`: the catch-up run's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renewal_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renewal_sk: Option<String>,
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
        let since = status.last_success_at.unwrap_or(status.stage_started_at);
        let (renewal_pk, renewal_sk) = keys::quiet_keys(contract, seat, kind, since);
        self.items()
            .put(&StatusRecord {
                pk: keys::contract_pk(contract),
                sk: keys::sync_status_sk(seat, kind),
                renewal_pk: Some(renewal_pk),
                renewal_sk: Some(renewal_sk),
                status: status.clone(),
            })
            .await
    }

    async fn quiet_since(
        &self,
        before: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(ContractId, SeatId, ConnectionKind)>, StoreError> {
        let mut quiet = Vec::new();
        for (pk, sk) in self
            .items()
            .due(keys::QUIET_PARTITION, before, per_shard)
            .await?
        {
            // The table's own keys: `CONTRACT#<contract>` / `SYNC#<seat>#<kind>`.
            let contract = pk.strip_prefix("CONTRACT#").map(ContractId::parse);
            let mut parts = sk.strip_prefix("SYNC#").unwrap_or_default().split('#');
            let seat = parts.next().map(SeatId::parse);
            let kind = parts.next().and_then(ConnectionKind::from_name);
            if let (Some(Ok(c)), Some(Ok(s)), Some(k)) = (contract, seat, kind) {
                quiet.push((c, s, k));
            }
        }
        Ok(quiet)
    }

    async fn forget_quiet(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(crate::items::key(
                &keys::contract_pk(contract),
                &keys::sync_status_sk(seat, kind),
            )))
            .condition_expression("attribute_exists(pk)")
            .update_expression("REMOVE renewal_pk, renewal_sk")
            .send()
            .await;
        // A status that is gone has nothing to forget.
        let _gone = crate::condition::conditional("DynamoDB UpdateItem", result)?;
        Ok(())
    }
}
