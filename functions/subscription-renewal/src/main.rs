//! Composition root: logging, configuration and clients once per cold start, then the loop.

use hiresync_connect::config::ConnectConfig;
use hiresync_connect::Connector;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let config = ConnectConfig::from_env()?;
    let aws = hiresync_runtime::aws_config().await;
    let connector = Connector::from_config(&aws, &config)?;
    let connector = &connector;
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = subscription_renewal::handle(connector, jiff::Timestamp::now()).await?;
            Ok::<_, Error>(serde_json::json!({
                "renewed": report.renewed,
                "recreated": report.recreated,
                "stopped": report.stopped,
                "failed": report.failed,
            }))
        },
    ))
    .await
}
