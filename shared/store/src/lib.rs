//! DynamoDB repositories for hiresync.
//!
//! This is the only crate that knows table names, keys and indexes (see
//! docs/data-model.md). Every write that could race is conditional: updates carry the
//! version they read and fail with [`StoreError::Conflict`] instead of losing someone
//! else's change.

mod authorizations;
mod batch;
mod condition;
mod connections;
mod contracts;
mod directory;
mod error;
mod items;
pub mod keys;
mod mail;
mod query;
mod race;
mod seats;
mod subscriptions;
mod sync_status;
pub mod tables;
mod tokens;
mod transact;

pub use authorizations::DynamoAuthorizationStore;
pub use batch::{batch_write, BatchPolicy};
pub use connections::DynamoConnectionStore;
pub use contracts::DynamoContractStore;
pub use directory::{DirectoryWrite, DynamoDirectoryStore};
pub use error::StoreError;
pub use hiresync_domain::mail::{SkipRecord, ThreadTombstone, TOMBSTONE_RETENTION_DAYS};
pub use hiresync_domain::ports::{Page, PageToken, StoreOutcome, Versioned};
pub use mail::DynamoMailStore;
pub use seats::DynamoSeatStore;
pub use subscriptions::DynamoSubscriptionStore;
pub use sync_status::DynamoSyncStatusStore;
pub use tables::{TableNames, TableSpec, TABLES};
pub use tokens::{DynamoTokenStore, StoredToken};
