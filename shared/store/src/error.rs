use std::error::Error as StdError;

use aws_sdk_dynamodb::error::SdkError;
use thiserror::Error;

type BoxError = Box<dyn StdError + Send + Sync>;

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
    #[error("DynamoDB {operation} failed")]
    Dynamo {
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
        source: serde_dynamo::Error,
    },
    /// The value breaks a storage limit; nothing was written.
    #[error("{entity} cannot be stored: {problem}")]
    Invalid {
        entity: &'static str,
        problem: String,
    },
    #[error("batch write to {table} left {remaining} items unprocessed after {attempts} attempts")]
    BatchIncomplete {
        table: String,
        remaining: usize,
        attempts: u32,
    },
}

impl StoreError {
    pub(crate) fn dynamo<E>(operation: &'static str, err: SdkError<E>) -> Self
    where
        E: StdError + Send + Sync + 'static,
        SdkError<E>: StdError + Send + Sync + 'static,
    {
        StoreError::Dynamo {
            operation,
            source: Box::new(err),
        }
    }

    /// Whether retrying after a fresh read may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
