//! Delivery faults end to end: every push redelivered and shuffled, a job nobody can read,
//! a notification the provider never sent, cursors the provider forgot. None of them loses
//! or duplicates mail.

use std::time::{Duration, Instant};

use hiresync_e2e::{ids, mail, microsoft_seat, Result};
use serde_json::json;

#[tokio::test]
async fn notifications_duplicated_ten_times_and_shuffled_store_exactly_the_expected_set(
) -> Result<()> {
    let suite = hiresync_e2e::start_suite!("dupes").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-dup", me).await?;
    let jane = "jane@talent.example";
    let a = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    let b = suite
        .deliver(me, mail("jane", me, &[jane], &[], None))
        .await?;
    let _skipped = suite
        .deliver(me, mail("x", "x@nowhere.example", &[me], &[], None))
        .await?;
    let c = suite
        .deliver(me, mail("noor", "noor@talent.example", &[me], &[], None))
        .await?;
    let gone = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    suite.relocate(me, &gone, "deleteditems").await?;
    suite.settle().await?;
    let expected = ids(&[&a, &b, &c]);
    assert_eq!(suite.stored_ids("e2e-dup", "sam").await?, expected);

    let (status, body) = suite
        .sandbox(
            reqwest::Method::POST,
            "/pushes/replay",
            Some(json!({"times": 10, "seed": 20261123})),
        )
        .await?;
    assert_eq!(status, 200);
    let answers = body["answers"].as_array().cloned().unwrap_or_default();
    assert!(answers.len() >= 60, "every push, ten times over");
    assert!(answers.iter().all(|a| a.as_u64() == Some(202)), "{body}");
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-dup", "sam").await?,
        expected,
        "duplicates and reordering change nothing"
    );
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}

#[tokio::test]
async fn a_poison_job_lands_in_the_dead_letter_queue_while_other_mailboxes_sync() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("poison").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-poison", me).await?;
    suite
        .sqs
        .send_message()
        .queue_url(suite.queue_url("SyncJobsQueue"))
        .message_group_id("e2e-poison/nobody/email")
        .message_deduplication_id("poison-1")
        .message_body("{\"this is\": \"not a sync job\"}")
        .send()
        .await?;
    let fine = suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while suite.queue_depth("SyncJobsDeadLetterQueue").await? == 0 {
        assert!(
            Instant::now() < deadline,
            "the poison job never reached the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    suite.settle().await?;
    assert_eq!(suite.queue_depth("SyncJobsDeadLetterQueue").await?, 1);
    assert!(suite.stored("e2e-poison", "sam").await?.contains_key(&fine));
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}

#[tokio::test]
async fn a_missed_notification_and_a_forgotten_cursor_lose_nothing() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("gaps").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-gaps", me).await?;

    // Graph dropped the notification; its lifecycle event `missed` brings a catch-up sync.
    let mut quiet = mail("jane", "jane@talent.example", &[me], &[], None);
    quiet["silent"] = json!(true);
    let dropped = suite.deliver(me, quiet).await?;
    suite.settle().await?;
    assert!(
        !suite
            .stored_ids("e2e-gaps", "sam")
            .await?
            .contains(&dropped),
        "nothing has told hiresync yet"
    );
    let (status, body) = suite
        .sandbox(
            reqwest::Method::POST,
            &format!("/mailboxes/{me}/lifecycle"),
            Some(json!({"event": "missed"})),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let answers = body["pushes"].as_array().cloned().unwrap_or_default();
    assert!(
        !answers.is_empty(),
        "every mail subscription asked for lifecycle events"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.as_u64(), Some(200..=299))),
        "{body}"
    );
    suite.settle().await?;
    assert!(suite
        .stored_ids("e2e-gaps", "sam")
        .await?
        .contains(&dropped));

    // The provider forgets every cursor: the next sync starts a bounded resync and still
    // ends with exactly the mailbox's one-to-one thread.
    let (status, _) = suite
        .sandbox(
            reqwest::Method::POST,
            &format!("/mailboxes/{me}/expire-cursors"),
            None,
        )
        .await?;
    assert_eq!(status, 204);
    let reply = suite
        .deliver(me, mail("jane", me, &["jane@talent.example"], &[], None))
        .await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-gaps", "sam").await?,
        ids(&[&dropped, &reply])
    );
    let status = suite.sync_status("e2e-gaps", "sam").await?;
    assert_eq!(status["stage"], "resyncing", "{status}");
    assert!(status["last_error"].is_null(), "{status}");
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}
