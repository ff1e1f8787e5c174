//! Sealed refresh tokens, one per connection.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::sealed::Sealed;
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{encode, key, Record};
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::{StoredToken, TokenStore};

#[derive(Serialize, Deserialize)]
struct TokenRecord {
    pk: String,
    sk: String,
    key_id: String,
    wrapped_key: String,
    nonce: String,
    ciphertext: String,
    /// The authorization this token came from; a deauthorization issued before a newer
    /// authorization must not delete the newer token.
    authorized_at: Timestamp,
    /// The same instant as a number, for conditions (strings with fractions do not sort).
    authorized_ms: i64,
}

impl Record for TokenRecord {
    const ENTITY: &'static str = "token";
}

impl TokenRecord {
    fn new(
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Self {
        TokenRecord {
            pk: keys::contract_pk(contract),
            sk: keys::token_sk(seat, kind),
            key_id: token.sealed.key_id.clone(),
            wrapped_key: B64.encode(&token.sealed.wrapped_key),
            nonce: B64.encode(&token.sealed.nonce),
            ciphertext: B64.encode(&token.sealed.ciphertext),
            authorized_at: token.authorized_at,
            authorized_ms: token.authorized_at.as_millisecond(),
        }
    }
}

crate::items::dynamo_store!(DynamoTokenStore);

fn bytes(field: &str, value: &str) -> Result<Vec<u8>, StoreError> {
    B64.decode(value).map_err(|e| StoreError::Decode {
        entity: TokenRecord::ENTITY,
        key: field.to_owned(),
        source: Box::new(e),
    })
}

#[async_trait]
impl TokenStore for DynamoTokenStore {
    /// Stores the token of the latest authorization, or its rotated successor.
    async fn put(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<(), StoreError> {
        self.items()
            .put(&TokenRecord::new(contract, seat, kind, token))
            .await
    }

    /// A PutItem on condition that the stored token has the same authorization instant.
    async fn rotate(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        token: &StoredToken,
    ) -> Result<bool, StoreError> {
        let item = encode(&TokenRecord::new(contract, seat, kind, token))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk) AND authorized_ms = :ms")
            .expression_attribute_values(
                ":ms",
                AttributeValue::N(token.authorized_at.as_millisecond().to_string()),
            )
            .send()
            .await;
        Ok(conditional("DynamoDB PutItem", result)?.is_ok())
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Option<StoredToken>, StoreError> {
        let Some(r) = self
            .items()
            .get::<TokenRecord>(&keys::contract_pk(contract), &keys::token_sk(seat, kind))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredToken {
            sealed: Sealed {
                key_id: r.key_id,
                wrapped_key: bytes("wrapped_key", &r.wrapped_key)?,
                nonce: bytes("nonce", &r.nonce)?,
                ciphertext: bytes("ciphertext", &r.ciphertext)?,
            },
            authorized_at: r.authorized_at,
        }))
    }

    /// Deletes the token unless it belongs to an authorization newer than `issued_at`.
    /// Returns whether a token was deleted.
    async fn delete_unless_newer(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        issued_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                &keys::contract_pk(contract),
                &keys::token_sk(seat, kind),
            )))
            .condition_expression("attribute_exists(pk) AND authorized_ms <= :issued")
            .expression_attribute_values(
                ":issued",
                AttributeValue::N(issued_at.as_millisecond().to_string()),
            )
            .send()
            .await;
        Ok(conditional("DynamoDB DeleteItem", result)?.is_ok())
    }
}
