//! Gmail, Google Calendar and Google revocation against a stub speaking the documented
//! shapes (protocols.md §2.2, §3.3, §4.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, json_body, requests, TOKEN};
use hiresync_providers::{
    http_client, revoke_google, ApiError, GmailClient, GoogleCalendarClient, WatchRequest,
};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{bearer_token, body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn gmail() -> (MockServer, GmailClient) {
    let server = MockServer::start().await;
    let client = GmailClient::new(api(), &format!("{}/gmail/v1", server.uri())).unwrap();
    (server, client)
}

async fn calendar() -> (MockServer, GoogleCalendarClient) {
    let server = MockServer::start().await;
    let client =
        GoogleCalendarClient::new(api(), &format!("{}/calendar/v3", server.uri())).unwrap();
    (server, client)
}

fn insufficient_scope() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
        "status": "PERMISSION_DENIED",
        "details": [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
            "metadata": {"service": "gmail.googleapis.com", "method": "caribou.api.proto.MailboxService.GetProfile"}
        }]
    }}))
}

fn watch_request() -> WatchRequest {
    WatchRequest {
        channel_id: "0b5c8a0e-1f0e-4c59-9a51-6d1b1c1f2a3b".to_owned(),
        address: "https://api.example.com/hooks/gcal".to_owned(),
        token: SecretString::from("acct=123&sig=channel-token-secret"),
        ttl_seconds: 604_800,
    }
}

// ---- Gmail ----

#[tokio::test]
async fn gmail_profile_reads_address_and_history_id() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/profile"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "recruiter@corp.example",
            "messagesTotal": 1520,
            "threadsTotal": 980,
            "historyId": "1234567890"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let profile = gmail.profile().await.unwrap();

    assert_eq!(profile.email_address, "recruiter@corp.example");
    assert_eq!(profile.history_id, "1234567890");
}

#[tokio::test]
async fn gmail_watch_sends_topic_and_labels_and_reads_the_epoch_ms_expiration() {
    let (server, gmail) = gmail().await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/watch"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "historyId": "1234567890",
            "expiration": "1431990098200"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let watch = gmail
        .watch("projects/hiresync/topics/gmail-push", &["INBOX", "SENT"])
        .await
        .unwrap();

    assert_eq!(watch.history_id, "1234567890");
    assert_eq!(
        watch.expiration,
        Timestamp::from_millisecond(1_431_990_098_200).unwrap()
    );
    assert_eq!(
        json_body(&requests(&server).await[0]),
        json!({
            "topicName": "projects/hiresync/topics/gmail-push",
            "labelIds": ["INBOX", "SENT"],
            "labelFilterBehavior": "INCLUDE"
        })
    );
}

#[tokio::test]
async fn gmail_watch_without_labels_watches_everything() {
    let (server, gmail) = gmail().await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/watch"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "historyId": "42", "expiration": "1431990098200"
        })))
        .mount(&server)
        .await;

    gmail.watch("projects/p/topics/t", &[]).await.unwrap();

    assert_eq!(
        json_body(&requests(&server).await[0]),
        json!({"topicName": "projects/p/topics/t"})
    );
}

#[tokio::test]
async fn gmail_stop_posts_an_empty_body_with_a_length() {
    let (server, gmail) = gmail().await;
    Mock::given(method("POST"))
        .and(path("/gmail/v1/users/me/stop"))
        .and(bearer_token(TOKEN))
        .and(header("content-length", "0"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    gmail.stop().await.unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent[0].headers.get_all("content-length").iter().count(), 1);
}

#[tokio::test]
async fn insufficient_scope_is_parsed_with_its_reason() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/profile"))
        .respond_with(insufficient_scope())
        .expect(1)
        .mount(&server)
        .await;

    let err = gmail.profile().await.unwrap_err();

    match &err {
        ApiError::Status {
            status,
            code,
            message,
            reason,
            retry_after,
        } => {
            assert_eq!(*status, 403);
            assert_eq!(code.as_deref(), Some("PERMISSION_DENIED"));
            assert_eq!(reason.as_deref(), Some("ACCESS_TOKEN_SCOPE_INSUFFICIENT"));
            assert_eq!(
                message.as_deref(),
                Some("Request had insufficient authentication scopes.")
            );
            assert_eq!(*retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
}

// ---- Calendar ----

#[tokio::test]
async fn calendar_primary_reads_id_and_time_zone() {
    let (server, calendar) = calendar().await;
    Mock::given(method("GET"))
        .and(path("/calendar/v3/calendars/primary"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "calendar#calendar",
            "etag": "\"k1\"",
            "id": "recruiter@corp.example",
            "summary": "recruiter@corp.example",
            "timeZone": "Europe/Paris",
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let primary = calendar.primary().await.unwrap();

    assert_eq!(primary.id, "recruiter@corp.example");
    assert_eq!(primary.time_zone.as_deref(), Some("Europe/Paris"));
}

#[tokio::test]
async fn calendar_watch_opens_a_web_hook_channel_with_an_explicit_ttl() {
    let (server, calendar) = calendar().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/calendars/recruiter@corp.example/events/watch"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "api#channel",
            "id": "0b5c8a0e-1f0e-4c59-9a51-6d1b1c1f2a3b",
            "resourceId": "o3hgv1538sdjfh",
            "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/recruiter@corp.example/events?alt=json",
            "token": "acct=123&sig=channel-token-secret",
            "expiration": "1767225600000"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let channel = calendar
        .watch("recruiter@corp.example", &watch_request())
        .await
        .unwrap();

    assert_eq!(channel.id, "0b5c8a0e-1f0e-4c59-9a51-6d1b1c1f2a3b");
    assert_eq!(channel.resource_id, "o3hgv1538sdjfh");
    assert_eq!(
        channel.expiration,
        Timestamp::from_millisecond(1_767_225_600_000).unwrap()
    );
    assert_eq!(
        json_body(&requests(&server).await[0]),
        json!({
            "id": "0b5c8a0e-1f0e-4c59-9a51-6d1b1c1f2a3b",
            "type": "web_hook",
            "address": "https://api.example.com/hooks/gcal",
            "token": "acct=123&sig=channel-token-secret",
            "params": {"ttl": "604800"}
        })
    );
}

#[tokio::test]
async fn calendar_ids_are_escaped_in_the_path() {
    let (server, calendar) = calendar().await;
    Mock::given(method("POST"))
        .and(path(
            "/calendar/v3/calendars/team%23hiring@group.calendar.google.com/events/watch",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c1", "resourceId": "r1", "expiration": 1767225600000_i64
        })))
        .expect(1)
        .mount(&server)
        .await;

    let channel = calendar
        .watch("team#hiring@group.calendar.google.com", &watch_request())
        .await
        .unwrap();

    assert_eq!(channel.resource_id, "r1");
}

#[tokio::test]
async fn calendar_stop_sends_both_ids() {
    let (server, calendar) = calendar().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/channels/stop"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    calendar.stop("c1", "r1").await.unwrap();

    assert_eq!(
        json_body(&requests(&server).await[0]),
        json!({"id": "c1", "resourceId": "r1"})
    );
}

#[tokio::test]
async fn stopping_an_unknown_channel_succeeds() {
    let (server, calendar) = calendar().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/channels/stop"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": 404,
            "message": "Channel 'c1' not found for project '1234'",
            "errors": [{"domain": "global", "reason": "notFound", "message": "Channel 'c1' not found for project '1234'"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;

    calendar.stop("c1", "r1").await.unwrap();
}

// ---- Revocation ----

#[tokio::test]
async fn revoke_posts_the_token_as_a_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("token=1%2F%2Frefresh-token-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;

    revoke_google(
        &http_client().unwrap(),
        &format!("{}/revoke", server.uri()),
        &SecretString::from("1//refresh-token-secret"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn revoking_an_already_revoked_token_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_token", "error_description": "Token expired or revoked"
        })))
        .expect(1)
        .mount(&server)
        .await;

    revoke_google(
        &http_client().unwrap(),
        &format!("{}/revoke", server.uri()),
        &SecretString::from("stale"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn other_revocation_failures_are_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request", "error_description": "Bad Request"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = revoke_google(
        &http_client().unwrap(),
        &format!("{}/revoke", server.uri()),
        &SecretString::from("t"),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(err, ApiError::Status { status: 400, code: Some(ref c), .. } if c == "invalid_request")
    );
}
