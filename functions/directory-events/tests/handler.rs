//! The handler, fed the SQS events Lambda would deliver, against a real DynamoDB Local.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use aws_lambda_events::event::sqs::SqsEvent;
use directory_events::handle;
use hiresync_domain::directory::Degree;
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::ports::DirectoryReader;
use hiresync_store::DynamoDirectoryStore;

async fn store() -> DynamoDirectoryStore {
    let (config, resources) = hiresync_localstack::fresh_tables("dir-events")
        .await
        .unwrap();
    DynamoDirectoryStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("TenancyTable").unwrap(),
    )
}

fn fixture(name: &str) -> SqsEvent {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn failed(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn duplicated_and_reordered_upserts_converge_and_bad_records_alone_fail() {
    let store = store().await;
    // GIVEN a batch with version 2, a late version 1, a duplicate of version 2, and three
    // records that can never be applied
    let response = handle(&store, fixture("upserted_batch.json")).await;

    // THEN only the bad records are reported (SQS retries them, then dead-letters them)
    assert_eq!(failed(&response), vec!["m-4", "m-5", "m-6"]);

    // AND the directory holds version 2, found by either address in any case
    let acme = ContractId::parse("acme").unwrap();
    let jane = store
        .find_by_email(&acme, &EmailAddress::parse("jane.doe@WORK.com").unwrap())
        .await
        .unwrap()
        .expect("jane is in the directory");
    assert_eq!(jane.source_version, 2);
    assert_eq!(
        jane.degree_to(&SeatId::parse("seat-1").unwrap()),
        Some(Degree::First)
    );
    assert!(jane.discoverable_by(&SeatId::parse("seat-1").unwrap()));
    assert!(!jane.discoverable_by(&SeatId::parse("seat-2").unwrap()));
    assert!(store
        .find_by_email(&acme, &EmailAddress::parse("old@home.org").unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_removal_is_not_undone_by_an_older_upsert_delivered_after_it() {
    let store = store().await;
    handle(&store, fixture("upserted_batch.json")).await;
    let response = handle(&store, fixture("removed_then_stale_upsert.json")).await;
    assert!(
        failed(&response).is_empty(),
        "a stale event is handled, not failed"
    );
    let acme = ContractId::parse("acme").unwrap();
    assert!(store
        .get(&acme, &ProfileId::parse("p-jane").unwrap())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_by_email(&acme, &EmailAddress::parse("jane@home.org").unwrap())
        .await
        .unwrap()
        .is_none());
}
