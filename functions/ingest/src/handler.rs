//! Sync jobs in order per connection: the batch helper holds back a failing connection's
//! later jobs while other connections carry on; a job that keeps failing reaches the
//! dead-letter queue after the queue's receive count.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_messages::SyncJob;
use hiresync_runtime::sqs_batch::{self, Ordering};
use hiresync_sync::Ingestor;
use jiff::Timestamp;
use tracing::{info_span, Instrument};

pub async fn handle(ingestor: &Ingestor, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    sqs_batch::process(event, Ordering::Fifo, |job: SyncJob, _| async move {
        let span = info_span!("sync_job", contract = %job.contract, seat = %job.seat, kind = job.kind.as_str());
        ingestor.run(&job, now).instrument(span).await.map(|_| ())
    })
    .await
}
