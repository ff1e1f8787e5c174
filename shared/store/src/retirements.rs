//! Retirements: a connection's deauthorization as one transaction (its new state, its token
//! and subscription records gone, the provider work they leave kept), and that work found
//! when due through the `by-renewal` index's `RETIRE#<n>` shards.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put};
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::ports::{RetirementStore, Versioned};
use hiresync_domain::retirement::Retirement;
use hiresync_domain::subscription::PushSubscription;
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::connections::ConnectionRecord;
use crate::error::StoreError;
use crate::items::{encode, key, Record};
use crate::keys;
use crate::race::{retry_on_race, Attempt};
use crate::subscriptions::deletes;
use crate::tokens::TokenRecord;
use crate::transact;
use async_trait::async_trait;

#[derive(Serialize, Deserialize)]
struct RetirementRecord {
    pk: String,
    sk: String,
    contract_id: ContractId,
    seat_id: SeatId,
    kind: ConnectionKind,
    provider: Provider,
    address: EmailAddress,
    /// The connection version the deauthorization wrote.
    connection_version: u64,
    /// The sealed refresh token, moved here from the connection's token item.
    token: Option<TokenRecord>,
    subscriptions: Vec<PushSubscription>,
    retired_at: Timestamp,
    failures: u32,
    due_at: Timestamp,
    renewal_pk: String,
    renewal_sk: String,
}

impl Record for RetirementRecord {
    const ENTITY: &'static str = "retirement";
}

impl RetirementRecord {
    fn new(r: &Retirement, due_at: Timestamp) -> Self {
        let (c, s, k) = (&r.contract_id, &r.seat_id, r.kind);
        let (renewal_pk, renewal_sk) = keys::retirement_due_keys(c, s, k, r.version, due_at);
        Self {
            pk: keys::contract_pk(c),
            sk: keys::retirement_sk(s, k, r.version),
            contract_id: c.clone(),
            seat_id: s.clone(),
            kind: k,
            provider: r.provider,
            address: r.address.clone(),
            connection_version: r.version,
            token: r.token.as_ref().map(|t| TokenRecord::new(c, s, k, t)),
            subscriptions: r.subscriptions.clone(),
            retired_at: r.retired_at,
            failures: r.failures,
            due_at,
            renewal_pk,
            renewal_sk,
        }
    }

    fn into_domain(self) -> Result<Retirement, StoreError> {
        Ok(Retirement {
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            kind: self.kind,
            provider: self.provider,
            address: self.address,
            version: self.connection_version,
            token: self.token.map(TokenRecord::into_token).transpose()?,
            subscriptions: self.subscriptions,
            retired_at: self.retired_at,
            failures: self.failures,
        })
    }
}

crate::items::dynamo_store!(DynamoRetirementStore);

impl DynamoRetirementStore {
    fn key_of(r: &Retirement) -> crate::items::Item {
        key(
            &keys::contract_pk(&r.contract_id),
            &keys::retirement_sk(&r.seat_id, r.kind, r.version),
        )
    }
}

#[async_trait]
impl RetirementStore for DynamoRetirementStore {
    /// One TransactWriteItems: the connection on its version, the token on its ciphertext,
    /// the subscriptions and their pointers, and the retirement (a new item).
    async fn retire(
        &self,
        read: &Versioned<Connection>,
        changed: &Connection,
        retirement: &Retirement,
    ) -> Result<Versioned<Connection>, StoreError> {
        let version = read.version + 1;
        let put = |item, condition: &str| {
            transact::put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(condition),
            )
        };
        let mut items = vec![transact::put(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(encode(&ConnectionRecord::new(changed, version))?))
                .condition_expression("attribute_exists(pk) AND version = :expected")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(read.version.to_string()),
                ),
        )?];
        let (c, s, k) = (&changed.contract_id, &changed.seat_id, changed.kind);
        if let Some(token) = &retirement.token {
            let record = TokenRecord::new(c, s, k, token);
            items.push(transact::delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&keys::contract_pk(c), &keys::token_sk(s, k))))
                    .condition_expression("ciphertext = :ciphertext")
                    .expression_attribute_values(
                        ":ciphertext",
                        AttributeValue::S(record.ciphertext().to_owned()),
                    ),
            )?);
        }
        for sub in &retirement.subscriptions {
            items.extend(deletes(&self.table, sub)?);
        }
        if retirement.has_provider_work() {
            let record = RetirementRecord::new(retirement, retirement.retired_at);
            items.push(put(encode(&record)?, "attribute_not_exists(pk)")?);
        }
        retry_on_race(|| async {
            match transact::send(&self.client, items.clone()).await? {
                None => Ok(Attempt::Done(())),
                Some(cancelled) if cancelled.any_condition_failed() => Err(StoreError::Conflict {
                    entity: "connection",
                    key: format!("{}/{}", keys::contract_pk(c), keys::connection_sk(s, k)),
                    expected: read.version,
                    found: None,
                }),
                Some(cancelled) => cancelled.retry_if_contended(),
            }
        })
        .await?;
        Ok(Versioned {
            value: changed.clone(),
            version,
        })
    }

    async fn due(&self, now: Timestamp, per_shard: i32) -> Result<Vec<Retirement>, StoreError> {
        let mut due = Vec::new();
        for (pk, sk) in self
            .items()
            .due(keys::RETIREMENT_PARTITION, now, per_shard)
            .await?
        {
            if let Some(record) = self.items().get::<RetirementRecord>(&pk, &sk).await? {
                due.push(record.into_domain()?);
            }
        }
        Ok(due)
    }

    /// Moves only the due keys and the failure count, on condition that it is still kept.
    async fn defer(
        &self,
        retirement: &Retirement,
        at: Timestamp,
        failures: u32,
    ) -> Result<bool, StoreError> {
        let r = retirement;
        let (_, renewal_sk) =
            keys::retirement_due_keys(&r.contract_id, &r.seat_id, r.kind, r.version, at);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(r)))
            .condition_expression("attribute_exists(pk)")
            .update_expression("SET due_at = :at, renewal_sk = :sk, failures = :n")
            .expression_attribute_values(":at", AttributeValue::S(at.to_string()))
            .expression_attribute_values(":sk", AttributeValue::S(renewal_sk))
            .expression_attribute_values(":n", AttributeValue::N(failures.to_string()))
            .send()
            .await;
        Ok(conditional("DynamoDB UpdateItem", result)?.is_ok())
    }

    async fn of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<Retirement>, StoreError> {
        let prefix = format!("{}#{seat}#", keys::RETIREMENT_PARTITION);
        self.items()
            .query_all::<RetirementRecord>(&keys::contract_pk(contract), &prefix)
            .await?
            .into_iter()
            .map(RetirementRecord::into_domain)
            .collect()
    }

    async fn finish(&self, retirement: &Retirement) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(retirement)))
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB DeleteItem", e))?;
        Ok(())
    }
}
