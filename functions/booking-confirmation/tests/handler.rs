//! The handler fed SQS FIFO events as Lambda delivers them, over the use case on fakes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/scheduling/tests/world/mod.rs"]
mod world;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use booking_confirmation::{backoff, App};
use hiresync_domain::booking::{Booking, BookingState};
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::CalendarErrorKind;
use hiresync_domain::scheduler::MeetingType;
use hiresync_messages::{Notice, QueueError, VideoFailure};
use hiresync_runtime::outbox::Redelivery;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::calendar_events::VideoScript;
use world::{World, MONDAY_9, NOW, TUESDAY_14};

/// Every wait set on a received message, by receipt handle.
#[derive(Default)]
struct Redeliveries(Mutex<Vec<(String, Duration)>>);

#[async_trait]
impl Redelivery for Redeliveries {
    async fn redeliver_after(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.0.lock().unwrap().push((receipt.to_owned(), after));
        Ok(())
    }
}

fn app(w: &World, redeliveries: &Arc<Redeliveries>) -> App {
    App {
        confirmer: Arc::new(w.confirmer()),
        redelivery: redeliveries.clone(),
        max_receive_count: 5,
    }
}

/// A record of the bookings queue: the job as its body, its booking as its group.
fn record(id: &str, body: String, group: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.receipt_handle = Some(format!("receipt-{id}"));
    m.body = Some(body);
    m.attributes = HashMap::from([
        ("MessageGroupId".to_owned(), group.to_owned()),
        (
            "ApproximateReceiveCount".to_owned(),
            receive_count.to_string(),
        ),
    ]);
    m
}

fn job_record(w: &World, id: &str, booking: &Booking, receive_count: u32) -> SqsMessage {
    let job = w.job(booking);
    record(
        id,
        serde_json::to_string(&job).unwrap(),
        &job.group(),
        receive_count,
    )
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

fn failed(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn a_failing_job_and_a_malformed_one_fail_alone_and_the_rest_are_confirmed() {
    // GIVEN two bookings, the calendar failing for the first one's create
    let w = World::new(Provider::Microsoft365).await;
    let first = w.book(MeetingType::Video, MONDAY_9).await;
    let second = w.book(MeetingType::Video, TUESDAY_14).await;
    w.calendar.fail_next("create", CalendarErrorKind::Temporary);
    let redeliveries = Arc::new(Redeliveries::default());

    // WHEN one batch brings both jobs and a body that is no job
    let response = app(&w, &redeliveries)
        .handle(
            event(vec![
                job_record(&w, "m-first", &first, 1),
                job_record(&w, "m-second", &second, 1),
                record("m-bad", "{\"contract\": \"acme\"}".into(), "other", 1),
            ]),
            ts(NOW),
        )
        .await;

    // THEN only the failed and the malformed records come back
    assert_eq!(failed(&response), vec!["m-first", "m-bad"]);
    assert_eq!(
        w.stored(&second.id).value.state,
        BookingState::Confirmed,
        "the other booking went on"
    );
    assert_eq!(w.stored(&first.id).value.state, BookingState::Requested);
    // AND the failed job waits before its next delivery; nothing is reported yet
    assert_eq!(
        *redeliveries.0.lock().unwrap(),
        vec![("receipt-m-first".to_owned(), backoff(1))]
    );
    assert!(w.queues.sent_notices().is_empty());
    assert_eq!(w.inmail.sent().len(), 1);
}

#[tokio::test]
async fn the_last_delivery_reports_a_temporary_video_failure_instead_of_failing() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    w.calendar.fail_next("create", CalendarErrorKind::Temporary);
    let redeliveries = Arc::new(Redeliveries::default());

    let response = app(&w, &redeliveries)
        .handle(event(vec![job_record(&w, "m-1", &booking, 5)]), ts(NOW))
        .await;

    assert!(failed(&response).is_empty());
    assert!(matches!(
        &w.queues.sent_notices()[..],
        [Notice::VideoLinkFailed {
            reason: VideoFailure::Temporary,
            ..
        }]
    ));
    assert_eq!(w.stored(&booking.id).value.state, BookingState::Confirmed);
}

#[tokio::test]
async fn a_meeting_still_pending_puts_the_job_back_for_the_use_cases_wait() {
    let w = World::new(Provider::GoogleWorkspace).await;
    w.calendar.video(VideoScript::PendingForever);
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let redeliveries = Arc::new(Redeliveries::default());

    let response = app(&w, &redeliveries)
        .handle(event(vec![job_record(&w, "m-1", &booking, 2)]), ts(NOW))
        .await;

    assert_eq!(failed(&response), vec!["m-1"]);
    assert_eq!(
        *redeliveries.0.lock().unwrap(),
        vec![("receipt-m-1".to_owned(), Duration::from_secs(30))]
    );
    assert!(w.inmail.sent().is_empty());
}
