//! The sweep on DynamoDB Local: what is removed, what stays, and a run that stops for time
//! continued by the next.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::atomic::{AtomicUsize, Ordering};

use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::ports::{Retention, ThreadStore};
use hiresync_domain::Timestamp;
use hiresync_store::DynamoMailStore;
use retention_sweep::sweep;

const NOW: &str = "2026-09-30T10:00:00Z";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn store(label: &str) -> DynamoMailStore {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    DynamoMailStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("MailTable").unwrap(),
    )
}

/// A thread of `contract`'s `seat` with two messages, the later at `last`.
async fn conversation(
    store: &DynamoMailStore,
    contract: &str,
    seat: &str,
    id: &str,
    last: &str,
) -> Thread {
    let last = ts(last);
    let thread = Thread {
        contract_id: ContractId::parse(contract).unwrap(),
        seat_id: SeatId::parse(seat).unwrap(),
        thread_id: id.into(),
        counterpart: EmailAddress::parse("jane@talent.example").unwrap(),
        visibility: Visibility::Private,
        holder: None,
        profile: None,
        started_from_product: false,
        last_activity_at: last,
    };
    for (n, at) in [last - jiff::SignedDuration::from_hours(30), last]
        .into_iter()
        .enumerate()
    {
        let message = Message {
            contract_id: thread.contract_id.clone(),
            seat_id: thread.seat_id.clone(),
            thread_id: thread.thread_id.clone(),
            provider_id: format!("{id}-m{n}"),
            internet_message_id: None,
            direction: Direction::Received,
            from: thread.counterpart.clone(),
            to: vec![EmailAddress::parse(format!("{seat}@acme.example")).unwrap()],
            cc: vec![],
            bcc: vec![],
            subject: "Hello".into(),
            sent_at: at,
        };
        let at_message = Thread {
            last_activity_at: at,
            ..thread.clone()
        };
        store.store_message(&at_message, &message).await.unwrap();
    }
    thread
}

async fn state(store: &DynamoMailStore, t: &Thread) -> (bool, Option<String>) {
    let (live, tombstone) = store
        .thread_with_tombstone(&t.contract_id, &t.seat_id, &t.thread_id)
        .await
        .unwrap();
    (live.is_some(), tombstone.map(|t| t.reason))
}

#[tokio::test]
async fn threads_six_months_quiet_go_with_their_messages_and_leave_a_tombstone() {
    let store = store("sweep-rules").await;
    // GIVEN threads quiet for six months and three days, since this morning, since
    // yesterday in another contract; and one a month old, and one due in a second
    let old = conversation(&store, "acme", "s1", "old", "2026-03-27T08:00:00Z").await;
    let morning = conversation(&store, "acme", "s2", "morning", "2026-03-30T06:00:00Z").await;
    let other = conversation(&store, "globex", "s1", "old", "2026-03-29T12:00:00Z").await;
    let recent = conversation(&store, "acme", "s1", "recent", "2026-08-30T10:00:00Z").await;
    let due = conversation(&store, "acme", "s1", "due", "2026-03-30T10:00:01Z").await;

    // WHEN the sweep runs
    let report = sweep(&store, ts(NOW), &|| false).await.unwrap();

    // THEN exactly the expired ones are gone, messages and all, each leaving its tombstone
    assert_eq!(report.threads_removed, 3);
    assert_eq!(report.messages_removed, 6);
    assert_eq!(report.listed, 3, "nothing read that was not due");
    assert!(report.finished);
    assert_eq!(report.mark, jiff::civil::date(2026, 9, 30));
    for t in [&old, &morning, &other] {
        assert_eq!(
            state(&store, t).await,
            (false, Some("inactivity".to_owned())),
            "{}",
            t.thread_id
        );
        assert!(store
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap()
            .is_empty());
    }
    for t in [&recent, &due] {
        assert_eq!(state(&store, t).await, (true, None), "{}", t.thread_id);
    }
    assert_eq!(store.sweep_mark().await.unwrap(), Some(report.mark));

    // AND a second run an hour later takes the one that expired meanwhile, reading only it
    let later = sweep(&store, ts("2026-09-30T11:00:00Z"), &|| false)
        .await
        .unwrap();
    assert_eq!((later.threads_removed, later.listed), (1, 1));
    assert!(!state(&store, &due).await.0);
    // AND a run with nothing due reads nothing
    let idle = sweep(&store, ts("2026-09-30T11:00:00Z"), &|| false)
        .await
        .unwrap();
    assert_eq!((idle.threads_removed, idle.listed), (0, 0));
}

#[tokio::test]
async fn a_run_out_of_time_is_continued_by_the_next_without_restarting_the_day() {
    let store = store("sweep-resume").await;
    // GIVEN seven expired threads over three days
    let mut threads = Vec::new();
    for (n, last) in [
        "2026-03-27T01:00:00Z",
        "2026-03-27T02:00:00Z",
        "2026-03-28T01:00:00Z",
        "2026-03-28T02:00:00Z",
        "2026-03-28T03:00:00Z",
        "2026-03-29T01:00:00Z",
        "2026-03-29T02:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        threads.push(conversation(&store, "acme", "s1", &format!("t{n}"), last).await);
    }

    // WHEN a run has time for three removals only
    let budget = AtomicUsize::new(0);
    let three = || budget.fetch_add(1, Ordering::SeqCst) >= 3;
    let first = sweep(&store, ts(NOW), &three).await.unwrap();

    // THEN it stops with three removed, its mark on the day it was in
    assert_eq!(first.threads_removed, 3);
    assert!(!first.finished);
    assert_eq!(first.mark, jiff::civil::date(2026, 9, 28));
    assert_eq!(store.sweep_mark().await.unwrap(), Some(first.mark));

    // AND the next run removes the other four, reading none of the first three again
    let second = sweep(&store, ts(NOW), &|| false).await.unwrap();
    assert_eq!((second.threads_removed, second.listed), (4, 4));
    assert!(second.finished);
    for t in &threads {
        assert!(!state(&store, t).await.0, "{}", t.thread_id);
    }
}
