//! The Gmail adapter: the full listing and its history id, history with deletes, restores
//! and label changes, reads a few at a time in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hiresync_domain::connection::Cursor;
use hiresync_domain::contract::Provider;
use hiresync_domain::mail::Direction;
use hiresync_domain::ports::{CursorUpdate, MailChange, MailItem};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use super::*;

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
        (2..=crate::adapters::mailbox::gmail::METADATA_CONCURRENCY).contains(&most),
        "{most} reads at once"
    );
}
