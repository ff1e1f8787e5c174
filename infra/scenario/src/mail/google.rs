//! The Google Workspace story: Gmail history, Pub/Sub pushes, the bin.

use hiresync_sandbox::control::NewMail;
use hiresync_sandbox::mailbox::Folder;
use jiff::Timestamp;
use serde_json::json;

use crate::suite::Suite;

use super::desk::{candidate, days_ago, letter, Desk};

pub(super) async fn run(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "Mail on Google Workspace: umbrella's recruiter gus connects; Gmail pushes through Pub/Sub",
    );
    let now = Timestamp::now();
    let mut gus = Desk::new(suite, "umbrella", "gus", "gus@umbrella.example").await?;
    gus.admin_sets(json!({"provider": "google_workspace", "email_access": "view_only"}))
        .await?;
    candidate(
        suite,
        "umbrella",
        "p-jane",
        "jane@talent.example",
        true,
        "anyone",
    )
    .await?;
    candidate(
        suite,
        "umbrella",
        "p-kai",
        "kai@talent.example",
        true,
        "anyone",
    )
    .await?;
    suite.pump().await?;
    let me = "gus@umbrella.example";
    let mut odd = letter(
        "jane",
        "jane@talent.example",
        &[me],
        &[],
        "Coffee next week?",
        days_ago(now, 20),
    );
    // Real headers: a display name with a comma, another case.
    odd.headers = vec![("From".into(), "\"Doe, Jane\" <Jane@Talent.example>".into())];
    gus.mail("g1", odd).await?;
    let mut encoded = letter(
        "group",
        me,
        &["jane@talent.example"],
        &["kai@talent.example"],
        "Both of you",
        days_ago(now, 15),
    );
    // An RFC 2047 encoded display name ("Kai Müller") among the recipients.
    encoded.headers = vec![(
        "Cc".into(),
        "=?UTF-8?B?S2FpIE3DvGxsZXI=?= <kai@talent.example>".into(),
    )];
    gus.mail("g2", encoded).await?;
    gus.connect().await?;
    gus.table("After the historical sync (Gmail message list, one year back)")
        .await?;

    gus.mail(
        "g3",
        letter(
            "jane",
            "jane@talent.example",
            &[me],
            &[],
            "Re: Coffee next week?",
            Timestamp::now(),
        ),
    )
    .await?;
    gus.mail(
        "g4",
        letter(
            "jane-import",
            "jane@talent.example",
            &[me],
            &[],
            "Imported from an old archive",
            days_ago(now, 400),
        ),
    )
    .await?;
    gus.table("New mail through Pub/Sub pushes (history.list): a fresh reply, and an imported mail older than the lookback")
        .await?;

    gus.relocate("g3", Folder::DeletedItems).await?;
    gus.table("gus moves the reply to the bin: deleted here")
        .await?;
    gus.relocate("g3", Folder::Inbox).await?;
    gus.table("gus restores it from the bin (history: labelRemoved TRASH): synced again")
        .await?;
    anyhow::ensure!(
        gus.synced().await?.contains_key(&gus.ids["g3"]),
        "a message restored from the bin is synced again"
    );

    crate::heading(
        "A mail arrives and Google's push for it is lost; the renewal run an hour later catches up",
    );
    gus.mail(
        "g5",
        NewMail {
            silent: true,
            ..letter(
                "jane",
                "jane@talent.example",
                &[me],
                &[],
                "Re: Coffee next week? (no push)",
                Timestamp::now(),
            )
        },
    )
    .await?;
    let quiet = suite.pump().await?;
    println!(
        "   no push, so no sync job ({} ran); the renewal run 61 minutes later finds gus quiet",
        quiet.ingest.received
    );
    let report = suite
        .renewal(Timestamp::now() + jiff::SignedDuration::from_mins(61))
        .await?;
    println!("   catch-up syncs queued: {}", report.catch_up.queued);
    gus.table("The lost mail synced through the catch-up").await
}
