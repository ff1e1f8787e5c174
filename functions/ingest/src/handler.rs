//! Sync jobs in order per connection: the batch helper holds back a failing connection's
//! later jobs while other connections carry on; a job that keeps failing reaches the
//! dead-letter queue after the queue's receive count.
//!
//! A provider that asks to wait (429 or 503 with a `Retry-After` longer than the client
//! waits in place) delays that job alone: its message comes back after the wait rather
//! than the queue's visibility timeout. Waiting is not failing: a job that has been
//! throttled on `FRESH_AFTER` deliveries is queued afresh (and the old message deleted),
//! so a long throttle never sends a healthy job to the dead-letter queue.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Failure;
use hiresync_messages::{SyncJob, SyncReason};
use hiresync_runtime::sqs_batch::{self, Ordering};
use jiff::Timestamp;
use tracing::{info, info_span, warn, Instrument};

use crate::App;

/// Deliveries of a throttled job before it is queued afresh: one short of the sync-jobs
/// queue's `maxReceiveCount` (5).
pub const FRESH_AFTER: u32 = 4;

/// How long a job that failed (other than by the provider asking to wait) waits before its
/// next attempt: a minute after its first delivery, four times longer after each next one,
/// at most the queue's visibility timeout (15 minutes). A transient fault costs a minute; a
/// persistent one reaches the dead-letter queue after about 35 minutes and five attempts.
pub fn backoff(receive_count: u32) -> Duration {
    let minutes = 4u64.saturating_pow(receive_count.saturating_sub(1)).min(15);
    Duration::from_secs(60 * minutes)
}

/// How long before the invocation's deadline a job starts no new page: room to store the
/// page in hand and queue the continuation.
pub const MARGIN: Duration = Duration::from_secs(45);

/// One batch; `deadline` the invocation's (`None`: no deadline, as in a test).
pub async fn handle(
    app: &App,
    event: SqsEvent,
    now: Timestamp,
    deadline: Option<std::time::Instant>,
) -> SqsBatchResponse {
    let stop_at = deadline.map(|d| d.checked_sub(MARGIN).unwrap_or(d));
    let receipts: HashMap<String, String> = event
        .records
        .iter()
        .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
        .collect();
    let waits: Mutex<Vec<(String, Duration)>> = Mutex::default();
    let waits_ref = &waits;
    let response = sqs_batch::process(event, Ordering::Fifo, |job: SyncJob, meta| async move {
        let span = info_span!("sync_job", contract = %job.contract, seat = %job.seat, kind = job.kind.as_str());
        if matches!(job.reason, SyncReason::Historical | SyncReason::Resume) {
            set_up_push(app, &job, now).instrument(span.clone()).await;
        }
        let outcome = app
            .ingestor
            .run_until(&job, now, stop_at)
            .instrument(span)
            .await;
        hiresync_runtime::metrics::emit(&crate::metrics::lines(&job, outcome.as_ref(), now));
        let failure = match outcome {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let Some(wait) = failure.retry_after() else {
            // A failure that is not the provider asking to wait: tried again soon, then less
            // and less often, until the queue's receive count moves it aside.
            if let Ok(mut w) = waits_ref.lock() {
                w.push((meta.message_id.clone(), backoff(meta.receive_count)));
            }
            return Err(failure);
        };
        if meta.receive_count >= FRESH_AFTER {
            let dedup = format!("throttled:{}:{}", meta.message_id, now.as_second());
            app.ingestor
                .jobs
                .sync_job(&job, &dedup)
                .await
                .map_err(Failure::from)?;
            info!(contract = %job.contract, seat = %job.seat, receive_count = meta.receive_count, "throttled job queued afresh");
            return Ok(());
        }
        if let Ok(mut w) = waits_ref.lock() {
            w.push((meta.message_id.clone(), wait));
        }
        Err(failure)
    })
    .await;
    let waits = waits.into_inner().unwrap_or_default();
    for (id, wait) in waits {
        let Some(receipt) = receipts.get(&id) else {
            continue;
        };
        match app.redelivery.redeliver_after(receipt, wait).await {
            Ok(()) => {
                info!(message_id = %id, wait_seconds = wait.as_secs(), "failed or throttled job comes back after its wait")
            }
            Err(e) => {
                warn!(message_id = %id, error = %e, "job's wait not set; it comes back after the queue's visibility timeout")
            }
        }
    }
    response
}

/// A connection's first job (the sign-in queued it) creates the push subscriptions the
/// sign-in left as placeholders, before the mailbox is read, so nothing that changes after
/// the read goes unnoticed. A provider that fails leaves its placeholder for the renewal
/// job: the sync goes on without waiting for it.
async fn set_up_push(app: &App, job: &SyncJob, now: Timestamp) {
    match app
        .push
        .set_up_push(&job.contract, &job.seat, job.kind, now)
        .await
    {
        Ok(report) if report.recreated > 0 => {
            info!(created = report.recreated, "push subscriptions created");
        }
        Ok(_) => {}
        Err(e) => {
            warn!(error = %hiresync_runtime::telemetry::Chain(&e), "push subscriptions not created; the renewal job will");
        }
    }
}
