//! The domain's storage error, and how DynamoDB's errors become it (with the SDK error
//! kept as the source, so its whole chain reaches the log).

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::SdkError;

pub use hiresync_domain::ports::StoreError;

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
