//! TransactWriteItems: building its items, sending it, and reading why DynamoDB cancelled
//! it. A transaction is cancelled as a whole, with one reason per item in the order the
//! items were sent: a failed condition (`ConditionalCheckFailed`), another transaction
//! working on the same item (`TransactionConflict`, worth another attempt), or `None` for
//! the items that were fine.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{
    ConditionCheckBuilder, DeleteBuilder, PutBuilder, UpdateBuilder,
};
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use crate::condition::ConditionFailed;
use crate::error::{built, dynamo, StoreError};
use crate::race::{retry_on_race, Attempt};

const OPERATION: &str = "DynamoDB TransactWriteItems";

pub(crate) fn put(put: PutBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(built(OPERATION, put.build())?)
        .build())
}

pub(crate) fn delete(delete: DeleteBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .delete(built(OPERATION, delete.build())?)
        .build())
}

pub(crate) fn update(update: UpdateBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .update(built(OPERATION, update.build())?)
        .build())
}

pub(crate) fn check(check: ConditionCheckBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .condition_check(built(OPERATION, check.build())?)
        .build())
}

/// A cancelled transaction: why each of its items failed, in the order they were sent.
pub(crate) struct Cancelled {
    reasons: Vec<CancellationReason>,
    error: StoreError,
}

impl Cancelled {
    /// Whether the item at `index` was refused by its condition, and what it held then.
    pub fn condition_failed(&self, index: usize) -> Option<ConditionFailed> {
        self.reasons.get(index).and_then(ConditionFailed::of_reason)
    }

    pub fn any_condition_failed(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| ConditionFailed::of_reason(r).is_some())
    }

    /// Another transaction was working on one of the items: another attempt may commit.
    pub fn contended(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
    }

    /// The cancellation as an error, DynamoDB's own kept as its source.
    pub fn into_error(self) -> StoreError {
        self.error
    }

    /// For an attempt that had nothing to do with a failed condition: lost when contended,
    /// else the cancellation's error.
    pub fn retry_if_contended<T>(self) -> Result<Attempt<T>, StoreError> {
        if self.contended() {
            Ok(Attempt::Lost(self.error))
        } else {
            Err(self.error)
        }
    }
}

/// Sends a transaction once: `Ok(None)` when it committed, `Ok(Some(_))` when DynamoDB
/// cancelled it, `Err` for any other failure.
pub(crate) async fn send(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<Option<Cancelled>, StoreError> {
    let Err(e) = client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    else {
        return Ok(None);
    };
    let reasons = match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            Some(cancel.cancellation_reasons().to_vec())
        }
        _ => None,
    };
    let error = dynamo(OPERATION, e);
    match reasons {
        Some(reasons) => Ok(Some(Cancelled { reasons, error })),
        None => Err(error),
    }
}

/// Commits a transaction whose conditions (if any) are not expected to fail, sending it
/// again while other transactions hold its items; any other cancellation is an error.
pub(crate) async fn commit(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<(), StoreError> {
    retry_on_race(|| async {
        match send(client, items.clone()).await? {
            None => Ok(Attempt::Done(())),
            Some(cancelled) => cancelled.retry_if_contended(),
        }
    })
    .await
}
