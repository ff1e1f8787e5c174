//! The candidate directory in memory, with the DynamoDB adapter's observable behaviour: a
//! write older than (or as old as) what is stored changes nothing; a removal leaves a
//! marker, so a late update never brings a removed candidate back; an address points at
//! the candidate that last claimed it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId};
use hiresync_domain::ports::{DirectoryReader, DirectoryWrite, DirectoryWriter, StoreError};

/// A candidate holds at most this many addresses (the adapter's transaction limit).
const MAX_EMAILS: usize = 99;

/// A candidate as stored: its version and, unless removed, its entry.
struct Candidate {
    version: u64,
    entry: Option<DirectoryEntry>,
}

#[derive(Default)]
struct Directory {
    candidates: BTreeMap<(ContractId, ProfileId), Candidate>,
    addresses: BTreeMap<(ContractId, EmailAddress), ProfileId>,
}

#[derive(Default)]
pub struct InMemoryDirectory {
    directory: Mutex<Directory>,
    /// Reads so far.
    pub reads: Mutex<u32>,
}

impl InMemoryDirectory {
    /// A directory holding `entries` (each applied as an upsert).
    pub fn with(entries: impl IntoIterator<Item = DirectoryEntry>) -> Self {
        let directory = Self::default();
        for entry in entries {
            directory.write(
                entry.contract_id.clone(),
                entry.profile_id.clone(),
                entry.source_version,
                Some(entry),
            );
        }
        directory
    }

    fn write(
        &self,
        contract: ContractId,
        profile: ProfileId,
        version: u64,
        entry: Option<DirectoryEntry>,
    ) -> DirectoryWrite {
        let mut directory = self.directory.lock().unwrap();
        let key = (contract.clone(), profile.clone());
        let before = match directory.candidates.get(&key) {
            Some(stored) if stored.version >= version => {
                return DirectoryWrite::Stale {
                    stored_version: stored.version,
                }
            }
            Some(stored) => stored
                .entry
                .as_ref()
                .map(|e| e.emails.clone())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let now: Vec<EmailAddress> = entry.as_ref().map(|e| e.emails.clone()).unwrap_or_default();
        for address in &now {
            directory
                .addresses
                .insert((contract.clone(), address.clone()), profile.clone());
        }
        for address in before.iter().filter(|a| !now.contains(a)) {
            let pointer = (contract.clone(), address.clone());
            if directory.addresses.get(&pointer) == Some(&profile) {
                directory.addresses.remove(&pointer);
            }
        }
        directory
            .candidates
            .insert(key, Candidate { version, entry });
        DirectoryWrite::Applied
    }

    fn entry(&self, contract: &ContractId, profile: &ProfileId) -> Option<DirectoryEntry> {
        let directory = self.directory.lock().unwrap();
        directory
            .candidates
            .get(&(contract.clone(), profile.clone()))
            .and_then(|c| c.entry.clone())
    }
}

#[async_trait]
impl DirectoryReader for InMemoryDirectory {
    async fn get(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        *self.reads.lock().unwrap() += 1;
        Ok(self.entry(contract, profile))
    }

    async fn find_by_email(
        &self,
        contract: &ContractId,
        address: &EmailAddress,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        *self.reads.lock().unwrap() += 1;
        let profile = {
            let directory = self.directory.lock().unwrap();
            directory
                .addresses
                .get(&(contract.clone(), address.clone()))
                .cloned()
        };
        Ok(profile
            .and_then(|p| self.entry(contract, &p))
            .filter(|entry| entry.emails.contains(address)))
    }
}

#[async_trait]
impl DirectoryWriter for InMemoryDirectory {
    async fn upsert(&self, entry: &DirectoryEntry) -> Result<DirectoryWrite, StoreError> {
        if entry.emails.len() > MAX_EMAILS {
            return Err(StoreError::Invalid {
                entity: "candidate",
                problem: format!(
                    "candidate {} has {} addresses; at most {MAX_EMAILS} are kept",
                    entry.profile_id,
                    entry.emails.len()
                ),
            });
        }
        Ok(self.write(
            entry.contract_id.clone(),
            entry.profile_id.clone(),
            entry.source_version,
            Some(entry.clone()),
        ))
    }

    async fn remove(
        &self,
        contract: &ContractId,
        profile: &ProfileId,
        source_version: u64,
    ) -> Result<DirectoryWrite, StoreError> {
        Ok(self.write(contract.clone(), profile.clone(), source_version, None))
    }
}
