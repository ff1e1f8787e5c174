//! One message per record: a page of a settings change (apply the effects, enqueue the next
//! page), or a seat event from the product (the former holder's authorizations end).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Connector;
use hiresync_domain::seat::SeatChange;
use hiresync_messages::FanOutMessage;
use hiresync_runtime::sqs_batch::{self, Ordering};
use jiff::Timestamp;
use tracing::{info_span, Instrument};

pub async fn handle(connector: &Connector, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
    sqs_batch::process(
        event,
        Ordering::Concurrent(4),
        |message: FanOutMessage, _| async move {
            match message {
                FanOutMessage::Page(page) => {
                    let span =
                        info_span!("fan_out", contract = %page.contract, change = %page.change);
                    connector
                        .fan_out_page(&page, now)
                        .instrument(span)
                        .await
                        .map(|_| ())
                }
                FanOutMessage::Transferred(e) => {
                    let change = SeatChange::Transferred { holder: e.holder };
                    let span = info_span!("seat_transferred", contract = %e.contract_id, seat = %e.seat_id);
                    connector
                        .change_seat(&e.contract_id, &e.seat_id, &change, e.transferred_at, now)
                        .instrument(span)
                        .await
                        .map(|_| ())
                }
                FanOutMessage::Parked(e) => {
                    let span = info_span!("seat_parked", contract = %e.contract_id, seat = %e.seat_id);
                    connector
                        .change_seat(&e.contract_id, &e.seat_id, &SeatChange::Parked, e.parked_at, now)
                        .instrument(span)
                        .await
                        .map(|_| ())
                }
            }
        },
    )
    .await
}
