//! The scheduler's store against a real DynamoDB Local: held time is exclusive under
//! concurrency, a reschedule moves it all or nothing, links and busy time stay in their
//! contract's partition. Run through `make test`, which starts the emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use hiresync_domain::availability::{Busy, Slot};
use hiresync_domain::booking::Booking;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{BusyCache, Hold, SchedulerSettingsStore, SchedulingStore, Versioned};
use hiresync_domain::scheduler::link::{Invitee, SchedulingLink};
use hiresync_domain::scheduler::{MeetingType, SeatScheduler};
use hiresync_domain::Timestamp;
use hiresync_store::DynamoSchedulingStore;

async fn store(label: &str) -> DynamoSchedulingStore {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let table = resources.table("SchedulingTable").unwrap().to_owned();
    DynamoSchedulingStore::new(aws_sdk_dynamodb::Client::new(&config), table)
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Far enough ahead that DynamoDB Local's TTL never deletes what a test wrote.
const NOW: &str = "2037-03-02T09:30:00Z";

fn link(contract: &str, n: u32) -> SchedulingLink {
    SchedulingLink {
        contract_id: ContractId::parse(contract).unwrap(),
        seat_id: SeatId::parse("seat-1").unwrap(),
        token_hash: format!("{n:08x}{}", "0".repeat(56)),
        invitee: Invitee {
            email: EmailAddress::parse(format!("candidate{n}@mail.example")).unwrap(),
            name: Some(format!("Candidate {n}")),
            profile: None,
        },
        conversation: format!("conv-{n}"),
        holder: UserId::parse("alice").unwrap(),
        calendar: EmailAddress::parse("alice@acme.com").unwrap(),
        created_at: at(NOW),
        expires_at: at("2037-03-16T09:30:00Z"),
    }
}

fn slot(start: &str, minutes: i64) -> Slot {
    let start = at(start);
    Slot {
        start,
        end: start
            .checked_add(jiff::SignedDuration::from_mins(minutes))
            .unwrap(),
    }
}

fn booking(contract: &str, n: u32, slot: Slot) -> Booking {
    Booking::request(
        &link(contract, n),
        slot,
        MeetingType::Video,
        "Europe/Paris".into(),
        at(NOW),
    )
    .unwrap()
}

fn held(hold: Hold) -> Versioned<Booking> {
    match hold {
        Hold::Held(b) => *b,
        other => panic!("expected the time to be held, got {other:?}"),
    }
}

#[tokio::test]
async fn two_concurrent_bookings_of_one_time_exactly_one_wins() {
    let store = Arc::new(store("sched-race").await);
    for round in 0..8u32 {
        // Overlapping by a quarter of an hour, on a different day each round.
        let day = 3 + round;
        let a = booking(
            "acme",
            2 * round,
            slot(&format!("2037-03-{day:02}T10:00:00Z"), 30),
        );
        let b = booking(
            "acme",
            2 * round + 1,
            slot(&format!("2037-03-{day:02}T10:15:00Z"), 30),
        );
        let (sa, sb) = (store.clone(), store.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { sa.hold(&a, None, None).await.unwrap() }),
            tokio::spawn(async move { sb.hold(&b, None, None).await.unwrap() }),
        );
        let outcomes = [ra.unwrap(), rb.unwrap()];
        let wins = outcomes
            .iter()
            .filter(|o| matches!(o, Hold::Held(_)))
            .count();
        let taken = outcomes.iter().filter(|o| **o == Hold::Taken).count();
        assert_eq!((wins, taken), (1, 1), "round {round}: {outcomes:?}");
    }
}

#[tokio::test]
async fn back_to_back_meetings_hold_no_bucket_in_common() {
    let store = store("sched-adjacent").await;
    held(
        store
            .hold(
                &booking("acme", 1, slot("2037-03-03T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    held(
        store
            .hold(
                &booking("acme", 2, slot("2037-03-03T10:30:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        store
            .hold(
                &booking("acme", 3, slot("2037-03-03T10:25:00Z", 5)),
                None,
                None
            )
            .await
            .unwrap(),
        Hold::Taken
    );
}

#[tokio::test]
async fn a_reschedule_releases_the_old_time_and_takes_the_new_all_or_nothing() {
    let store = store("sched-move").await;
    let first = held(
        store
            .hold(
                &booking("acme", 1, slot("2037-03-03T10:00:00Z", 60)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    // Moved to 11:30: the 10:00 hour is free again, and another candidate takes it.
    let mut moved = first.value.clone();
    moved
        .reschedule(
            slot("2037-03-03T11:30:00Z", 60),
            "Asia/Tokyo".into(),
            at(NOW),
        )
        .unwrap();
    let moved = held(store.hold(&moved, Some(&first), None).await.unwrap());
    assert_eq!(moved.version, 2);
    let other = held(
        store
            .hold(
                &booking("acme", 2, slot("2037-03-03T10:00:00Z", 60)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    // Moving back onto the other's time fails and changes nothing.
    let mut back = moved.value.clone();
    back.reschedule(
        slot("2037-03-03T10:30:00Z", 60),
        "Asia/Tokyo".into(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(
        store.hold(&back, Some(&moved), None).await.unwrap(),
        Hold::Taken
    );
    let stored = store
        .booking(
            &first.value.contract_id,
            &first.value.seat_id,
            &first.value.id,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, moved);
    // Its 11:30 time is still held: nobody else can book 12:00.
    assert_eq!(
        store
            .hold(
                &booking("acme", 3, slot("2037-03-03T12:00:00Z", 30)),
                None,
                None
            )
            .await
            .unwrap(),
        Hold::Taken
    );
    // A move that overlaps its own time keeps what it shares and takes the rest.
    let mut shifted = moved.value.clone();
    shifted
        .reschedule(
            slot("2037-03-03T12:00:00Z", 60),
            "Asia/Tokyo".into(),
            at(NOW),
        )
        .unwrap();
    let shifted = held(store.hold(&shifted, Some(&moved), None).await.unwrap());
    assert_eq!(shifted.version, 3);
    held(
        store
            .hold(
                &booking("acme", 4, slot("2037-03-03T11:30:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    let upcoming = store
        .bookings_of_seat(&other.value.contract_id, &other.value.seat_id, at(NOW), 100)
        .await
        .unwrap();
    assert_eq!(upcoming.len(), 3);
}

#[tokio::test]
async fn a_reschedule_from_a_stale_read_changes_nothing() {
    let store = store("sched-stale").await;
    let first = held(
        store
            .hold(
                &booking("acme", 1, slot("2037-03-03T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    let mut a = first.value.clone();
    a.reschedule(slot("2037-03-04T10:00:00Z", 30), "UTC".into(), at(NOW))
        .unwrap();
    held(store.hold(&a, Some(&first), None).await.unwrap());
    let mut b = first.value.clone();
    b.reschedule(slot("2037-03-05T10:00:00Z", 30), "UTC".into(), at(NOW))
        .unwrap();
    assert_eq!(
        store.hold(&b, Some(&first), None).await.unwrap(),
        Hold::Changed
    );
    // The same new booking twice: the second finds it there.
    assert_eq!(
        store.hold(&first.value, None, None).await.unwrap(),
        Hold::Changed
    );
    // 2037-03-05 was not taken by the refused move.
    held(
        store
            .hold(
                &booking("acme", 2, slot("2037-03-05T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn links_and_bookings_are_found_only_under_their_own_contract() {
    let store = store("sched-tenancy").await;
    let mine = link("acme", 7);
    store.put_link(&mine).await.unwrap();
    store.put_link(&mine).await.unwrap();
    assert_eq!(
        store
            .link(&mine.contract_id, &mine.seat_id, &mine.token_hash)
            .await
            .unwrap(),
        Some(mine.clone())
    );
    let other = ContractId::parse("globex").unwrap();
    assert_eq!(
        store
            .link(&other, &mine.seat_id, &mine.token_hash)
            .await
            .unwrap(),
        None
    );
    let b = held(
        store
            .hold(
                &booking("acme", 7, slot("2037-03-03T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    assert!(store
        .booking(&other, &b.value.seat_id, &b.value.id)
        .await
        .unwrap()
        .is_none());
    // Another contract's seat of the same id holds its own time.
    held(
        store
            .hold(
                &booking("globex", 7, slot("2037-03-03T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn busy_time_is_reused_only_while_fresh_and_covering_and_until_forgotten() {
    let store = store("sched-busy").await;
    let (c, s) = (
        ContractId::parse("acme").unwrap(),
        SeatId::parse("seat-1").unwrap(),
    );
    let busy = vec![Busy {
        start: at("2037-03-03T10:00:00Z"),
        end: at("2037-03-03T11:00:00Z"),
    }];
    let (from, to) = (at("2037-03-03T00:00:00Z"), at("2037-03-17T00:00:00Z"));
    store
        .cache_busy(&c, &s, from, to, &busy, at(NOW))
        .await
        .unwrap();
    assert_eq!(
        store
            .cached_busy(&c, &s, from, to, at("2037-03-02T09:25:00Z"))
            .await
            .unwrap(),
        Some(busy.clone())
    );
    // Read too long ago, or not covering the range asked: not used.
    assert_eq!(
        store
            .cached_busy(&c, &s, from, to, at("2037-03-02T09:31:00Z"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .cached_busy(&c, &s, from, at("2037-03-18T00:00:00Z"), at(NOW))
            .await
            .unwrap(),
        None
    );
    store.forget_busy(&c, &s).await.unwrap();
    assert_eq!(
        store
            .cached_busy(&c, &s, from, to, at("2037-03-02T09:00:00Z"))
            .await
            .unwrap(),
        None
    );
    // Forgetting twice is fine.
    store.forget_busy(&c, &s).await.unwrap();
}

#[tokio::test]
async fn scheduler_settings_round_trip_per_seat() {
    let store = store("sched-settings").await;
    let (c, s) = (
        ContractId::parse("acme").unwrap(),
        SeatId::parse("seat-1").unwrap(),
    );
    assert_eq!(store.scheduler(&c, &s).await.unwrap(), None);
    let settings: SeatScheduler = serde_json::from_value(serde_json::json!({
        "length_minutes": 30,
        "time_zone": "Europe/Paris",
        "windows": [{"weekday": "monday", "start": "09:00", "end": "12:00"}],
        "buffer_after_minutes": 10,
        "max_days_ahead": 14,
        "daily_cap": 3,
        "meeting": {"type": "phone", "number": "+33 1 23 45 67 89"},
    }))
    .unwrap();
    store
        .save_scheduler(&c, &s, &settings, at(NOW))
        .await
        .unwrap();
    assert_eq!(store.scheduler(&c, &s).await.unwrap(), Some(settings));
    assert_eq!(
        store
            .scheduler(&c, &SeatId::parse("seat-2").unwrap())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_cancelled_booking_releases_its_time_and_a_stale_cancel_changes_nothing() {
    let store = store("sched-cancel").await;
    let first = held(
        store
            .hold(
                &booking("acme", 1, slot("2037-03-03T10:00:00Z", 60)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    let mut cancelled = first.value.clone();
    cancelled.state = hiresync_domain::booking::BookingState::Cancelled;
    let stored = store.update_booking(&first, &cancelled).await.unwrap();
    assert_eq!(stored.version, 2);
    // Its hour is free again.
    held(
        store
            .hold(
                &booking("acme", 2, slot("2037-03-03T10:30:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    // A cancel from a stale read is refused as a conflict and releases nothing.
    let other = held(
        store
            .hold(
                &booking("acme", 3, slot("2037-03-04T10:00:00Z", 30)),
                None,
                None,
            )
            .await
            .unwrap(),
    );
    let mut confirmed = other.value.clone();
    confirmed.state = hiresync_domain::booking::BookingState::Confirmed;
    store.update_booking(&other, &confirmed).await.unwrap();
    let mut stale_cancel = other.value.clone();
    stale_cancel.state = hiresync_domain::booking::BookingState::Cancelled;
    let refused = store
        .update_booking(&other, &stale_cancel)
        .await
        .unwrap_err();
    assert!(refused.is_conflict(), "{refused:?}");
    assert_eq!(
        store
            .hold(
                &booking("acme", 4, slot("2037-03-04T10:00:00Z", 30)),
                None,
                None
            )
            .await
            .unwrap(),
        Hold::Taken
    );
}

/// `booking` counted on its UTC day (the seat's zone in these tests).
fn on_day(mut b: Booking) -> Booking {
    b.local_day = Some(b.start.to_zoned(jiff::tz::TimeZone::UTC).date());
    b
}

#[tokio::test]
async fn the_daily_cap_is_held_with_the_time_even_when_candidates_book_at_once() {
    let store = Arc::new(store("sched-cap").await);
    // Cap 1: two candidates booking different times of one day at once, exactly one wins.
    let a = on_day(booking("acme", 1, slot("2037-03-03T09:00:00Z", 30)));
    let b = on_day(booking("acme", 2, slot("2037-03-03T15:00:00Z", 30)));
    let (sa, sb) = (store.clone(), store.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { sa.hold(&a, None, Some(1)).await.unwrap() }),
        tokio::spawn(async move { sb.hold(&b, None, Some(1)).await.unwrap() }),
    );
    let outcomes = [ra.unwrap(), rb.unwrap()];
    let winner = outcomes
        .iter()
        .find_map(|o| match o {
            Hold::Held(b) => Some((**b).clone()),
            _ => None,
        })
        .expect("one booking held");
    assert!(outcomes.contains(&Hold::Taken), "{outcomes:?}");
    // Moving within the day keeps its place; the day stays full for others.
    let mut same_day = winner.value.clone();
    same_day
        .reschedule(slot("2037-03-03T11:00:00Z", 30), "UTC".into(), at(NOW))
        .unwrap();
    let same_day = held(
        store
            .hold(&on_day(same_day), Some(&winner), Some(1))
            .await
            .unwrap(),
    );
    let third = on_day(booking("acme", 3, slot("2037-03-03T16:00:00Z", 30)));
    assert_eq!(
        store.hold(&third, None, Some(1)).await.unwrap(),
        Hold::Taken
    );
    // Moving to another day gives its place back.
    let mut next_day = same_day.value.clone();
    next_day
        .reschedule(slot("2037-03-04T11:00:00Z", 30), "UTC".into(), at(NOW))
        .unwrap();
    let next_day = held(
        store
            .hold(&on_day(next_day), Some(&same_day), Some(1))
            .await
            .unwrap(),
    );
    let third = held(store.hold(&third, None, Some(1)).await.unwrap());
    // Cancelling gives its place back too.
    let fourth = on_day(booking("acme", 4, slot("2037-03-04T15:00:00Z", 30)));
    assert_eq!(
        store.hold(&fourth, None, Some(1)).await.unwrap(),
        Hold::Taken
    );
    let mut cancelled = next_day.value.clone();
    cancelled.state = hiresync_domain::booking::BookingState::Cancelled;
    store.update_booking(&next_day, &cancelled).await.unwrap();
    held(store.hold(&fourth, None, Some(1)).await.unwrap());
    // Without a cap, a day takes any number.
    for n in 5..8 {
        let b = on_day(booking(
            "acme",
            n,
            slot(&format!("2037-03-0{n}T10:00:00Z"), 30),
        ));
        held(store.hold(&b, None, None).await.unwrap());
    }
    assert_eq!(third.value.local_day, Some(jiff::civil::date(2037, 3, 3)));
}
