//! Composition root: logs, the configuration (with the secrets it names), the scheduler
//! built once per cold start, then the router under Lambda's HTTP adapter.

use hiresync_runtime::diagnostics::cold_start_failed;
use scheduler_api::{build, router, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let (config, aws) = hiresync_runtime::cold_start(Config::from_env).await?;
    let app = build(config, &aws).map_err(cold_start_failed)?;
    lambda_http::run(router(app)).await
}
