//! Composition root: logs, the configuration, the intake built once per cold start, then
//! the router under Lambda's HTTP adapter.

use hiresync_runtime::config::Env;
use hiresync_runtime::diagnostics::cold_start_failed;
use webhook_intake::{build, router, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let config = Config::from_env(Env::process()).map_err(cold_start_failed)?;
    lambda_http::run(router(build(config, &hiresync_runtime::aws_config().await))).await
}
