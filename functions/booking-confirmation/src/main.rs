//! Composition root: logs, the configuration (with the secrets it names), the function
//! built once per cold start, then the loop.

use booking_confirmation::{build, Config};
use hiresync_runtime::diagnostics::cold_start_failed;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let (config, aws) = hiresync_runtime::cold_start(Config::from_env).await?;
    let app = &build(config, &aws).map_err(cold_start_failed)?;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(app.handle(event.payload, jiff::Timestamp::now()).await)
    }))
    .await
}
