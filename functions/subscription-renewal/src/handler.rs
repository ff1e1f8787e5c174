//! Each scheduled run renews what is due; what fails is retried on the next run (its
//! renewal time stays in the past, so it is found again).

use hiresync_connect::{Connector, Failure, RenewalReport};
use jiff::Timestamp;
use tracing::info;

/// At most this many subscriptions per index shard per run (16 shards).
pub const PER_SHARD: i32 = 200;

pub async fn handle(connector: &Connector, now: Timestamp) -> Result<RenewalReport, Failure> {
    let report = connector.renew_due(now, PER_SHARD).await?;
    info!(
        renewed = report.renewed,
        recreated = report.recreated,
        added = report.added,
        stopped = report.stopped,
        failed = report.failed,
        "renewal run done"
    );
    Ok(report)
}
