//! The page loop: deletes, cursors stored only after their page, an expired cursor, the
//! page limit and the continuation.

use hiresync_domain::ports::CursorUpdate;
use hiresync_domain::sync_status::SyncStage;
use hiresync_messages::SyncReason;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::mailbox::Step;

use crate::support::*;

#[tokio::test]
async fn a_delete_removes_what_is_stored_and_the_thread_with_its_last_message() {
    let w = World::microsoft().await;
    w.sync([Step::last(
        vec![
            from("m-1", "c-jane", "jane@cand.example", "2026-02-20T10:00:00Z"),
            from("m-2", "c-jane", "jane@cand.example", "2026-02-21T10:00:00Z"),
        ],
        vec![],
    )])
    .await;
    let report = w
        .sync([Step::last(
            vec![deleted("m-1"), deleted("m-unknown")],
            vec![],
        )])
        .await;
    assert_eq!(report.deleted, 1, "only what was stored counts");
    assert_eq!(w.mail.provider_ids(), ["m-2"]);
    let report = w.sync([Step::last(vec![deleted("m-2")], vec![])]).await;
    assert_eq!(report.deleted, 1);
    assert!(
        w.mail.threads().is_empty(),
        "the thread goes with its last message"
    );
}

#[tokio::test]
async fn the_cursor_moves_only_once_its_page_is_stored() {
    let w = World::microsoft().await;
    w.mailbox.then([
        Step::page(
            vec![from(
                "m-1",
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![set("graph_inbox", "page-2")],
        ),
        Step::page(
            vec![from(
                "m-2",
                "c-jane",
                "jane@cand.example",
                "2026-02-21T10:00:00Z",
            )],
            vec![set("graph_inbox", "page-3")],
        ),
    ]);
    // GIVEN a job that stops after its first page
    let mut one_page = w.ingestor.clone();
    one_page.limits.pages_per_job = 1;
    let first = one_page
        .run(&job(SyncReason::Historical), ts(NOW))
        .await
        .unwrap();
    assert!(first.continued);
    assert_eq!(w.cursor()["graph_inbox"], "page-2");
    // WHEN the next job cannot store its page
    w.mail.fail_next(1);
    assert!(w
        .ingestor
        .run(&job(SyncReason::Historical), ts(NOW))
        .await
        .is_err());
    // THEN the cursor stays where the stored page left it
    assert_eq!(
        w.cursor()["graph_inbox"],
        "page-2",
        "the failed page's cursor was not stored"
    );
    assert_eq!(w.mail.provider_ids(), ["m-1"]);
    assert_eq!(
        w.status().await.unwrap().last_error.as_deref(),
        Some("storage")
    );
    // The mailbox was asked for the second page from the first one's cursor.
    let asked = w.mailbox.cursors_asked();
    assert_eq!(
        asked[1].0.get("graph_inbox").map(String::as_str),
        Some("page-2")
    );
}

#[tokio::test]
async fn a_steps_cursor_updates_are_stored_together_and_passed_on() {
    let w = World::new(hiresync_domain::contract::Provider::GoogleWorkspace).await;
    w.change_connection(|c| {
        c.cursor.0.insert("gmail_full_page".into(), "p-9".into());
        c.cursor.0.insert("gmail_full_history".into(), "h-1".into());
    });
    w.sync([Step::last(
        vec![],
        vec![
            CursorUpdate::remove("gmail_full_page"),
            CursorUpdate::remove("gmail_full_history"),
            set("gmail_history", "h-1"),
        ],
    )])
    .await;
    assert_eq!(
        w.cursor().into_iter().collect::<Vec<_>>(),
        [("gmail_history".to_owned(), "h-1".to_owned())]
    );
    assert_eq!(
        w.mailbox.cursors_asked()[0]
            .0
            .get("gmail_full_page")
            .map(String::as_str),
        Some("p-9")
    );
    assert_eq!(
        w.mailbox.lookbacks_asked(),
        [ts("2025-03-02T09:00:00Z")],
        "a year before the connection"
    );
}

#[tokio::test]
async fn an_expired_cursor_is_dropped_and_the_stream_enumerated_again() {
    let w = World::microsoft().await;
    w.change_connection(|c| {
        c.cursor.0.insert("graph_inbox".into(), "stale".into());
        c.cursor.0.insert("graph_sentitems".into(), "sent-1".into());
    });
    let report = w
        .sync([
            Step::Expired {
                key: "graph_inbox".into(),
            },
            Step::last(
                vec![from(
                    "m-1",
                    "c-jane",
                    "jane@cand.example",
                    "2026-02-20T10:00:00Z",
                )],
                vec![set("graph_inbox", "fresh")],
            ),
        ])
        .await;
    assert!(report.resynced);
    assert_eq!(
        (report.pages, report.synced),
        (1, 1),
        "dropping a cursor reads no page"
    );
    let asked = w.mailbox.cursors_asked();
    assert!(
        !asked[1].0.contains_key("graph_inbox"),
        "enumerated from the lookback start"
    );
    assert_eq!(w.cursor()["graph_inbox"], "fresh");
    assert_eq!(
        w.cursor()["graph_sentitems"],
        "sent-1",
        "other streams keep theirs"
    );
    assert_eq!(w.status().await.unwrap().stage, SyncStage::Resyncing);
}

#[tokio::test]
async fn a_job_stops_at_its_page_limit_and_continues_through_the_queue() {
    let mut w = World::microsoft().await;
    w.ingestor.limits.pages_per_job = 2;
    let pages = (1..=3).map(|n| {
        Step::page(
            vec![from(
                &format!("m-{n}"),
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![set("graph_inbox", &format!("after-{n}"))],
        )
    });
    let report = w.sync(pages).await;
    assert!(report.continued);
    assert_eq!((report.pages, report.synced), (2, 2));
    assert_eq!(
        w.cursor()["graph_inbox"],
        "after-2",
        "resumes where it stopped"
    );
    assert_eq!(w.mailbox.left(), 1);
    let sent = w.queues.sync_jobs.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let (next, dedup) = &sent[0];
    assert_eq!(next.requested_at, ts(NOW));
    assert_eq!(next.reason, SyncReason::Historical);
    assert_eq!(
        *dedup,
        format!("continue:acme:s1:email:{}:2", ts(NOW).as_millisecond())
    );
    assert_eq!(w.status().await.unwrap().stage, SyncStage::Historical);

    // The continuation of an incremental job keeps the stage still under way.
    let report = w
        .ingestor
        .run(&job(SyncReason::Push), ts(NOW))
        .await
        .unwrap();
    assert!(!report.continued, "the last page");
    assert_eq!(w.status().await.unwrap().stage, SyncStage::Incremental);
}

#[tokio::test]
async fn a_continued_incremental_job_keeps_the_stage_under_way() {
    let mut w = World::microsoft().await;
    w.ingestor.limits.pages_per_job = 1;
    w.sync([Step::page(vec![], vec![set("graph_inbox", "a")])])
        .await;
    assert_eq!(w.status().await.unwrap().stage, SyncStage::Historical);
    w.mailbox
        .then([Step::page(vec![], vec![set("graph_inbox", "b")])]);
    let report = w
        .ingestor
        .run(&job(SyncReason::Push), ts(NOW))
        .await
        .unwrap();
    assert!(report.continued);
    assert_eq!(w.status().await.unwrap().stage, SyncStage::Historical);
}
