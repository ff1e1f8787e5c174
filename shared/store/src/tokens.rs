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
use crate::items::{encode, Record};
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::{StoredToken, TokenStore};

#[derive(Serialize, Deserialize)]
pub(crate) struct TokenRecord {
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
    pub(crate) fn new(
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

impl TokenRecord {
    pub(crate) fn into_token(self) -> Result<StoredToken, StoreError> {
        Ok(StoredToken {
            sealed: Sealed {
                key_id: self.key_id,
                wrapped_key: bytes("wrapped_key", &self.wrapped_key)?,
                nonce: bytes("nonce", &self.nonce)?,
                ciphertext: bytes("ciphertext", &self.ciphertext)?,
            },
            authorized_at: self.authorized_at,
        })
    }

    /// The stored ciphertext, as a condition compares it: the one token read, not merely
    /// one of the same authorization (a rotation keeps the authorization).
    pub(crate) fn ciphertext(&self) -> &str {
        &self.ciphertext
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
        self.items()
            .get::<TokenRecord>(&keys::contract_pk(contract), &keys::token_sk(seat, kind))
            .await?
            .map(TokenRecord::into_token)
            .transpose()
    }
}
