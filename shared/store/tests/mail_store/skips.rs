//! The decisions not to sync, by counterpart and by thread.

use super::*;

#[tokio::test]
async fn skip_decisions_come_back_newest_first_for_one_counterpart() {
    let (client, table) = mail_table("mail-skips").await;
    let store = Mail::new(client.clone(), table.clone());
    let skip = |seat_id: &str, with: &str, provider_id: &str, at: &str| SkipRecord {
        contract: contract("acme"),
        seat: seat(seat_id),
        counterpart: addr(with),
        provider_id: provider_id.into(),
        at: ts(at),
        code: "not_in_pipeline".into(),
        explanation: "The candidate is not in any pipeline.".into(),
        decided_at: ts("2026-03-10T12:00:00Z"),
    };
    // GIVEN decisions for jane (recorded out of order), a look-alike address, another
    // counterpart and another seat
    let jane = [
        skip("seat-1", "jane@x.org", "m1", "2026-03-01T09:00:00Z"),
        skip("seat-1", "jane@x.org", "m3", "2026-03-03T09:00:00Z"),
        skip("seat-1", "jane@x.org", "m2", "2026-03-02T09:00:00Z"),
    ];
    for s in &jane {
        store.skips().record(s, None).await.unwrap();
    }
    for s in [
        skip("seat-1", "jane@x.org.uk", "m4", "2026-03-04T09:00:00Z"),
        skip("seat-1", "john@x.org", "m5", "2026-03-05T09:00:00Z"),
        skip("seat-2", "jane@x.org", "m6", "2026-03-06T09:00:00Z"),
    ] {
        store.skips().record(&s, None).await.unwrap();
    }

    // WHEN seat-1 asks why jane's messages did not sync
    let found = store
        .skips()
        .skips_for(&contract("acme"), &seat("seat-1"), &addr("jane@x.org"))
        .await
        .unwrap();

    // THEN it gets jane's decisions only, newest first
    assert_eq!(
        found,
        vec![jane[1].clone(), jane[2].clone(), jane[0].clone()]
    );

    // AND an admin's count of seat-1's decisions covers every counterpart, by code only
    let counts = store
        .skips()
        .skip_counts(&contract("acme"), &seat("seat-1"))
        .await
        .unwrap();
    assert_eq!(counts, [("not_in_pipeline".to_owned(), 5)].into());

    // AND each expires 30 days after its decision
    let item = client
        .get_item()
        .table_name(&table)
        .key(
            "pk",
            AttributeValue::S(keys::mail_pk(&contract("acme"), &seat("seat-1"))),
        )
        .key(
            "sk",
            AttributeValue::S(keys::skip_sk(&addr("jane@x.org"), jane[0].at, "m1")),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expected_ttl = ts("2026-04-09T12:00:00Z").as_second().to_string();
    assert_eq!(item.get("ttl"), Some(&AttributeValue::N(expected_ttl)));
}

#[tokio::test]
async fn skip_decisions_of_one_thread_are_found_by_code_and_can_be_forgotten() {
    let store = mail("mail-thread-skips").await;
    let skip = |provider_id: &str, code: &str, at: &str| SkipRecord {
        contract: contract("acme"),
        seat: seat("seat-1"),
        counterpart: addr("jane@x.org"),
        provider_id: provider_id.into(),
        at: ts(at),
        code: code.into(),
        explanation: format!("explained {code}"),
        decided_at: ts("2026-03-10T12:00:00Z"),
    };
    // GIVEN decisions for jane in two threads, with two codes, and one recorded before
    // decisions knew their thread
    let m1 = skip("m1", "thread_inactive", "2025-06-01T09:00:00Z");
    let m2 = skip("m2", "thread_inactive", "2025-07-01T09:00:00Z");
    for (s, thread_id) in [
        (&m1, "t1"),
        (&m2, "t1"),
        (&skip("m3", "thread_inactive", "2025-08-01T09:00:00Z"), "t2"),
        (&skip("m4", "before_lookback", "2024-01-01T09:00:00Z"), "t1"),
    ] {
        store.skips().record(s, Some(thread_id)).await.unwrap();
    }
    let m5 = skip("m5", "thread_inactive", "2025-09-01T09:00:00Z");
    store.skips().record(&m5, None).await.unwrap();

    // WHEN the inactive decisions of thread t1 are asked for
    let found = store
        .skips()
        .skips_in_thread(
            &contract("acme"),
            &seat("seat-1"),
            &addr("jane@x.org"),
            "t1",
            "thread_inactive",
            50,
        )
        .await
        .unwrap();
    // THEN exactly those come, newest first, bounded by the limit
    assert_eq!(found, vec![m2.clone(), m1.clone()]);
    let one = store
        .skips()
        .skips_in_thread(
            &contract("acme"),
            &seat("seat-1"),
            &addr("jane@x.org"),
            "t1",
            "thread_inactive",
            1,
        )
        .await
        .unwrap();
    assert_eq!(one, vec![m2.clone()]);
    // AND "why did this not sync?" still reads every decision, old ones included
    assert_eq!(
        store
            .skips()
            .skips_for(&contract("acme"), &seat("seat-1"), &addr("jane@x.org"))
            .await
            .unwrap()
            .len(),
        5
    );

    // WHEN a decision no longer holds
    store.skips().forget(&m2).await.unwrap();
    // THEN it is gone, and forgetting it again is fine
    store.skips().forget(&m2).await.unwrap();
    assert_eq!(
        store
            .skips()
            .skips_in_thread(
                &contract("acme"),
                &seat("seat-1"),
                &addr("jane@x.org"),
                "t1",
                "thread_inactive",
                50
            )
            .await
            .unwrap(),
        vec![m1]
    );
}
