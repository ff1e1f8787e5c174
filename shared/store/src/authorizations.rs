//! Pending authorizations: written when a seat starts the OAuth flow, taken exactly once.

use aws_sdk_dynamodb::types::ReturnValue;
use hiresync_domain::authorization::PendingAuthorization;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::{EmailAccess, Provider};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::items::{decode, key, Record};
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::AuthorizationStore;

#[derive(Serialize, Deserialize)]
struct AuthorizationRecord {
    pk: String,
    sk: String,
    id: String,
    contract_id: ContractId,
    seat_id: SeatId,
    user_id: UserId,
    kind: ConnectionKind,
    provider: Provider,
    email_access: EmailAccess,
    created_at: Timestamp,
    expires_at: Timestamp,
    /// The PKCE verifier: useless without the authorization code, which only reaches our
    /// redirect URI, and gone within the hour by TTL.
    pkce_verifier: String,
    ttl: i64,
}

impl Record for AuthorizationRecord {
    const ENTITY: &'static str = "pending authorization";
}

crate::items::dynamo_store!(DynamoAuthorizationStore);

#[async_trait]
impl AuthorizationStore for DynamoAuthorizationStore {
    async fn create(
        &self,
        pending: &PendingAuthorization,
        pkce_verifier: &SecretString,
    ) -> Result<(), StoreError> {
        let record = AuthorizationRecord {
            pk: keys::authorization_pk(&pending.id),
            sk: keys::AUTH_SK.to_owned(),
            id: pending.id.clone(),
            contract_id: pending.contract_id.clone(),
            seat_id: pending.seat_id.clone(),
            user_id: pending.user_id.clone(),
            kind: pending.kind,
            provider: pending.provider,
            email_access: pending.email_access,
            created_at: pending.created_at,
            expires_at: pending.expires_at,
            pkce_verifier: pkce_verifier.expose_secret().to_owned(),
            ttl: pending.expires_at.as_second() + 3600,
        };
        self.items().create(&record).await
    }

    /// Removes and returns the pending authorization: a second take of the same id finds
    /// nothing, so a replayed callback cannot redeem a code twice.
    async fn take(
        &self,
        id: &str,
    ) -> Result<Option<(PendingAuthorization, SecretString)>, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::authorization_pk(id), keys::AUTH_SK)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB DeleteItem", e))?;
        let Some(item) = out.attributes else {
            return Ok(None);
        };
        let r: AuthorizationRecord = decode(item)?;
        Ok(Some((
            PendingAuthorization {
                id: r.id,
                contract_id: r.contract_id,
                seat_id: r.seat_id,
                user_id: r.user_id,
                kind: r.kind,
                provider: r.provider,
                email_access: r.email_access,
                created_at: r.created_at,
                expires_at: r.expires_at,
            },
            SecretString::from(r.pkce_verifier),
        )))
    }
}
