//! Transactions another transaction got in the way of are sent again; any other
//! cancellation is an error at once.
//!
//! DynamoDB Local does not cancel transactions for contention on demand, so these tests
//! answer from a stub with the documented shape of a cancelled TransactWriteItems.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use common::client;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{StoreError, SubscriptionStore};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_store::DynamoSubscriptionStore;
use serde_json::{json, Value};

mod common;

/// TransactWriteItems cancelled, with one reason per item.
fn cancelled(codes: &[&str]) -> (u16, Value) {
    let reasons: Vec<Value> = codes.iter().map(|code| json!({ "Code": code })).collect();
    (
        400,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons {codes:?}"),
            "CancellationReasons": reasons,
        }),
    )
}

fn subscription() -> PushSubscription {
    PushSubscription {
        id: "sub-1".into(),
        kind: SubscriptionKind::GraphInbox,
        contract_id: ContractId::parse("acme").unwrap(),
        seat_id: SeatId::parse("seat-1").unwrap(),
        resource_id: None,
        secret_hash: None,
        expires_at: "2026-03-05T00:00:00Z".parse().unwrap(),
        renewed_at: "2026-03-02T00:00:00Z".parse().unwrap(),
        failures: 0,
    }
}

fn renew_at() -> Timestamp {
    "2026-03-04T00:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn a_transaction_that_met_another_is_sent_again_until_it_commits() {
    // GIVEN a DynamoDB where another transaction holds the subscription twice
    let (url, calls) = common::stub(|n, _, _| {
        if n <= 2 {
            cancelled(&["TransactionConflict", "None"])
        } else {
            (200, json!({}))
        }
    })
    .await;
    let store = DynamoSubscriptionStore::new(client(&url), "t");

    // WHEN the subscription is stored
    store.put(&subscription(), renew_at()).await.unwrap();

    // THEN the same items went out three times (each request with its own token)
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(op, _)| op == "TransactWriteItems"));
    let items = |body: &Value| body["TransactItems"].clone();
    assert_eq!(items(&calls[0].1).as_array().map(Vec::len), Some(2));
    assert!(calls
        .iter()
        .all(|(_, body)| items(body) == items(&calls[0].1)));
}

#[tokio::test]
async fn a_transaction_always_met_by_others_gives_up_with_dynamodbs_error() {
    let (url, calls) = common::stub(|_, _, _| cancelled(&["None", "TransactionConflict"])).await;
    let store = DynamoSubscriptionStore::new(client(&url), "t");

    let result = store.put(&subscription(), renew_at()).await;

    // Five attempts, the store's bound on writes that keep losing races.
    assert_eq!(calls.lock().unwrap().len(), 5);
    match result {
        Err(e @ StoreError::Backend { operation, .. }) => {
            assert_eq!(operation, "DynamoDB TransactWriteItems");
            assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cancellation_for_another_reason_is_not_sent_again() {
    let (url, calls) = common::stub(|_, _, _| cancelled(&["None", "ValidationError"])).await;
    let store = DynamoSubscriptionStore::new(client(&url), "t");

    let result = store.put(&subscription(), renew_at()).await;

    assert_eq!(calls.lock().unwrap().len(), 1);
    assert!(
        matches!(result, Err(StoreError::Backend { .. })),
        "{result:?}"
    );
}
