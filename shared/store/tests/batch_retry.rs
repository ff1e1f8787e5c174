//! Batch writes finish the job when DynamoDB processes only part of a batch.
//!
//! DynamoDB Local never leaves items unprocessed, so these tests speak DynamoDB's JSON
//! protocol over real HTTP from a small stub that answers with `UnprocessedItems`, the
//! documented shape of a partly processed BatchWriteItem.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use common::client;
use hiresync_domain::ports::StoreError;
use hiresync_store::{batch_write, BatchPolicy};
use serde_json::{json, Value};

mod common;

/// Serves BatchWriteItem; call n leaves `leave(n, items)` of its items unprocessed.
async fn stub(leave: fn(usize, &[Value]) -> Vec<Value>) -> (String, common::Calls) {
    common::stub(move |n, _, request| {
        let items = request["RequestItems"]["seats"].as_array().unwrap().clone();
        let left = leave(n, &items);
        let answer = if left.is_empty() {
            json!({ "UnprocessedItems": {} })
        } else {
            json!({ "UnprocessedItems": { "seats": left } })
        };
        (200, answer)
    })
    .await
}

/// The items of each call.
fn sent(calls: &common::Calls) -> Vec<Vec<Value>> {
    calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, request)| request["RequestItems"]["seats"].as_array().unwrap().clone())
        .collect()
}

fn puts(n: usize) -> Vec<WriteRequest> {
    (0..n)
        .map(|i| {
            let item = HashMap::from([
                ("pk".to_owned(), AttributeValue::S("CONTRACT#c".into())),
                ("sk".to_owned(), AttributeValue::S(format!("SEAT#{i:03}"))),
            ]);
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect()
}

fn fast(max_attempts: u32) -> BatchPolicy {
    BatchPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn unprocessed_items_are_sent_again_until_none_remain() {
    // GIVEN a DynamoDB that leaves the first three items of its first answer unprocessed
    let (url, calls) = stub(|n, items| if n == 1 { items[..3].to_vec() } else { vec![] }).await;

    // WHEN 30 items are written
    batch_write(&client(&url), "seats", puts(30), fast(5))
        .await
        .unwrap();

    // THEN the first chunk of 25 is retried with exactly the three left over, then the rest
    let calls = sent(&calls);
    let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![25, 3, 5]);
    assert_eq!(calls[1], calls[0][..3].to_vec());
}

#[tokio::test]
async fn a_write_that_never_completes_says_how_much_is_left() {
    let (url, calls) = stub(|_, items| items[..2].to_vec()).await;
    let result = batch_write(&client(&url), "seats", puts(10), fast(4)).await;
    match result {
        Err(StoreError::BatchIncomplete {
            remaining,
            attempts,
            ..
        }) => {
            assert_eq!(remaining, 2);
            assert_eq!(attempts, 4);
        }
        other => panic!("expected BatchIncomplete, got {other:?}"),
    }
    assert_eq!(calls.lock().unwrap().len(), 4);
}
