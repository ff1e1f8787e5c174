//! The Graph adapter: every kept folder with its cursor, removals read again, expired
//! cursors, a message read again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hiresync_domain::connection::Cursor;
use hiresync_domain::contract::Provider;
use hiresync_domain::mail::Direction;
use hiresync_domain::ports::{CursorUpdate, MailChange, MailItem};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn recipient(a: &str) -> Value {
    json!({"emailAddress": {"name": a, "address": a}})
}

fn graph_message(id: &str, from: &str, at: &str, folder: &str) -> Value {
    json!({
        "id": id, "conversationId": format!("c-{id}"), "internetMessageId": format!("<{id}@x>"),
        "from": recipient(from), "sender": recipient(from),
        "toRecipients": [recipient(if from == OWNER { "jane@cand.example" } else { OWNER })],
        "ccRecipients": [], "bccRecipients": [],
        "receivedDateTime": at, "sentDateTime": at, "parentFolderId": folder,
        "subject": "Hello", "isDraft": false
    })
}

fn delta(server: &MockServer, folder: &str, items: Vec<Value>, token: &str) -> Value {
    json!({
        "value": items,
        "@odata.deltaLink": format!("{}/graph/me/mailFolders/{folder}/messages/delta?$deltatoken={token}", server.uri())
    })
}

/// Every well-known folder answers by name with the id `<name>-id`.
async fn well_known_folders(server: &MockServer) {
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/graph/me/mailFolders/[a-z]+$",
        ))
        .respond_with(|r: &wiremock::Request| {
            let name = r.url.path().rsplit('/').next().unwrap_or_default();
            ok(json!({"id": format!("{name}-id")}))
        })
        .mount(server)
        .await;
}

fn folder(id: &str, children: u32) -> Value {
    json!({"id": id, "displayName": id, "childFolderCount": children})
}

#[tokio::test]
async fn graph_walks_inbox_sent_items_then_every_other_kept_folder_each_with_its_cursor() {
    let (server, mut mailbox) = open(Provider::Microsoft365).await;
    well_known_folders(&server).await;
    // The root's folders, on two pages, then the archive's child folder.
    let second_page = format!("{}/graph/me/mailFolders?$skiptoken=2", server.uri());
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders"))
        .and(query_param("$skiptoken", "2"))
        .respond_with(ok(json!({"value": [
            folder("junkemail-id", 0),
            folder("archive-id", 1),
            folder("drafts-id", 0),
        ]})))
        .mount(&server)
        .await;
    get(
        &server,
        "/graph/me/mailFolders",
        ok(json!({"value": [
            folder("inbox-id", 0),
            folder("sentitems-id", 0),
            folder("deleteditems-id", 2),
        ], "@odata.nextLink": second_page})),
    )
    .await;
    get(
        &server,
        "/graph/me/mailFolders/archive-id/childFolders",
        ok(json!({"value": [folder("projects-id", 0)]})),
    )
    .await;
    let inbox = delta(
        &server,
        "inbox",
        vec![
            graph_message(
                "m-old",
                "jane@cand.example",
                "2026-02-01T10:00:00Z",
                "inbox-id",
            ),
            json!({"id": "m-gone", "@removed": {"reason": "deleted"}}),
            json!({"id": "m-moved", "@removed": {"reason": "changed"}}),
            json!({"id": "m-junked", "@removed": {"reason": "changed"}}),
            graph_message(
                "m-new",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
                "inbox-id",
            ),
        ],
        "inbox-1",
    );
    get(
        &server,
        "/graph/me/mailFolders/inbox/messages/delta",
        ok(inbox),
    )
    .await;
    let sent = delta(
        &server,
        "sentitems",
        vec![
            graph_message("m-sent", OWNER, "2026-02-21T10:00:00Z", "sentitems-id"),
            graph_message(
                "m-sent-as-team",
                "talent@acme.example",
                "2026-02-20T09:00:00Z",
                "sentitems-id",
            ),
        ],
        "sent-1",
    );
    get(
        &server,
        "/graph/me/mailFolders/sentitems/messages/delta",
        ok(sent),
    )
    .await;
    let moved = graph_message(
        "m-moved",
        "jane@cand.example",
        "2026-02-02T10:00:00Z",
        "archive-id",
    );
    let archive = delta(&server, "archive-id", vec![moved.clone()], "archive-1");
    get(
        &server,
        "/graph/me/mailFolders/archive-id/messages/delta",
        ok(archive),
    )
    .await;
    let projects = delta(
        &server,
        "projects-id",
        vec![graph_message(
            "m-filed",
            "jane@cand.example",
            "2026-02-03T10:00:00Z",
            "projects-id",
        )],
        "projects-1",
    );
    get(
        &server,
        "/graph/me/mailFolders/projects-id/messages/delta",
        ok(projects),
    )
    .await;
    get(&server, "/graph/me/messages/m-gone", not_found()).await;
    get(&server, "/graph/me/messages/m-moved", ok(moved)).await;
    get(
        &server,
        "/graph/me/messages/m-junked",
        ok(graph_message(
            "m-junked",
            "jane@cand.example",
            "2026-02-04T10:00:00Z",
            "junkemail-id",
        )),
    )
    .await;

    // GIVEN the cursors an earlier version left (a Deleted Items stream), and a folder
    // that is gone
    let mut cursors = Cursor::default();
    cursors.0.insert("graph_deleteditems".into(), "old".into());
    cursors
        .0
        .insert("graph_folder_gone-id".into(), "old".into());
    let known = step(mailbox.as_mut(), &mut cursors).await;
    assert!(
        !known.read && !known.done,
        "the well-known ids, stored first"
    );
    let well_known = &cursors.0["graph_well_known"];
    assert!(well_known.contains("inbox=inbox-id") && well_known.contains("junkemail=junkemail-id"));
    let first = step(mailbox.as_mut(), &mut cursors).await;
    assert!(first.read && !first.done);
    assert_eq!(
        ids(&first),
        ["m-new", "m-old", "-m-gone", "-m-junked"],
        "newest first; a move to a kept folder is no delete, a move to junk is"
    );
    let second = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(ids(&second), ["m-sent", "m-sent-as-team"]);
    for change in &second.changes {
        let MailChange::Message(MailItem::Conversation(m)) = change else {
            panic!("a conversation");
        };
        assert_eq!(
            m.direction,
            Direction::Sent,
            "in Sent Items, from whichever address"
        );
    }
    let third = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(ids(&third), ["m-moved"], "the archive is followed");
    let fourth = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(ids(&fourth), ["m-filed"], "and the folders inside it");
    assert!(fourth.done);
    let keys: Vec<&String> = cursors.0.keys().collect();
    assert_eq!(
        keys,
        [
            "graph_folder_archive-id",
            "graph_folder_projects-id",
            "graph_inbox",
            "graph_sentitems",
            "graph_well_known"
        ],
        "the retired and the gone folders' cursors are dropped"
    );
    assert!(cursors.0["graph_inbox"].ends_with("$deltatoken=inbox-1"));
    // The first round of a folder is bounded by the lookback start; nothing reads the bin,
    // junk or drafts.
    let requests = server.received_requests().await.unwrap();
    let first_round = requests
        .iter()
        .find(|r| r.url.path() == "/graph/me/mailFolders/inbox/messages/delta")
        .unwrap();
    assert!(first_round
        .url
        .query()
        .unwrap()
        .contains("receivedDateTime"));
    for skipped in ["deleteditems", "junkemail", "drafts"] {
        assert!(
            !requests
                .iter()
                .any(|r| r.url.path().contains(&format!("{skipped}-id/"))),
            "{skipped} is not read"
        );
    }
}

#[tokio::test]
async fn graph_reads_the_well_known_folders_once_per_connection() {
    let (server, mut mailbox) = open(Provider::Microsoft365).await;
    well_known_folders(&server).await;
    get(
        &server,
        "/graph/me/mailFolders",
        ok(json!({"value": [folder("inbox-id", 0), folder("sentitems-id", 0)]})),
    )
    .await;
    for name in ["inbox", "sentitems"] {
        get(
            &server,
            &format!("/graph/me/mailFolders/{name}/messages/delta"),
            ok(delta(&server, name, vec![], "d")),
        )
        .await;
    }
    let mut cursors = Cursor::default();
    cursors.0.insert(
        "graph_well_known".into(),
        "inbox=inbox-id sentitems=sentitems-id deleteditems=deleteditems-id".into(),
    );
    let first = step(mailbox.as_mut(), &mut cursors).await;
    assert!(first.read, "straight to the folders");
    let requests = server.received_requests().await.unwrap();
    assert!(!requests
        .iter()
        .any(|r| r.url.path() == "/graph/me/mailFolders/deleteditems"));
}

#[tokio::test]
async fn graph_drops_an_expired_cursor_once_and_enumerates_the_folder_again() {
    let (server, mut mailbox) = open(Provider::Microsoft365).await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$deltatoken", "stale"))
        .respond_with(
            ResponseTemplate::new(410)
                .set_body_json(json!({"error": {"code": "syncStateNotFound", "message": "gone"}})),
        )
        .mount(&server)
        .await;
    let stale = format!(
        "{}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=stale",
        server.uri()
    );
    // The new round goes on at a link that has expired too.
    get(
        &server,
        "/graph/me/mailFolders/inbox/messages/delta",
        ok(json!({"value": [], "@odata.nextLink": stale})),
    )
    .await;
    get(
        &server,
        "/graph/me/mailFolders",
        ok(json!({"value": [folder("inbox-id", 0)]})),
    )
    .await;
    let mut cursors = Cursor::default();
    cursors.0.insert("graph_inbox".into(), stale);
    cursors
        .0
        .insert("graph_well_known".into(), "inbox=inbox-id".into());

    let dropped = step(mailbox.as_mut(), &mut cursors).await;
    assert!(!dropped.read, "no page was read");
    assert_eq!(dropped.cursor, [CursorUpdate::remove("graph_inbox")]);
    assert_eq!(dropped.resync.as_ref().unwrap().stream, "graph_inbox");
    let again = step(mailbox.as_mut(), &mut cursors).await;
    assert!(again.read && again.resync.is_none() && !again.done);
    let requests: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/delta"))
        .collect();
    assert!(requests[1]
        .url
        .query()
        .unwrap()
        .contains("receivedDateTime"));
    // A second unusable cursor in the same folder and job is a failure, not another resync.
    let failed = mailbox
        .next_page(&cursors, lookback(), 50)
        .await
        .err()
        .unwrap();
    assert_eq!(failed.operation, "graph delta");
}

#[tokio::test]
async fn graph_reads_a_message_again_as_the_sync_judges_it() {
    let (server, mut mailbox) = open(Provider::Microsoft365).await;
    get(
        &server,
        "/graph/me/mailFolders/deleteditems",
        ok(json!({"id": "bin-id"})),
    )
    .await;
    get(
        &server,
        "/graph/me/messages/m-1",
        ok(graph_message(
            "m-1",
            "jane@cand.example",
            "2026-02-01T10:00:00Z",
            "inbox-id",
        )),
    )
    .await;
    get(
        &server,
        "/graph/me/messages/m-binned",
        ok(graph_message(
            "m-binned",
            "jane@cand.example",
            "2026-02-01T10:00:00Z",
            "bin-id",
        )),
    )
    .await;
    let mut draft = graph_message("m-draft", OWNER, "2026-02-01T10:00:00Z", "drafts-id");
    draft["isDraft"] = json!(true);
    get(&server, "/graph/me/messages/m-draft", ok(draft)).await;
    let mut nameless = graph_message(
        "m-nameless",
        "jane@cand.example",
        "2026-02-01T10:00:00Z",
        "inbox-id",
    );
    nameless["from"] = Value::Null;
    nameless["sender"] = Value::Null;
    get(&server, "/graph/me/messages/m-nameless", ok(nameless)).await;
    get(&server, "/graph/me/messages/m-gone", not_found()).await;

    let Some(MailItem::Conversation(m)) = mailbox.refetch("m-1").await.unwrap() else {
        panic!("a conversation");
    };
    assert_eq!(m.facts.thread_id, "c-m-1");
    assert_eq!(m.direction, Direction::Received);
    assert_eq!(m.internet_message_id.as_deref(), Some("<m-1@x>"));
    assert_eq!(
        mailbox.refetch("m-binned").await.unwrap(),
        Some(MailItem::NotConversation)
    );
    assert_eq!(
        mailbox.refetch("m-draft").await.unwrap(),
        Some(MailItem::NotConversation)
    );
    assert_eq!(
        mailbox.refetch("m-nameless").await.unwrap(),
        Some(MailItem::Unreadable { code: "no_sender" })
    );
    assert_eq!(mailbox.refetch("m-gone").await.unwrap(), None);
    let reads = |requests: Vec<wiremock::Request>| {
        requests
            .iter()
            .filter(|r| r.url.path() == "/graph/me/mailFolders/deleteditems")
            .count()
    };
    assert_eq!(
        reads(server.received_requests().await.unwrap()),
        1,
        "the left-out folders' ids are read once for all the reads"
    );

    // The same reader then walks the folders as usual: reading again changed nothing of
    // where it is.
    get(
        &server,
        "/graph/me/mailFolders",
        ok(json!({"value": [folder("inbox-id", 0)]})),
    )
    .await;
    get(
        &server,
        "/graph/me/mailFolders/inbox/messages/delta",
        ok(delta(&server, "inbox", vec![], "d")),
    )
    .await;
    let mut cursors = Cursor::default();
    cursors
        .0
        .insert("graph_well_known".into(), "inbox=inbox-id".into());
    let page = step(mailbox.as_mut(), &mut cursors).await;
    assert!(page.read, "{page:?}");
}
