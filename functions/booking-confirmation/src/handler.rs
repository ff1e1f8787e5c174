//! Booking jobs in order per booking (the FIFO group): each is confirmed by the use case,
//! and what it came to decides the message's fate.
//!
//! - Done (confirmed, not confirmable, nothing to do): deleted.
//! - A video meeting still being made: reported failed, back after the use case's wait.
//! - A failure (storage, a queue, a calendar call that may pass): reported failed, back
//!   after the provider's `Retry-After` or a growing wait, until the queue's
//!   `maxReceiveCount` moves it to the dead-letter queue. The use case is told which
//!   delivery is the last, and reports a temporary video failure to the recruiter then.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_domain::failure::Failure;
use hiresync_messages::BookingJob;
use hiresync_runtime::diagnostics::ErrorType;
use hiresync_runtime::sqs_batch::{self, Ordering};
use hiresync_scheduling::confirm::{Attempt, Outcome};
use jiff::Timestamp;
use tracing::{info, info_span, warn, Instrument};

use crate::App;

/// Why a job's message was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Failed(#[from] Failure),
    #[error("the video meeting is still being made")]
    VideoPending,
}

impl ErrorType for JobError {
    fn error_type(&self) -> String {
        match self {
            JobError::Failed(f) => f.error_type(),
            JobError::VideoPending => "Retry:video_pending".to_owned(),
        }
    }
}

/// How long a failed job waits before its next delivery: 30 seconds after the first, four
/// times longer after each next one, at most 15 minutes. With the bookings queue's five
/// deliveries, a lasting fault reaches the dead-letter queue after about 25 minutes.
pub fn backoff(receive_count: u32) -> Duration {
    let factor = 4u64.saturating_pow(receive_count.saturating_sub(1).min(8));
    Duration::from_secs(30u64.saturating_mul(factor).min(15 * 60))
}

/// One batch, at `now`.
pub async fn handle(app: &App, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    let receipts: HashMap<String, String> = event
        .records
        .iter()
        .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
        .collect();
    let waits: Mutex<Vec<(String, Duration)>> = Mutex::default();
    let waits_ref = &waits;
    let response = sqs_batch::process(event, Ordering::Fifo, |job: BookingJob, meta| async move {
        let span = info_span!(
            "booking_job", contract = %job.contract, seat = %job.seat,
            booking = %job.booking, revision = job.revision, receive_count = meta.receive_count
        );
        let attempt = Attempt::new(meta.receive_count, app.max_receive_count);
        let (error, wait) = match app.confirmer.confirm(&job, attempt, now).instrument(span).await {
            Ok(Outcome::RetryLater { after }) => (JobError::VideoPending, after),
            Ok(outcome) => {
                info!(booking = %job.booking, revision = job.revision, outcome = outcome.code(), "booking job done");
                return Ok(());
            }
            Err(failure) => {
                let wait = failure
                    .retry_after()
                    .unwrap_or_else(|| backoff(meta.receive_count));
                (JobError::Failed(failure), wait)
            }
        };
        if let Ok(mut w) = waits_ref.lock() {
            w.push((meta.message_id.clone(), wait));
        }
        Err(error)
    })
    .await;
    for (id, wait) in waits.into_inner().unwrap_or_default() {
        let Some(receipt) = receipts.get(&id) else {
            continue;
        };
        match app.redelivery.redeliver_after(receipt, wait).await {
            Ok(()) => {
                info!(message_id = %id, wait_seconds = wait.as_secs(), "booking job comes back after its wait")
            }
            Err(e) => {
                warn!(message_id = %id, error = %e, "job's wait not set; it comes back after the queue's visibility timeout")
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_from_thirty_seconds_to_fifteen_minutes() {
        let waits: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![30, 120, 480, 900, 900, 900]);
        assert_eq!(backoff(0).as_secs(), 30);
        assert_eq!(backoff(u32::MAX).as_secs(), 900);
    }
}
