//! Composition root: logs, the configuration (with the secrets it names), the API built once per cold start, then the
//! router under Lambda's HTTP adapter.

use hiresync_runtime::config::Env;
use hiresync_runtime::diagnostics::cold_start_failed;
use settings_api::{build, router, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hiresync_runtime::telemetry::init();
    let aws = hiresync_runtime::aws_config().await;
    let env = Env::process_with_secrets(&aws)
        .await
        .map_err(cold_start_failed)?;
    let config = Config::from_env(env).map_err(cold_start_failed)?;
    let app = build(config, &aws).map_err(cold_start_failed)?;
    lambda_http::run(router(app)).await
}
