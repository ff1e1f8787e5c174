//! The mailbox's alias addresses (Graph `proxyAddresses`, Gmail send-as) and the control
//! routes that file mail in any folder, restores included.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{letter, world, ME};
use serde_json::{json, Value};

#[tokio::test]
async fn aliases_show_as_proxy_addresses_and_send_as_addresses() {
    let w = world().await;
    let set = w
        .http
        .put(format!("{}/sandbox/accounts/{ME}/aliases", w.base))
        .json(&json!({"aliases": ["recruiting@contoso.example", "r.smith@contoso.example"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);

    let (_, me) = w.get("/graph/me?$select=mail").await;
    assert_eq!(
        me["proxyAddresses"],
        json!([
            format!("SMTP:{ME}"),
            "smtp:recruiting@contoso.example",
            "smtp:r.smith@contoso.example"
        ])
    );
    let (status, send_as) = w.get("/gmail/users/me/settings/sendAs").await;
    assert_eq!(status, 200);
    assert_eq!(
        send_as,
        json!({"sendAs": [
            {"sendAsEmail": ME, "isPrimary": true, "isDefault": true, "verificationStatus": "accepted"},
            {"sendAsEmail": "recruiting@contoso.example", "verificationStatus": "accepted"},
            {"sendAsEmail": "r.smith@contoso.example", "verificationStatus": "accepted"},
        ]})
    );
    let anonymous = w
        .http
        .get(format!("{}/gmail/users/me/settings/sendAs", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    w.sandbox.aliases(ME, &["jobs@contoso.example"]);
    let (_, me) = w.get("/graph/me").await;
    assert_eq!(
        me["proxyAddresses"],
        json!([format!("SMTP:{ME}"), "smtp:jobs@contoso.example"])
    );
    let mut to_alias = letter("to an alias", None, "2026-01-01T00:00:00Z");
    to_alias.to = vec!["jobs@contoso.example".into()];
    w.sandbox.deliver(ME, to_alias).await.unwrap();
    let mails = w.sandbox.mails(ME);
    assert_eq!(mails[0].to, ["jobs@contoso.example"]);
    assert_eq!(mails[0].folder, "inbox");
}

#[tokio::test]
async fn control_routes_file_mail_anywhere_but_the_outbox() {
    let w = world().await;
    let deliver = |folder: &str| {
        w.http
            .post(format!("{}/sandbox/mailboxes/{ME}/messages", w.base))
            .json(
                &json!({"thread": "t", "from": "ana@fabrikam.example", "to": [ME],
                          "folder": folder}),
            )
            .send()
    };
    for folder in ["user:Candidates", "junkemail", "drafts", "folder-archive"] {
        assert_eq!(deliver(folder).await.unwrap().status(), 201, "{folder}");
    }
    assert_eq!(deliver("outbox").await.unwrap().status(), 400);
    assert_eq!(deliver("Candidates").await.unwrap().status(), 400);

    let folders: Vec<String> = w.sandbox.mails(ME).into_iter().map(|m| m.folder).collect();
    assert_eq!(
        folders,
        ["user:Candidates", "junkemail", "drafts", "archive"]
    );
    let junk = w.sandbox.mails(ME)[1].id.clone();
    let relocate = |folder: &str| {
        w.http
            .post(format!(
                "{}/sandbox/mailboxes/{ME}/messages/{junk}/move",
                w.base
            ))
            .json(&json!({"folder": folder}))
            .send()
    };
    assert_eq!(relocate("outbox").await.unwrap().status(), 400);
    assert_eq!(relocate("trash").await.unwrap().status(), 200);
    assert_eq!(relocate("inbox").await.unwrap().status(), 200, "a restore");
    assert_eq!(relocate("user:Later").await.unwrap().status(), 200);
    assert_eq!(w.sandbox.mails(ME)[1].folder, "user:Later");

    let listed: Value = w
        .http
        .get(format!("{}/sandbox/mailboxes/{ME}/folders", w.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["folder"].as_str().unwrap())
        .collect();
    assert_eq!(names[7..], ["user:Candidates", "user:Later"]);
    assert!(w.sandbox.create_folder(ME, "a/b").is_err());
}
