//! Microsoft Graph client against a stub speaking the documented shapes (protocols.md
//! §1.1-1.7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, json_body, requests, TOKEN};
use hiresync_providers::{resources, ApiError, GraphClient, SubscriptionRequest, ALL_CHANGES};
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{bearer_token, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PREFER: &str = "IdType=\"ImmutableId\"";

async fn graph() -> (MockServer, GraphClient) {
    let server = MockServer::start().await;
    let client = GraphClient::new(api(), &format!("{}/v1.0", server.uri())).unwrap();
    (server, client)
}

fn now() -> Timestamp {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn inbox_request(expiration: Timestamp) -> SubscriptionRequest {
    SubscriptionRequest {
        change_type: ALL_CHANGES.to_owned(),
        notification_url: "https://api.example.com/hooks/graph?t=tenant-key".to_owned(),
        lifecycle_notification_url: "https://api.example.com/hooks/graph-lifecycle".to_owned(),
        resource: resources::INBOX_MESSAGES.to_owned(),
        expiration,
        client_state: SecretString::from("client-state-secret"),
    }
}

fn subscription_json(id: &str, expiration: &str) -> serde_json::Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
        "id": id,
        "resource": "me/mailFolders('Inbox')/messages",
        "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
        "changeType": "created,updated,deleted",
        "clientState": "client-state-secret",
        "notificationUrl": "https://api.example.com/hooks/graph?t=tenant-key",
        "lifecycleNotificationUrl": "https://api.example.com/hooks/graph-lifecycle",
        "expirationDateTime": expiration,
        "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
        "latestSupportedTlsVersion": "v1_2",
        "notificationContentType": "application/json"
    })
}

fn graph_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "code": code,
        "message": message,
        "innerError": {"date": "2026-01-05T10:00:00", "request-id": "6f7c", "client-request-id": "6f7c"}
    }}))
}

#[tokio::test]
async fn me_selects_the_identity_fields_with_bearer_and_immutable_ids() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me"))
        .and(query_param("$select", "id,mail,userPrincipalName,proxyAddresses"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName,proxyAddresses)/$entity",
            "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "mail": "AdeleV@contoso.com",
            "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
            "proxyAddresses": ["SMTP:AdeleV@contoso.com", "smtp:adele.vance@contoso.com", "x500:/o=ExchangeLabs/ou=x", "SIP:AdeleV@contoso.com"]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let me = graph.me().await.unwrap();

    assert_eq!(me.id, "87d349ed-44d7-43e1-9a83-5f2406dee5bd");
    assert_eq!(me.mail.as_deref(), Some("AdeleV@contoso.com"));
    assert_eq!(me.user_principal_name, "AdeleV@contoso.onmicrosoft.com");
    assert_eq!(
        me.smtp_addresses().collect::<Vec<_>>(),
        ["AdeleV@contoso.com", "adele.vance@contoso.com"],
        "the SMTP proxy addresses, prefix stripped; x500 and SIP are not mail"
    );
}

#[tokio::test]
async fn me_without_a_mailbox_has_no_mail() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "u1", "mail": null, "userPrincipalName": "guest@contoso.onmicrosoft.com"
        })))
        .mount(&server)
        .await;

    assert_eq!(graph.me().await.unwrap().mail, None);
}

#[tokio::test]
async fn mailbox_settings_succeeds_for_a_usable_mailbox() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailboxSettings"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "timeZone": "UTC", "language": {"locale": "en-US", "displayName": "English (United States)"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    graph.mailbox_settings().await.unwrap();
}

#[tokio::test]
async fn mailbox_not_enabled_for_rest_surfaces_its_code() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailboxSettings"))
        .respond_with(graph_error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = graph.mailbox_settings().await.unwrap_err();

    match &err {
        ApiError::Status {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(code.as_deref(), Some("MailboxNotEnabledForRESTAPI"));
            assert!(message.as_deref().unwrap().contains("inactive"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn non_existent_mailbox_surfaces_its_code() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailboxSettings"))
        .respond_with(graph_error(
            404,
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
        ))
        .mount(&server)
        .await;

    let err = graph.mailbox_settings().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Status { code: Some(ref c), .. } if c == "ErrorNonExistentMailbox")
    );
}

#[tokio::test]
async fn default_calendar_reads_id_and_owner() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/calendar"))
        .and(query_param("$select", "id,owner"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u1')/calendar(id,owner)/$entity",
            "@odata.id": "https://graph.microsoft.com/v1.0/users('u1')/calendars('AAMkAGI2TGuLAAA=')",
            "id": "AAMkAGI2TGuLAAA=",
            "owner": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let calendar = graph.default_calendar().await.unwrap();

    assert_eq!(calendar.id, "AAMkAGI2TGuLAAA=");
    assert_eq!(
        calendar.owner_address.as_deref(),
        Some("AdeleV@contoso.com")
    );
}

#[tokio::test]
async fn create_subscription_posts_every_documented_field() {
    let (server, graph) = graph().await;
    let expiration = now() + minutes(4200);
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(subscription_json(
            "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
            "2026-01-08T08:00:00.9356913Z",
        )))
        .expect(1)
        .mount(&server)
        .await;

    let created = graph
        .create_subscription(&inbox_request(expiration), now())
        .await
        .unwrap();

    assert_eq!(created.clamped_to_minutes, None);
    assert_eq!(created.value.id, "7f105c7d-2dc5-4530-97cd-4e7ae6534c07");
    assert_eq!(created.value.resource, "me/mailFolders('Inbox')/messages");
    assert_eq!(
        created.value.expiration,
        "2026-01-08T08:00:00.9356913Z".parse::<Timestamp>().unwrap()
    );
    let sent = json_body(&requests(&server).await[0]);
    assert_eq!(
        sent,
        json!({
            "changeType": "created,updated,deleted",
            "notificationUrl": "https://api.example.com/hooks/graph?t=tenant-key",
            "lifecycleNotificationUrl": "https://api.example.com/hooks/graph-lifecycle",
            "resource": "me/mailFolders('Inbox')/messages",
            "expirationDateTime": "2026-01-08T08:00:00Z",
            "clientState": "client-state-secret"
        })
    );
}

#[tokio::test]
async fn expiration_is_sent_in_whole_seconds() {
    let (server, graph) = graph().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(subscription_json("s1", "2026-01-08T08:00:00Z")),
        )
        .mount(&server)
        .await;
    let expiration: Timestamp = "2026-01-08T08:00:00.123456789Z".parse().unwrap();

    graph
        .create_subscription(&inbox_request(expiration), now())
        .await
        .unwrap();

    let sent = json_body(&requests(&server).await[0]);
    assert_eq!(sent["expirationDateTime"], "2026-01-08T08:00:00Z");
}

#[tokio::test]
async fn a_refused_lifetime_is_clamped_to_the_stated_ceiling_and_retried_once() {
    // GIVEN Graph refuses a 7-day expiration, naming 4,230 minutes as its ceiling
    let (server, graph) = graph().await;
    let requested = now() + minutes(10_080);
    let clamped = now() + minutes(4230);
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .and(body_partial_json(json!({"expirationDateTime": "2026-01-12T10:00:00Z"})))
        .respond_with(graph_error(
            400,
            "ExtensionError",
            "Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription expiration can only be 4230 minutes in the future.]",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .and(body_partial_json(
            json!({"expirationDateTime": clamped.to_string()}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(subscription_json("s1", &clamped.to_string())),
        )
        .expect(1)
        .mount(&server)
        .await;

    // WHEN a subscription is created
    let created = graph
        .create_subscription(&inbox_request(requested), now())
        .await
        .unwrap();

    // THEN the second request asked for now + 4,230 minutes and the ceiling is reported
    assert_eq!(created.clamped_to_minutes, Some(4230));
    assert_eq!(created.value.expiration, clamped);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        json_body(&sent[0])["expirationDateTime"],
        "2026-01-12T10:00:00Z"
    );
    assert_eq!(
        json_body(&sent[1])["expirationDateTime"],
        "2026-01-08T08:30:00Z"
    );
    assert_eq!(json_body(&sent[1])["clientState"], "client-state-secret");
}

#[tokio::test]
async fn a_second_refusal_is_returned() {
    let (server, graph) = graph().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(graph_error(
            400,
            "ExtensionError",
            "Subscription expiration can only be 4230 minutes in the future.",
        ))
        .expect(2)
        .mount(&server)
        .await;

    let err = graph
        .create_subscription(&inbox_request(now() + minutes(10_080)), now())
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn a_400_without_the_ceiling_wording_is_not_retried() {
    let (server, graph) = graph().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(graph_error(
            400,
            "InvalidRequest",
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = graph
        .create_subscription(&inbox_request(now() + minutes(4200)), now())
        .await
        .unwrap_err();

    assert!(
        matches!(err, ApiError::Status { status: 400, code: Some(ref c), .. } if c == "InvalidRequest")
    );
}

#[tokio::test]
async fn renew_patches_the_expiration() {
    let (server, graph) = graph().await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/subscriptions/s1"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(subscription_json("s1", "2026-01-08T08:00:00Z")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let renewed = graph
        .renew_subscription("s1", now() + minutes(4200), now())
        .await
        .unwrap();

    assert_eq!(renewed.clamped_to_minutes, None);
    assert_eq!(renewed.value.id, "s1");
    let sent = json_body(&requests(&server).await[0]);
    assert_eq!(sent, json!({"expirationDateTime": "2026-01-08T08:00:00Z"}));
}

#[tokio::test]
async fn renew_clamps_too() {
    let (server, graph) = graph().await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/subscriptions/s1"))
        .and(body_partial_json(
            json!({"expirationDateTime": "2026-01-12T10:00:00Z"}),
        ))
        .respond_with(graph_error(
            400,
            "ExtensionError",
            "Subscription expiration can only be 10070 minutes in the future.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/subscriptions/s1"))
        .and(body_partial_json(
            json!({"expirationDateTime": "2026-01-12T09:50:00Z"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(subscription_json("s1", "2026-01-12T09:50:00Z")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let renewed = graph
        .renew_subscription("s1", now() + minutes(10_080), now())
        .await
        .unwrap();

    assert_eq!(renewed.clamped_to_minutes, Some(10_070));
}

#[tokio::test]
async fn renewing_a_vanished_subscription_is_a_404() {
    let (server, graph) = graph().await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/subscriptions/gone"))
        .respond_with(graph_error(
            404,
            "ResourceNotFound",
            "The object was not found.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = graph
        .renew_subscription("gone", now() + minutes(4200), now())
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn delete_answers_204() {
    let (server, graph) = graph().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/subscriptions/s1"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", PREFER))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    graph.delete_subscription("s1").await.unwrap();
}

#[tokio::test]
async fn deleting_a_subscription_that_is_already_gone_succeeds() {
    let (server, graph) = graph().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/subscriptions/gone"))
        .respond_with(graph_error(
            404,
            "ResourceNotFound",
            "The object was not found.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    graph.delete_subscription("gone").await.unwrap();
}

#[tokio::test]
async fn delete_forbidden_is_an_error() {
    let (server, graph) = graph().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/subscriptions/s1"))
        .respond_with(graph_error(
            403,
            "ExtensionError",
            "Insufficient privileges.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        graph.delete_subscription("s1").await.unwrap_err().status(),
        Some(403)
    );
}

#[tokio::test]
async fn an_unexpected_success_shape_is_a_decode_error() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>captive portal</html>"))
        .mount(&server)
        .await;

    let err = graph.me().await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Decode {
                operation: "graph.me",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn mail_is_watched_mailbox_wide_and_events_on_the_calendar() {
    assert_eq!(resources::MESSAGES, "me/messages");
    assert_eq!(resources::EVENTS, "me/events");
}
