//! The Microsoft 365 story: Graph delta, Graph pushes, Deleted Items.

use hiresync_sandbox::mailbox::Folder;
use jiff::Timestamp;
use serde_json::json;

use crate::suite::Suite;

use super::desk::{candidate, days_ago, letter, Desk};

pub(super) async fn run(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "Mail on Microsoft 365: initech's recruiter rita connects a mailbox with a year of history",
    );
    let now = Timestamp::now();
    let mut rita = Desk::new(suite, "initech", "rita", "rita@initech.example").await?;
    rita.admin_sets(json!({"provider": "microsoft365", "email_access": "view_only"}))
        .await?;
    for (profile, email, pipeline, discovery) in [
        ("p-jane", "jane@talent.example", true, "anyone"),
        ("p-kai", "kai@talent.example", true, "anyone"),
        ("p-noor", "noor@talent.example", true, "anyone"),
        ("p-omar", "omar@talent.example", false, "anyone"),
        ("p-lena", "lena@talent.example", true, "first_degree"),
    ] {
        candidate(suite, "initech", profile, email, pipeline, discovery).await?;
    }
    let pumped = suite.pump().await?;
    println!(
        "   the product published 5 candidates; directory-events stored {}",
        pumped.directory.succeeded
    );
    let me = "Rita Recruiter <rita@initech.example>";
    let jane = "Jane Doe <jane@talent.example>";
    for (label, l) in [
        (
            "m1",
            letter(
                "jane",
                jane,
                &[me],
                &[],
                "Senior engineer role",
                days_ago(now, 40),
            ),
        ),
        (
            "m2",
            letter(
                "jane",
                me,
                &[jane],
                &[],
                "Re: Senior engineer role",
                days_ago(now, 39),
            ),
        ),
        (
            "m3",
            letter(
                "kai",
                "kai@talent.example",
                &[me],
                &[],
                "Catching up",
                days_ago(now, 250),
            ),
        ),
        (
            "m4",
            letter(
                "jane-old",
                jane,
                &[me],
                &[],
                "An older hello",
                days_ago(now, 420),
            ),
        ),
        (
            "m5",
            letter(
                "tom",
                "Tom <tom@initech.example>",
                &[me],
                &[],
                "Lunch?",
                days_ago(now, 10),
            ),
        ),
        (
            "m6",
            letter(
                "sam",
                "sam@elsewhere.example",
                &[me],
                &[],
                "Quick question",
                days_ago(now, 5),
            ),
        ),
        (
            "m7",
            letter(
                "omar",
                "omar@talent.example",
                &[me],
                &[],
                "Following up",
                days_ago(now, 8),
            ),
        ),
        (
            "m8",
            letter(
                "lena",
                me,
                &["lena@talent.example"],
                &[],
                "An opening",
                days_ago(now, 3),
            ),
        ),
        (
            "m9",
            letter(
                "panel",
                me,
                &[jane],
                &["kai@talent.example"],
                "Panel interview",
                days_ago(now, 2),
            ),
        ),
        (
            "m10",
            letter(
                "noor",
                "Noor <noor@talent.example>",
                &[me],
                &[],
                "Portfolio",
                days_ago(now, 6),
            ),
        ),
    ] {
        rita.mail(label, l).await?;
    }
    // Filed away before the connection: jane's thread in the archive, noor's references
    // moved by a rule into a folder of rita's; and kai writing to the team's alias.
    let filed = |mut l: hiresync_sandbox::control::NewMail, folder: &str| {
        l.folder = Some(folder.to_owned());
        l
    };
    rita.mail(
        "m14",
        filed(
            letter(
                "jane",
                jane,
                &[me],
                &[],
                "Portfolio feedback",
                days_ago(now, 30),
            ),
            "archive",
        ),
    )
    .await?;
    rita.mail(
        "m15",
        filed(
            letter(
                "noor",
                "Noor <noor@talent.example>",
                &[me],
                &[],
                "References",
                days_ago(now, 7),
            ),
            "user:Candidates",
        ),
    )
    .await?;
    rita.mail(
        "m16",
        letter(
            "kai-careers",
            "kai@talent.example",
            &["Talent team <talent@initech.example>"],
            &[],
            "Applying for the platform role",
            days_ago(now, 4),
        ),
    )
    .await?;
    suite
        .sandbox
        .aliases("rita@initech.example", &["talent@initech.example"]);
    println!("   rita's mailbox also answers to talent@initech.example (a proxy address)");
    rita.connect().await?;
    rita.table(
        "After the historical sync (Graph delta of every folder but Deleted Items, Junk and Drafts, one year back)",
    )
    .await?;

    crate::heading("Mail arrives and is answered; Graph pushes each change to webhook-intake");
    rita.mail(
        "m11",
        letter(
            "jane",
            jane,
            &[me],
            &[],
            "Re: Senior engineer role",
            Timestamp::now(),
        ),
    )
    .await?;
    rita.mail(
        "m12",
        letter(
            "jane",
            me,
            &[jane],
            &[],
            "Re: Senior engineer role",
            Timestamp::now(),
        ),
    )
    .await?;
    rita.mail(
        "m13",
        letter(
            "noor",
            me,
            &["Noor <noor@talent.example>"],
            &["Dana, hiring manager <dana@initech.example>"],
            "Re: Portfolio (with Dana)",
            Timestamp::now(),
        ),
    )
    .await?;
    let pushes = suite.sandbox.pushes();
    println!(
        "   {} pushes so far, answered {:?}",
        pushes.len(),
        pushes.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    rita.mail(
        "m17",
        letter(
            "noor",
            me,
            &["Noor <noor@talent.example>"],
            &[],
            "Re: Portfolio, just us",
            Timestamp::now(),
        ),
    )
    .await?;
    rita.table(
        "A reply each way syncs; rita's reply to noor copying the hiring manager alone is left out, and her next email to noor syncs",
    )
    .await?;

    crate::heading("rita deletes the first message and archives jane's latest reply");
    rita.relocate("m1", Folder::DeletedItems).await?;
    rita.relocate("m11", Folder::Archive).await?;
    rita.table("Deleted in the mailbox: deleted here; archived: still synced")
        .await?;

    crate::heading(
        "Graph forgets rita's delta cursors, and noor's references are deleted for good meanwhile",
    );
    suite.sandbox.expire_cursors(rita.address);
    rita.relocate("m15", Folder::Gone).await?;
    rita.table("Nothing said which message went: the resync finds only what is there")
        .await?;
    let in_three_days = Timestamp::now() + jiff::SignedDuration::from_hours(72);
    let renewed = suite.renewal(in_three_days).await?;
    println!("   three days on, the renewal run: {renewed:?}; it queues the week's reconciliation");
    rita.table("The weekly reconciliation read each stored message again and deleted the lost one")
        .await?;
    let synced = rita.synced().await?;
    anyhow::ensure!(
        !synced.contains_key(&rita.ids["m15"]),
        "the reconciliation did not delete a message the mailbox lost"
    );
    anyhow::ensure!(
        synced.contains_key(&rita.ids["m14"]) && synced.contains_key(&rita.ids["m16"]),
        "archived mail and mail to the alias are synced"
    );
    anyhow::ensure!(
        synced.contains_key(&rita.ids["m17"]) && !synced.contains_key(&rita.ids["m13"]),
        "the copied email alone is left out of noor's conversation"
    );

    crate::heading("Every push so far is delivered again, three times over, shuffled");
    let before = rita.synced().await?;
    let answers = suite.sandbox.replay(3, Some(7)).await;
    let after_pump = suite.pump().await?;
    let after = rita.synced().await?;
    println!(
        "   {} redeliveries answered {:?}; ingest ran {} job(s); stored messages before {} after {}: {}",
        answers.len(),
        answers.iter().collect::<std::collections::BTreeSet<_>>(),
        after_pump.ingest.succeeded,
        before.len(),
        after.len(),
        if before == after { "unchanged" } else { "CHANGED" }
    );
    anyhow::ensure!(before == after, "duplicated pushes changed what is stored");

    super::transfer::run(&mut rita).await?;

    crate::heading("Seven months on, with no mail since, the hourly retention sweep runs");
    // The sweep has run since the suite started (its mark is today); seven months on it
    // walks every day's bucket since then.
    suite.sweep(Timestamp::now()).await?;
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(24 * 213);
    let report = suite.sweep(later).await?;
    println!(
        "   {} thread(s) removed with {} message(s), every one read from the expiry index ({} entries read); each leaves its inactivity tombstone",
        report.threads_removed, report.messages_removed, report.listed
    );
    rita.table("What stays synced: nothing of the quiet threads")
        .await?;
    Ok(())
}
