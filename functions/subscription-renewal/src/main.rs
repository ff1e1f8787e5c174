//! Composition root: logs, the configuration (with the secrets it names), the function built once per cold start, then
//! the loop. A run that fails reports a diagnostic with its type and causes.

use hiresync_runtime::diagnostics::{cold_start_failed, diagnostic};
use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use subscription_renewal::{build, Config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hiresync_runtime::telemetry::init();
    let (config, aws) = hiresync_runtime::cold_start(Config::from_env).await?;
    let app = &build(config, &aws).map_err(cold_start_failed)?;
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let deadline = hiresync_runtime::deadline(&event.context);
            let report = app
                .handle(jiff::Timestamp::now(), Some(deadline))
                .await
                .map_err(|e| diagnostic(&e))?;
            Ok::<_, Diagnostic>(serde_json::json!({
                "renewed": report.renewal.renewed,
                "recreated": report.renewal.recreated,
                "added": report.renewal.added,
                "stopped": report.renewal.stopped,
                "failed": report.renewal.failed,
                "retired": report.retirement.finished,
                "retirements_failed": report.retirement.failed,
                "unfinished": report.renewal.unfinished,
                "caught_up": report.catch_up.queued,
            }))
        },
    ))
    .await
}
