//! Composition root: logs, the configuration (with the secrets it names), the function built once per cold start, then
//! the loop. A run that fails reports a diagnostic with its causes; the next scheduled run
//! continues where it stopped.

use hiresync_runtime::diagnostics::diagnostic;
use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use retention_sweep::{build, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let (config, aws) = hiresync_runtime::cold_start(Config::from_env).await?;
    let app = &build(config, &aws);
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let deadline = hiresync_runtime::deadline(&event.context);
            let report = app
                .handle(jiff::Timestamp::now(), deadline)
                .await
                .map_err(|e| diagnostic(&hiresync_domain::failure::Failure::from(e)))?;
            Ok::<_, Diagnostic>(serde_json::json!({
                "threads_removed": report.threads_removed,
                "messages_removed": report.messages_removed,
                "mark": report.mark.to_string(),
                "finished": report.finished,
            }))
        },
    ))
    .await
}
