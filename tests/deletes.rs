//! Deletes end to end, through Gmail: history read at connection with real headers, live
//! changes through Pub/Sub pushes, the bin as a delete, and a deauthorized seat from which
//! nothing is fetched and nothing is deleted.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hiresync_e2e::{days_ago, ids, mail, Result};
use serde_json::json;

#[tokio::test]
async fn gmail_through_pubsub_pushes_with_real_headers_deletes_and_a_deauthorized_seat(
) -> Result<()> {
    let suite = hiresync_e2e::start_suite!("gmail").await?;
    let me = "gus@umbrella.example";
    suite
        .settings(
            "e2e-g",
            json!({"provider": "google_workspace", "email_access": "view_only"}),
        )
        .await?;
    suite
        .candidate("e2e-g", "p-jane", "jane@talent.example", true, "anyone")
        .await?;
    suite
        .candidate("e2e-g", "p-kai", "kai@talent.example", true, "anyone")
        .await?;
    // History before the connection: read by the historical sync.
    let mut odd = mail(
        "jane",
        "jane@talent.example",
        &[me],
        &[],
        Some(days_ago(20)),
    );
    odd["headers"] = json!([["From", "\"Doe, Jane\" <Jane@Talent.example>"]]);
    let historical = suite.deliver(me, odd).await?;
    let mut encoded = mail(
        "group",
        me,
        &["jane@talent.example"],
        &[],
        Some(days_ago(15)),
    );
    encoded["headers"] = json!([["Cc", "=?UTF-8?B?S2FpIE3DvGxsZXI=?= <kai@talent.example>"]]);
    let group = suite.deliver(me, encoded).await?;
    let ancient = suite
        .deliver(
            me,
            mail(
                "old",
                "jane@talent.example",
                &[me],
                &[],
                Some(days_ago(500)),
            ),
        )
        .await?;
    suite.connect("e2e-g", "gus", me).await?;
    let stored = suite.stored("e2e-g", "gus").await?;
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&[&historical])
    );
    assert_eq!(
        stored[&historical], "jane@talent.example",
        "display name with a comma, any case"
    );
    assert_eq!(
        suite
            .why("e2e-g", "gus", "kai@talent.example", &group)
            .await?
            .as_deref(),
        Some("too_many_participants"),
        "an encoded-word display name is still a participant"
    );
    assert_eq!(
        suite
            .why("e2e-g", "gus", "jane@talent.example", &ancient)
            .await?,
        None,
        "never fetched"
    );

    // Live, through Pub/Sub: a reply syncs; an old mail imported now is before the lookback.
    let reply = suite
        .deliver(me, mail("jane", me, &["jane@talent.example"], &[], None))
        .await?;
    let imported = suite
        .deliver(
            me,
            mail(
                "import",
                "jane@talent.example",
                &[me],
                &[],
                Some(days_ago(400)),
            ),
        )
        .await?;
    suite.settle().await?;
    assert!(suite.stored("e2e-g", "gus").await?.contains_key(&reply));
    assert_eq!(
        suite
            .why("e2e-g", "gus", "jane@talent.example", &imported)
            .await?
            .as_deref(),
        Some("before_lookback")
    );
    // The bin is a delete; so is a delete for good.
    suite.relocate(me, &reply, "trash").await?;
    suite.settle().await?;
    assert_eq!(suite.stored_ids("e2e-g", "gus").await?, ids(&[&historical]));

    // Email turned off: the seat is deauthorized; nothing is fetched or deleted meanwhile.
    suite
        .settings("e2e-g", json!({"email_access": "off"}))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while suite.email_state("e2e-g", "gus").await? == "authorized" {
        assert!(Instant::now() < deadline, "the seat was never deauthorized");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Locally first: its subscription is forgotten at once, so whatever the provider still
    // pushes is dropped unread. The watch itself is stopped by the next renewal run.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, watches) = suite
            .sandbox(reqwest::Method::GET, "/watches", None)
            .await?;
        let watched = watches["gmail"]
            .as_array()
            .is_some_and(|w| w.iter().any(|a| a == me));
        if !watched {
            break;
        }
        assert!(Instant::now() < deadline, "the watch was never stopped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, pushes_before) = suite.sandbox(reqwest::Method::GET, "/pushes", None).await?;
    let unseen = suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    suite.relocate(me, &historical, "trash").await?;
    suite.settle().await?;
    let (_, pushes_after) = suite.sandbox(reqwest::Method::GET, "/pushes", None).await?;
    assert_eq!(
        pushes_before["pushes"].as_array().map(Vec::len),
        pushes_after["pushes"].as_array().map(Vec::len),
        "the watch was stopped: no more pushes"
    );
    let stored = suite.stored("e2e-g", "gus").await?;
    assert!(!stored.contains_key(&unseen));
    assert!(
        stored.contains_key(&historical),
        "nothing is deleted while deauthorized"
    );
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}
