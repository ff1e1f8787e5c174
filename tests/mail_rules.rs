//! Mail rules end to end: a Microsoft 365 seat's mailbox in the sandbox, Graph pushes into
//! the webhook, and what sync stored or skipped (with its reason) read back through the API;
//! then what leaving the mailbox means for what it stored (Deleted Items, another folder,
//! deleted for good).

use std::collections::BTreeSet;

use hiresync_e2e::{days_ago, ids, mail, microsoft_seat, Result};

#[tokio::test]
async fn every_rule_through_graph_pushes_and_the_sandbox_mailbox() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("graph").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-ms", me).await?;
    let jane = "Jane Doe <jane@talent.example>";

    let synced_in = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    let synced_out = suite
        .deliver(me, mail("jane", me, &[jane], &[], None))
        .await?;
    let colleague = suite
        .deliver(me, mail("tom", "tom@hire.example", &[me], &[], None))
        .await?;
    let stranger = suite
        .deliver(me, mail("x", "x@nowhere.example", &[me], &[], None))
        .await?;
    let outside_pipeline = suite
        .deliver(me, mail("omar", "omar@talent.example", &[me], &[], None))
        .await?;
    let restricted = suite
        .deliver(me, mail("lena", me, &["lena@talent.example"], &[], None))
        .await?;
    let group = suite
        .deliver(
            me,
            mail("panel", me, &[jane], &["omar@talent.example"], None),
        )
        .await?;
    // Imported into the inbox now, but its conversation has been idle for seven months.
    let idle = suite
        .deliver(
            me,
            mail(
                "noor-old",
                "noor@talent.example",
                &[me],
                &[],
                Some(days_ago(210)),
            ),
        )
        .await?;
    // A 1:1 thread where one email copies a third person in: that email alone is left out,
    // and the conversation goes on.
    let noor_first = suite
        .deliver(me, mail("noor", "noor@talent.example", &[me], &[], None))
        .await?;
    suite.settle().await?;
    assert!(suite
        .stored("e2e-ms", "sam")
        .await?
        .contains_key(&noor_first));
    let noor_group = suite
        .deliver(
            me,
            mail(
                "noor",
                "noor@talent.example",
                &[me],
                &["Priya <priya@agency.example>"],
                None,
            ),
        )
        .await?;
    let noor_later = suite
        .deliver(me, mail("noor", me, &["noor@talent.example"], &[], None))
        .await?;
    suite.settle().await?;

    let stored = suite.stored("e2e-ms", "sam").await?;
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&[&synced_in, &synced_out, &noor_first, &noor_later]),
        "exactly the one-to-one candidate emails are stored"
    );
    assert_eq!(stored[&synced_in], "jane@talent.example");
    for (counterpart, id, code) in [
        ("tom@hire.example", &colleague, "same_domain"),
        ("x@nowhere.example", &stranger, "no_profile"),
        ("omar@talent.example", &outside_pipeline, "not_in_pipeline"),
        ("lena@talent.example", &restricted, "discovery_restricted"),
        ("omar@talent.example", &group, "too_many_participants"),
        ("noor@talent.example", &idle, "thread_inactive"),
        ("priya@agency.example", &noor_group, "too_many_participants"),
        ("noor@talent.example", &noor_group, "too_many_participants"),
    ] {
        assert_eq!(
            suite
                .why("e2e-ms", "sam", counterpart, id)
                .await?
                .as_deref(),
            Some(code),
            "why was {id} ({counterpart}) not synced?"
        );
    }

    assert_eq!(
        suite
            .why("e2e-ms", "sam", "noor@talent.example", &noor_later)
            .await?,
        None,
        "the email after the copied one synced"
    );
    // Deletion: into Deleted Items is a delete; into another folder is not.
    suite.relocate(me, &noor_first, "deleteditems").await?;
    suite.relocate(me, &noor_later, "deleteditems").await?;
    suite.relocate(me, &synced_in, "deleteditems").await?;
    suite.relocate(me, &synced_out, "archive").await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-ms", "sam").await?,
        ids(&[&synced_out])
    );
    // Deleted for good (not through Deleted Items) from a folder sync follows.
    let third = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    suite.settle().await?;
    assert!(suite.stored("e2e-ms", "sam").await?.contains_key(&third));
    let (status, _) = suite
        .sandbox(
            reqwest::Method::DELETE,
            &format!("/mailboxes/{me}/messages/{third}"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-ms", "sam").await?,
        ids(&[&synced_out])
    );
    // Moved on from the archive into Deleted Items: a delete after all.
    suite.relocate(me, &synced_out, "deleteditems").await?;
    suite.settle().await?;
    assert_eq!(suite.stored_ids("e2e-ms", "sam").await?, ids(&[]));
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}
