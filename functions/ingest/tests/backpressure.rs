//! The ingest function's handler on a mailbox whose provider throttles: a provider that asks
//! to wait delays only the job that met it, through its queue, and a long throttle never
//! sends a healthy job to the dead-letter queue; a connection's first job creates its push
//! subscriptions before it reads anything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/connect/tests/common/mod.rs"]
mod common;
#[path = "../../../shared/sync/tests/wiring/mod.rs"]
mod wiring;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{consent, sign_in, ts, Harness};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_localstack::{repository_template_path, Template};
use hiresync_messages::{QueueError, SyncJob, SyncReason};
use hiresync_runtime::outbox::{Redelivery, SqsQueue};
use hiresync_sync::Limits;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

const NOW: &str = "2026-03-02T09:00:00Z";

/// Records what the handler asked of the queue.
#[derive(Default)]
struct Recorded(Mutex<Vec<(String, Duration)>>);

#[async_trait]
impl Redelivery for Recorded {
    async fn redeliver_after(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.0.lock().unwrap().push((receipt.to_owned(), after));
        Ok(())
    }
}

fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}

/// A Microsoft mailbox of acme's s1 whose Graph answers every mail read with 429 and a
/// `Retry-After` of an hour; the ingest function over it, redelivering through `queue`.
async fn throttled(label: &str, queue: Arc<dyn Redelivery>) -> (Harness, ingest::App) {
    answering(
        label,
        queue,
        ResponseTemplate::new(429).insert_header("Retry-After", "3600"),
    )
    .await
}

/// As [`throttled`], with Graph answering every mail read with `answer`.
async fn answering(
    label: &str,
    queue: Arc<dyn Redelivery>,
    answer: ResponseTemplate,
) -> (Harness, ingest::App) {
    let h = Harness::new(label).await;
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(Provider::Microsoft365),
                email_access: Some(EmailAccess::ViewOnly),
                calendar_enabled: Some(false),
                video_meetings: None,
            },
            ts(NOW),
        )
        .await
        .unwrap();
    h.microsoft_tenant(
        "ms-refresh-throttled",
        "Mail.Read User.Read",
        "rita@acme.example",
    )
    .await;
    let user = UserId::parse("u1").unwrap();
    let s1 = SeatId::parse("s1").unwrap();
    let start = h
        .connector
        .start_authorization(&acme(), &s1, &user, ConnectionKind::Email, None, ts(NOW))
        .await
        .unwrap();
    h.connector
        .complete_authorization(
            &sign_in(s1, user, ConnectionKind::Email),
            &consent(&start.url, "code"),
            ts(NOW),
        )
        .await
        .unwrap();
    h.drain("SyncJobsQueue").await;
    Mock::given(method("GET"))
        .and(path_regex("^/graph/me/mailFolders"))
        .respond_with(answer)
        .with_priority(1)
        .mount(&h.server)
        .await;
    let (ingestor, _) = wiring::ingestor(&h, Limits::default());
    let push = h.connector.clone();
    (
        h,
        ingest::App {
            ingestor,
            redelivery: queue,
            push,
        },
    )
}

fn record(id: &str, seat: &str, receive_count: u32) -> SqsMessage {
    record_for(id, seat, receive_count, SyncReason::Push)
}

fn record_for(id: &str, seat: &str, receive_count: u32, reason: SyncReason) -> SqsMessage {
    let job = SyncJob {
        contract: acme(),
        seat: SeatId::parse(seat).unwrap(),
        kind: ConnectionKind::Email,
        reason,
        requested_at: ts(NOW),
    };
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.receipt_handle = Some(format!("receipt-{id}"));
    m.body = Some(serde_json::to_string(&job).unwrap());
    m.attributes.insert("MessageGroupId".into(), job.group());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

fn failed(r: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    r.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn a_429_with_retry_after_delays_only_its_job_by_that_wait() {
    let recorded = Arc::new(Recorded::default());
    let (_h, app) = throttled("ingest-throttled", recorded.clone()).await;
    // s1 is throttled; s2's job (a seat never connected) is another connection's
    let mut event = SqsEvent::default();
    event.records = vec![record("m-s1", "s1", 1), record("m-s2", "s2", 1)];
    let response = ingest::handle(&app, event, ts(NOW), None).await;
    assert_eq!(
        failed(&response),
        vec!["m-s1"],
        "only the throttled job fails"
    );
    assert_eq!(
        *recorded.0.lock().unwrap(),
        vec![("receipt-m-s1".to_owned(), Duration::from_secs(3600))],
        "it comes back after the provider's wait, not the queue's timeout"
    );
}

#[tokio::test]
async fn a_job_throttled_on_every_delivery_is_queued_afresh_before_the_dead_letter_queue() {
    let template = Template::load(&repository_template_path()).unwrap();
    let max = template
        .queue("SyncJobsQueue")
        .unwrap()
        .redrive
        .clone()
        .unwrap()
        .1;
    assert_eq!(
        ingest::FRESH_AFTER + 1,
        max,
        "one short of the queue's receive count"
    );
    let recorded = Arc::new(Recorded::default());
    let (h, app) = throttled("ingest-fresh", recorded.clone()).await;
    let mut event = SqsEvent::default();
    event.records = vec![record("m-s1", "s1", ingest::FRESH_AFTER)];
    let response = ingest::handle(&app, event, ts(NOW), None).await;
    assert!(
        failed(&response).is_empty(),
        "the worn-out message is let go"
    );
    assert!(recorded.0.lock().unwrap().is_empty());
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1, "and a fresh copy of the job is queued");
    assert_eq!(jobs[0]["seat"], "s1");
}

#[tokio::test]
async fn the_queue_adapter_brings_a_message_back_after_the_wait_it_is_given() {
    let (config, resources) = hiresync_localstack::fresh_stack("redelivery")
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = resources.queue("DirectoryEventsQueue").unwrap().to_owned();
    sqs.send_message()
        .queue_url(&url)
        .message_body("{}")
        .send()
        .await
        .unwrap();
    let receive = || async {
        sqs.receive_message()
            .queue_url(&url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    };
    let first = receive().await;
    assert_eq!(first.len(), 1);
    // The queue would hide it for 180 s; the adapter asks for 2.
    SqsQueue::new(sqs.clone(), &url)
        .redeliver_after(first[0].receipt_handle().unwrap(), Duration::from_secs(2))
        .await
        .unwrap();
    assert!(receive().await.is_empty(), "not before its wait");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receive().await.len(), 1, "back after its wait");
}

#[tokio::test]
async fn a_batch_at_its_deadline_continues_its_job_through_the_queue() {
    let recorded = Arc::new(Recorded::default());
    let (h, app) = throttled("ingest-deadline", recorded.clone()).await;
    let mut event = SqsEvent::default();
    event.records = vec![record("m-s1", "s1", 1)];
    // The invocation is out of time: no page is read (so no 429 either)
    let response = ingest::handle(&app, event, ts(NOW), Some(std::time::Instant::now())).await;
    assert!(failed(&response).is_empty());
    assert!(recorded.0.lock().unwrap().is_empty());
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1, "its continuation is queued");
    assert_eq!(jobs[0]["_group"], "acme:s1:email");
}

#[tokio::test]
async fn a_connections_first_job_creates_its_subscriptions_before_reading_the_mailbox() {
    let (h, app) = throttled("ingest-first-job", Arc::new(Recorded::default())).await;
    let creates = || async { h.requests_to("POST", "/graph/subscriptions").await.len() };
    assert_eq!(creates().await, 0, "the sign-in asked for none");

    // The job the sign-in queued (its mail reads are throttled: the job waits, the
    // subscriptions are made all the same)
    let mut event = SqsEvent::default();
    event.records = vec![record_for("m-1", "s1", 1, SyncReason::Historical)];
    ingest::handle(&app, event, ts(NOW), None).await;

    let requests = h.requests().await;
    let position = |pred: &dyn Fn(&wiremock::Request) -> bool| requests.iter().position(pred);
    let first_create =
        position(&|r| r.method.as_str() == "POST" && r.url.path() == "/graph/subscriptions")
            .expect("subscriptions created");
    let first_read =
        position(&|r| r.url.path().starts_with("/graph/me/mailFolders")).expect("the mailbox read");
    assert!(
        first_create < first_read,
        "subscribed before the first read"
    );
    assert_eq!(creates().await, 1, "one subscription on the whole mailbox");

    // A later job, and the same job again, create nothing more.
    for reason in [SyncReason::Push, SyncReason::Historical] {
        let mut event = SqsEvent::default();
        event.records = vec![record_for("m-2", "s1", 1, reason)];
        ingest::handle(&app, event, ts(NOW), None).await;
    }
    assert_eq!(creates().await, 1);
}

#[tokio::test]
async fn a_job_that_fails_is_tried_again_soon_then_less_and_less_often() {
    let recorded = Arc::new(Recorded::default());
    let (_h, app) = answering(
        "ingest-backoff",
        recorded.clone(),
        ResponseTemplate::new(500),
    )
    .await;
    for receive_count in 1..=4 {
        let mut event = SqsEvent::default();
        event.records = vec![record(&format!("m{receive_count}"), "s1", receive_count)];
        let response = ingest::handle(&app, event, ts(NOW), None).await;
        assert_eq!(failed(&response).len(), 1, "a failure is a failure");
    }
    let waits: Vec<u64> = recorded
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, wait)| wait.as_secs())
        .collect();
    assert_eq!(waits, [60, 240, 900, 900], "a minute, four, then the cap");
}
