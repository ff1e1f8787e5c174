//! The contract's Zoom connection and the admins' Zoom sign-ins in progress, in the
//! contract's partition of the tenancy table.
//!
//! | item | sk | ttl |
//! |---|---|---|
//! | connection | `ZOOM` (versioned: the account and its sealed tokens, one item) | none |
//! | sign-in in progress | `ZOOMAUTH#<id>` (with its PKCE verifier, taken once) | an hour after it expires |
//!
//! A connection's writes are conditioned on what was read: the version, and the instant it
//! was connected (`connected_at`), so that a read from before a remove and a reconnect
//! cannot write over the new connection even where the versions meet again (a connection
//! put where none is stored starts at version 1).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::ids::{ContractId, EmailAddress, UserId};
use hiresync_domain::ports::{Versioned, ZoomStore};
use hiresync_domain::sealed::Sealed;
use hiresync_domain::zoom::{PendingZoom, StoredZoom, ZoomAccount, ZoomState, ZoomTokens};
use hiresync_domain::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::condition::conditional;
use crate::error::{dynamo, StoreError};
use crate::items::{decode, encode, key, Item, Record};
use crate::keys;

/// One sealed token, as `tokens.rs` stores one: its bytes in base64.
#[derive(Serialize, Deserialize)]
struct SealedRecord {
    key_id: String,
    wrapped_key: String,
    nonce: String,
    ciphertext: String,
}

impl SealedRecord {
    fn new(sealed: &Sealed) -> Self {
        Self {
            key_id: sealed.key_id.clone(),
            wrapped_key: B64.encode(&sealed.wrapped_key),
            nonce: B64.encode(&sealed.nonce),
            ciphertext: B64.encode(&sealed.ciphertext),
        }
    }

    fn into_sealed(self, key: &str) -> Result<Sealed, StoreError> {
        let bytes = |field: &str, value: &str| {
            B64.decode(value).map_err(|e| StoreError::Decode {
                entity: ZoomRecord::ENTITY,
                key: format!("{key} ({field})"),
                source: Box::new(e),
            })
        };
        Ok(Sealed {
            wrapped_key: bytes("wrapped_key", &self.wrapped_key)?,
            nonce: bytes("nonce", &self.nonce)?,
            ciphertext: bytes("ciphertext", &self.ciphertext)?,
            key_id: self.key_id,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct ZoomRecord {
    pk: String,
    sk: String,
    version: u64,
    contract_id: ContractId,
    account_id: String,
    authorized_as: EmailAddress,
    connected_by: UserId,
    connected_at: Timestamp,
    state: ZoomState,
    /// Written as NULL when absent, never left out: `put` sets every attribute of the
    /// record over the stored item, so an attribute left out would keep its old value.
    refused_at: Option<Timestamp>,
    refresh: SealedRecord,
    access: SealedRecord,
    access_expires_at: Timestamp,
}

impl Record for ZoomRecord {
    const ENTITY: &'static str = "zoom connection";
}

impl ZoomRecord {
    fn new(zoom: &StoredZoom, version: u64) -> Self {
        let (a, t) = (&zoom.account, &zoom.tokens);
        Self {
            pk: keys::contract_pk(&a.contract_id),
            sk: keys::ZOOM_SK.to_owned(),
            version,
            contract_id: a.contract_id.clone(),
            account_id: a.account_id.clone(),
            authorized_as: a.authorized_as.clone(),
            connected_by: a.connected_by.clone(),
            connected_at: a.connected_at,
            state: a.state,
            refused_at: a.refused_at,
            refresh: SealedRecord::new(&t.refresh),
            access: SealedRecord::new(&t.access),
            access_expires_at: t.access_expires_at,
        }
    }

    fn into_domain(self) -> Result<Versioned<StoredZoom>, StoreError> {
        let key = format!("{}/{}", self.pk, self.sk);
        Ok(Versioned {
            version: self.version,
            value: StoredZoom {
                account: ZoomAccount {
                    contract_id: self.contract_id,
                    account_id: self.account_id,
                    authorized_as: self.authorized_as,
                    connected_by: self.connected_by,
                    connected_at: self.connected_at,
                    state: self.state,
                    refused_at: self.refused_at,
                },
                tokens: ZoomTokens {
                    refresh: self.refresh.into_sealed(&key)?,
                    access: self.access.into_sealed(&key)?,
                    access_expires_at: self.access_expires_at,
                },
            },
        })
    }
}

#[derive(Serialize, Deserialize)]
struct PendingRecord {
    pk: String,
    sk: String,
    id: String,
    contract_id: ContractId,
    user_id: UserId,
    created_at: Timestamp,
    expires_at: Timestamp,
    /// The PKCE verifier: useless without the authorization code, which only reaches our
    /// redirect URL, and gone within the hour by TTL.
    pkce_verifier: String,
    ttl: i64,
}

impl Record for PendingRecord {
    const ENTITY: &'static str = "zoom sign-in";
}

crate::items::dynamo_store!(
    /// The contract's Zoom connection and its sign-ins in progress, in the tenancy table.
    DynamoZoomStore
);

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn connection_key(contract: &ContractId) -> String {
    format!("{}/{}", keys::contract_pk(contract), keys::ZOOM_SK)
}

fn attribute<T: Serialize>(value: T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|source| StoreError::Encode {
        entity: ZoomRecord::ENTITY,
        source: Box::new(source),
    })
}

impl DynamoZoomStore {
    /// Deletes the item at (`pk`, `sk`), when given only if its `user_id` is `by`, and
    /// hands back what it was; `None` when there was none or it is someone else's.
    async fn delete_returning(
        &self,
        pk: &str,
        sk: &str,
        by: Option<&UserId>,
    ) -> Result<Option<Item>, StoreError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(ReturnValue::AllOld);
        if let Some(user) = by {
            request = request
                .condition_expression("attribute_not_exists(pk) OR user_id = :user")
                .expression_attribute_values(":user", AttributeValue::S(user.as_str().to_owned()));
        }
        match conditional("DynamoDB DeleteItem", request.send().await)? {
            Ok(out) => Ok(out.attributes),
            Err(_someone_elses) => Ok(None),
        }
    }
}

#[async_trait]
impl ZoomStore for DynamoZoomStore {
    /// A new item: `AlreadyExists` if the contract already has a sign-in of this id.
    async fn begin(
        &self,
        pending: &PendingZoom,
        verifier: &SecretString,
    ) -> Result<(), StoreError> {
        let record = PendingRecord {
            pk: keys::contract_pk(&pending.contract_id),
            sk: keys::zoom_pending_sk(&pending.id),
            id: pending.id.clone(),
            contract_id: pending.contract_id.clone(),
            user_id: pending.user_id.clone(),
            created_at: pending.created_at,
            expires_at: pending.expires_at,
            pkce_verifier: verifier.expose_secret().to_owned(),
            ttl: pending.expires_at.as_second().saturating_add(3600),
        };
        self.items().create(&record).await
    }

    /// A DeleteItem returning what it deleted, on the condition that `admin` started it: a
    /// second take of the same id finds nothing, so a replayed redirect cannot redeem a
    /// code twice. Expired or not: the caller checks.
    async fn take_pending(
        &self,
        contract: &ContractId,
        id: &str,
        admin: &UserId,
    ) -> Result<Option<(PendingZoom, SecretString)>, StoreError> {
        let deleted = self
            .delete_returning(
                &keys::contract_pk(contract),
                &keys::zoom_pending_sk(id),
                Some(admin),
            )
            .await?;
        let Some(item) = deleted else {
            return Ok(None);
        };
        let r: PendingRecord = decode(item)?;
        Ok(Some((
            PendingZoom {
                id: r.id,
                contract_id: r.contract_id,
                user_id: r.user_id,
                created_at: r.created_at,
                expires_at: r.expires_at,
            },
            SecretString::from(r.pkce_verifier),
        )))
    }

    async fn get(
        &self,
        contract: &ContractId,
    ) -> Result<Option<Versioned<StoredZoom>>, StoreError> {
        self.items()
            .get::<ZoomRecord>(&keys::contract_pk(contract), keys::ZOOM_SK)
            .await?
            .map(ZoomRecord::into_domain)
            .transpose()
    }

    /// One UpdateItem setting every attribute and the version one past the stored one (1
    /// where none is stored): whoever read the connection it replaces finds it changed.
    async fn put(&self, zoom: &StoredZoom) -> Result<Versioned<StoredZoom>, StoreError> {
        let mut attributes = encode(&ZoomRecord::new(zoom, 0))?;
        for managed in ["pk", "sk", "version"] {
            attributes.remove(managed);
        }
        let mut attributes: Vec<(String, AttributeValue)> = attributes.into_iter().collect();
        attributes.sort_by(|a, b| a.0.cmp(&b.0));
        let mut names = HashMap::from([("#version".to_owned(), "version".to_owned())]);
        let mut values = HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]);
        let mut sets = Vec::with_capacity(attributes.len() + 1);
        for (i, (name, value)) in attributes.into_iter().enumerate() {
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
            sets.push(format!("#a{i} = :a{i}"));
        }
        sets.push("#version = if_not_exists(#version, :zero) + :one".to_owned());
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                &keys::contract_pk(&zoom.account.contract_id),
                keys::ZOOM_SK,
            )))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| dynamo("DynamoDB UpdateItem", e))?;
        let version = match out.attributes.as_ref().and_then(|a| a.get("version")) {
            Some(AttributeValue::N(v)) => v.parse().ok(),
            _ => None,
        };
        let Some(version) = version else {
            return Err(StoreError::Decode {
                entity: ZoomRecord::ENTITY,
                key: connection_key(&zoom.account.contract_id),
                source: "UpdateItem returned no version".into(),
            });
        };
        Ok(Versioned {
            value: zoom.clone(),
            version,
        })
    }

    /// A PutItem on condition that the stored connection is the one read (same version,
    /// same `connected_at`); a refusal is a `Conflict`, also when the item is gone.
    async fn update(
        &self,
        read: &Versioned<StoredZoom>,
        next: &StoredZoom,
    ) -> Result<Versioned<StoredZoom>, StoreError> {
        let contract = &read.value.account.contract_id;
        if next.account.contract_id != *contract {
            return Err(StoreError::Invalid {
                entity: ZoomRecord::ENTITY,
                problem: "an update cannot move the connection to another contract".into(),
            });
        }
        let version = read.version + 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&ZoomRecord::new(next, version))?))
            .condition_expression(
                "attribute_exists(pk) AND version = :expected AND connected_at = :connected_at",
            )
            .expression_attribute_values(":expected", n(read.version))
            .expression_attribute_values(
                ":connected_at",
                attribute(read.value.account.connected_at)?,
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional("DynamoDB PutItem", result)?.map_err(|failed| {
            let key = connection_key(contract);
            match failed.stale(ZoomRecord::ENTITY, key.clone(), read.version) {
                // Removed since it was read: as much a conflict as a newer version.
                StoreError::NotFound { .. } => StoreError::Conflict {
                    entity: ZoomRecord::ENTITY,
                    key,
                    expected: read.version,
                    found: None,
                },
                stale => stale,
            }
        })?;
        Ok(Versioned {
            value: next.clone(),
            version,
        })
    }

    async fn remove(&self, contract: &ContractId) -> Result<Option<StoredZoom>, StoreError> {
        self.delete_returning(&keys::contract_pk(contract), keys::ZOOM_SK, None)
            .await?
            .map(|item| Ok(decode::<ZoomRecord>(item)?.into_domain()?.value))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(byte: u8) -> Sealed {
        Sealed {
            key_id: "k".into(),
            wrapped_key: vec![byte, 1],
            nonce: vec![byte, 2],
            ciphertext: vec![byte, 3, 255],
        }
    }

    fn stored(refused_at: Option<&str>) -> StoredZoom {
        StoredZoom {
            account: ZoomAccount {
                contract_id: ContractId::parse("acme").unwrap(),
                account_id: "acc-1".into(),
                authorized_as: EmailAddress::parse("admin@acme.example").unwrap(),
                connected_by: UserId::parse("u-1").unwrap(),
                connected_at: "2037-03-02T09:00:00.123456789Z".parse().unwrap(),
                state: ZoomState::Connected,
                refused_at: refused_at.map(|s| s.parse().unwrap()),
            },
            tokens: ZoomTokens {
                refresh: sealed(1),
                access: sealed(2),
                access_expires_at: "2037-03-02T10:00:00Z".parse().unwrap(),
            },
        }
    }

    #[test]
    fn a_record_round_trips_and_writes_every_attribute() {
        for zoom in [stored(None), stored(Some("2037-03-03T09:00:00Z"))] {
            let item = encode(&ZoomRecord::new(&zoom, 7)).unwrap();
            // `put` sets attribute by attribute: an absent refusal must still be written.
            assert!(item.contains_key("refused_at"));
            assert!(matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == "ZOOM"));
            let back = decode::<ZoomRecord>(item).unwrap().into_domain().unwrap();
            assert_eq!(back.version, 7);
            assert_eq!(back.value, zoom);
        }
    }

    #[test]
    fn the_condition_compares_connected_at_as_it_is_stored() {
        let zoom = stored(None);
        let item = encode(&ZoomRecord::new(&zoom, 1)).unwrap();
        assert_eq!(
            item.get("connected_at"),
            Some(&attribute(zoom.account.connected_at).unwrap())
        );
    }
}
