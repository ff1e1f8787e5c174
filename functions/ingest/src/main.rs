//! Composition root: logging, configuration and clients once per cold start, then the loop.
// The ingest future nests deeply (job -> provider pages -> judgement -> store); its layout
// needs more than the default 128 levels of query depth.
#![recursion_limit = "256"]

use hiresync_connect::config::ConnectConfig;
use hiresync_connect::Connector;
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
    let ingestor = Ingestor {
        connector: Connector::from_config(&aws, &config)?,
        mail: DynamoMailStore::new(dynamo.clone(), mail_table),
        directory: DynamoDirectoryStore::new(dynamo, config.tenancy_table.clone()),
        limits: Limits::default(),
    };
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(ingest::handle(ingestor, event.payload, jiff::Timestamp::now()).await)
    }))
    .await
}
