//! The small pieces every hiresync function shares: logging, configuration, AWS clients,
//! and SQS batch processing with per-record failures.

pub mod config;
pub mod diagnostics;
pub mod metrics;
pub mod outbox;
pub mod queues;
pub mod secrets;
pub mod sqs_batch;
pub mod telemetry;

/// The SDK configuration from the environment. The SDK itself honours `AWS_ENDPOINT_URL`
/// and `AWS_ENDPOINT_URL_<SERVICE>`, so the same code talks to AWS in production and to the
/// local emulators in development; there is no test-only path.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// What every function's `main.rs` starts with: the AWS configuration, then the function's
/// own configuration from its environment and the secrets it names (read once), failing the
/// cold start with every problem named.
pub async fn cold_start<T>(
    from_env: impl FnOnce(config::Env<fn(&str) -> Option<String>>) -> Result<T, config::ConfigError>,
) -> Result<(T, aws_config::SdkConfig), lambda_runtime::Error> {
    let aws = aws_config().await;
    let env = config::Env::process_with_secrets(&aws)
        .await
        .map_err(diagnostics::cold_start_failed)?;
    let config = from_env(env).map_err(diagnostics::cold_start_failed)?;
    Ok((config, aws))
}

/// The invocation's deadline as an [`std::time::Instant`], for use cases that stop in time
/// to save their progress (a deadline already past is now).
pub fn deadline(context: &lambda_runtime::Context) -> std::time::Instant {
    let left = context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    std::time::Instant::now() + left
}
