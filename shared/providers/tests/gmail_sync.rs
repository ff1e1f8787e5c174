//! Gmail history, listing and metadata reads against a stub speaking the documented shapes
//! (protocols.md §2.6, §2.7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, requests, TOKEN};
use hiresync_providers::gmail_sync::METADATA_HEADERS;
use hiresync_providers::{
    ApiError, GmailClient, HistoryChange, HistoryError, MessageList, MessageRef,
};
use jiff::Timestamp;
use serde_json::{json, Value};
use wiremock::matchers::{bearer_token, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const HISTORY: &str = "/gmail/v1/users/me/history";

async fn gmail() -> (MockServer, GmailClient) {
    let server = MockServer::start().await;
    let client = GmailClient::new(api(), &format!("{}/gmail/v1", server.uri())).unwrap();
    (server, client)
}

/// Every value of a query parameter, in order.
fn query_values(request: &Request, key: &str) -> Vec<String> {
    request
        .url
        .query_pairs()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn message(id: &str, labels: &[&str]) -> Value {
    json!({"id": id, "threadId": format!("t-{id}"), "labelIds": labels})
}

fn added(id: &str, labels: &[&str]) -> Value {
    json!({"message": message(id, labels)})
}

fn record(id: &str, key: &str, entries: Vec<Value>) -> Value {
    let messages: Vec<Value> = entries.iter().map(|e| e["message"].clone()).collect();
    json!({"id": id, "messages": messages, key: entries})
}

fn labels_added(id: &str, labels: &[&str]) -> Value {
    json!({"message": message(id, &["INBOX"]), "labelIds": labels})
}

fn history_page(history: Vec<Value>, next: Option<&str>, history_id: &str) -> ResponseTemplate {
    let mut body = json!({"history": history, "historyId": history_id});
    if let Some(token) = next {
        body["nextPageToken"] = json!(token);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": {
        "code": 404,
        "message": "Requested entity was not found.",
        "errors": [{"message": "Requested entity was not found.", "domain": "global", "reason": "notFound"}],
        "status": "NOT_FOUND"
    }}))
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

// ---- history.list ----

#[tokio::test]
async fn history_asks_for_the_three_record_types_from_the_stored_id() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .and(bearer_token(TOKEN))
        .and(query_param("startHistoryId", "1234567"))
        .and(query_param("maxResults", "500"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(history_page(vec![], None, "1234600"))
        .expect(1)
        .mount(&server)
        .await;

    let page = gmail.history("1234567", None, 500).await.unwrap();

    assert!(page.changes.is_empty());
    assert_eq!(page.next_page_token, None);
    assert_eq!(page.history_id, "1234600");
    let sent = requests(&server).await;
    assert_eq!(
        query_values(&sent[0], "historyTypes"),
        [
            "messageAdded",
            "messageDeleted",
            "labelAdded",
            "labelRemoved"
        ]
    );
}

#[tokio::test]
async fn history_without_records_has_no_history_field() {
    // Gmail leaves `history` out when nothing changed.
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"historyId": "99"})))
        .mount(&server)
        .await;

    let page = gmail.history("90", None, 100).await.unwrap();

    assert!(page.changes.is_empty());
    assert_eq!(page.history_id, "99");
}

#[tokio::test]
async fn history_pages_follow_the_page_token() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .and(query_param_is_missing("pageToken"))
        .respond_with(history_page(
            vec![record(
                "101",
                "messagesAdded",
                vec![added("m1", &["INBOX", "UNREAD"])],
            )],
            Some("page-2-token/+="),
            "200",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .and(query_param("startHistoryId", "100"))
        .and(query_param("pageToken", "page-2-token/+="))
        .respond_with(history_page(
            vec![record("150", "messagesAdded", vec![added("m2", &["SENT"])])],
            None,
            "200",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let first = gmail.history("100", None, 1).await.unwrap();
    let token = first.next_page_token.clone().unwrap();
    let second = gmail.history("100", Some(&token), 1).await.unwrap();

    assert_eq!(token, "page-2-token/+=");
    assert_eq!(first.changes[0].id(), "m1");
    assert_eq!(
        second.changes,
        [HistoryChange::Added {
            id: "m2".into(),
            thread_id: "t-m2".into(),
            label_ids: strings(&["SENT"])
        }]
    );
    assert_eq!(second.next_page_token, None);
    assert_eq!(
        query_values(&requests(&server).await[0], "maxResults"),
        ["1"]
    );
}

#[tokio::test]
async fn history_reads_the_three_record_types() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(history_page(
            vec![
                record(
                    "101",
                    "messagesAdded",
                    vec![added("new", &["INBOX", "UNREAD"])],
                ),
                record("102", "labelsAdded", vec![labels_added("old", &["TRASH"])]),
                record("103", "messagesDeleted", vec![added("purged", &[])]),
            ],
            None,
            "103",
        ))
        .mount(&server)
        .await;

    let page = gmail.history("100", None, 500).await.unwrap();

    assert_eq!(
        page.changes,
        [
            HistoryChange::Added {
                id: "new".into(),
                thread_id: "t-new".into(),
                label_ids: strings(&["INBOX", "UNREAD"])
            },
            HistoryChange::Labels {
                id: "old".into(),
                added: strings(&["TRASH"]),
                removed: vec![],
            },
            HistoryChange::Deleted {
                id: "purged".into()
            },
        ]
    );
}

#[tokio::test]
async fn records_of_one_message_collapse_to_its_last_meaningful_change() {
    // GIVEN a page where one message is added then labelled, a draft is added then
    // deleted, another message is labelled twice, and an addition is replayed
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(history_page(
            vec![
                record(
                    "101",
                    "messagesAdded",
                    vec![added("a", &["INBOX", "UNREAD"])],
                ),
                record("102", "messagesAdded", vec![added("draft", &["DRAFT"])]),
                record("103", "labelsAdded", vec![labels_added("b", &["STARRED"])]),
                record(
                    "104",
                    "labelsAdded",
                    vec![labels_added("a", &["IMPORTANT"])],
                ),
                record("105", "messagesDeleted", vec![added("draft", &["DRAFT"])]),
                record("106", "labelsAdded", vec![labels_added("b", &["TRASH"])]),
                record(
                    "107",
                    "messagesAdded",
                    vec![added("a", &["INBOX", "UNREAD"])],
                ),
            ],
            None,
            "107",
        ))
        .mount(&server)
        .await;

    // WHEN the page is read
    let page = gmail.history("100", None, 500).await.unwrap();

    // THEN there is one change per message, in order of first appearance
    assert_eq!(
        page.changes,
        [
            HistoryChange::Added {
                id: "a".into(),
                thread_id: "t-a".into(),
                label_ids: strings(&["INBOX", "UNREAD", "IMPORTANT"])
            },
            HistoryChange::Deleted { id: "draft".into() },
            HistoryChange::Labels {
                id: "b".into(),
                added: strings(&["STARRED", "TRASH"]),
                removed: vec![],
            },
        ]
    );
}

#[tokio::test]
async fn history_404_means_the_start_id_expired() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;

    let err = gmail.history("1", None, 500).await.unwrap_err();

    match err {
        HistoryError::Expired { source } => assert_eq!(source.status(), Some(404)),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn other_history_errors_are_api_errors() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "code": 401, "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED"
        }})))
        .expect(1)
        .mount(&server)
        .await;

    let err = gmail.history("1", None, 500).await.unwrap_err();

    assert!(
        matches!(&err, HistoryError::Api(ApiError::Status { status: 401, code: Some(c), .. }) if c == "UNAUTHENTICATED"),
        "{err:?}"
    );
}

// ---- messages.list ----

#[tokio::test]
async fn list_messages_sends_query_labels_and_page_token() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/messages"))
        .and(bearer_token(TOKEN))
        .and(query_param("q", "after:2025/03/02"))
        .and(query_param("maxResults", "500"))
        .and(query_param("pageToken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [
                {"id": "18c5a1b2c3d4e5f6", "threadId": "18c5a1b2c3d4e5f0"},
                {"id": "18c5a1b2c3d4e5f7", "threadId": "18c5a1b2c3d4e5f7"}
            ],
            "nextPageToken": "p3",
            "resultSizeEstimate": 2
        })))
        .expect(1)
        .mount(&server)
        .await;

    let list = gmail
        .list_messages(
            Some("after:2025/03/02"),
            &["INBOX", "UNREAD"],
            Some("p2"),
            900,
        )
        .await
        .unwrap();

    assert_eq!(
        list,
        MessageList {
            messages: vec![
                MessageRef {
                    id: "18c5a1b2c3d4e5f6".into(),
                    thread_id: "18c5a1b2c3d4e5f0".into()
                },
                MessageRef {
                    id: "18c5a1b2c3d4e5f7".into(),
                    thread_id: "18c5a1b2c3d4e5f7".into()
                },
            ],
            next_page_token: Some("p3".into()),
        }
    );
    let sent = requests(&server).await;
    assert_eq!(query_values(&sent[0], "labelIds"), ["INBOX", "UNREAD"]);
}

#[tokio::test]
async fn an_empty_listing_has_no_messages_field() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/messages"))
        .and(query_param_is_missing("q"))
        .and(query_param_is_missing("labelIds"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"resultSizeEstimate": 0})))
        .expect(1)
        .mount(&server)
        .await;

    let list = gmail.list_messages(None, &[], None, 100).await.unwrap();

    assert!(list.messages.is_empty());
    assert_eq!(list.next_page_token, None);
}

// ---- messages.get, format=metadata ----

#[tokio::test]
async fn message_metadata_asks_for_the_headers_and_reads_labels_date_and_headers() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/messages/18c5a1b2c3d4e5f6"))
        .and(bearer_token(TOKEN))
        .and(query_param("format", "metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "18c5a1b2c3d4e5f6",
            "threadId": "18c5a1b2c3d4e5f0",
            "labelIds": ["INBOX", "UNREAD", "CATEGORY_PERSONAL"],
            "snippet": "Thanks for the call yesterday",
            "historyId": "1234590",
            "sizeEstimate": 5120,
            "internalDate": "1741000500000",
            "payload": {
                "partId": "",
                "mimeType": "multipart/alternative",
                "filename": "",
                "headers": [
                    {"name": "From", "value": "Jane Doe <jane@example.org>"},
                    {"name": "To", "value": "Adele Vance <adelev@corp.example>"},
                    {"name": "to", "value": "hiring@corp.example"},
                    {"name": "Subject", "value": "Senior engineer role"},
                    {"name": "Date", "value": "Mon, 3 Mar 2025 11:15:00 +0000"},
                    {"name": "Message-ID", "value": "<CAF1x=abc@mail.example.org>"}
                ]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let message = gmail
        .message_metadata("18c5a1b2c3d4e5f6")
        .await
        .unwrap()
        .unwrap();

    assert_eq!(message.id, "18c5a1b2c3d4e5f6");
    assert_eq!(message.thread_id, "18c5a1b2c3d4e5f0");
    assert_eq!(
        message.label_ids,
        strings(&["INBOX", "UNREAD", "CATEGORY_PERSONAL"])
    );
    assert_eq!(
        message.internal_date,
        Timestamp::from_millisecond(1_741_000_500_000).unwrap()
    );
    assert_eq!(message.history_id.as_deref(), Some("1234590"));
    assert_eq!(message.headers.len(), 6);
    // Case-insensitive, duplicates kept in order.
    assert_eq!(
        message.header("TO"),
        ["Adele Vance <adelev@corp.example>", "hiring@corp.example"]
    );
    assert_eq!(
        message.header("message-id"),
        ["<CAF1x=abc@mail.example.org>"]
    );
    assert!(message.header("Cc").is_empty());
    let sent = requests(&server).await;
    assert_eq!(
        query_values(&sent[0], "metadataHeaders"),
        ["From", "To", "Cc", "Bcc", "Date", "Message-ID", "Subject"]
    );
    assert_eq!(METADATA_HEADERS.len(), 7);
}

#[tokio::test]
async fn a_deleted_message_reads_as_none() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/messages/gone"))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(gmail.message_metadata("gone").await.unwrap(), None);
}

#[tokio::test]
async fn other_metadata_errors_are_returned() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path("/gmail/v1/users/me/messages/m1"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;

    let err = gmail.message_metadata("m1").await.unwrap_err();

    assert!(
        matches!(&err, ApiError::Status { status: 403, reason: Some(r), .. } if r == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_throttled_history_call_is_retried() {
    let (server, gmail) = gmail().await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HISTORY))
        .respond_with(history_page(vec![], None, "5"))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(gmail.history("4", None, 500).await.unwrap().history_id, "5");
}
