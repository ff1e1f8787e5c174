//! Composition root: logs, the configuration (with the secrets it names), the intake built once per cold start, then
//! the router under Lambda's HTTP adapter.

use webhook_intake::{build, router, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let (config, aws) = hiresync_runtime::cold_start(Config::from_env).await?;
    lambda_http::run(router(build(config, &aws))).await
}
