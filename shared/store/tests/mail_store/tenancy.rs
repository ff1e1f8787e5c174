//! Seat ids are unique only within their contract: the same seat id in two contracts holds
//! two mailboxes that never see, change or delete each other's mail.

use super::*;

#[tokio::test]
async fn the_same_seat_id_in_two_contracts_holds_two_separate_mailboxes() {
    let store = mail("mail-tenancy").await;
    // GIVEN seat "rec-1" in acme and in globex, each with a thread of the same id with the
    // same candidate, and a skip decision for the same counterpart
    let mut threads = Vec::new();
    for (c, pid) in [("acme", "m-acme"), ("globex", "m-globex")] {
        let t = thread(
            c,
            "rec-1",
            "conv-1",
            "jane@example.org",
            "2026-03-01T09:00:00Z",
        );
        let m = message(&t, pid, Some(&format!("<{pid}@x>")), "2026-03-01T09:00:00Z");
        store.threads().store_message(&t, &m).await.unwrap();
        store
            .skips()
            .record(
                &SkipRecord {
                    contract: contract(c),
                    seat: seat("rec-1"),
                    counterpart: addr("jane@example.org"),
                    provider_id: format!("skip-{c}"),
                    at: ts("2026-03-02T09:00:00Z"),
                    code: "not_in_pipeline".into(),
                    explanation: "The candidate is not in any pipeline.".into(),
                    decided_at: ts("2026-03-10T12:00:00Z"),
                },
                Some("conv-2"),
            )
            .await
            .unwrap();
        threads.push((t, m));
    }
    let (acme, globex) = (contract("acme"), contract("globex"));
    let rec = seat("rec-1");

    // THEN each contract reads its own thread, message and decision only
    for (c, pid) in [(&acme, "m-acme"), (&globex, "m-globex")] {
        let page = store
            .reader()
            .threads_of_seat(c, &rec, 50, None)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(&page.items[0].contract_id, c);
        let messages = store.reader().messages(c, &rec, "conv-1").await.unwrap();
        assert_eq!(
            messages
                .iter()
                .map(|m| m.provider_id.as_str())
                .collect::<Vec<_>>(),
            vec![pid]
        );
        let skips = store
            .skips()
            .skips_for(c, &rec, &addr("jane@example.org"))
            .await
            .unwrap();
        assert_eq!(skips.len(), 1);
        assert_eq!(&skips[0].contract, c);
        let counts = store.skips().skip_counts(c, &rec).await.unwrap();
        assert_eq!(counts, [("not_in_pipeline".to_owned(), 1)].into());
    }

    // WHEN acme's copy is deleted by its provider id, and globex's provider id is deleted
    // through acme
    assert!(!store
        .threads()
        .delete_by_provider_id(&acme, &rec, "m-globex")
        .await
        .unwrap());
    assert!(store
        .threads()
        .delete_by_provider_id(&acme, &rec, "m-acme")
        .await
        .unwrap());

    // THEN acme's thread is gone and globex's is untouched
    assert!(store.thread(&acme, &rec, "conv-1").await.unwrap().is_none());
    assert!(store
        .thread(&globex, &rec, "conv-1")
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .reader()
            .messages(&globex, &rec, "conv-1")
            .await
            .unwrap(),
        vec![threads[1].1.clone()]
    );

    // WHEN globex's thread is removed for a rule
    let tombstone = ThreadTombstone {
        contract: globex.clone(),
        seat: rec.clone(),
        thread_id: "conv-1".into(),
        participants: [addr("jane@example.org"), addr("bob@example.org")].into(),
        started_from_product: false,
        last_activity_at: ts("2026-03-03T09:00:00Z"),
        removed_at: ts("2026-03-03T09:00:00Z"),
        reason: "a_rule".into(),
    };
    store
        .threads()
        .remove_thread_for_rule(&tombstone)
        .await
        .unwrap();

    // THEN the tombstone is globex's alone
    assert!(store
        .tombstone(&globex, &rec, "conv-1")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .tombstone(&acme, &rec, "conv-1")
        .await
        .unwrap()
        .is_none());
}
