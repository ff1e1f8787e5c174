//! How a storage port fails. The adapters keep the backend's error as the source, so the
//! whole cause chain reaches the log at the edge.

use std::error::Error as StdError;

use thiserror::Error;

/// A boxed cause, kept for the log.
pub type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, Error)]
pub enum StoreError {
    /// Someone else changed the item since it was read; read again and reapply.
    #[error(
        "{entity} {key} was changed concurrently (expected version {expected}, found {found:?})"
    )]
    Conflict {
        entity: &'static str,
        key: String,
        expected: u64,
        found: Option<u64>,
    },
    #[error("{entity} {key} already exists")]
    AlreadyExists { entity: &'static str, key: String },
    #[error("{entity} {key} does not exist")]
    NotFound { entity: &'static str, key: String },
    /// The storage service failed or could not be reached; `operation` names the call
    /// (`DynamoDB GetItem`).
    #[error("{operation} failed")]
    Backend {
        operation: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("stored {entity} {key} cannot be read")]
    Decode {
        entity: &'static str,
        key: String,
        #[source]
        source: BoxError,
    },
    #[error("{entity} cannot be written")]
    Encode {
        entity: &'static str,
        #[source]
        source: BoxError,
    },
    /// The value breaks a storage limit; nothing was written.
    #[error("{entity} cannot be stored: {problem}")]
    Invalid {
        entity: &'static str,
        problem: String,
    },
    /// A listing was asked to resume from a token it did not issue; nothing was read.
    #[error("the page token was not issued by this listing")]
    BadPageToken,
    #[error("batch write to {table} left {remaining} items unprocessed after {attempts} attempts")]
    BatchIncomplete {
        table: String,
        remaining: usize,
        attempts: u32,
    },
}

impl StoreError {
    /// Whether retrying after a fresh read may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Whether the write failed because the item is already there.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, StoreError::AlreadyExists { .. })
    }
}
