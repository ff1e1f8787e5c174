//! Composition root: logging, configuration and clients once per cold start, then the loop.

use std::sync::Arc;

use hiresync_connect::config::{self as connect, ConnectConfig};
use hiresync_providers::adapters::ProviderMailboxes;
use hiresync_runtime::config::Env;
use hiresync_store::{DynamoDirectoryStore, DynamoMailStore};
use hiresync_sync::{Ingestor, Limits};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let config = ConnectConfig::from_env()?;
    let mut env = Env::process();
    let mail_table = env.required("MAIL_TABLE");
    env.finish(())?;
    let aws = hiresync_runtime::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let clients = connect::provider_clients(&config)?;
    let connector = connect::connector(&aws, &config, clients.clone())?;
    let mail = Arc::new(DynamoMailStore::new(dynamo.clone(), mail_table));
    let ingestor = Ingestor {
        connections: connector.stores.connections.clone(),
        sync_status: connector.stores.sync_status.clone(),
        mailboxes: Arc::new(ProviderMailboxes::new(&clients)),
        jobs: connector.queues.sync_jobs.clone(),
        // The connector refreshes access tokens (and marks a refused grant).
        tokens: Arc::new(connector),
        threads: mail.clone(),
        skips: mail,
        directory: Arc::new(DynamoDirectoryStore::new(
            dynamo,
            config.tenancy_table.clone(),
        )),
        limits: Limits::default(),
    };
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(ingest::handle(ingestor, event.payload, jiff::Timestamp::now()).await)
    }))
    .await
}
