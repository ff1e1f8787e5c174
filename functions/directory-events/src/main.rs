//! Composition root: logging, configuration and clients once per cold start, then the loop.

use directory_events::{handle, Config};
use hiresync_store::DynamoDirectoryStore;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let config = Config::from_env()?;
    let aws = hiresync_runtime::aws_config().await;
    let store =
        DynamoDirectoryStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables.tenancy);
    let store = &store;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(handle(store, event.payload).await)
    }))
    .await
}
