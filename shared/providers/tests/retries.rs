//! Throttling and transient failures (protocols.md §1.9, §5 rule 11), with delays small
//! enough for a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{api, fast_retry, requests};
use hiresync_providers::{
    http_client, resources, Api, ApiError, GmailClient, GraphClient, RetryPolicy,
    SubscriptionRequest, ALL_CHANGES,
};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn me_json() -> serde_json::Value {
    json!({"id": "u1", "mail": "a@contoso.com", "userPrincipalName": "a@contoso.com"})
}

async fn graph_with(api: Api) -> (MockServer, GraphClient) {
    let server = MockServer::start().await;
    let client = GraphClient::new(api, &server.uri()).unwrap();
    (server, client)
}

fn throttled() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_json(json!({"error": {
            "code": "ApplicationThrottled",
            "message": "Application is over its MailboxConcurrency limit."
        }}))
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says_then_succeeds() {
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(throttled())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_json()))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let me = graph.me().await.unwrap();

    assert_eq!(me.id, "u1");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_handed_to_the_caller() {
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(
                    json!({"error": {"code": "TooManyRequests", "message": "Throttled"}}),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let err = graph.me().await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(1));
    match &err {
        ApiError::Status {
            status: 429,
            code,
            retry_after,
            ..
        } => {
            assert_eq!(code.as_deref(), Some("TooManyRequests"));
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_503_is_retried_then_succeeds() {
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_json()))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(graph.me().await.unwrap().id, "u1");
}

#[tokio::test]
async fn persistent_500s_give_the_error_after_max_attempts() {
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "code": "generalException", "message": "General server error."
        }})))
        .expect(5)
        .mount(&server)
        .await;

    let err = graph.me().await.unwrap_err();

    assert_eq!(fast_retry().max_attempts, 5);
    assert!(
        matches!(err, ApiError::Status { status: 500, code: Some(ref c), .. } if c == "generalException")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn creating_a_subscription_is_not_repeated_after_a_500() {
    // A 500 leaves it unknown whether Graph created the subscription; a blind retry
    // could leave two.
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let now: jiff::Timestamp = "2026-01-05T10:00:00Z".parse().unwrap();
    let request = SubscriptionRequest {
        change_type: ALL_CHANGES.to_owned(),
        notification_url: "https://api.example.com/hooks/graph".to_owned(),
        lifecycle_notification_url: "https://api.example.com/hooks/graph-lifecycle".to_owned(),
        resource: resources::EVENTS.to_owned(),
        expiration: now + jiff::SignedDuration::from_mins(4200),
        client_state: SecretString::from("cs"),
    };

    let err = graph.create_subscription(&request, now).await.unwrap_err();

    assert_eq!(err.status(), Some(500));
}

#[tokio::test]
async fn creating_a_subscription_is_repeated_after_a_429() {
    let (server, graph) = graph_with(api()).await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "s1", "resource": "me/events", "expirationDateTime": "2026-01-08T08:00:00Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let now: jiff::Timestamp = "2026-01-05T10:00:00Z".parse().unwrap();
    let request = SubscriptionRequest {
        change_type: ALL_CHANGES.to_owned(),
        notification_url: "https://api.example.com/hooks/graph".to_owned(),
        lifecycle_notification_url: "https://api.example.com/hooks/graph-lifecycle".to_owned(),
        resource: resources::EVENTS.to_owned(),
        expiration: now + jiff::SignedDuration::from_mins(4200),
        client_state: SecretString::from("cs"),
    };

    let created = graph.create_subscription(&request, now).await.unwrap();

    assert_eq!(created.value.id, "s1");
}

#[tokio::test]
async fn google_rate_limit_403_is_retried_with_backoff() {
    let server = MockServer::start().await;
    let gmail = GmailClient::new(api(), &server.uri()).unwrap();
    Mock::given(method("GET"))
        .and(path("/users/me/profile"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": 403, "message": "User Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded", "message": "User Rate Limit Exceeded"}]
        }})))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/me/profile"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "a@corp.example", "historyId": "7"
        })))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(gmail.profile().await.unwrap().history_id, "7");
}

#[tokio::test]
async fn a_timeout_is_retried_for_a_safe_call() {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (server, graph) =
        graph_with(Api::new(http, SecretString::from("t")).with_retry(fast_retry())).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(me_json())
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_json()))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(graph.me().await.unwrap().id, "u1");
}

#[tokio::test]
async fn a_timeout_that_persists_is_a_transport_timeout() {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let single = RetryPolicy {
        max_attempts: 1,
        ..fast_retry()
    };
    let (server, graph) =
        graph_with(Api::new(http, SecretString::from("t")).with_retry(single)).await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;

    let err = graph.me().await.unwrap_err();

    assert!(
        matches!(
            err,
            ApiError::Transport {
                timeout: true,
                connect: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let graph = GraphClient::new(
        Api::new(http_client().unwrap(), SecretString::from("t")).with_retry(fast_retry()),
        &format!("http://127.0.0.1:{port}/v1.0"),
    )
    .unwrap();

    let err = graph.me().await.unwrap_err();

    assert!(
        matches!(err, ApiError::Transport { connect: true, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    // Paths can carry addresses (calendar ids), so the URL is stripped from the error.
    assert!(!format!("{err:?}").contains("/v1.0/me"), "{err:?}");
}
