//! Historical-sync throughput: a mailbox of 10,000 mails (`HISTORICAL_BENCH_MESSAGES` to
//! change it) on each provider, every provider call answered after 50 ms
//! (`HISTORICAL_BENCH_LATENCY_MS`), synced by the deployed code (settings-api, ingest)
//! against the provider sandbox and DynamoDB Local and moto on loopback. Prints the
//! messages judged per second and the provider calls it took. A bench binary that prints
//! its figures (`make bench` starts the emulators); the store is an emulator, so the
//! figure is a floor, not a prediction.

use std::time::Duration;

use hiresync_localstack::{repository_template_path, Template};
use hiresync_scenario::throughput::historical_sync;
use hiresync_scenario::Suite;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hiresync_localstack::require_local_endpoints()?;
    let messages = usize::try_from(setting("HISTORICAL_BENCH_MESSAGES", 10_000))?;
    let latency = Duration::from_millis(setting("HISTORICAL_BENCH_LATENCY_MS", 50));
    let template = Template::load(&repository_template_path())?;
    let config = hiresync_localstack::aws_config().await;
    let resources = hiresync_localstack::bootstrap(
        &template,
        &config,
        &hiresync_localstack::unique_prefix("bench-historical"),
    )
    .await?;
    let suite = Suite::start(&config, &template, &resources).await?;
    for (provider, contract) in [
        ("microsoft365", "benchms"),
        ("google_workspace", "benchgoogle"),
    ] {
        let m = historical_sync(&suite, provider, contract, messages, latency).await?;
        println!(
            "historical sync, {}: {} messages judged in {:.1} s = {:.0} messages/s ({} stored; {} provider calls at {} ms each)",
            m.provider,
            m.messages,
            m.elapsed.as_secs_f64(),
            m.per_second(),
            m.synced,
            m.provider_calls,
            latency.as_millis()
        );
    }
    Ok(())
}
