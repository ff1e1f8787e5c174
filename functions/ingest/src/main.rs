//! Composition root: logs, the configuration (with the secrets it names), the use case built once per cold start, then
//! the loop.

use hiresync_runtime::config::Env;
use hiresync_runtime::diagnostics::cold_start_failed;
use ingest::{build, Config};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let aws = hiresync_runtime::aws_config().await;
    let env = Env::process_with_secrets(&aws)
        .await
        .map_err(cold_start_failed)?;
    let config = Config::from_env(env).map_err(cold_start_failed)?;
    let app = &build(config, &aws).map_err(cold_start_failed)?;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        let deadline = hiresync_runtime::deadline(&event.context);
        Ok::<_, Error>(
            ingest::handle(app, event.payload, jiff::Timestamp::now(), Some(deadline)).await,
        )
    }))
    .await
}
