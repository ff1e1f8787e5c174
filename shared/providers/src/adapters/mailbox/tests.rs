//! The mailbox adapters against a stub speaking Graph's and Gmail's documented shapes: the
//! streams in order, their cursor keys, the steps that only move cursors, what a removal
//! means, and what each message becomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hiresync_domain::connection::Cursor;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::Direction;
use hiresync_domain::ports::{
    ChangePage, CursorUpdate, MailChange, MailItem, MailboxChanges, MailboxSource,
};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::ProviderMailboxes;
use crate::{http_client, RetryPolicy};

const OWNER: &str = "rita@acme.example";

fn lookback() -> Timestamp {
    "2025-03-02T09:00:00Z".parse().unwrap()
}

async fn open(provider: Provider) -> (MockServer, Box<dyn MailboxChanges>) {
    let server = MockServer::start().await;
    let mailboxes = ProviderMailboxes {
        http: http_client().unwrap(),
        graph_base: format!("{}/graph", server.uri()),
        gmail_base: format!("{}/gmail", server.uri()),
        retry: RetryPolicy {
            max_attempts: 1,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
        },
    };
    let mailbox = mailboxes
        .open(
            provider,
            &EmailAddress::parse(OWNER).unwrap(),
            &SecretString::from("access"),
        )
        .unwrap();
    (server, mailbox)
}

async fn get(server: &MockServer, p: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(response)
        .mount(server)
        .await;
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404)
        .set_body_json(json!({"error": {"code": "ErrorItemNotFound", "message": "gone"}}))
}

/// Applies a step's cursor updates, as the sync does once the step's changes are stored.
fn store(cursors: &mut Cursor, page: &ChangePage) {
    for CursorUpdate { key, value } in &page.cursor {
        match value {
            Some(v) => cursors.0.insert(key.clone(), v.clone()),
            None => cursors.0.remove(key),
        };
    }
}

async fn step(mailbox: &mut dyn MailboxChanges, cursors: &mut Cursor) -> ChangePage {
    let page = mailbox.next_page(cursors, lookback(), 50).await.unwrap();
    store(cursors, &page);
    page
}

/// The provider ids of a step's changes, deletes marked with a leading `-`.
fn ids(page: &ChangePage) -> Vec<String> {
    page.changes
        .iter()
        .map(|c| match c {
            MailChange::Message(MailItem::Conversation(m)) => m.facts.provider_id.clone(),
            MailChange::Message(MailItem::NotConversation) => "(not a conversation)".into(),
            MailChange::Message(MailItem::Unreadable { code }) => format!("(unreadable {code})"),
            MailChange::Deleted { provider_id } => format!("-{provider_id}"),
        })
        .collect()
}

// ------------------------------------------------------------------ Graph

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
        vec![graph_message(
            "m-sent",
            OWNER,
            "2026-02-21T10:00:00Z",
            "sentitems-id",
        )],
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
    assert_eq!(ids(&second), ["m-sent"]);
    let MailChange::Message(MailItem::Conversation(m)) = &second.changes[0] else {
        panic!("a conversation");
    };
    assert_eq!(m.direction, Direction::Sent);
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
}

// ------------------------------------------------------------------ Gmail

fn gmail_message(id: &str, from: &str, labels: &[&str]) -> Value {
    json!({
        "id": id, "threadId": format!("t-{id}"), "labelIds": labels, "snippet": "",
        "historyId": "2000", "internalDate": "1771581600000", "sizeEstimate": 1000,
        "payload": {"headers": [
            {"name": "From", "value": from}, {"name": "To", "value": "rita@acme.example"},
            {"name": "Subject", "value": "Hi"}, {"name": "Message-ID", "value": format!(" <{id}@mail.gmail.com> ")}
        ]}
    })
}

#[tokio::test]
async fn gmail_remembers_the_history_id_before_a_full_listing_and_hands_it_over_at_the_end() {
    let (server, mut mailbox) = open(Provider::GoogleWorkspace).await;
    get(
        &server,
        "/gmail/users/me/profile",
        ok(json!({"emailAddress": OWNER, "historyId": "1234"})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages"))
        .and(query_param("pageToken", "p-2"))
        .respond_with(ok(
            json!({"messages": [{"id": "g-2", "threadId": "t-g-2"}]}),
        ))
        .mount(&server)
        .await;
    get(
        &server,
        "/gmail/users/me/messages",
        ok(json!({"messages": [{"id": "g-1", "threadId": "t-g-1"}, {"id": "g-gone", "threadId": "t"}], "nextPageToken": "p-2"})),
    )
    .await;
    get(
        &server,
        "/gmail/users/me/messages/g-1",
        ok(gmail_message("g-1", "Jane <jane@cand.example>", &["INBOX"])),
    )
    .await;
    get(
        &server,
        "/gmail/users/me/messages/g-2",
        ok(gmail_message("g-2", OWNER, &["SENT"])),
    )
    .await;
    get(&server, "/gmail/users/me/messages/g-gone", not_found()).await;

    let mut cursors = Cursor::default();
    let remembered = step(mailbox.as_mut(), &mut cursors).await;
    assert!(!remembered.read && remembered.changes.is_empty());
    assert_eq!(
        remembered.cursor,
        [CursorUpdate::set("gmail_full_history", "1234")]
    );
    let first = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(ids(&first), ["g-1"], "a message gone meanwhile is left out");
    assert_eq!(first.cursor, [CursorUpdate::set("gmail_full_page", "p-2")]);
    let MailChange::Message(MailItem::Conversation(m)) = &first.changes[0] else {
        panic!("a conversation");
    };
    assert_eq!(
        m.internet_message_id.as_deref(),
        Some("<g-1@mail.gmail.com>")
    );
    assert_eq!(m.subject, "Hi");
    let last = step(mailbox.as_mut(), &mut cursors).await;
    assert!(last.done);
    let MailChange::Message(MailItem::Conversation(m)) = &last.changes[0] else {
        panic!("a conversation");
    };
    assert_eq!(m.direction, Direction::Sent, "the SENT label says so");
    assert_eq!(
        cursors.0.into_iter().collect::<Vec<_>>(),
        [("gmail_history".to_owned(), "1234".to_owned())]
    );
    let list = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/gmail/users/me/messages")
        .unwrap();
    // Every label but drafts and chats (spam and the bin are left out by default), from
    // the lookback start in epoch seconds (a second early: `after:` is exclusive).
    let q: Vec<String> = list
        .url
        .query_pairs()
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(q, ["after:1740905999 -in:drafts -in:chats"]);
}

#[tokio::test]
async fn gmail_follows_its_history_and_an_expired_id_starts_a_full_listing() {
    let (server, mut mailbox) = open(Provider::GoogleWorkspace).await;
    let message = |id: &str| json!({"message": {"id": id, "threadId": format!("t-{id}"), "labelIds": ["INBOX"]}});
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/history"))
        .and(query_param("pageToken", "h-2"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}),
        ))
        .mount(&server)
        .await;
    get(
        &server,
        "/gmail/users/me/history",
        ok(json!({
            "history": [
                {"id": "1", "messages": [message("g-new")["message"].clone()], "messagesAdded": [message("g-new")]},
                {"id": "2", "messages": [message("g-draft")["message"].clone()], "messagesAdded": [message("g-draft")]},
                {"id": "3", "messages": [message("g-vanished")["message"].clone()], "messagesAdded": [message("g-vanished")]},
                {"id": "4", "messages": [message("g-purged")["message"].clone()], "messagesDeleted": [message("g-purged")]},
                {"id": "5", "messages": [message("g-binned")["message"].clone()], "labelsAdded": [{"message": message("g-binned")["message"], "labelIds": ["TRASH"]}]}
            ],
            "historyId": "1400",
            "nextPageToken": "h-2"
        })),
    )
    .await;
    get(
        &server,
        "/gmail/users/me/messages/g-new",
        ok(gmail_message("g-new", "jane@cand.example", &["INBOX"])),
    )
    .await;
    get(
        &server,
        "/gmail/users/me/messages/g-draft",
        ok(gmail_message("g-draft", OWNER, &["DRAFT"])),
    )
    .await;
    get(&server, "/gmail/users/me/messages/g-vanished", not_found()).await;

    let mut cursors = Cursor::default();
    cursors.0.insert("gmail_history".into(), "1000".into());
    let first = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(
        ids(&first),
        [
            "g-new",
            "(not a conversation)",
            "-g-vanished",
            "-g-purged",
            "-g-binned"
        ]
    );
    assert!(
        first.cursor.is_empty(),
        "the history cursor moves at its last page only"
    );
    assert!(!first.done);
    // The next page's token is kept in memory; here Gmail forgot the start id meanwhile.
    let expired = step(mailbox.as_mut(), &mut cursors).await;
    assert!(!expired.read);
    assert_eq!(expired.cursor, [CursorUpdate::remove("gmail_history")]);
    assert_eq!(expired.resync.as_ref().unwrap().stream, "gmail_history");
    get(
        &server,
        "/gmail/users/me/profile",
        ok(json!({"emailAddress": OWNER, "historyId": "1500"})),
    )
    .await;
    let remembered = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(
        remembered.cursor,
        [CursorUpdate::set("gmail_full_history", "1500")]
    );
}

/// How long the sandbox holds each message read.
const HELD: Duration = Duration::from_millis(400);

/// Answers each message read after [`HELD`], noting when each request arrived.
struct Slow {
    arrivals: std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
}

impl wiremock::Respond for Slow {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        self.arrivals
            .lock()
            .unwrap()
            .push(std::time::Instant::now());
        let id = request.url.path().rsplit('/').next().unwrap().to_owned();
        ok(gmail_message(&id, "Jane <jane@cand.example>", &["INBOX"])).set_delay(HELD)
    }
}

/// The most requests that arrived within less than [`HELD`] of one another. A request's
/// slot is free again only once its answer came, at least `HELD` after it arrived, so this
/// never exceeds the reads in flight at once, however slow the machine; and reads one
/// after another arrive at least `HELD` apart, so two or more means they overlapped.
fn most_within_held(arrivals: &[std::time::Instant]) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    (0..sorted.len())
        .map(|i| {
            sorted[i..]
                .iter()
                .take_while(|t| t.duration_since(sorted[i]) < HELD)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn gmail_follows_restores_and_spam_and_ignores_archiving() {
    let (server, mut mailbox) = open(Provider::GoogleWorkspace).await;
    let labels = |kind: &str, id: &str, list: &[&str]| {
        json!({"id": "9", "messages": [{"id": id, "threadId": format!("t-{id}")}],
            kind: [{"message": {"id": id, "threadId": format!("t-{id}")}, "labelIds": list}]})
    };
    get(
        &server,
        "/gmail/users/me/history",
        ok(json!({
            "history": [
                labels("labelsRemoved", "g-restored", &["TRASH"]),
                labels("labelsAdded", "g-restored", &["INBOX"]),
                labels("labelsRemoved", "g-archived", &["INBOX"]),
                labels("labelsAdded", "g-read", &["STARRED"]),
                labels("labelsAdded", "g-spam", &["SPAM"]),
                labels("labelsRemoved", "g-not-spam", &["SPAM"]),
                labels("labelsAdded", "g-binned-again", &["TRASH"]),
                labels("labelsRemoved", "g-binned-again", &["TRASH"]),
                labels("labelsAdded", "g-binned-again", &["TRASH"]),
            ],
            "historyId": "1400"
        })),
    )
    .await;
    for (id, list) in [
        ("g-restored", &["INBOX"][..]),
        ("g-not-spam", &["Label_7"][..]),
        ("g-binned-again", &["TRASH"][..]),
    ] {
        get(
            &server,
            &format!("/gmail/users/me/messages/{id}"),
            ok(gmail_message(id, "jane@cand.example", list)),
        )
        .await;
    }

    let mut cursors = Cursor::default();
    cursors.0.insert("gmail_history".into(), "1000".into());
    let page = step(mailbox.as_mut(), &mut cursors).await;

    assert_eq!(
        ids(&page),
        ["g-restored", "-g-spam", "g-not-spam", "-g-binned-again"],
        "a restore is read and judged, spam is a delete, archiving and stars change nothing"
    );
    let read: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| {
            r.url
                .path()
                .strip_prefix("/gmail/users/me/messages/")
                .map(str::to_owned)
        })
        .collect();
    assert!(
        !read
            .iter()
            .any(|id| id == "g-archived" || id == "g-read" || id == "g-spam"),
        "{read:?}"
    );
}

#[tokio::test]
async fn gmail_reads_a_pages_messages_a_few_at_a_time_in_their_listed_order() {
    let (server, mut mailbox) = open(Provider::GoogleWorkspace).await;
    let listed: Vec<String> = (0..12).map(|n| format!("g-{n:02}")).collect();
    get(
        &server,
        "/gmail/users/me/messages",
        ok(json!({"messages": listed.iter().map(|id| json!({"id": id, "threadId": "t"})).collect::<Vec<_>>()})),
    )
    .await;
    let arrivals = std::sync::Arc::default();
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/gmail/users/me/messages/g-",
        ))
        .respond_with(Slow {
            arrivals: std::sync::Arc::clone(&arrivals),
        })
        .mount(&server)
        .await;
    let mut cursors = Cursor::default();
    cursors.0.insert("gmail_full_history".into(), "1234".into());
    let page = step(mailbox.as_mut(), &mut cursors).await;
    assert_eq!(ids(&page), listed, "in the order they were listed");
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), listed.len());
    let most = most_within_held(&arrivals);
    assert!(
        (2..=super::gmail::METADATA_CONCURRENCY).contains(&most),
        "{most} reads at once"
    );
}
