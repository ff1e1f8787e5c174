//! ingest: one sync job at a time per connection (the FIFO group): pull what changed in the
//! seat's mailbox, judge it by the sync policy, store, skip, delete, advance the cursor.

mod config;
mod handler;
pub mod metrics;

use std::sync::Arc;

use hiresync_connect::Connector;
use hiresync_providers::adapters::ProviderMailboxes;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::{QueueUrls, Redelivery, SqsQueue};
use hiresync_store::{DynamoDirectoryStore, DynamoMailStore, DynamoSchedulingStore};
use hiresync_sync::{Ingestor, Limits};
use hiresync_wiring::{connect_ports, ConnectWiring};

pub use config::Config;
pub use handler::{backoff, handle, FRESH_AFTER, MARGIN};
pub use hiresync_wiring::BuildError;

/// The function, built once per cold start: the use case, and its own queue to put a job
/// back on for later when a provider asks to wait.
#[derive(Clone)]
pub struct App {
    pub ingestor: Ingestor,
    pub redelivery: Arc<dyn Redelivery>,
    /// Creates a new connection's push subscriptions before its first sync reads the
    /// mailbox (the sign-in only left placeholders).
    pub push: Connector,
}

/// The composition root `main.rs` and the local suite both call: the ingest use case over
/// the mail and tenancy tables, the providers' mail APIs, and the connector that refreshes
/// access tokens (and marks a refused grant, telling the seat).
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let redelivery = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(aws),
        config.sync_jobs_queue_url.clone(),
    ));
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let clients = ProviderClients::new(&config.providers)?;
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls {
            sync_jobs: Some(config.sync_jobs_queue_url),
            notifications: Some(config.notifications_queue_url),
            ..QueueUrls::default()
        },
    };
    let mailboxes = Arc::new(ProviderMailboxes::new(&clients));
    let connector = Connector::new(connect_ports(aws, &wiring, clients)).with_push(config.push);
    let mail = Arc::new(DynamoMailStore::new(dynamo.clone(), config.mail_table));
    let dynamo_for_busy = dynamo.clone();
    let ingestor = Ingestor {
        contracts: connector.stores.contracts.clone(),
        connections: connector.stores.connections.clone(),
        sync_status: connector.stores.sync_status.clone(),
        jobs: connector.queues.sync_jobs.clone(),
        mailboxes,
        threads: mail.clone(),
        skips: mail,
        directory: Arc::new(DynamoDirectoryStore::new(dynamo, config.tenancy_table)),
        tokens: Arc::new(connector.clone()),
        busy: Arc::new(DynamoSchedulingStore::new(
            dynamo_for_busy,
            config.scheduling_table,
        )),
        limits: Limits::default(),
    };
    Ok(App {
        ingestor,
        redelivery,
        push: connector,
    })
}
