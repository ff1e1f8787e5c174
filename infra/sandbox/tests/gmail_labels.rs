//! Mail filed in every folder, read the way a Gmail sync reads it: history records for
//! archiving and restoring (and `historyTypes`), search that leaves out spam and the bin,
//! and a watch that pushes only for the labels it names.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{letter, receiver, world, ME};
use hiresync_sandbox::mailbox::Folder;
use hiresync_sandbox::push::PubSubPush;
use serde_json::json;

#[tokio::test]
async fn gmail_history_records_archive_and_restore_as_label_changes() {
    let w = world().await;
    let m = w.deliver("one", None, "2026-01-01T00:00:00Z").await;
    let start = w.history_id().await;

    w.sandbox.relocate(ME, &m, Folder::Archive).await.unwrap();
    let (_, archived) = w
        .get(&format!("/gmail/users/me/history?startHistoryId={start}"))
        .await;
    let records = archived["history"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{archived}");
    assert_eq!(
        records[0]["labelsRemoved"][0],
        json!({"message": {"id": m, "threadId": records[0]["messages"][0]["threadId"], "labelIds": []},
               "labelIds": ["INBOX", "UNREAD"]})
    );
    assert!(records[0].get("labelsAdded").is_none());

    w.sandbox
        .relocate(ME, &m, Folder::DeletedItems)
        .await
        .unwrap();
    let binned = w.history_id().await;
    w.sandbox.relocate(ME, &m, Folder::Inbox).await.unwrap();
    let (_, restored) = w
        .get(&format!("/gmail/users/me/history?startHistoryId={binned}"))
        .await;
    let records = restored["history"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{restored}");
    assert_eq!(records[0]["labelsRemoved"][0]["labelIds"], json!(["TRASH"]));
    assert_eq!(
        records[1]["labelsAdded"][0]["labelIds"],
        json!(["INBOX", "UNREAD"])
    );
    assert_eq!(records[1]["messages"][0]["id"], json!(m));
    assert_eq!(restored["historyId"], json!(w.history_id().await));

    // What the sync asks for: no labelRemoved records.
    let (_, filtered) = w
        .get(&format!(
            "/gmail/users/me/history?startHistoryId={start}\
             &historyTypes=messageAdded&historyTypes=messageDeleted&historyTypes=labelAdded"
        ))
        .await;
    let kinds: Vec<Vec<&String>> = filtered["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "id" && *k != "messages")
                .collect()
        })
        .collect();
    assert_eq!(
        kinds,
        [["labelsAdded"], ["labelsAdded"]],
        "TRASH then INBOX"
    );
    let (status, _) = w
        .get(&format!(
            "/gmail/users/me/history?startHistoryId={start}&historyTypes=everything"
        ))
        .await;
    assert_eq!(status, 400);

    let filed = w
        .deliver("filed", Some("user:Candidates"), "2026-01-02T00:00:00Z")
        .await;
    let (_, metadata) = w.get(&format!("/gmail/users/me/messages/{filed}")).await;
    assert_eq!(metadata["labelIds"], json!(["Label_Candidates"]));
    let spam = w
        .deliver("spam", Some("spam"), "2026-01-02T00:00:00Z")
        .await;
    let (_, metadata) = w.get(&format!("/gmail/users/me/messages/{spam}")).await;
    assert_eq!(metadata["labelIds"], json!(["SPAM"]));
}

#[tokio::test]
async fn gmail_search_leaves_out_spam_and_trash_and_reads_epochs_and_negations() {
    let w = world().await;
    let inbox = w.deliver("inbox", None, "2026-01-05T12:00:00Z").await;
    let archived = w
        .deliver("archived", Some("archive"), "2026-01-04T00:00:00Z")
        .await;
    let draft = w
        .deliver("draft", Some("drafts"), "2026-01-03T00:00:00Z")
        .await;
    let spam = w
        .deliver("spam", Some("junkemail"), "2026-01-02T00:00:00Z")
        .await;
    let binned = w
        .deliver("binned", Some("deleteditems"), "2026-01-01T00:00:00Z")
        .await;

    assert_eq!(
        w.listed("").await,
        [inbox.as_str(), archived.as_str(), draft.as_str()]
    );
    assert_eq!(
        w.listed("includeSpamTrash=true").await,
        [
            inbox.as_str(),
            archived.as_str(),
            draft.as_str(),
            spam.as_str(),
            binned.as_str()
        ]
    );
    assert_eq!(
        w.listed("q=in:anywhere").await,
        [
            inbox.as_str(),
            archived.as_str(),
            draft.as_str(),
            spam.as_str(),
            binned.as_str()
        ]
    );
    assert_eq!(w.listed("q=in:trash").await, [binned.as_str()]);
    let noon: i64 = "2026-01-05T12:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second();
    assert_eq!(w.listed(&format!("q=after:{noon}")).await, [inbox.as_str()]);
    assert!(w.listed(&format!("q=after:{}", noon + 1)).await.is_empty());
    assert_eq!(
        w.listed("q=after:2026/01/03").await,
        [inbox.as_str(), archived.as_str(), draft.as_str()]
    );
    assert_eq!(
        w.listed("q=after:2026/01/01%20-in:drafts%20-in:chats")
            .await,
        [inbox.as_str(), archived.as_str()]
    );
    assert_eq!(
        w.listed("q=%7Bin:inbox%20in:sent%7D").await,
        [inbox.as_str()],
        "the sync's own query"
    );
}

#[tokio::test]
async fn a_gmail_watch_with_labels_pushes_only_for_changes_to_them() {
    let w = world().await;
    let hook = receiver().await;
    w.sandbox.pubsub(PubSubPush {
        endpoint: hook,
        audience: "https://hiresync.example/push".into(),
        service_account: "push@sandbox.example".into(),
    });
    let watch = w
        .http
        .post(format!("{}/gmail/users/me/watch", w.base))
        .bearer_auth(&w.token)
        .json(
            &json!({"topicName": "projects/p/topics/t", "labelIds": ["INBOX", "SENT"],
                      "labelFilterBehavior": "INCLUDE"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(watch.status(), 200);

    let filed = w
        .sandbox
        .deliver(
            ME,
            letter("filed", Some("user:Candidates"), "2026-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(filed.pushes.is_empty(), "no watched label");
    let arrived = w
        .sandbox
        .deliver(ME, letter("arrived", None, "2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(arrived.pushes, [Some(202)]);
    let archived = w
        .sandbox
        .relocate(ME, &arrived.id, Folder::Archive)
        .await
        .unwrap();
    assert_eq!(archived, [Some(202)], "it had INBOX");
    let refiled = w
        .sandbox
        .relocate(ME, &arrived.id, Folder::User("Candidates".into()))
        .await
        .unwrap();
    assert!(refiled.is_empty(), "neither folder has a watched label");

    // Watched again with no labels: every change.
    w.http
        .post(format!("{}/gmail/users/me/watch", w.base))
        .bearer_auth(&w.token)
        .json(&json!({"topicName": "projects/p/topics/t"}))
        .send()
        .await
        .unwrap();
    let again = w
        .sandbox
        .relocate(ME, &arrived.id, Folder::Junk)
        .await
        .unwrap();
    assert_eq!(again, [Some(202)]);
}
