//! Each scheduled run renews what is due and finishes at the providers what deauthorized
//! connections left there; what fails is retried on a later run (its due time stays in the
//! past, or is moved on by its failures, so it is found again).

use hiresync_connect::{CatchUpReport, Connector, Failure, RenewalReport, RetirementReport};
use jiff::Timestamp;
use tracing::info;

/// At most this many subscriptions, and as many retirements, per index shard per run (16
/// shards).
pub const PER_SHARD: i32 = 200;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub renewal: RenewalReport,
    pub retirement: RetirementReport,
    pub catch_up: CatchUpReport,
}

/// Renewals, retirements and catch-ups are independent: a failure listing one does not
/// keep the others from running, and the run fails (to be seen) only after each had its
/// turn. A catch-up is queued for every connection quiet longer than `catch_up`.
/// How long before the invocation's deadline the run starts nothing new.
pub const MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Renewals get the first two thirds of the time left, retirements the rest; catch-ups
/// (only queueing) come last. What does not fit stays due for the next run.
pub async fn handle(
    connector: &Connector,
    now: Timestamp,
    catch_up: jiff::SignedDuration,
    deadline: Option<std::time::Instant>,
) -> Result<RunReport, Failure> {
    let stop_at = deadline.map(|d| d.checked_sub(MARGIN).unwrap_or(d));
    let renewals_stop = stop_at.map(|at| {
        let left = at.saturating_duration_since(std::time::Instant::now());
        std::time::Instant::now() + left * 2 / 3
    });
    let renewal = connector
        .renew_due_until(now, PER_SHARD, renewals_stop)
        .await;
    let retirement = connector.retire_due_until(now, PER_SHARD, stop_at).await;
    let quiet = connector.catch_up(now, catch_up, PER_SHARD).await;
    let report = RunReport {
        renewal: renewal?,
        retirement: retirement?,
        catch_up: quiet?,
    };
    info!(
        renewed = report.renewal.renewed,
        recreated = report.renewal.recreated,
        added = report.renewal.added,
        stopped = report.renewal.stopped,
        failed = report.renewal.failed,
        retired = report.retirement.finished,
        retirements_failed = report.retirement.failed,
        caught_up = report.catch_up.queued,
        "renewal run done"
    );
    Ok(report)
}
