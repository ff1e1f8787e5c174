//! Sync fidelity end to end, through real pushes from the sandbox: mail wherever it is
//! filed (the archive, a folder of the user's, Gmail's labels), the mailbox's own aliases,
//! one copied email in a candidate's conversation, junk and the bin, restores.

use hiresync_e2e::{days_ago, ids, mail, microsoft_seat, Result};
use serde_json::json;

/// Sets the aliases the provider lists for `address` (Graph proxy addresses, Gmail
/// send-as addresses).
async fn aliases(suite: &hiresync_e2e::Running, address: &str, list: &[&str]) -> Result<()> {
    let (status, body) = suite
        .sandbox(
            reqwest::Method::PUT,
            &format!("/accounts/{address}/aliases"),
            Some(json!({"aliases": list})),
        )
        .await?;
    assert_eq!(status, 204, "{body}");
    Ok(())
}

/// A message for [`hiresync_e2e::Running::deliver`], filed in `folder`.
fn filed(
    thread: &str,
    from: &str,
    to: &[&str],
    folder: &str,
    at: Option<String>,
) -> serde_json::Value {
    let mut m = mail(thread, from, to, &[], at);
    m["folder"] = json!(folder);
    m
}

#[tokio::test]
async fn graph_mail_is_synced_in_every_folder_under_every_address_of_the_seat() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("fidelity-graph").await?;
    let me = "sam@hire.example";
    let alias = "talent@hire.example";
    aliases(&suite, me, &[alias]).await?;
    // History: archived, and filed by a rule into a folder of the user's.
    let archived = suite
        .deliver(
            me,
            filed(
                "jane",
                "jane@talent.example",
                &[me],
                "archive",
                Some(days_ago(20)),
            ),
        )
        .await?;
    let filed_away = suite
        .deliver(
            me,
            filed(
                "noor",
                "noor@talent.example",
                &[me],
                "user:Candidates",
                Some(days_ago(10)),
            ),
        )
        .await?;
    let junk = suite
        .deliver(
            me,
            filed(
                "jane-junk",
                "jane@talent.example",
                &[me],
                "junkemail",
                Some(days_ago(5)),
            ),
        )
        .await?;
    microsoft_seat(&suite, "e2e-fid", me).await?;
    suite.settle().await?;
    let stored = suite.stored_ids("e2e-fid", "sam").await?;
    assert_eq!(stored, ids(&[&archived, &filed_away]), "junk is not synced");

    // Live: to the alias, from the seat's tagged address, filed straight into the user's
    // folder (the mailbox-wide subscription pushes it), and a reply copying the hiring
    // manager in jane's conversation.
    let to_alias = suite
        .deliver(me, mail("jane", "jane@talent.example", &[alias], &[], None))
        .await?;
    let tagged = suite
        .deliver(
            me,
            mail(
                "jane",
                "sam+jobs@hire.example",
                &["jane@talent.example"],
                &[],
                None,
            ),
        )
        .await?;
    let rule_filed = suite
        .deliver(
            me,
            filed(
                "noor",
                "noor@talent.example",
                &[me],
                "user:Candidates",
                None,
            ),
        )
        .await?;
    let copied = suite
        .deliver(
            me,
            mail(
                "jane",
                me,
                &["jane@talent.example"],
                &["Hiring Manager <hm@partner.example>"],
                None,
            ),
        )
        .await?;
    let after = suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    suite.settle().await?;
    let stored = suite.stored("e2e-fid", "sam").await?;
    assert_eq!(
        stored
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        ids(&[
            &archived,
            &filed_away,
            &to_alias,
            &tagged,
            &rule_filed,
            &after
        ]),
        "every one-to-one email, wherever filed and under whichever address"
    );
    assert_eq!(stored[&to_alias], "jane@talent.example");
    assert_eq!(stored[&tagged], "jane@talent.example");
    for who in ["jane@talent.example", "hm@partner.example"] {
        assert_eq!(
            suite.why("e2e-fid", "sam", who, &copied).await?.as_deref(),
            Some("too_many_participants"),
            "{who}"
        );
    }

    // A move between kept folders changes nothing; to junk or the bin is a delete.
    suite.relocate(me, &archived, "user:Candidates").await?;
    suite.relocate(me, &filed_away, "archive").await?;
    suite.settle().await?;
    assert_eq!(suite.stored("e2e-fid", "sam").await?, stored);
    suite.relocate(me, &archived, "junkemail").await?;
    suite.relocate(me, &rule_filed, "deleteditems").await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-fid", "sam").await?,
        ids(&[&filed_away, &to_alias, &tagged, &after])
    );
    // Restored from Deleted Items: it is back.
    suite.relocate(me, &rule_filed, "inbox").await?;
    suite.settle().await?;
    assert!(suite
        .stored_ids("e2e-fid", "sam")
        .await?
        .contains(&rule_filed));
    assert!(!suite.stored_ids("e2e-fid", "sam").await?.contains(&junk));
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}

#[tokio::test]
async fn gmail_mail_is_synced_under_any_label_and_follows_the_bin_both_ways() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("fidelity-gmail").await?;
    let me = "gus@umbrella.example";
    let alias = "jobs@umbrella.example";
    aliases(&suite, me, &[alias]).await?;
    suite
        .settings(
            "e2e-gfid",
            json!({"provider": "google_workspace", "email_access": "view_only"}),
        )
        .await?;
    suite
        .candidate("e2e-gfid", "p-jane", "jane@talent.example", true, "anyone")
        .await?;
    // History: archived (no INBOX label), and sent from the alias.
    let archived = suite
        .deliver(
            me,
            filed(
                "jane",
                "jane@talent.example",
                &[me],
                "archive",
                Some(days_ago(30)),
            ),
        )
        .await?;
    let from_alias = suite
        .deliver(
            me,
            filed(
                "jane",
                alias,
                &["jane@talent.example"],
                "sentitems",
                Some(days_ago(29)),
            ),
        )
        .await?;
    let draft = suite
        .deliver(
            me,
            filed(
                "jane",
                me,
                &["jane@talent.example"],
                "drafts",
                Some(days_ago(28)),
            ),
        )
        .await?;
    suite.connect("e2e-gfid", "gus", me).await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-gfid", "gus").await?,
        ids(&[&archived, &from_alias]),
        "archived mail and the alias's sent mail; no draft"
    );
    assert!(!suite.stored_ids("e2e-gfid", "gus").await?.contains(&draft));

    // Live: labelled away from the inbox, binned, restored, marked as spam.
    let labelled = suite
        .deliver(
            me,
            filed(
                "jane",
                "jane@talent.example",
                &[me],
                "user:Candidates",
                None,
            ),
        )
        .await?;
    suite.settle().await?;
    assert!(suite
        .stored_ids("e2e-gfid", "gus")
        .await?
        .contains(&labelled));
    suite.relocate(me, &archived, "trash").await?;
    suite.settle().await?;
    assert!(!suite
        .stored_ids("e2e-gfid", "gus")
        .await?
        .contains(&archived));
    suite.relocate(me, &archived, "inbox").await?;
    suite.settle().await?;
    assert!(
        suite
            .stored_ids("e2e-gfid", "gus")
            .await?
            .contains(&archived),
        "restored from the bin: back"
    );
    suite.relocate(me, &labelled, "spam").await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-gfid", "gus").await?,
        ids(&[&archived, &from_alias])
    );
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}
