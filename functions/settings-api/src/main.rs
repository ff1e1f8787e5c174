//! Composition root: logging, configuration and clients once per cold start, then the
//! router under Lambda's HTTP adapter.

use std::sync::Arc;

use hiresync_connect::config::ConnectConfig;
use hiresync_connect::Connector;
use settings_api::auth::Authenticator;
use settings_api::{router, App};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let config = ConnectConfig::from_env()?;
    let keys = std::env::var("API_AUTH_KEYS").unwrap_or_default();
    let auth = Authenticator::from_spec(&keys)?;
    let aws = hiresync_runtime::aws_config().await;
    let connector = Connector::from_config(&aws, &config)?;
    let mail_table = std::env::var("MAIL_TABLE")
        .map_err(|_| "MAIL_TABLE is not set (template.yaml sets it for every function)")?;
    let mail =
        hiresync_store::DynamoMailStore::new(aws_sdk_dynamodb::Client::new(&aws), mail_table);
    let app = Arc::new(App {
        threads: Arc::new(mail.clone()),
        skips: Arc::new(mail),
        connector,
        auth,
        clock: Arc::new(jiff::Timestamp::now),
    });
    lambda_http::run(router(app)).await
}
