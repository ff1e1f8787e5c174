//! Mail filed in every folder, read the way a Graph sync reads it: the folder listing
//! (paged), per-folder delta on user folders and the archive, and a mailbox-wide
//! subscription next to a per-folder one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::HashMap;

use common::{ids, receiver, world, ME};
use hiresync_sandbox::mailbox::Folder;
use serde_json::{json, Value};

#[tokio::test]
async fn graph_lists_every_folder_a_page_at_a_time() {
    let w = world().await;
    let made = w
        .http
        .post(format!("{}/sandbox/mailboxes/{ME}/folders", w.base))
        .json(&json!({"name": "Candidates"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    w.deliver("filed", Some("user:Hiring 2026"), "2026-01-01T00:00:00Z")
        .await;

    let mut folders = Vec::new();
    let mut next = "/graph/me/mailFolders?$select=id,displayName&$top=3".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = w.get(&next).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        folders.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3, "nine folders, three a page");
    assert_eq!(
        ids(&folders),
        [
            "folder-inbox",
            "folder-drafts",
            "folder-sentitems",
            "folder-deleteditems",
            "folder-junkemail",
            "folder-archive",
            "folder-outbox",
            "folder-user-Candidates",
            "folder-user-Hiring 2026",
        ]
    );
    assert_eq!(folders[4]["displayName"], "Junk Email");
    assert_eq!(folders[8]["displayName"], "Hiring 2026");
    assert_eq!(folders[8]["parentFolderId"], "folder-root");
    assert_eq!(folders[8]["childFolderCount"], 0);
    let (_, all) = w.get("/graph/me/mailFolders").await;
    assert_eq!(
        all["value"].as_array().unwrap().len(),
        9,
        "ten a page by default"
    );

    let (status, junk) = w.get("/graph/me/mailFolders/JunkEmail").await;
    assert_eq!(
        (status, junk["id"].clone()),
        (200, json!("folder-junkemail"))
    );
    let (_, outbox) = w.get("/graph/me/mailFolders/outbox").await;
    assert_eq!(outbox["displayName"], "Outbox");
    let (status, filed) = w
        .get("/graph/me/mailFolders/folder-user-Hiring%202026")
        .await;
    assert_eq!(
        (status, filed["displayName"].clone()),
        (200, json!("Hiring 2026"))
    );
    let (status, children) = w
        .get("/graph/me/mailFolders/folder-user-Candidates/childFolders")
        .await;
    assert_eq!((status, children), (200, json!({"value": []})));
    let (status, missing) = w
        .get("/graph/me/mailFolders/folder-user-Nobody/childFolders")
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "ErrorItemNotFound");
    let anonymous = w
        .http
        .get(format!("{}/graph/me/mailFolders", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn delta_reads_user_folders_and_the_archive_and_sees_a_move_leave_the_inbox() {
    let w = world().await;
    let m1 = w.deliver("one", None, "2026-01-01T00:00:00Z").await;
    let m2 = w
        .deliver("two", Some("archive"), "2026-01-02T00:00:00Z")
        .await;
    let m3 = w
        .deliver("three", Some("user:Candidates"), "2026-01-03T00:00:00Z")
        .await;

    let delta = |folder: &str| format!("/graph/me/mailFolders/{folder}/messages/delta");
    let (inbox, inbox_link) = w.delta_round(&delta("inbox")).await;
    assert_eq!(ids(&inbox), [m1.as_str()]);
    let (archive, _) = w.delta_round(&delta("folder-archive")).await;
    assert_eq!(ids(&archive), [m2.as_str()]);
    assert_eq!(archive[0]["parentFolderId"], "folder-archive");
    let (filed, filed_link) = w.delta_round(&delta("folder-user-Candidates")).await;
    assert_eq!(ids(&filed), [m3.as_str()]);
    assert!(
        filed_link.contains("/mailFolders/folder-user-Candidates/messages/delta?$deltatoken="),
        "{filed_link}"
    );
    let (status, _) = w.get(&delta("folder-user-Nobody")).await;
    assert_eq!(status, 404);

    w.sandbox
        .relocate(ME, &m1, Folder::User("Candidates".into()))
        .await
        .unwrap();
    let (inbox, _) = w.delta_round(&inbox_link).await;
    assert_eq!(
        inbox,
        [json!({"id": m1, "@removed": {"reason": "changed"}})]
    );
    let (filed, _) = w.delta_round(&filed_link).await;
    assert_eq!(ids(&filed), [m1.as_str()]);
    assert_eq!(filed[0]["parentFolderId"], "folder-user-Candidates");
    let (_, message) = w.get(&format!("/graph/me/messages/{m1}")).await;
    assert_eq!(message["parentFolderId"], "folder-user-Candidates");
}

#[tokio::test]
async fn a_mailbox_wide_subscription_hears_every_folder_and_a_folder_one_only_its_own() {
    let w = world().await;
    let hook = receiver().await;
    let mut subscriptions = HashMap::new();
    for resource in ["me/messages", "me/mailFolders('Inbox')/messages"] {
        let made: Value = w
            .http
            .post(format!("{}/graph/subscriptions", w.base))
            .bearer_auth(&w.token)
            .json(&json!({
                "changeType": "created,updated,deleted",
                "notificationUrl": hook,
                "resource": resource,
                "expirationDateTime": "2030-01-01T00:00:00Z",
                "clientState": "secret",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        subscriptions.insert(made["id"].as_str().unwrap().to_owned(), resource);
    }
    // (resource, changeType) of each push since `from`.
    let heard = |from: usize| -> Vec<(&str, String)> {
        w.sandbox.pushes()[from..]
            .iter()
            .map(|p| {
                let body: Value = serde_json::from_str(&p.body).unwrap();
                let n = &body["value"][0];
                assert_eq!(p.status, Some(202));
                (
                    subscriptions[n["subscriptionId"].as_str().unwrap()],
                    n["changeType"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let spam = w
        .deliver("spam", Some("junkemail"), "2026-01-01T00:00:00Z")
        .await;
    assert_eq!(heard(0), [("me/messages", "created".to_owned())]);
    let sent = w.sandbox.pushes().len();
    w.sandbox.relocate(ME, &spam, Folder::Inbox).await.unwrap();
    let mut moved = heard(sent);
    moved.sort();
    assert_eq!(
        moved,
        [
            ("me/mailFolders('Inbox')/messages", "created".to_owned()),
            ("me/messages", "updated".to_owned()),
        ]
    );
    let sent = w.sandbox.pushes().len();
    w.sandbox.relocate(ME, &spam, Folder::Gone).await.unwrap();
    let mut gone = heard(sent);
    gone.sort();
    assert_eq!(
        gone,
        [
            ("me/mailFolders('Inbox')/messages", "deleted".to_owned()),
            ("me/messages", "deleted".to_owned()),
        ]
    );
}
