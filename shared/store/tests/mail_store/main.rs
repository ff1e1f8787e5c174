//! The mail store against DynamoDB Local, with fresh tables per test.
//! Run through `make test`, which starts the emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::mail::{
    Direction, Message, SkipRecord, Thread, ThreadTombstone, Viewer, Visibility,
    TOMBSTONE_RETENTION_DAYS,
};
use hiresync_domain::ports::{
    Conversations, MailReader, SkipLog, StoreError, StoreOutcome, ThreadStore,
};
use hiresync_domain::Timestamp;
use hiresync_store::{keys, DynamoMailStore};

async fn mail_table(label: &str) -> (aws_sdk_dynamodb::Client, String) {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let table = resources.table("MailTable").unwrap().to_owned();
    (aws_sdk_dynamodb::Client::new(&config), table)
}

async fn mail(label: &str) -> Mail {
    let (client, table) = mail_table(label).await;
    Mail::new(client, table)
}

/// The store under test: its own operations, and each of its ports.
#[derive(Clone)]
struct Mail(DynamoMailStore);

impl Mail {
    fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Mail(DynamoMailStore::new(client, table))
    }
    fn threads(&self) -> &dyn ThreadStore {
        &self.0
    }
    fn reader(&self) -> &dyn MailReader {
        &self.0
    }
    fn skips(&self) -> &dyn SkipLog {
        &self.0
    }
}

impl std::ops::Deref for Mail {
    type Target = DynamoMailStore;
    fn deref(&self) -> &DynamoMailStore {
        &self.0
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn contract(s: &str) -> ContractId {
    ContractId::parse(s).unwrap()
}
fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}
fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn thread(contract_id: &str, seat_id: &str, thread_id: &str, with: &str, at: &str) -> Thread {
    Thread {
        contract_id: contract(contract_id),
        seat_id: seat(seat_id),
        thread_id: thread_id.into(),
        counterpart: addr(with),
        visibility: Visibility::Private,
        holder: None,
        profile: None,
        started_from_product: false,
        last_activity_at: ts(at),
    }
}

/// A message of `thread` sent at `sent`, and the thread as the sync sees it then.
fn message(thread: &Thread, provider_id: &str, mid: Option<&str>, sent: &str) -> Message {
    Message {
        contract_id: thread.contract_id.clone(),
        seat_id: thread.seat_id.clone(),
        thread_id: thread.thread_id.clone(),
        provider_id: provider_id.into(),
        internet_message_id: mid.map(str::to_owned),
        direction: Direction::Received,
        from: thread.counterpart.clone(),
        to: vec![addr(&format!("{}@acme.com", thread.seat_id))],
        cc: vec![],
        bcc: vec![],
        subject: format!("About {provider_id}"),
        sent_at: ts(sent),
    }
}

fn at(thread: &Thread, m: &Message) -> Thread {
    Thread {
        last_activity_at: m.sent_at,
        ..thread.clone()
    }
}

mod deletes;
mod expiry;
mod skips;
mod tenancy;
mod threads;
mod tombstones;
