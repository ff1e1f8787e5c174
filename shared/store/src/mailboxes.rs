//! Mailbox claims: which seat's connection holds an account's mailbox or calendar. Every
//! change is conditional on the holder read, so two seats finishing a sign-in to the same
//! account at once cannot both win.

use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::ports::{MailboxClaims, MailboxHolder};
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{encode, key, Record};
use crate::keys;
use async_trait::async_trait;

#[derive(Serialize, Deserialize)]
struct ClaimRecord {
    pk: String,
    sk: String,
    contract_id: ContractId,
    seat_id: SeatId,
}

impl Record for ClaimRecord {
    const ENTITY: &'static str = "mailbox claim";
}

crate::items::dynamo_store!(DynamoMailboxClaims);

fn held_by(holder: &MailboxHolder) -> [(&'static str, AttributeValue); 2] {
    [
        (":c", AttributeValue::S(holder.contract.as_str().to_owned())),
        (":s", AttributeValue::S(holder.seat.as_str().to_owned())),
    ]
}

const HELD_BY: &str = "contract_id = :c AND seat_id = :s";

#[async_trait]
impl MailboxClaims for DynamoMailboxClaims {
    async fn holder(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
    ) -> Result<Option<MailboxHolder>, StoreError> {
        Ok(self
            .items()
            .get::<ClaimRecord>(&keys::mailbox_pk(provider, kind, address), keys::MAILBOX_SK)
            .await?
            .map(|r| MailboxHolder {
                contract: r.contract_id,
                seat: r.seat_id,
            }))
    }

    async fn claim(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        from: Option<&MailboxHolder>,
        to: &MailboxHolder,
    ) -> Result<(), StoreError> {
        let pk = keys::mailbox_pk(provider, kind, address);
        let record = ClaimRecord {
            pk: pk.clone(),
            sk: keys::MAILBOX_SK.to_owned(),
            contract_id: to.contract.clone(),
            seat_id: to.seat.clone(),
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&record)?));
        let put = match from {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(holder) => held_by(holder)
                .into_iter()
                .fold(put.condition_expression(HELD_BY), |put, (name, value)| {
                    put.expression_attribute_values(name, value)
                }),
        };
        conditional("DynamoDB PutItem", put.send().await)?.map_err(|_| StoreError::Conflict {
            entity: ClaimRecord::ENTITY,
            key: pk,
            expected: 0,
            found: None,
        })?;
        Ok(())
    }

    async fn release(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        address: &EmailAddress,
        holder: &MailboxHolder,
    ) -> Result<bool, StoreError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                &keys::mailbox_pk(provider, kind, address),
                keys::MAILBOX_SK,
            )))
            .condition_expression(HELD_BY);
        let delete = held_by(holder)
            .into_iter()
            .fold(delete, |d, (name, value)| {
                d.expression_attribute_values(name, value)
            });
        Ok(conditional("DynamoDB DeleteItem", delete.send().await)?.is_ok())
    }
}
