//! DynamoDB's "condition failed", recognised in one place.
//!
//! A conditional PutItem, UpdateItem or DeleteItem refused by its condition fails with a
//! `ConditionalCheckFailedException`; an item of a cancelled transaction reports the code
//! `ConditionalCheckFailed`. Both become a [`ConditionFailed`], which the caller turns into
//! what the condition meant: [`StoreError::Conflict`], [`StoreError::AlreadyExists`],
//! [`StoreError::NotFound`], or an outcome it expected (`Ok(false)`).

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};

use crate::error::{dynamo, StoreError};
use crate::items::Item;

/// The cancellation code of a transaction item whose condition failed.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// A write that DynamoDB refused because its condition did not hold; nothing was written.
#[derive(Debug)]
pub(crate) struct ConditionFailed {
    /// The item as it was, when the request asked for it
    /// (`ReturnValuesOnConditionCheckFailure::AllOld`) and there was one.
    pub old: Option<Item>,
}

impl ConditionFailed {
    /// From the reason a transaction gives for one of its items, if that item's condition
    /// failed (and not, say, another transaction holding it).
    pub fn of_reason(reason: &CancellationReason) -> Option<Self> {
        (reason.code() == Some(CONDITION_FAILED)).then(|| ConditionFailed {
            old: reason.item().cloned(),
        })
    }

    /// A create that found the key taken.
    pub fn already_exists(self, entity: &'static str, key: String) -> StoreError {
        StoreError::AlreadyExists { entity, key }
    }

    /// A write that needed the item to exist and found none.
    pub fn not_found(self, entity: &'static str, key: String) -> StoreError {
        StoreError::NotFound { entity, key }
    }

    /// A write conditioned on the version `expected`: [`StoreError::Conflict`] with the
    /// version found when the item is there, [`StoreError::NotFound`] when it is not. The
    /// request must ask for the old item, or every refusal reads as `NotFound`.
    pub fn stale(self, entity: &'static str, key: String, expected: u64) -> StoreError {
        match self.old {
            Some(current) => StoreError::Conflict {
                entity,
                key,
                expected,
                found: version_of(&current),
            },
            None => StoreError::NotFound { entity, key },
        }
    }
}

fn version_of(item: &Item) -> Option<u64> {
    match item.get("version") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// An operation's service error that may be a failed condition.
pub(crate) trait ConditionalError {
    fn condition_failed(&self) -> Option<ConditionFailed>;
}

macro_rules! conditional_error {
    ($($error:ident),*) => {$(
        impl ConditionalError for $error {
            fn condition_failed(&self) -> Option<ConditionFailed> {
                match self {
                    $error::ConditionalCheckFailedException(e) => Some(ConditionFailed {
                        old: e.item.clone(),
                    }),
                    _ => None,
                }
            }
        }
    )*};
}
conditional_error!(PutItemError, UpdateItemError, DeleteItemError);

/// The result of a conditional write: `Ok(Ok(output))` when it was written,
/// `Ok(Err(failed))` when its condition refused it, `Err` for any other failure of
/// `operation` (the SDK error kept as its source).
pub(crate) fn conditional<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E>>,
) -> Result<Result<T, ConditionFailed>, StoreError>
where
    E: ConditionalError + StdError + Send + Sync + 'static,
    SdkError<E>: StdError + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(e) => match e.as_service_error().and_then(E::condition_failed) {
            Some(failed) => Ok(Err(failed)),
            None => Err(dynamo(operation, e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;

    use super::*;

    fn item(version: &str) -> Item {
        Item::from([
            ("pk".to_owned(), AttributeValue::S("P".into())),
            ("version".to_owned(), AttributeValue::N(version.into())),
        ])
    }

    #[test]
    fn a_stale_write_says_which_version_it_found_or_that_the_item_is_gone() {
        let found = ConditionFailed {
            old: Some(item("4")),
        }
        .stale("seat", "P/S".into(), 3);
        assert!(
            matches!(
                found,
                StoreError::Conflict {
                    expected: 3,
                    found: Some(4),
                    ..
                }
            ),
            "{found:?}"
        );
        let gone = ConditionFailed { old: None }.stale("seat", "P/S".into(), 3);
        assert!(matches!(gone, StoreError::NotFound { .. }), "{gone:?}");
    }

    #[test]
    fn only_a_failed_condition_is_recognised() {
        let failed = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .set_item(Some(item("1")))
                .build(),
        );
        assert!(failed.condition_failed().is_some_and(|f| f.old.is_some()));
        let other = DeleteItemError::unhandled("throttled");
        assert!(other.condition_failed().is_none());

        let reason = |code: &str| CancellationReason::builder().code(code).build();
        assert!(ConditionFailed::of_reason(&reason("ConditionalCheckFailed")).is_some());
        assert!(ConditionFailed::of_reason(&reason("TransactionConflict")).is_none());
        assert!(ConditionFailed::of_reason(&reason("None")).is_none());
    }
}
