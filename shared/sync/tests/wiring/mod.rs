//! The ingest use case over a connect harness: its stores on the local AWS, the providers'
//! mail APIs on the harness's stub with quick retries. Shared by the sync tests and the
//! ingest function's tests (`#[path]`), each with its own limits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use hiresync_providers::adapters::ProviderMailboxes;
use hiresync_providers::RetryPolicy;
use hiresync_store::{DynamoDirectoryStore, DynamoMailStore};
use hiresync_sync::{Ingestor, Limits};

use crate::common::Harness;

/// The ingestor over `h`, and the mail store it writes.
pub fn ingestor(h: &Harness, limits: Limits) -> (Ingestor, DynamoMailStore) {
    let dynamo = aws_sdk_dynamodb::Client::new(&h.aws);
    let tenancy = h.resources.table("TenancyTable").unwrap().to_owned();
    let mail = DynamoMailStore::new(dynamo.clone(), h.resources.table("MailTable").unwrap());
    let base = h.server.uri();
    let ingestor = Ingestor {
        contracts: h.connector.stores.contracts.clone(),
        connections: h.connector.stores.connections.clone(),
        sync_status: h.connector.stores.sync_status.clone(),
        tokens: Arc::new(h.connector.clone()),
        mailboxes: Arc::new(ProviderMailboxes {
            http: hiresync_providers::http_client().unwrap(),
            graph_base: format!("{base}/graph"),
            gmail_base: format!("{base}/gmail"),
            retry: RetryPolicy {
                max_attempts: 2,
                base: Duration::from_millis(1),
                cap: Duration::from_millis(5),
            },
        }),
        threads: Arc::new(mail.clone()),
        skips: Arc::new(mail.clone()),
        directory: Arc::new(DynamoDirectoryStore::new(dynamo.clone(), tenancy)),
        jobs: h.connector.queues.sync_jobs.clone(),
        busy: Arc::new(hiresync_store::DynamoSchedulingStore::new(
            dynamo.clone(),
            h.resources.table("SchedulingTable").unwrap(),
        )),
        limits,
    };
    (ingestor, mail)
}
