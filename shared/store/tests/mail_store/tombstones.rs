//! Removing a thread for a rule or for inactivity, and the tombstone that stays.

use super::*;

/// No sync rule removes a thread today (an email that breaks one is left out alone); the
/// store keeps the mechanism for a rule that would, tested under this reason.
const RULE: &str = "a_rule";

fn tombstone(thread_id: &str, who: &[&str], last: &str, removed: &str) -> ThreadTombstone {
    ThreadTombstone {
        contract: contract("acme"),
        seat: seat("seat-1"),
        thread_id: thread_id.into(),
        participants: who.iter().map(|a| addr(a)).collect(),
        started_from_product: false,
        last_activity_at: ts(last),
        removed_at: ts(removed),
        reason: RULE.into(),
    }
}

/// The raw tombstone item, to look at what the store does not return (`ttl`, `version`).
async fn tombstone_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    thread_id: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key(
            "pk",
            AttributeValue::S(keys::mail_pk(&contract("acme"), &seat("seat-1"))),
        )
        .key("sk", AttributeValue::S(keys::tombstone_sk(thread_id)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("a tombstone item")
}

#[tokio::test]
async fn a_tombstone_an_earlier_version_left_for_a_third_participant_keeps_nothing_out() {
    let (client, table) = mail_table("mail-void-tombstone").await;
    let store = Mail::new(client, table);
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-01T09:00:00Z",
    );
    let first = message(&t, "m0", Some("<0@x.org>"), "2026-03-01T09:00:00Z");
    store
        .threads()
        .store_message(&at(&t, &first), &first)
        .await
        .unwrap();
    // GIVEN the thread was removed when one email copied bob in, as earlier versions did
    let void = ThreadTombstone {
        reason: ThreadTombstone::VOID_PARTICIPANTS.into(),
        ..tombstone(
            "conv-1",
            &["jane@example.org", "bob@else.org"],
            "2026-03-02T09:00:00Z",
            "2026-03-02T10:00:00Z",
        )
    };
    store.threads().remove_thread_for_rule(&void).await.unwrap();
    // WHEN jane writes one to one again
    let later = message(&t, "m1", Some("<1@x.org>"), "2026-03-03T09:00:00Z");
    // THEN it is stored
    assert_eq!(
        store
            .threads()
            .store_message(&at(&t, &later), &later)
            .await
            .unwrap(),
        StoreOutcome::Stored
    );
}

#[tokio::test]
async fn a_thread_removed_for_a_rule_leaves_a_tombstone_and_stays_removed() {
    let (client, table) = mail_table("mail-tombstone").await;
    let store = Mail::new(client.clone(), table.clone());
    // GIVEN a one-to-one thread with jane, three messages
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-01T09:00:00Z",
    );
    for i in 0..3 {
        let m = message(
            &t,
            &format!("m{i}"),
            Some(&format!("<{i}@x.org>")),
            &format!("2026-03-0{}T09:00:00Z", i + 1),
        );
        store
            .threads()
            .store_message(&at(&t, &m), &m)
            .await
            .unwrap();
    }

    // WHEN a rule removes it
    let removal = tombstone(
        "conv-1",
        &["jane@example.org", "bob@else.org", "seat-1@acme.com"],
        "2026-03-04T09:00:00Z",
        "2026-03-05T12:00:00Z",
    );
    let removed = store
        .threads()
        .remove_thread_for_rule(&removal)
        .await
        .unwrap();

    // THEN the thread and its messages are gone, and what stays names everyone seen
    assert_eq!(removed, 3);
    let (live, gone) = store
        .threads()
        .thread_with_tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert_eq!(live, None);
    assert_eq!(gone.as_ref(), Some(&removal));
    assert!(store
        .threads()
        .messages(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .reader()
        .threads_of_seat(&contract("acme"), &seat("seat-1"), 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
    // AND it expires 550 days after the removal (its latest news)
    let item = tombstone_item(&client, &table, "conv-1").await;
    let ttl = ts("2026-03-05T12:00:00Z").as_second() + TOMBSTONE_RETENTION_DAYS * 86_400;
    assert_eq!(item.get("ttl"), Some(&AttributeValue::N(ttl.to_string())));
    let version = item.get("version").cloned();

    // WHEN any writer tries to store a one-to-one message of it anyway
    let late = message(&t, "m9", Some("<9@x.org>"), "2026-03-07T09:00:00Z");
    // THEN nothing is written: the thread stays out
    assert_eq!(
        store
            .threads()
            .store_message(&at(&t, &late), &late)
            .await
            .unwrap(),
        StoreOutcome::ThreadRemoved
    );
    assert!(store
        .thread(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .threads()
        .messages(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_empty());

    // WHEN the same removal is replayed, later
    let mut replay = removal.clone();
    replay.removed_at = ts("2026-03-06T00:00:00Z");
    assert_eq!(
        store
            .threads()
            .remove_thread_for_rule(&replay)
            .await
            .unwrap(),
        0
    );
    // THEN nothing changes, not even the tombstone's version
    let item = tombstone_item(&client, &table, "conv-1").await;
    assert_eq!(item.get("version").cloned(), version);
    assert_eq!(
        store
            .tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
            .await
            .unwrap()
            .as_ref(),
        Some(&removal)
    );

    // WHEN a later message of the thread brings carol
    let carol = tombstone(
        "conv-1",
        &["jane@example.org", "carol@else.org"],
        "2026-03-10T09:00:00Z",
        "2026-03-10T10:00:00Z",
    );
    store
        .threads()
        .remove_thread_for_rule(&carol)
        .await
        .unwrap();
    // THEN she joins the tombstone, whose activity (and expiry) move forward, while the
    // removal keeps the instant it first happened
    let merged = store
        .tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merged.participants.len(), 4);
    assert_eq!(merged.last_activity_at, ts("2026-03-10T09:00:00Z"));
    assert_eq!(merged.removed_at, removal.removed_at);
    let item = tombstone_item(&client, &table, "conv-1").await;
    let ttl = ts("2026-03-10T09:00:00Z").as_second() + TOMBSTONE_RETENTION_DAYS * 86_400;
    assert_eq!(item.get("ttl"), Some(&AttributeValue::N(ttl.to_string())));

    // AND a thread that was never stored can be marked too (its newest message came first)
    let never = tombstone(
        "conv-2",
        &["jane@example.org", "bob@else.org"],
        "2026-03-04T09:00:00Z",
        "2026-03-05T12:00:00Z",
    );
    assert_eq!(
        store
            .threads()
            .remove_thread_for_rule(&never)
            .await
            .unwrap(),
        0
    );
    assert!(store
        .tombstone(&contract("acme"), &seat("seat-1"), "conv-2")
        .await
        .unwrap()
        .is_some());

    // AND the sweep's removal is refused here
    let mut idle = never.clone();
    idle.reason = ThreadTombstone::INACTIVITY.into();
    assert!(matches!(
        store.threads().remove_thread_for_rule(&idle).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test]
async fn an_idle_thread_is_removed_for_inactivity_with_a_tombstone_and_an_active_one_is_not() {
    let store = mail("mail-idle").await;
    // GIVEN a thread last active on 1 August 2025
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2025-08-01T09:00:00Z",
    );
    for (id, sent) in [
        ("m1", "2025-07-01T09:00:00Z"),
        ("m2", "2025-08-01T09:00:00Z"),
    ] {
        let m = message(&t, id, None, sent);
        store
            .threads()
            .store_message(&at(&t, &m), &m)
            .await
            .unwrap();
    }

    // WHEN the sweep comes a second before six months have passed
    let early = store
        .remove_thread_for_inactivity(
            &contract("acme"),
            &seat("seat-1"),
            "conv-1",
            ts("2026-02-01T08:59:59Z"),
        )
        .await
        .unwrap();
    // THEN nothing happens
    assert_eq!(early, None);
    assert!(store
        .thread(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_none());

    // WHEN it comes after
    let removed = store
        .remove_thread_for_inactivity(
            &contract("acme"),
            &seat("seat-1"),
            "conv-1",
            ts("2026-02-02T03:00:00Z"),
        )
        .await
        .unwrap();
    // THEN the thread leaves, and its tombstone says why, and since when: the instant its
    // six months ran out, whenever the sweep came
    assert_eq!(removed, Some(2));
    let (live, gone) = store
        .threads()
        .thread_with_tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert_eq!(live, None);
    let gone = gone.unwrap();
    assert!(gone.removed_for_inactivity());
    assert_eq!(gone.removed_at, ts("2026-02-01T09:00:00Z"));
    assert_eq!(gone.last_activity_at, ts("2025-08-01T09:00:00Z"));
    assert_eq!(
        gone.participants,
        BTreeSet::from([addr("jane@example.org")])
    );
    // AND removing what is gone is nothing
    assert_eq!(
        store
            .remove_thread_for_inactivity(
                &contract("acme"),
                &seat("seat-1"),
                "conv-1",
                ts("2026-02-03T00:00:00Z")
            )
            .await
            .unwrap(),
        None
    );

    // WHEN the conversation comes back, then gains a third participant
    let m = message(&t, "m3", None, "2026-03-01T09:00:00Z");
    store
        .threads()
        .store_message(&at(&t, &m), &m)
        .await
        .unwrap();
    let (live, gone) = store
        .threads()
        .thread_with_tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert!(live.is_some() && gone.is_some(), "both are read together");
    let rule = tombstone(
        "conv-1",
        &["bob@else.org"],
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
    );
    assert_eq!(
        store.threads().remove_thread_for_rule(&rule).await.unwrap(),
        1
    );
    // THEN the rule is what the tombstone says now, with everyone seen
    let gone = store
        .tombstone(&contract("acme"), &seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.reason, RULE);
    assert_eq!(gone.removed_at, ts("2026-03-02T10:00:00Z"));
    assert_eq!(
        gone.participants,
        BTreeSet::from([addr("jane@example.org"), addr("bob@else.org")])
    );
}
