//! Webhook intake over its router, against the local AWS (subscriptions in DynamoDB Local,
//! sync jobs on moto's FIFO queue) and Google's keys served over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ports::{ContractStore, StoreError, SubscriptionStore};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use hiresync_domain::contract::{Contract, ContractSettings, EmailAccess, Provider};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_store::{DynamoContractStore, DynamoSubscriptionStore};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use webhook_intake::google_jwt::GooglePushVerifier;
use webhook_intake::jobs::SyncJobs;
use webhook_intake::{router, Intake};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: &str = "2026-03-02T09:00:00Z";
const AUDIENCE: &str = "https://hooks.example/webhooks/gmail";
const ACCOUNT: &str = "gmail-push@hiresync-prod.iam.gserviceaccount.com";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sub(id: &str, kind: SubscriptionKind, seat: &str, secret: Option<&str>) -> PushSubscription {
    PushSubscription {
        id: id.into(),
        kind,
        contract_id: ContractId::parse("acme").unwrap(),
        seat_id: SeatId::parse(seat).unwrap(),
        resource_id: None,
        secret_hash: secret.map(hash),
        expires_at: ts("2026-03-05T00:00:00Z"),
        renewed_at: ts(NOW),
        failures: 0,
    }
}

/// The subscription store, counting its reads: what a request costs us before any secret
/// is checked.
struct CountingSubs {
    inner: DynamoSubscriptionStore,
    reads: Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl SubscriptionStore for CountingSubs {
    async fn put(&self, sub: &PushSubscription, renew_at: Timestamp) -> Result<(), StoreError> {
        self.inner.put(sub, renew_at).await
    }
    async fn get(&self, id: &str) -> Result<Option<PushSubscription>, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get(id).await
    }
    /// One read per DynamoDB request (100 keys each).
    async fn get_many(&self, ids: &[String]) -> Result<Vec<PushSubscription>, StoreError> {
        self.reads
            .fetch_add(ids.len().div_ceil(100), std::sync::atomic::Ordering::SeqCst);
        self.inner.get_many(ids).await
    }
    async fn make_due(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.inner.make_due(id, at).await
    }
    async fn defer(&self, id: &str, at: Timestamp, failures: u32) -> Result<bool, StoreError> {
        self.inner.defer(id, at, failures).await
    }
    async fn delete(&self, sub: &PushSubscription) -> Result<(), StoreError> {
        self.inner.delete(sub).await
    }
    async fn for_connection(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        self.inner.for_connection(contract, seat, kind).await
    }
    async fn due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<PushSubscription>, StoreError> {
        self.inner.due(now, per_shard).await
    }
}

/// acme on Microsoft 365, email and calendar on: what the subscriptions belong to.
async fn acme_contract(
    config: &aws_config::SdkConfig,
    resources: &hiresync_localstack::Resources,
) -> DynamoContractStore {
    let contracts = DynamoContractStore::new(
        aws_sdk_dynamodb::Client::new(config),
        resources.table("TenancyTable").unwrap(),
    );
    contracts
        .create(&Contract {
            settings: ContractSettings {
                provider: Some(Provider::Microsoft365),
                email_access: EmailAccess::ViewOnly,
                calendar_enabled: true,
                video_meetings: false,
            },
            ..Contract::new(ContractId::parse("acme").unwrap())
        })
        .await
        .unwrap();
    contracts
}

struct Setup {
    reads: Arc<std::sync::atomic::AtomicUsize>,
    contracts: DynamoContractStore,
    router: axum::Router,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    subs: DynamoSubscriptionStore,
    google: MockServer,
}

async fn setup(label: &str) -> Setup {
    let (config, resources) = hiresync_localstack::fresh_stack(label).await.unwrap();
    let subs = DynamoSubscriptionStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("TenancyTable").unwrap(),
    );
    for s in [
        sub(
            "11111111-2222-4333-8444-000000000001",
            SubscriptionKind::GraphInbox,
            "s1",
            Some("client-state-one"),
        ),
        sub(
            "11111111-2222-4333-8444-000000000002",
            SubscriptionKind::GraphSentItems,
            "s2",
            Some("client-state-two"),
        ),
        sub(
            "channel-1",
            SubscriptionKind::CalendarChannel,
            "s1",
            Some("channel-token-1"),
        ),
        sub(
            "gmail:g@acme.example",
            SubscriptionKind::GmailWatch,
            "s3",
            None,
        ),
    ] {
        subs.put(&s, ts("2026-03-04T00:00:00Z")).await.unwrap();
    }
    let contracts = acme_contract(&config, &resources).await;
    let google = MockServer::start().await;
    let jwks: Value = serde_json::from_str(include_str!("fixtures/jwks.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&google)
        .await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = resources.queue("SyncJobsQueue").unwrap().to_owned();
    let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let intake = Arc::new(Intake {
        subscriptions: Arc::new(CountingSubs {
            inner: subs.clone(),
            reads: reads.clone(),
        }),
        contracts: Arc::new(contracts.clone()),
        jobs: SyncJobs {
            sqs: sqs.clone(),
            queue_url: queue.clone(),
        },
        google: GooglePushVerifier::new(
            reqwest::Client::new(),
            format!("{}/certs", google.uri()),
            AUDIENCE.into(),
            ACCOUNT.into(),
        )
        .with_refetch_interval(std::time::Duration::ZERO),
        clock: Arc::new(|| ts(NOW)),
    });
    Setup {
        reads,
        contracts,
        router: router(intake),
        sqs,
        queue,
        subs,
        google,
    }
}

impl Setup {
    async fn post(
        &self,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, Option<String>, String) {
        let mut request = Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        (status, content_type, body)
    }

    async fn jobs(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue)
                .max_number_of_messages(10)
                .message_system_attribute_names(
                    aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
                )
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let mut v: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
                v["_group"] = json!(
                    m.attributes.unwrap()
                        [&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId]
                );
                out.push(v);
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

#[tokio::test]
async fn graph_validation_echoes_the_decoded_token_as_plain_text_on_both_routes() {
    let s = setup("intake-validation").await;
    for route in ["/webhooks/graph", "/webhooks/graph/lifecycle"] {
        let uri = format!("{route}?validationToken=Validation%3A%20Testing%20client%20application%20reachability%20for%20subscription%20Request-Id%3A%20c8e3%2Bb7");
        let (status, content_type, body) =
            s.post(&uri, &[("content-type", "text/plain")], "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/plain"));
        assert_eq!(body, "Validation: Testing client application reachability for subscription Request-Id: c8e3+b7");
    }
    assert!(s.jobs().await.is_empty());
}

fn graph_item(sub: &str, state: &str, message: &str) -> Value {
    json!({
        "subscriptionId": sub, "clientState": state, "changeType": "created",
        "subscriptionExpirationDateTime": "2026-03-05T00:00:00Z",
        "resource": format!("Users/9f1e/Messages/{message}"), "tenantId": "t-1",
        "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "@odata.id": format!("Users/9f1e/Messages/{message}"), "@odata.etag": "W/\"CQAAABYAAA\"", "id": message}
    })
}

#[tokio::test]
async fn a_graph_delivery_is_judged_item_by_item_and_duplicates_collapse() {
    let s = setup("intake-graph").await;
    let delivery = json!({"value": [
        graph_item("11111111-2222-4333-8444-000000000001", "client-state-one", "AAMk-1"),
        graph_item("11111111-2222-4333-8444-000000000002", "client-state-two", "AAMk-2"),
        graph_item("11111111-2222-4333-8444-000000000001", "guessed-state", "AAMk-3"),
        graph_item("unknown-sub", "client-state-one", "AAMk-4"),
    ]})
    .to_string();
    // Delivered ten times (Graph retries and duplicates).
    for _ in 0..10 {
        let (status, _, _) = s
            .post(
                "/webhooks/graph",
                &[("content-type", "application/json")],
                &delivery,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let jobs = s.jobs().await;
    let mut groups: Vec<&str> = jobs.iter().map(|j| j["_group"].as_str().unwrap()).collect();
    groups.sort();
    assert_eq!(
        groups,
        vec!["acme:s1:email", "acme:s2:email"],
        "one job per authentic notification, once"
    );
    assert!(jobs.iter().all(|j| j["reason"] == "push"));

    let (status, _, _) = s
        .post(
            "/webhooks/graph",
            &[("content-type", "application/json")],
            "{not json",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(s.jobs().await.is_empty());
}

#[tokio::test]
async fn lifecycle_events_make_the_subscription_due_and_queue_a_catch_up() {
    let s = setup("intake-lifecycle").await;
    let body = json!({"value": [
        {"subscriptionId": "11111111-2222-4333-8444-000000000001", "clientState": "client-state-one", "lifecycleEvent": "reauthorizationRequired", "tenantId": "t", "subscriptionExpirationDateTime": "2026-03-05T00:00:00Z"},
        {"subscriptionId": "11111111-2222-4333-8444-000000000002", "clientState": "wrong", "lifecycleEvent": "subscriptionRemoved", "tenantId": "t", "subscriptionExpirationDateTime": "2026-03-05T00:00:00Z"}
    ]})
    .to_string();
    let (status, _, _) = s
        .post(
            "/webhooks/graph/lifecycle",
            &[("content-type", "application/json")],
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let due: Vec<String> = s
        .subs
        .due(ts(NOW), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(
        due,
        vec!["11111111-2222-4333-8444-000000000001".to_owned()],
        "only the authentic one is due now"
    );
    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "catch_up");
}

fn push_token(claims: Value, kid: &str) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    // A key made for these tests only (PKCS#1 DER); its public half is fixtures/jwks.json.
    let key = EncodingKey::from_rsa_der(include_bytes!("fixtures/push-signing-key.der"));
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn good_claims() -> Value {
    json!({
        "iss": "https://accounts.google.com", "aud": AUDIENCE, "email": ACCOUNT, "email_verified": true,
        "azp": "1234567890", "sub": "1234567890",
        "iat": ts(NOW).as_second() - 10, "exp": ts(NOW).as_second() + 3590
    })
}

fn pubsub(data: &str, id: &str) -> String {
    json!({"message": {"data": data, "messageId": id, "publishTime": "2026-03-02T08:59:59.100Z", "attributes": {}}, "subscription": "projects/hiresync/subscriptions/gmail-push"}).to_string()
}

#[tokio::test]
async fn gmail_pushes_need_googles_signature_and_the_configured_account() {
    let s = setup("intake-gmail").await;
    let change = br#"{"emailAddress":"G@acme.example","historyId":"9876543210"}"#;
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(change);
    let standard = base64::engine::general_purpose::STANDARD.encode(change);
    let bearer = format!("Bearer {}", push_token(good_claims(), "test-key-1"));

    // Either alphabet; a redelivery (same messageId) enqueues nothing new.
    for (data, id) in [
        (&url_safe, "2070443601311540"),
        (&standard, "2070443601311541"),
        (&url_safe, "2070443601311540"),
    ] {
        let (status, _, _) = s
            .post(
                "/webhooks/gmail",
                &[
                    ("authorization", &bearer),
                    ("content-type", "application/json"),
                ],
                &pubsub(data, id),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j["_group"] == "acme:s3:email"));

    let with = |field: &str, value: Value| {
        let mut c = good_claims();
        c[field] = value;
        format!("Bearer {}", push_token(c, "test-key-1"))
    };
    let mut tampered = push_token(good_claims(), "test-key-1");
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let rejected = [
        ("tampered signature", format!("Bearer {tampered}")),
        (
            "wrong audience",
            with("aud", json!("https://evil.example/webhooks/gmail")),
        ),
        ("wrong issuer", with("iss", json!("https://evil.example"))),
        ("expired", with("exp", json!(ts(NOW).as_second() - 120))),
        (
            "another account",
            with("email", json!("someone@evil.iam.gserviceaccount.com")),
        ),
        ("unverified email", with("email_verified", json!(false))),
        (
            "unknown key id",
            format!("Bearer {}", push_token(good_claims(), "rotated-key-9")),
        ),
        ("not a JWT", "Bearer abc.def".to_owned()),
    ];
    for (case, bearer) in &rejected {
        let (status, _, _) = s
            .post(
                "/webhooks/gmail",
                &[
                    ("authorization", bearer),
                    ("content-type", "application/json"),
                ],
                &pubsub(&url_safe, "999"),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
    }
    let (status, _, _) = s
        .post(
            "/webhooks/gmail",
            &[("content-type", "application/json")],
            &pubsub(&url_safe, "998"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no token");
    assert!(
        s.jobs().await.is_empty(),
        "nothing enqueued for a forged push"
    );
    // Google's keys were fetched once for the good key and again for the unknown key id
    // (the cache answered every other request).
    let fetches = s.google.received_requests().await.unwrap().len();
    assert_eq!(
        fetches, 2,
        "initial fetch plus one refetch for the unknown key id"
    );

    // A mailbox without a watch, and an unreadable message, are acknowledged (no retries).
    let stranger = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"emailAddress":"nobody@acme.example","historyId":"1"}"#);
    let (status, _, _) = s
        .post(
            "/webhooks/gmail",
            &[("authorization", &bearer)],
            &pubsub(&stranger, "997"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = s
        .post(
            "/webhooks/gmail",
            &[("authorization", &bearer)],
            &pubsub("%%%", "996"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(s.jobs().await.is_empty());
}

#[tokio::test]
async fn calendar_notifications_need_a_known_channel_and_its_token() {
    let s = setup("intake-calendar").await;
    let headers = |state: &'static str, token: &'static str, number: &'static str| {
        vec![
            ("x-goog-channel-id", "channel-1"),
            ("x-goog-channel-token", token),
            ("x-goog-resource-state", state),
            ("x-goog-message-number", number),
            ("x-goog-resource-id", "resource-1"),
        ]
    };
    assert_eq!(
        s.post(
            "/webhooks/calendar",
            &headers("sync", "channel-token-1", "1"),
            ""
        )
        .await
        .0,
        StatusCode::OK
    );
    assert!(s.jobs().await.is_empty(), "sync messages are ignored");
    for _ in 0..3 {
        assert_eq!(
            s.post(
                "/webhooks/calendar",
                &headers("exists", "channel-token-1", "42"),
                ""
            )
            .await
            .0,
            StatusCode::OK
        );
    }
    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["_group"], "acme:s1:calendar");
    assert_eq!(
        s.post(
            "/webhooks/calendar",
            &headers("exists", "forged-token", "43"),
            ""
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.post(
            "/webhooks/calendar",
            &[("x-goog-resource-state", "exists")],
            ""
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let unknown = [
        ("x-goog-channel-id", "nope"),
        ("x-goog-channel-token", "channel-token-1"),
        ("x-goog-resource-state", "exists"),
    ];
    assert_eq!(
        s.post("/webhooks/calendar", &unknown, "").await.0,
        StatusCode::FORBIDDEN
    );
    assert!(s.jobs().await.is_empty());
}

#[tokio::test]
async fn when_the_job_cannot_be_queued_the_provider_is_asked_to_retry() {
    let (config, resources) = hiresync_localstack::fresh_stack("intake-down")
        .await
        .unwrap();
    let subs = DynamoSubscriptionStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("TenancyTable").unwrap(),
    );
    subs.put(
        &sub(
            "11111111-2222-4333-8444-000000000001",
            SubscriptionKind::GraphInbox,
            "s1",
            Some("client-state-one"),
        ),
        ts(NOW),
    )
    .await
    .unwrap();
    let contracts = acme_contract(&config, &resources).await;
    let intake = Arc::new(Intake {
        subscriptions: std::sync::Arc::new(subs),
        contracts: Arc::new(contracts),
        jobs: SyncJobs {
            sqs: aws_sdk_sqs::Client::new(&config),
            queue_url: format!(
                "{}-missing.fifo",
                resources
                    .queue("SyncJobsQueue")
                    .unwrap()
                    .trim_end_matches(".fifo")
            ),
        },
        google: GooglePushVerifier::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/certs".into(),
            AUDIENCE.into(),
            ACCOUNT.into(),
        ),
        clock: Arc::new(|| ts(NOW)),
    });
    let body =
        json!({"value": [graph_item("11111111-2222-4333-8444-000000000001", "client-state-one", "AAMk-1")]}).to_string();
    let response = router(intake)
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/webhooks/graph")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(response.status().is_server_error(), "{}", response.status());
}

#[tokio::test]
async fn what_we_never_issued_is_refused_before_anything_is_read() {
    let s = setup("intake-abuse").await;
    let json = [("content-type", "application/json")];
    let reads = || s.reads.load(std::sync::atomic::Ordering::SeqCst);

    // A delivery larger than any Graph sends: refused whole, nothing read.
    assert_eq!(
        s.post(
            "/webhooks/graph",
            &json,
            &unknown_graph_delivery(webhook_intake::MAX_DELIVERY_ITEMS + 1)
        )
        .await
        .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let many: Vec<Value> = (0..=webhook_intake::MAX_DELIVERY_ITEMS)
        .map(|n| {
            json!({"subscriptionId": format!("00000000-0000-4000-8000-{n:012x}"),
                   "clientState": "client-state-one", "lifecycleEvent": "missed"})
        })
        .collect();
    let body = json!({ "value": many }).to_string();
    assert_eq!(
        s.post("/webhooks/graph/lifecycle", &json, &body).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(reads(), 0);

    // Ids Graph never issues (too long for a key, or no GUID): dropped unread; the answer
    // is no 5xx, so nobody retries.
    let long = "x".repeat(3000);
    let forged = json!({"value": [
        graph_item(&long, "client-state-one", "AAMk-1"),
        graph_item("graph-inbox-1", "client-state-one", "AAMk-2"),
        graph_item("11111111-2222-4333-8444-00000000000g", "client-state-one", "AAMk-3"),
    ]})
    .to_string();
    assert_eq!(
        s.post("/webhooks/graph", &json, &forged).await.0,
        StatusCode::ACCEPTED
    );
    let lifecycle = json!({"value": [
        {"subscriptionId": long, "clientState": "client-state-one", "lifecycleEvent": "missed"}
    ]})
    .to_string();
    assert_eq!(
        s.post("/webhooks/graph/lifecycle", &json, &lifecycle)
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let long_token = "t".repeat(300);
    assert_eq!(
        s.post("/webhooks/calendar", &channel(&long, "channel-token-1"), "")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.post("/webhooks/calendar", &channel("channel-1", &long_token), "")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(reads(), 0, "nothing of the wrong shape was read");

    // The Calendar route takes Calendar channels only: a Graph subscription id with its
    // client state is refused there, and a Calendar channel on the Graph route.
    assert_eq!(
        s.post(
            "/webhooks/calendar",
            &channel("11111111-2222-4333-8444-000000000001", "client-state-one"),
            ""
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(reads(), 1);

    // The largest delivery, every item naming another (unknown) subscription: read in
    // batches of 100, ten requests in all, and dropped.
    assert_eq!(
        s.post(
            "/webhooks/graph",
            &json,
            &unknown_graph_delivery(webhook_intake::MAX_DELIVERY_ITEMS)
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(reads(), 1 + 10);
    assert!(s.jobs().await.is_empty(), "nothing was queued");
}

/// A Graph delivery of `items` notifications, each of another GUID-shaped subscription id
/// that nothing stored has.
fn unknown_graph_delivery(items: usize) -> String {
    let value: Vec<Value> = (0..items)
        .map(|n| {
            graph_item(
                &format!("00000000-0000-4000-8000-{n:012x}"),
                "client-state-one",
                "AAMk-1",
            )
        })
        .collect();
    json!({ "value": value }).to_string()
}

fn channel<'a>(id: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("x-goog-channel-id", id),
        ("x-goog-channel-token", token),
        ("x-goog-resource-state", "exists"),
    ]
}

async fn keys_server(max_age: &str, delay: std::time::Duration) -> MockServer {
    let google = MockServer::start().await;
    let jwks: Value = serde_json::from_str(include_str!("fixtures/jwks.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/certs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(jwks)
                .insert_header("cache-control", max_age)
                .set_delay(delay),
        )
        .mount(&google)
        .await;
    google
}

async fn fetches(google: &MockServer) -> usize {
    google.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn googles_keys_are_kept_for_their_lifetime_and_unknown_key_ids_fetch_at_most_once_per_interval(
) {
    let google = keys_server("public, max-age=1", std::time::Duration::ZERO).await;
    let verifier = GooglePushVerifier::new(
        reqwest::Client::new(),
        format!("{}/certs", google.uri()),
        AUDIENCE.into(),
        ACCOUNT.into(),
    )
    .with_refetch_interval(std::time::Duration::from_millis(300));
    let now = ts(NOW).as_second();
    let good = format!("Bearer {}", push_token(good_claims(), "test-key-1"));
    let forged = format!("Bearer {}", push_token(good_claims(), "forged-key"));

    // Many pushes, one fetch; a flood of unknown key ids right after adds none.
    for _ in 0..5 {
        verifier.verify(Some(&good), now).await.unwrap();
    }
    for _ in 0..20 {
        assert_eq!(
            verifier.verify(Some(&forged), now).await,
            Err(webhook_intake::google_jwt::PushAuthError::UnknownKey)
        );
    }
    assert_eq!(fetches(&google).await, 1);

    // Past the interval an unknown key id may fetch once more, and only once.
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    for _ in 0..20 {
        let _ = verifier.verify(Some(&forged), now).await;
    }
    assert_eq!(fetches(&google).await, 2);

    // Past the keys' own lifetime (max-age=1), a known key fetches them again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    verifier.verify(Some(&good), now).await.unwrap();
    assert_eq!(fetches(&google).await, 3);

    // A token issued, or valid, only in the future is refused.
    for field in ["iat", "nbf"] {
        let mut claims = good_claims();
        claims[field] = json!(now + 600);
        let bearer = format!("Bearer {}", push_token(claims, "test-key-1"));
        assert_eq!(
            verifier.verify(Some(&bearer), now).await,
            Err(webhook_intake::google_jwt::PushAuthError::Invalid),
            "{field}"
        );
    }
}

#[tokio::test]
async fn a_slow_key_server_is_given_up_on_and_the_push_is_retried_later() {
    let google = keys_server("max-age=60", std::time::Duration::from_secs(10)).await;
    let verifier = GooglePushVerifier::new(
        reqwest::Client::new(),
        format!("{}/certs", google.uri()),
        AUDIENCE.into(),
        ACCOUNT.into(),
    );
    let good = format!("Bearer {}", push_token(good_claims(), "test-key-1"));
    let started = std::time::Instant::now();
    assert_eq!(
        verifier.verify(Some(&good), ts(NOW).as_second()).await,
        Err(webhook_intake::google_jwt::PushAuthError::KeysUnavailable)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "the fetch gave up before the server answered"
    );
}

#[tokio::test]
async fn nothing_is_queued_for_what_the_contract_no_longer_allows() {
    let s = setup("intake-contract").await;
    let json = [("content-type", "application/json")];
    let delivery = json!({"value": [
        graph_item("11111111-2222-4333-8444-000000000001", "client-state-one", "AAMk-1"),
    ]})
    .to_string();
    let calendar = channel("channel-1", "channel-token-1");
    // GIVEN the admin turned the calendar off, before the fan-out reached the channel
    let read = s
        .contracts
        .get(&ContractId::parse("acme").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut changed = read.value.clone();
    changed.settings.calendar_enabled = false;
    let read_after = s.contracts.update(&read, &changed).await.unwrap();
    // THEN mail pushes are queued, calendar ones are not
    assert_eq!(
        s.post("/webhooks/graph", &json, &delivery).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        s.post("/webhooks/calendar", &calendar, "").await.0,
        StatusCode::OK
    );
    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["_group"], "acme:s1:email");
    // GIVEN the contract suspended: nothing at all
    let mut suspended = read_after.value.clone();
    suspended.suspend("2026-06-01T00:00:00Z".parse().unwrap());
    s.contracts.update(&read_after, &suspended).await.unwrap();
    let again = json!({"value": [
        graph_item("11111111-2222-4333-8444-000000000001", "client-state-one", "AAMk-2"),
    ]})
    .to_string();
    assert_eq!(
        s.post("/webhooks/graph", &json, &again).await.0,
        StatusCode::ACCEPTED
    );
    assert!(s.jobs().await.is_empty());
}
