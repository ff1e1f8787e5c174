//! Which threads have expired, across the shards of their day.

use super::*;

#[tokio::test]
async fn expired_threads_are_found_across_the_shards_of_their_day() {
    let store = mail("mail-expiry").await;
    let day = jiff::civil::date(2026, 9, 30);
    let now = ts("2026-09-30T10:00:00Z");
    // GIVEN 40 threads of three seats that expire on 30 September every half hour from
    // midnight, six months after their last activity (so 21 have expired by 10:00) ...
    let mut expected = BTreeSet::new();
    for k in 0..40i64 {
        let seat_id = format!("seat-{}", k % 3);
        let active = ts("2026-03-30T00:00:00Z") + jiff::SignedDuration::from_mins(30 * k);
        let t = thread(
            "acme",
            &seat_id,
            &format!("conv-{k}"),
            "jane@example.org",
            &active.to_string(),
        );
        let m = message(&t, &format!("m-{k}"), None, &active.to_string());
        store.threads().store_message(&t, &m).await.unwrap();
        if t.expires_at() <= now {
            expected.insert((contract("acme"), seat(&seat_id), t.thread_id.clone()));
        }
    }
    assert_eq!(expected.len(), 21);
    // ... and another contract's thread with the same seat and thread ids, expired too: a
    // thread of its own, listed with its own contract
    let twin = thread(
        "globex",
        "seat-0",
        "conv-0",
        "jane@example.org",
        "2026-03-30T00:00:00Z",
    );
    let m = message(&twin, "m-0", None, "2026-03-30T00:00:00Z");
    store.threads().store_message(&twin, &m).await.unwrap();
    expected.insert((contract("globex"), seat("seat-0"), "conv-0".to_owned()));
    // ... and threads that expire on other days, or a fraction of a second after now
    for (id, active) in [
        ("conv-yesterday", "2026-03-29T05:00:00Z"),
        ("conv-tomorrow", "2026-04-01T05:00:00Z"),
        ("conv-just-after", "2026-03-30T10:00:00.5Z"),
    ] {
        let t = thread("acme", "seat-9", id, "jane@example.org", active);
        let m = message(&t, "m", None, active);
        store.threads().store_message(&t, &m).await.unwrap();
    }
    let shards: BTreeSet<u32> = expected
        .iter()
        .map(|(c, s, t)| keys::shard(&format!("{c}#{s}#{t}"), keys::EXPIRY_SHARDS))
        .collect();
    assert!(
        shards.len() > 5,
        "the threads spread over shards: {shards:?}"
    );

    // WHEN the day's expired threads are asked for at 10:00
    let found: BTreeSet<(ContractId, SeatId, String)> = store
        .expired_threads(day, now, 100)
        .await
        .unwrap()
        .into_iter()
        .collect();

    // THEN exactly those expired at or before now come back
    assert_eq!(found, expected);

    // WHEN an expired thread has new activity
    let (c0, s0, t0) = (contract("acme"), seat("seat-0"), "conv-0".to_owned());
    let revived = thread(
        "acme",
        "seat-0",
        &t0,
        "jane@example.org",
        "2026-05-01T08:00:00Z",
    );
    let m = message(&revived, "m-new", None, "2026-05-01T08:00:00Z");
    store.threads().store_message(&revived, &m).await.unwrap();

    // THEN it leaves the day's bucket for the day of its new expiry
    let end_of_day = ts("2026-09-30T23:59:59Z");
    let later = store.expired_threads(day, end_of_day, 100).await.unwrap();
    assert!(!later.contains(&(c0.clone(), s0.clone(), t0.clone())));
    assert!(later.contains(&(contract("globex"), s0.clone(), t0.clone())));
    assert_eq!(
        later.len(),
        39 + 1 + 1,
        "the other 39, conv-just-after and globex's twin"
    );
    let moved = store
        .expired_threads(
            jiff::civil::date(2026, 11, 1),
            ts("2026-11-01T08:00:00Z"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(moved, vec![(c0, s0, t0)]);

    // AND at most `per_shard` come from each shard
    let capped = store.expired_threads(day, end_of_day, 1).await.unwrap();
    assert!(capped.len() <= keys::EXPIRY_SHARDS as usize);
    assert!(capped.len() < later.len());
}
