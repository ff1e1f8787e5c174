//! The weekly reconciliation: stored messages checked against the mailbox, a slice at a
//! time, deleting what it no longer has.

use hiresync_domain::connection::{RECONCILED_AT, RECONCILE_AFTER};
use hiresync_domain::ports::MailItem;
use hiresync_messages::SyncReason;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::mailbox::Step;

use crate::support::*;

#[tokio::test]
async fn a_reconciliation_deletes_what_the_mailbox_lost_a_slice_at_a_time() {
    let w = World::microsoft().await;
    // GIVEN four stored messages of jane's thread (the world checks three per job)
    let stored = w
        .sync([Step::last(
            ["m-1", "m-2", "m-3", "m-4"]
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    from(
                        id,
                        "c-jane",
                        "jane@cand.example",
                        &format!("2026-02-2{i}T10:00:00Z"),
                    )
                })
                .collect(),
            vec![],
        )])
        .await;
    assert_eq!(stored.synced, 4);
    // AND the mailbox still has m-1 and m-4, has binned m-3, and lost m-2 without a word
    for id in ["m-1", "m-4"] {
        let kept = match from(id, "c-jane", "jane@cand.example", "2026-02-20T10:00:00Z") {
            hiresync_domain::ports::MailChange::Message(item) => item,
            other => panic!("{other:?}"),
        };
        w.mailbox.holds(id, kept);
    }
    w.mailbox.holds("m-3", MailItem::NotConversation);

    // WHEN the first slice is reconciled
    let first = w
        .ingestor
        .run(&job(SyncReason::Reconcile), ts(NOW))
        .await
        .unwrap();

    // THEN its gone and binned messages are deleted here, nothing is judged, and the
    // next slice starts after it
    assert_eq!(
        (first.reconciled, first.deleted, first.synced),
        (3, 2, 0),
        "{first:?}"
    );
    assert_eq!(w.mail.provider_ids(), ["m-1", "m-4"]);
    let cursor = w.cursor();
    assert!(cursor.contains_key(RECONCILE_AFTER), "{cursor:?}");
    assert_eq!(cursor[RECONCILED_AT], ts(NOW).to_string());

    // WHEN the next slice is reconciled, THEN it reaches the end and starts over next time
    let second = w
        .ingestor
        .run(&job(SyncReason::Reconcile), ts(NOW))
        .await
        .unwrap();
    assert_eq!((second.reconciled, second.deleted), (1, 0), "{second:?}");
    assert!(!w.cursor().contains_key(RECONCILE_AFTER));
    assert_eq!(w.mail.provider_ids(), ["m-1", "m-4"]);
}
