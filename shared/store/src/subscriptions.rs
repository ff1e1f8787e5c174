//! Push subscriptions: found by the id a notification carries, by connection (to stop them),
//! and by renewal time (through the sharded `by-renewal` index, never a scan).

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{decode, encode, key, Record};
use crate::keys;
use crate::transact;
use async_trait::async_trait;
use hiresync_domain::ports::SubscriptionStore;

#[derive(Serialize, Deserialize)]
struct SubscriptionRecord {
    pk: String,
    sk: String,
    id: String,
    kind: SubscriptionKind,
    contract_id: ContractId,
    seat_id: SeatId,
    resource_id: Option<String>,
    secret_hash: Option<String>,
    expires_at: Timestamp,
    renewed_at: Timestamp,
    renew_at: Timestamp,
    renewal_pk: String,
    renewal_sk: String,
    /// Failed renewals in a row; absent on records written before it was kept.
    #[serde(default)]
    failures: u32,
}

impl Record for SubscriptionRecord {
    const ENTITY: &'static str = "subscription";
}

#[derive(Serialize, Deserialize)]
struct SubscriptionRef {
    pk: String,
    sk: String,
    id: String,
}

impl Record for SubscriptionRef {
    const ENTITY: &'static str = "subscription reference";
}

impl SubscriptionRecord {
    fn into_domain(self) -> PushSubscription {
        PushSubscription {
            id: self.id,
            kind: self.kind,
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            resource_id: self.resource_id,
            secret_hash: self.secret_hash,
            expires_at: self.expires_at,
            renewed_at: self.renewed_at,
            failures: self.failures,
        }
    }
}

crate::items::dynamo_store!(DynamoSubscriptionStore);

impl DynamoSubscriptionStore {
    fn reference(sub: &PushSubscription) -> SubscriptionRef {
        SubscriptionRef {
            pk: keys::contract_pk(&sub.contract_id),
            sk: keys::subscription_ref_sk(&sub.seat_id, sub.kind.connection_kind(), &sub.id),
            id: sub.id.clone(),
        }
    }
}

/// The deletes of a subscription and its pointer, for a transaction.
pub(crate) fn deletes(
    table: &str,
    sub: &PushSubscription,
) -> Result<[TransactWriteItem; 2], StoreError> {
    let reference = DynamoSubscriptionStore::reference(sub);
    let delete = |pk: &str, sk: &str| {
        transact::delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key(pk, sk))),
        )
    };
    Ok([
        delete(&keys::subscription_pk(&sub.id), keys::SUBSCRIPTION_SK)?,
        delete(&reference.pk, &reference.sk)?,
    ])
}

impl DynamoSubscriptionStore {
    /// Sets the renewal keys (and the failure count, when given) of a stored subscription
    /// and nothing else; `false` when it is gone.
    async fn move_due(
        &self,
        id: &str,
        at: Timestamp,
        failures: Option<u32>,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::subscription_pk(id), keys::SUBSCRIPTION_SK)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", AttributeValue::S(at.to_string()))
            .expression_attribute_values(":sk", AttributeValue::S(keys::renewal_sk(at, id)));
        let update = match failures {
            Some(n) => update
                .update_expression("SET renew_at = :at, renewal_sk = :sk, failures = :n")
                .expression_attribute_values(":n", AttributeValue::N(n.to_string())),
            None => update.update_expression("SET renew_at = :at, renewal_sk = :sk"),
        };
        Ok(conditional("DynamoDB UpdateItem", update.send().await)?.is_ok())
    }
}

#[async_trait]
impl SubscriptionStore for DynamoSubscriptionStore {
    /// Stores (or replaces) a subscription, due for renewal at `renew_at`, with the pointer
    /// from its connection, in one transaction.
    async fn put(&self, sub: &PushSubscription, renew_at: Timestamp) -> Result<(), StoreError> {
        let record = SubscriptionRecord {
            pk: keys::subscription_pk(&sub.id),
            sk: keys::SUBSCRIPTION_SK.to_owned(),
            id: sub.id.clone(),
            kind: sub.kind,
            contract_id: sub.contract_id.clone(),
            seat_id: sub.seat_id.clone(),
            resource_id: sub.resource_id.clone(),
            secret_hash: sub.secret_hash.clone(),
            expires_at: sub.expires_at,
            renewed_at: sub.renewed_at,
            renew_at,
            renewal_pk: keys::renewal_pk(&sub.id),
            renewal_sk: keys::renewal_sk(renew_at, &sub.id),
            failures: sub.failures,
        };
        let put = |item| transact::put(Put::builder().table_name(&self.table).set_item(Some(item)));
        transact::commit(
            &self.client,
            vec![put(encode(&record)?)?, put(encode(&Self::reference(sub))?)?],
        )
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<PushSubscription>, StoreError> {
        Ok(self
            .items()
            .get::<SubscriptionRecord>(&keys::subscription_pk(id), keys::SUBSCRIPTION_SK)
            .await?
            .map(SubscriptionRecord::into_domain))
    }

    /// BatchGetItem, 100 keys a call, strongly consistent like `get`.
    async fn get_many(&self, ids: &[String]) -> Result<Vec<PushSubscription>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| key(&keys::subscription_pk(id), keys::SUBSCRIPTION_SK))
            .collect();
        crate::batch::batch_get(&self.client, &self.table, keys, Default::default())
            .await?
            .into_iter()
            .map(|item| decode::<SubscriptionRecord>(item).map(SubscriptionRecord::into_domain))
            .collect()
    }

    /// Moves only the renewal keys, on condition that the subscription is still there: a
    /// renewal that wrote a new expiry meanwhile is not undone.
    async fn make_due(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.move_due(id, at, None).await
    }

    async fn defer(&self, id: &str, at: Timestamp, failures: u32) -> Result<bool, StoreError> {
        self.move_due(id, at, Some(failures)).await
    }

    /// Removes a subscription and its pointer. Removing one that is gone is fine.
    async fn delete(&self, sub: &PushSubscription) -> Result<(), StoreError> {
        transact::commit(&self.client, deletes(&self.table, sub)?.to_vec()).await
    }

    /// The subscriptions of one connection.
    async fn for_connection(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        let refs = self
            .items()
            .query_all::<SubscriptionRef>(
                &keys::contract_pk(contract),
                &keys::subscription_refs_prefix(seat, kind),
            )
            .await?;
        let mut subs = Vec::with_capacity(refs.len());
        for r in refs {
            if let Some(sub) = self.get(&r.id).await? {
                subs.push(sub);
            }
        }
        Ok(subs)
    }

    /// Subscriptions due for renewal at `now`, oldest first within each shard, at most
    /// `per_shard` from each of the index's shards.
    async fn due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        let mut due = Vec::new();
        for (pk, _) in self
            .items()
            .due(keys::RENEWAL_PARTITION, now, per_shard)
            .await?
        {
            let Some(id) = pk.strip_prefix("SUB#") else {
                continue;
            };
            if let Some(sub) = self.get(id).await? {
                due.push(sub);
            }
        }
        Ok(due)
    }
}
