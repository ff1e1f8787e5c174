//! The sweep: every day's expiry bucket from the mark to today, emptied of what has
//! expired, a page of each shard at a time.
//!
//! A thread's expiry key is its last activity plus six months, so the index lists exactly
//! the threads to remove and nothing else: the sweep reads no thread that is not due. A
//! removed thread leaves the index with it, so a run that stops (out of time, a failure)
//! and the next one pick up what is left of the same day; nothing is read twice. The mark
//! (the first day that may still hold expired threads) moves past a day only once its
//! bucket is empty; today stays open, since more of today's threads expire as it goes on.

use hiresync_domain::ports::{Retention, StoreError};
use hiresync_domain::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use tracing::info;

/// At most this many threads per index shard per page (32 shards a day).
pub const PER_SHARD: i32 = 100;

/// Where the first run ever starts: this many days before today. Threads are stored only
/// while active within six months, so none of them expired before the sweep existed; the
/// margin covers a deployment that ran without it for a while.
pub const FIRST_RUN_DAYS: i16 = 31;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub threads_removed: usize,
    pub messages_removed: usize,
    /// Index entries read: every one of them an expired thread, or one that came back to
    /// life since it was listed.
    pub listed: usize,
    /// Where the next run starts.
    pub mark: Date,
    /// Whether every bucket up to today was emptied (`false`: stopped for time).
    pub finished: bool,
}

/// Removes every thread expired at `now`, asking `out_of_time` before each removal; when
/// it says so, the run stops where it is and the next one continues.
pub async fn sweep(
    retention: &dyn Retention,
    now: Timestamp,
    out_of_time: &(dyn Fn() -> bool + Sync),
) -> Result<SweepReport, StoreError> {
    let today = now.to_zoned(TimeZone::UTC).date();
    let stored = retention.sweep_mark().await?;
    // A mark past today (a run given a later instant) never holds today's sweep back.
    let first = stored.map_or_else(
        || {
            today
                .checked_sub(jiff::Span::new().days(FIRST_RUN_DAYS))
                .unwrap_or(today)
        },
        |mark| mark.min(today),
    );
    let mut report = SweepReport {
        threads_removed: 0,
        messages_removed: 0,
        listed: 0,
        mark: first,
        finished: false,
    };
    let mut day = first;
    'days: while day <= today {
        loop {
            let page = retention.expired(day, now, PER_SHARD).await?;
            if page.is_empty() {
                break;
            }
            report.listed += page.len();
            let mut removed_any = false;
            for thread in &page {
                if out_of_time() {
                    break 'days;
                }
                if let Some(messages) = retention.remove_for_inactivity(thread, now).await? {
                    removed_any = true;
                    report.threads_removed += 1;
                    report.messages_removed += messages;
                }
            }
            // Every entry came back to life meanwhile (their keys move on with them); a
            // page that removes nothing is never read again in this run.
            if !removed_any {
                break;
            }
        }
        if day == today {
            report.finished = true;
            break;
        }
        day = day.tomorrow().map_err(|e| StoreError::Backend {
            operation: "retention sweep",
            source: Box::new(e),
        })?;
        report.mark = day;
    }
    if stored != Some(report.mark) {
        retention.set_sweep_mark(report.mark).await?;
    }
    info!(
        removed = report.threads_removed,
        messages = report.messages_removed,
        listed = report.listed,
        mark = %report.mark,
        finished = report.finished,
        "retention sweep done"
    );
    Ok(report)
}
