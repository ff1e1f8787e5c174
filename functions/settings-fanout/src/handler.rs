//! One page of a settings change per record: apply the effects, enqueue the next page.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Connector;
use hiresync_messages::FanOutPage;
use hiresync_runtime::sqs_batch::{self, Ordering};
use jiff::Timestamp;
use tracing::{info_span, Instrument};

pub async fn handle(connector: &Connector, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    sqs_batch::process(
        event,
        Ordering::Concurrent(4),
        |page: FanOutPage, _| async move {
            let span = info_span!("fan_out", contract = %page.contract, change = %page.change);
            connector
                .fan_out_page(&page, now)
                .instrument(span)
                .await
                .map(|_| ())
        },
    )
    .await
}
