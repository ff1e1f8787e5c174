//! Graph mail delta against a stub speaking the documented shapes (protocols.md §1.8-1.10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{api, requests, TOKEN};
use hiresync_providers::graph_delta::{
    removal_is_delete, DEFAULT_PAGE_SIZE, MESSAGE_SELECT, REMOVED_CHANGED, REMOVED_DELETED,
};
use hiresync_providers::{
    ApiError, DeltaError, DeltaItem, DeltaNext, DeltaPage, DeltaStart, GraphClient, GraphMessage,
    Recipient, WellKnownFolder,
};
use jiff::Timestamp;
use serde_json::{json, Value};
use wiremock::matchers::{
    bearer_token, header, headers, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IMMUTABLE: &str = "IdType=\"ImmutableId\"";
const INBOX_ID: &str = "AQMkADNkNAAAgEMAAAA";
const DELETED_ITEMS_ID: &str = "AQMkADNkNAAAgEKAAAA";
const ARCHIVE_ID: &str = "AQMkADNkNAAAgFBAAAA";
const INBOX_DELTA: &str = "/v1.0/me/mailFolders/inbox/messages/delta";
/// Where Graph's links point (the folder by id, as Graph writes them).
const LINK_PATH: &str = "/v1.0/me/mailfolders('AQMkADNkNAAAgEMAAAA')/messages/delta";

async fn graph() -> (MockServer, GraphClient) {
    let server = MockServer::start().await;
    let client = GraphClient::new(api(), &format!("{}/v1.0", server.uri())).unwrap();
    (server, client)
}

fn inbox(received_since: Option<Timestamp>) -> DeltaStart {
    DeltaStart::Folder {
        folder: WellKnownFolder::Inbox,
        received_since,
    }
}

fn next_link(server: &MockServer, skiptoken: &str) -> String {
    format!("{}{LINK_PATH}?$skiptoken={skiptoken}", server.uri())
}

fn delta_link(server: &MockServer, deltatoken: &str) -> String {
    format!("{}{LINK_PATH}?$deltatoken={deltatoken}", server.uri())
}

fn address(name: &str, address: &str) -> Value {
    json!({"emailAddress": {"name": name, "address": address}})
}

/// A message as the delta returns it with our `$select`.
fn message_json(id: &str, subject: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": "W/\"CQAAABYAAAARn2vdzPHlRo9H7tRQHNUZAAAUvGhy\"",
        "id": id,
        "conversationId": "AAQkADNkNAAAQAE2sQs9y8jRJuP9c4E4yo=",
        "internetMessageId": "<CAF1x=abc@mail.example.org>",
        "from": address("Jane Doe", "jane@example.org"),
        "sender": address("Jane Doe", "jane@example.org"),
        "toRecipients": [address("Adele Vance", "AdeleV@contoso.com")],
        "ccRecipients": [address("Alex Wilber", "AlexW@contoso.com"), address("Hiring", "hiring@contoso.com")],
        "bccRecipients": [],
        "receivedDateTime": "2025-03-03T09:15:00Z",
        "sentDateTime": "2025-03-03T09:14:58Z",
        "parentFolderId": INBOX_ID,
        "subject": subject,
        "isDraft": false
    })
}

fn removed_json(id: &str, reason: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.message", "id": id, "@removed": {"reason": reason}})
}

fn page(value: Vec<Value>, next: DeltaNext) -> ResponseTemplate {
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(message)",
        "value": value
    });
    match next {
        DeltaNext::More(link) => body["@odata.nextLink"] = json!(link),
        DeltaNext::Done(link) => body["@odata.deltaLink"] = json!(link),
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn graph_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "code": code,
        "message": message,
        "innerError": {"date": "2026-01-05T10:00:00", "request-id": "6f7c", "client-request-id": "6f7c"}
    }}))
}

fn changed(page: &DeltaPage) -> Vec<&GraphMessage> {
    page.items
        .iter()
        .filter_map(|item| match item {
            DeltaItem::Changed(m) => Some(m),
            DeltaItem::Removed { .. } => None,
        })
        .collect()
}

/// The one `Prefer` header a delta request carries.
fn prefer_of(request: &wiremock::Request) -> Vec<String> {
    request
        .headers
        .get_all("prefer")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_first_round_selects_metadata_filters_by_date_and_sends_both_preferences() {
    let (server, graph) = graph().await;
    let done = delta_link(&server, "first-round-done");
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .and(query_param("$select", MESSAGE_SELECT))
        .and(query_param(
            "$filter",
            "receivedDateTime ge 2025-03-02T00:00:00Z",
        ))
        .and(bearer_token(TOKEN))
        .and(headers("Prefer", vec![IMMUTABLE, "odata.maxpagesize=50"]))
        .respond_with(page(
            vec![message_json(
                "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AnMdP0zg8UkOd5wSvvxvtPgAAAAAhGgAA",
                "Senior engineer role",
            )],
            DeltaNext::Done(done.clone()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let since: Timestamp = "2025-03-02T00:00:00Z".parse().unwrap();

    let page = graph
        .messages_delta(inbox(Some(since)), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();

    assert_eq!(page.next, DeltaNext::Done(done));
    assert_eq!(
        page.items,
        vec![DeltaItem::Changed(GraphMessage {
            id: "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AnMdP0zg8UkOd5wSvvxvtPgAAAAAhGgAA".into(),
            conversation_id: "AAQkADNkNAAAQAE2sQs9y8jRJuP9c4E4yo=".into(),
            internet_message_id: Some("<CAF1x=abc@mail.example.org>".into()),
            from: Some(Recipient {
                name: Some("Jane Doe".into()),
                address: "jane@example.org".into()
            }),
            sender: Some(Recipient {
                name: Some("Jane Doe".into()),
                address: "jane@example.org".into()
            }),
            to: vec![Recipient {
                name: Some("Adele Vance".into()),
                address: "AdeleV@contoso.com".into()
            }],
            cc: vec![
                Recipient {
                    name: Some("Alex Wilber".into()),
                    address: "AlexW@contoso.com".into()
                },
                Recipient {
                    name: Some("Hiring".into()),
                    address: "hiring@contoso.com".into()
                }
            ],
            bcc: vec![],
            received_at: Some("2025-03-03T09:15:00Z".parse().unwrap()),
            sent_at: Some("2025-03-03T09:14:58Z".parse().unwrap()),
            parent_folder_id: Some(INBOX_ID.into()),
            subject: Some("Senior engineer role".into()),
            is_draft: false,
        })]
    );
    let sent = requests(&server).await;
    // Both preferences in one header, comma-separated (RFC 7240).
    assert_eq!(
        prefer_of(&sent[0]),
        ["IdType=\"ImmutableId\", odata.maxpagesize=50"]
    );
    // No body field is ever asked for.
    assert!(!MESSAGE_SELECT.contains("body"));
}

#[tokio::test]
async fn sent_items_without_a_date_is_not_filtered() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailFolders/sentitems/messages/delta"))
        .and(query_param("$select", MESSAGE_SELECT))
        .and(query_param_is_missing("$filter"))
        .and(headers("Prefer", vec![IMMUTABLE, "odata.maxpagesize=10"]))
        .respond_with(page(vec![], DeltaNext::Done(delta_link(&server, "d0"))))
        .expect(1)
        .mount(&server)
        .await;

    let page = graph
        .messages_delta(
            DeltaStart::Folder {
                folder: WellKnownFolder::SentItems,
                received_since: None,
            },
            10,
        )
        .await
        .unwrap();

    assert!(page.items.is_empty());
}

#[tokio::test]
async fn deleted_items_is_read_by_its_well_known_name_with_the_same_filter() {
    let (server, graph) = graph().await;
    let mut binned = message_json("m-binned", "Senior engineer role");
    binned["parentFolderId"] = json!(DELETED_ITEMS_ID);
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailFolders/deleteditems/messages/delta"))
        .and(query_param("$select", MESSAGE_SELECT))
        .and(query_param(
            "$filter",
            "receivedDateTime ge 2025-03-02T00:00:00Z",
        ))
        .and(headers("Prefer", vec![IMMUTABLE, "odata.maxpagesize=10"]))
        .respond_with(page(
            vec![binned],
            DeltaNext::Done(delta_link(&server, "d0")),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let page = graph
        .messages_delta(
            DeltaStart::Folder {
                folder: WellKnownFolder::DeletedItems,
                received_since: Some("2025-03-02T00:00:00Z".parse().unwrap()),
            },
            10,
        )
        .await
        .unwrap();

    assert_eq!(changed(&page)[0].id, "m-binned");
}

#[tokio::test]
async fn a_round_follows_the_next_link_then_hands_over_the_delta_link() {
    // GIVEN a first page that has more to come, and a second page that ends the round
    let (server, graph) = graph().await;
    let more = next_link(&server, "GwcBoTmPuoTQWfcsAbkYM");
    let done = delta_link(&server, "GwcBoTmPuoGNxs5kKpmZM");
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .respond_with(page(
            vec![message_json("m1", "first")],
            DeltaNext::More(more.clone()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(LINK_PATH))
        .and(query_param("$skiptoken", "GwcBoTmPuoTQWfcsAbkYM"))
        .and(bearer_token(TOKEN))
        .and(headers("Prefer", vec![IMMUTABLE, "odata.maxpagesize=50"]))
        .respond_with(page(
            vec![message_json("m2", "second")],
            DeltaNext::Done(done.clone()),
        ))
        .expect(1)
        .mount(&server)
        .await;

    // WHEN the worker follows the round
    let first = graph
        .messages_delta(inbox(None), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();
    let DeltaNext::More(link) = first.next.clone() else {
        panic!("expected a next link, got {:?}", first.next);
    };
    let second = graph
        .messages_delta(DeltaStart::Link(link), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();

    // THEN it gets both pages, and the delta link to store
    assert_eq!(first.next, DeltaNext::More(more));
    assert_eq!(changed(&first)[0].id, "m1");
    assert_eq!(changed(&second)[0].id, "m2");
    assert_eq!(second.next, DeltaNext::Done(done.clone()));
    assert_eq!(second.next.link(), done);
}

#[tokio::test]
async fn removed_items_carry_their_reason() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .respond_with(page(
            vec![
                removed_json("gone-1", "deleted"),
                message_json("m1", "kept"),
                removed_json("moved-1", "changed"),
            ],
            DeltaNext::Done(delta_link(&server, "d1")),
        ))
        .mount(&server)
        .await;

    let page = graph
        .messages_delta(inbox(None), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();

    assert_eq!(page.items.len(), 3);
    assert_eq!(
        page.items[0],
        DeltaItem::Removed {
            id: "gone-1".into(),
            reason: REMOVED_DELETED.into()
        }
    );
    assert!(matches!(&page.items[1], DeltaItem::Changed(m) if m.id == "m1"));
    assert_eq!(
        page.items[2],
        DeltaItem::Removed {
            id: "moved-1".into(),
            reason: REMOVED_CHANGED.into()
        }
    );
}

#[tokio::test]
async fn a_replayed_item_is_returned_each_time_for_the_worker_to_merge() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .respond_with(page(
            vec![
                message_json("m1", "Interview"),
                message_json("m2", "Other"),
                message_json("m1", "Interview (updated)"),
            ],
            DeltaNext::Done(delta_link(&server, "d1")),
        ))
        .mount(&server)
        .await;

    let page = graph
        .messages_delta(inbox(None), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();

    let ids: Vec<_> = changed(&page).iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m1"]);
    assert_eq!(
        changed(&page)[2].subject.as_deref(),
        Some("Interview (updated)")
    );
}

#[tokio::test]
async fn a_stored_link_is_called_verbatim() {
    // GIVEN a stored delta link whose query carries Graph's own options and encoding
    let (server, graph) = graph().await;
    let query = "$deltatoken=LztZwWjo5IivWBhyxw5rACKxf7mPm0oW6JZZ7fvKxYPS_67JnEYmfQQMPccy6FRun0DWJF5775dvuXxlZnMYhBubC1v4SBVT9ZjO8f7acZI%3d&$select=id%2cisDraft";
    let link = format!("{}{LINK_PATH}?{query}", server.uri());
    Mock::given(method("GET"))
        .and(path(LINK_PATH))
        .and(headers("Prefer", vec![IMMUTABLE, "odata.maxpagesize=25"]))
        .respond_with(page(vec![], DeltaNext::Done(link.clone())))
        .expect(1)
        .mount(&server)
        .await;

    // WHEN it is called
    let page = graph
        .messages_delta(DeltaStart::Link(link.clone()), 25)
        .await
        .unwrap();

    // THEN the request went out exactly as written: no parameter added, re-encoded or removed
    let sent = requests(&server).await;
    assert_eq!(sent[0].url.path(), LINK_PATH);
    assert_eq!(sent[0].url.query(), Some(query));
    assert_eq!(page.next, DeltaNext::Done(link));
}

#[tokio::test]
async fn a_link_to_another_origin_is_refused_and_no_token_leaves() {
    let (server, graph) = graph().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(page(vec![], DeltaNext::Done("x".into())))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let http_not_https = server.uri().replace("http://", "https://");

    for link in [
        format!("{}{LINK_PATH}?$deltatoken=abc", elsewhere.uri()),
        format!("https://graph.evil.example{LINK_PATH}?$deltatoken=abc"),
        format!("{http_not_https}{LINK_PATH}?$deltatoken=abc"),
        format!("{LINK_PATH}?$deltatoken=abc"),
        "not a url".to_owned(),
    ] {
        let err = graph
            .messages_delta(DeltaStart::Link(link.clone()), DEFAULT_PAGE_SIZE)
            .await
            .unwrap_err();
        assert!(matches!(err, DeltaError::ForeignLink), "{link}: {err:?}");
        assert!(!err.to_string().contains("deltatoken"), "{err}");
    }
    assert!(requests(&server).await.is_empty());
    assert!(requests(&elsewhere).await.is_empty());
}

#[tokio::test]
async fn gone_410_means_the_cursor_expired() {
    let (server, graph) = graph().await;
    let link = delta_link(&server, "old");
    Mock::given(method("GET"))
        .and(path(LINK_PATH))
        .respond_with(ResponseTemplate::new(410).insert_header(
            "Location",
            format!("{}{INBOX_DELTA}", server.uri()).as_str(),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = graph
        .messages_delta(DeltaStart::Link(link), DEFAULT_PAGE_SIZE)
        .await
        .unwrap_err();

    match err {
        DeltaError::Expired { source } => assert_eq!(source.status(), Some(410)),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn sync_state_not_found_and_resync_required_mean_the_cursor_expired() {
    for (status, code) in [(400, "syncStateNotFound"), (400, "resyncRequired")] {
        let (server, graph) = graph().await;
        Mock::given(method("GET"))
            .and(path(LINK_PATH))
            .respond_with(graph_error(
                status,
                code,
                "The sync state generation is not found.",
            ))
            .expect(1)
            .mount(&server)
            .await;

        let err = graph
            .messages_delta(
                DeltaStart::Link(delta_link(&server, "old")),
                DEFAULT_PAGE_SIZE,
            )
            .await
            .unwrap_err();

        assert!(
            matches!(&err, DeltaError::Expired { source: ApiError::Status { code: Some(c), .. } } if c == code),
            "{code}: {err:?}"
        );
    }
}

#[tokio::test]
async fn another_client_error_is_not_an_expiry() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .respond_with(graph_error(400, "BadRequest", "Unsupported query option."))
        .expect(1)
        .mount(&server)
        .await;

    let err = graph
        .messages_delta(inbox(None), DEFAULT_PAGE_SIZE)
        .await
        .unwrap_err();

    assert!(
        matches!(&err, DeltaError::Api(e) if e.status() == Some(400)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let (server, graph) = graph().await;
    let link = next_link(&server, "page-2");
    Mock::given(method("GET"))
        .and(path(LINK_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"error": {
                    "code": "ApplicationThrottled",
                    "message": "Application is over its MailboxConcurrency limit."
                }})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(LINK_PATH))
        .respond_with(page(
            vec![message_json("m1", "after throttling")],
            DeltaNext::Done(delta_link(&server, "d")),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let page = graph
        .messages_delta(DeltaStart::Link(link.clone()), DEFAULT_PAGE_SIZE)
        .await
        .unwrap();

    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(changed(&page)[0].id, "m1");
    // The retry calls the same link with the same preferences.
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url, sent[0].url);
    assert_eq!(sent[1].url.query(), Some("$skiptoken=page-2"));
    assert_eq!(prefer_of(&sent[1]), prefer_of(&sent[0]));
}

#[tokio::test]
async fn a_page_without_either_link_is_a_decode_error() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path(INBOX_DELTA))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;

    let err = graph
        .messages_delta(inbox(None), DEFAULT_PAGE_SIZE)
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            DeltaError::Api(ApiError::Decode {
                operation: "graph.messages_delta",
                ..
            })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_well_known_folder_is_read_by_name_and_a_missing_one_is_none() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailFolders/deleteditems"))
        .and(query_param("$select", "id"))
        .and(bearer_token(TOKEN))
        .and(header("Prefer", IMMUTABLE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u1')/mailFolders(id)/$entity",
            "id": DELETED_ITEMS_ID
        })))
        .expect(1)
        .mount(&server)
        .await;

    Mock::given(method("GET"))
        .and(path("/v1.0/me/mailFolders/scheduled"))
        .respond_with(graph_error(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        ))
        .mount(&server)
        .await;

    assert_eq!(
        graph.well_known_folder_id("deleteditems").await.unwrap(),
        Some(DELETED_ITEMS_ID.to_owned())
    );
    assert_eq!(graph.well_known_folder_id("scheduled").await.unwrap(), None);
}

#[tokio::test]
async fn a_changed_removal_is_a_delete_only_if_the_message_is_in_deleted_items_or_gone() {
    // GIVEN three messages that left the Inbox: one now in Deleted Items, one moved to an
    // archive folder, one purged
    let (server, graph) = graph().await;
    for (id, folder) in [("to-bin", DELETED_ITEMS_ID), ("archived", ARCHIVE_ID)] {
        let mut message = message_json(id, "left the inbox");
        message["parentFolderId"] = json!(folder);
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/me/messages/{id}")))
            .and(query_param("$select", MESSAGE_SELECT))
            .and(header("Prefer", IMMUTABLE))
            .respond_with(ResponseTemplate::new(200).set_body_json(message))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v1.0/me/messages/purged"))
        .respond_with(graph_error(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    // WHEN the worker reads each again
    let in_bin = graph.message_metadata("to-bin").await.unwrap();
    let archived = graph.message_metadata("archived").await.unwrap();
    let purged = graph.message_metadata("purged").await.unwrap();

    // THEN only the binned and the purged ones are deletes
    assert!(purged.is_none());
    assert_eq!(
        in_bin.as_ref().unwrap().parent_folder_id.as_deref(),
        Some(DELETED_ITEMS_ID)
    );
    let skipped = std::collections::BTreeSet::from([DELETED_ITEMS_ID.to_owned()]);
    assert!(removal_is_delete(in_bin.as_ref(), &skipped));
    assert!(removal_is_delete(purged.as_ref(), &skipped));
    assert!(!removal_is_delete(archived.as_ref(), &skipped));
}

#[tokio::test]
async fn message_metadata_surfaces_other_errors() {
    let (server, graph) = graph().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/messages/m1"))
        .respond_with(graph_error(403, "ErrorAccessDenied", "Access is denied."))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        graph.message_metadata("m1").await.unwrap_err().status(),
        Some(403)
    );
}
