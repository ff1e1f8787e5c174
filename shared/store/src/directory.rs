//! The candidate directory: candidates by profile and by address, kept in step with the
//! product's events even when they arrive twice or out of order.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use hiresync_domain::directory::{Degree, DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{encode, key, Item, Record};
use crate::keys;
use crate::race::{retry_on_race, Attempt};
use crate::transact;
use async_trait::async_trait;
use hiresync_domain::ports::{DirectoryReader, DirectoryWrite, DirectoryWriter};

/// A transaction holds at most 100 writes; one is the candidate itself.
const MAX_EMAILS: usize = 99;

#[derive(Serialize, Deserialize)]
struct CandidateRecord {
    pk: String,
    sk: String,
    contract_id: ContractId,
    profile_id: ProfileId,
    emails: Vec<EmailAddress>,
    /// `None` on the tombstone a removal leaves, so an older upsert cannot resurrect it.
    discovery: Option<DiscoverySetting>,
    in_pipeline: bool,
    degrees: BTreeMap<SeatId, Degree>,
    source_version: u64,
}

impl Record for CandidateRecord {
    const ENTITY: &'static str = "candidate";
}

impl CandidateRecord {
    fn into_domain(self) -> Option<DirectoryEntry> {
        Some(DirectoryEntry {
            discovery: self.discovery?,
            contract_id: self.contract_id,
            profile_id: self.profile_id,
            emails: self.emails,
            in_pipeline: self.in_pipeline,
            degrees: self.degrees,
            source_version: self.source_version,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct CandidateEmailRecord {
    pk: String,
    sk: String,
    profile_id: ProfileId,
}

impl Record for CandidateEmailRecord {
    const ENTITY: &'static str = "candidate email";
}

crate::items::dynamo_store!(DynamoDirectoryStore);

fn invalid(problem: String) -> StoreError {
    StoreError::Invalid {
        entity: CandidateRecord::ENTITY,
        problem,
    }
}

impl DynamoDirectoryStore {
    async fn current(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
    ) -> Result<Option<CandidateRecord>, StoreError> {
        self.items()
            .get(&keys::directory_pk(contract), &keys::candidate_sk(profile))
            .await
    }

    /// Writes `record` unless the stored version is as new, read and written again when
    /// another writer gets in between.
    async fn write(&self, record: CandidateRecord) -> Result<DirectoryWrite, StoreError> {
        retry_on_race(|| async {
            let stored = self
                .current(&record.contract_id, &record.profile_id)
                .await?;
            if let Some(stored) = &stored {
                if stored.source_version >= record.source_version {
                    return Ok(Attempt::Done(DirectoryWrite::Stale {
                        stored_version: stored.source_version,
                    }));
                }
            }
            let writes = self.writes(&record, stored.as_ref().map(|s| s.source_version))?;
            match transact::send(&self.client, writes).await? {
                None => {}
                Some(cancelled) if cancelled.any_condition_failed() => {
                    return Ok(Attempt::Lost(StoreError::Conflict {
                        entity: CandidateRecord::ENTITY,
                        key: format!("{}/{}", record.pk, record.sk),
                        expected: record.source_version,
                        found: None,
                    }));
                }
                Some(cancelled) => return cancelled.retry_if_contended(),
            }
            let dropped = stored
                .map(|s| s.emails)
                .unwrap_or_default()
                .into_iter()
                .filter(|e| !record.emails.contains(e));
            for address in dropped {
                self.drop_pointer(&record.contract_id, &address, &record.profile_id)
                    .await?;
            }
            Ok(Attempt::Done(DirectoryWrite::Applied))
        })
        .await
    }

    /// The candidate and its address pointers, to be written at once if the stored
    /// version is still `expected`.
    fn writes(
        &self,
        record: &CandidateRecord,
        expected: Option<u64>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let put = |item: Item| Put::builder().table_name(&self.table).set_item(Some(item));
        let candidate = put(encode(record)?);
        let candidate = match expected {
            None => candidate.condition_expression("attribute_not_exists(pk)"),
            Some(v) => candidate
                .condition_expression("source_version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        let mut writes = vec![transact::put(candidate)?];
        for address in &record.emails {
            writes.push(transact::put(put(encode(&CandidateEmailRecord {
                pk: record.pk.clone(),
                sk: keys::candidate_email_sk(address),
                profile_id: record.profile_id.clone(),
            })?))?);
        }
        Ok(writes)
    }

    /// Deletes an address pointer if it still points at `profile` (another candidate may
    /// have taken the address meanwhile, and keeps it).
    async fn drop_pointer(
        &self,
        contract: &ContractId,
        address: &EmailAddress,
        profile: &ProfileId,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                &keys::directory_pk(contract),
                &keys::candidate_email_sk(address),
            )))
            .condition_expression("profile_id = :profile")
            .expression_attribute_values(":profile", AttributeValue::S(profile.to_string()))
            .send()
            .await;
        let _dropped_or_taken = conditional("DynamoDB DeleteItem", result)?;
        Ok(())
    }
}

#[async_trait]
impl DirectoryReader for DynamoDirectoryStore {
    async fn get(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        Ok(self
            .current(contract, profile)
            .await?
            .and_then(CandidateRecord::into_domain))
    }

    /// The candidate of `contract` who has `address`, if any.
    async fn find_by_email(
        &self,
        contract: &ContractId,
        address: &EmailAddress,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let Some(pointer) = self
            .items()
            .get::<CandidateEmailRecord>(
                &keys::directory_pk(contract),
                &keys::candidate_email_sk(address),
            )
            .await?
        else {
            return Ok(None);
        };
        // The pointer may outlive a change of the candidate's addresses for a moment; the
        // candidate item is the truth.
        Ok(self
            .get(contract, &pointer.profile_id)
            .await?
            .filter(|entry| entry.emails.contains(address)))
    }
}

#[async_trait]
impl DirectoryWriter for DynamoDirectoryStore {
    /// Stores `entry` unless the directory already has its version or a newer one.
    async fn upsert(&self, entry: &DirectoryEntry) -> Result<DirectoryWrite, StoreError> {
        if entry.emails.len() > MAX_EMAILS {
            return Err(invalid(format!(
                "candidate {} has {} addresses; at most {MAX_EMAILS} are kept",
                entry.profile_id,
                entry.emails.len()
            )));
        }
        let record = CandidateRecord {
            pk: keys::directory_pk(&entry.contract_id),
            sk: keys::candidate_sk(&entry.profile_id),
            contract_id: entry.contract_id.clone(),
            profile_id: entry.profile_id.clone(),
            emails: entry.emails.clone(),
            discovery: Some(entry.discovery),
            in_pipeline: entry.in_pipeline,
            degrees: entry.degrees.clone(),
            source_version: entry.source_version,
        };
        self.write(record).await
    }

    /// Removes a candidate as of `source_version`, leaving a tombstone so that an older
    /// upsert delivered late does not bring them back.
    async fn remove(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
        source_version: u64,
    ) -> Result<DirectoryWrite, StoreError> {
        self.write(CandidateRecord {
            pk: keys::directory_pk(contract),
            sk: keys::candidate_sk(profile),
            contract_id: contract.clone(),
            profile_id: profile.clone(),
            emails: vec![],
            discovery: None,
            in_pipeline: false,
            degrees: BTreeMap::new(),
            source_version,
        })
        .await
    }
}
