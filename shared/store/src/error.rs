//! The domain's storage error, and how DynamoDB's errors become it (with the SDK error
//! kept as the source, so its whole chain reaches the log).

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{BuildError, SdkError};

pub(crate) use hiresync_domain::ports::StoreError;

/// A DynamoDB call that failed; `operation` names it (`DynamoDB GetItem`).
pub(crate) fn dynamo<E>(operation: &'static str, err: SdkError<E>) -> StoreError
where
    E: StdError + Send + Sync + 'static,
    SdkError<E>: StdError + Send + Sync + 'static,
{
    StoreError::Backend {
        operation,
        source: Box::new(err),
    }
}

/// A request part the SDK refused to build (a required field left out): a bug in this
/// crate, reported as a failure of the call it was meant for.
pub(crate) fn built<T>(
    operation: &'static str,
    result: Result<T, BuildError>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Backend {
        operation,
        source: Box::new(e),
    })
}
