//! Composition root: logs, the configuration (with the secrets it names), the intake built once per cold start, then
//! the router under Lambda's HTTP adapter.

use hiresync_runtime::config::Env;
use hiresync_runtime::diagnostics::cold_start_failed;
use webhook_intake::{build, router, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let aws = hiresync_runtime::aws_config().await;
    let env = Env::process_with_secrets(&aws)
        .await
        .map_err(cold_start_failed)?;
    let config = Config::from_env(env).map_err(cold_start_failed)?;
    lambda_http::run(router(build(config, &aws))).await
}
