//! DynamoDB repositories for hiresync.
//!
//! This is the only crate that knows table names, keys and indexes (see
//! docs/data-model.md). Every write that could race is conditional: updates carry the
//! version they read and fail with [`StoreError::Conflict`] instead of losing someone
//! else's change.
//!
//! The stores implement the domain's ports ([`hiresync_domain::ports`]); the types those
//! speak (errors, pages, versions, outcomes, tombstones, skip records) live in the domain
//! and are imported from there, not from this crate.
//!
//! [`StoreError::Conflict`]: hiresync_domain::ports::StoreError::Conflict

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
mod mailboxes;
mod purge;
mod query;
mod race;
mod retirements;
pub mod scheduling;
mod seats;
mod subscriptions;
mod sync_status;
pub mod tables;
mod tenancy;
mod tokens;
mod transact;
mod zoom;

pub use authorizations::DynamoAuthorizationStore;
pub use batch::{batch_write, BatchPolicy};
pub use connections::DynamoConnectionStore;
pub use contracts::DynamoContractStore;
pub use directory::DynamoDirectoryStore;
pub use mail::DynamoMailStore;
pub use mailboxes::DynamoMailboxClaims;
pub use purge::DynamoPurgeStore;
pub use retirements::DynamoRetirementStore;
pub use scheduling::DynamoSchedulingStore;
pub use seats::DynamoSeatStore;
pub use subscriptions::DynamoSubscriptionStore;
pub use sync_status::DynamoSyncStatusStore;
pub use tables::{TableSpec, TABLES};
pub use tenancy::tenancy_stores;
pub use tokens::DynamoTokenStore;
pub use zoom::DynamoZoomStore;
