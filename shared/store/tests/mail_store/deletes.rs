//! Deleting a message (its thread goes with the last one), and removing a whole thread.

use super::*;

#[tokio::test]
async fn deleting_the_last_message_removes_the_thread() {
    let store = mail("mail-delete").await;
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let first = message(&t, "m1", Some("<one@x.org>"), "2026-03-02T09:00:00Z");
    let second = message(&t, "m2", Some("<two@x.org>"), "2026-03-02T10:00:00Z");
    // GIVEN a thread with two messages
    store
        .threads()
        .store_message(&at(&t, &first), &first)
        .await
        .unwrap();
    store
        .threads()
        .store_message(&at(&t, &second), &second)
        .await
        .unwrap();

    // WHEN one is deleted (twice)
    assert!(store
        .delete_message(&t.contract_id, &t.seat_id, "conv-1", "m1")
        .await
        .unwrap());
    assert!(!store
        .delete_message(&t.contract_id, &t.seat_id, "conv-1", "m1")
        .await
        .unwrap());

    // THEN the thread stays with the other
    assert!(store
        .thread(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .threads()
            .messages(&t.contract_id, &t.seat_id, "conv-1")
            .await
            .unwrap(),
        vec![second.clone()]
    );

    // WHEN the last one is deleted
    assert!(store
        .delete_message(&t.contract_id, &t.seat_id, "conv-1", "m2")
        .await
        .unwrap());

    // THEN the thread is gone too, and so are the Message-ID guards: the same RFC message
    // under another provider id can be stored again, in a new, private thread
    assert!(store
        .thread(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .threads()
        .messages(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_empty());
    let copy = message(&t, "m1-copy", Some("<one@x.org>"), "2026-03-02T09:00:00Z");
    assert_eq!(
        store
            .threads()
            .store_message(&at(&t, &copy), &copy)
            .await
            .unwrap(),
        StoreOutcome::Stored
    );
    assert_eq!(
        store
            .thread(&t.contract_id, &t.seat_id, "conv-1")
            .await
            .unwrap()
            .unwrap(),
        at(&t, &copy)
    );
    assert!(!store
        .delete_message(&t.contract_id, &t.seat_id, "no-such", "m1")
        .await
        .unwrap());
}

#[tokio::test]
async fn removing_a_thread_removes_its_messages_and_guards_and_nothing_else() {
    let store = mail("mail-remove").await;
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let keep = thread(
        "acme",
        "seat-1",
        "conv-10",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    // GIVEN a thread with 30 messages (more than one batch) and a neighbour
    for i in 0..30 {
        let m = message(
            &t,
            &format!("m{i:02}"),
            Some(&format!("<{i}@x.org>")),
            "2026-03-02T09:00:00Z",
        );
        store.threads().store_message(&t, &m).await.unwrap();
    }
    let neighbour = message(&keep, "k1", Some("<keep@x.org>"), "2026-03-02T09:00:00Z");
    store
        .threads()
        .store_message(&keep, &neighbour)
        .await
        .unwrap();

    // WHEN the thread is removed
    let removed = store
        .remove_thread(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap();

    // THEN it, its messages and their guards are gone; the neighbour is untouched
    assert_eq!(removed, 30);
    assert!(store
        .thread(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .threads()
        .messages(&t.contract_id, &t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_empty());
    let copy = message(&t, "copy", Some("<7@x.org>"), "2026-03-02T09:00:00Z");
    assert_eq!(
        store.threads().store_message(&t, &copy).await.unwrap(),
        StoreOutcome::Stored,
        "the guard went with its message"
    );
    assert_eq!(
        store
            .threads()
            .messages(&t.contract_id, &t.seat_id, "conv-10")
            .await
            .unwrap(),
        vec![neighbour]
    );
    assert!(store
        .thread(&t.contract_id, &t.seat_id, "conv-10")
        .await
        .unwrap()
        .is_some());
    let expiring = store
        .expired_threads(
            jiff::civil::date(2026, 9, 2),
            ts("2026-09-02T23:00:00Z"),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        expiring.len(),
        2,
        "conv-10 and the new conv-1: {expiring:?}"
    );

    // AND removing what is not there is fine
    assert_eq!(
        store
            .remove_thread(&t.contract_id, &t.seat_id, "no-such")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_seats_stored_provider_ids_come_in_slices_and_another_seats_never() {
    let store = mail("mail-provider-ids").await;
    // GIVEN three messages of seat-1 (one deleted since) and one of seat-2
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    for id in ["m1", "m2", "m3", "m4"] {
        let m = message(
            &t,
            id,
            Some(&format!("<{id}@x.org>")),
            "2026-03-02T09:00:00Z",
        );
        store
            .threads()
            .store_message(&at(&t, &m), &m)
            .await
            .unwrap();
    }
    store
        .threads()
        .delete_by_provider_id(&contract("acme"), &seat("seat-1"), "m2")
        .await
        .unwrap();
    let other = thread(
        "acme",
        "seat-2",
        "conv-9",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let theirs = message(&other, "x9", Some("<x9@x.org>"), "2026-03-02T09:00:00Z");
    store
        .threads()
        .store_message(&at(&other, &theirs), &theirs)
        .await
        .unwrap();

    // WHEN they are read two at a time
    let first = store
        .threads()
        .stored_provider_ids(&contract("acme"), &seat("seat-1"), 2, None)
        .await
        .unwrap();
    let second = store
        .threads()
        .stored_provider_ids(&contract("acme"), &seat("seat-1"), 2, first.next.as_ref())
        .await
        .unwrap();

    // THEN every stored message comes once, in order, and the listing ends
    assert_eq!(first.items, ["m1", "m3"]);
    assert_eq!(second.items, ["m4"]);
    assert!(
        second.next.is_none() || {
            let third = store
                .threads()
                .stored_provider_ids(&contract("acme"), &seat("seat-1"), 2, second.next.as_ref())
                .await
                .unwrap();
            third.items.is_empty() && third.next.is_none()
        }
    );
    // AND a token that is not one of a provider id is refused
    let bad = hiresync_domain::ports::PageToken::from_string("THREAD#conv-1".into());
    assert!(matches!(
        store
            .threads()
            .stored_provider_ids(&contract("acme"), &seat("seat-1"), 2, Some(&bad))
            .await,
        Err(StoreError::BadPageToken)
    ));
}
