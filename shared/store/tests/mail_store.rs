//! The mail store against DynamoDB Local, with fresh tables per test.
//! Run through `make test`, which starts the emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::ports::SkipLog;
use hiresync_domain::Timestamp;
use hiresync_store::{
    keys, DynamoMailStore, SkipRecord, StoreError, StoreOutcome, ThreadTombstone,
    TOMBSTONE_RETENTION_DAYS,
};

async fn mail_table(label: &str) -> (aws_sdk_dynamodb::Client, String) {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let table = resources.table("MailTable").unwrap().to_owned();
    (aws_sdk_dynamodb::Client::new(&config), table)
}

async fn mail(label: &str) -> DynamoMailStore {
    let (client, table) = mail_table(label).await;
    DynamoMailStore::new(client, table)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn contract(s: &str) -> ContractId {
    ContractId::parse(s).unwrap()
}
fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}
fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn thread(contract_id: &str, seat_id: &str, thread_id: &str, with: &str, at: &str) -> Thread {
    Thread {
        contract_id: contract(contract_id),
        seat_id: seat(seat_id),
        thread_id: thread_id.into(),
        counterpart: addr(with),
        visibility: Visibility::Private,
        started_from_product: false,
        last_activity_at: ts(at),
    }
}

/// A message of `thread` sent at `sent`, and the thread as the sync sees it then.
fn message(thread: &Thread, provider_id: &str, mid: Option<&str>, sent: &str) -> Message {
    Message {
        contract_id: thread.contract_id.clone(),
        seat_id: thread.seat_id.clone(),
        thread_id: thread.thread_id.clone(),
        provider_id: provider_id.into(),
        internet_message_id: mid.map(str::to_owned),
        direction: Direction::Received,
        from: thread.counterpart.clone(),
        to: vec![addr(&format!("{}@acme.com", thread.seat_id))],
        cc: vec![],
        bcc: vec![],
        subject: format!("About {provider_id}"),
        sent_at: ts(sent),
    }
}

fn at(thread: &Thread, m: &Message) -> Thread {
    Thread {
        last_activity_at: m.sent_at,
        ..thread.clone()
    }
}

#[tokio::test]
async fn a_stored_message_reads_back_with_its_thread() {
    let store = mail("mail-roundtrip").await;
    // GIVEN a thread whose provider id has characters that need care in keys
    let t = thread(
        "acme",
        "seat-1",
        "AAQkAGI2#conv/1+x=",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let m = message(
        &t,
        "AAMkAGI2#msg/1+y=",
        Some("<CAF#1@mail.example.org>"),
        "2026-03-02T09:00:00Z",
    );

    // WHEN its first message is stored
    let outcome = store.store_message(&t, &m).await.unwrap();

    // THEN the thread exists, private, active at the message, with exactly that message
    assert_eq!(outcome, StoreOutcome::Stored);
    let stored = store
        .thread(&t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, t);
    assert_eq!(stored.visibility, Visibility::Private);
    assert_eq!(
        store.messages(&t.seat_id, &t.thread_id).await.unwrap(),
        vec![m.clone()]
    );
    let page = store.threads_of_seat(&t.seat_id, 10, None).await.unwrap();
    assert_eq!(page.items, vec![t.clone()]);
    assert!(page.next.is_none());
    assert!(store
        .thread(&t.seat_id, "AAQkAGI2")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn duplicated_and_reordered_deliveries_store_each_message_once_and_keep_the_latest_activity()
{
    let store = mail("mail-idempotent").await;
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-01T00:00:00Z",
    );
    let messages: Vec<Message> = (0..6)
        .map(|i| {
            message(
                &t,
                &format!("m{i}"),
                Some(&format!("<m{i}@example.org>")),
                &format!("2026-03-0{}T10:00:00Z", i + 1),
            )
        })
        .collect();
    // GIVEN deliveries where the newest message comes first, one message comes ten times,
    // and the rest arrive shuffled
    let mut rest: Vec<Message> = messages[..5].to_vec();
    rest.extend(std::iter::repeat_n(messages[2].clone(), 9));
    let mut rng = fastrand::Rng::with_seed(20260302);
    rng.shuffle(&mut rest);
    let deliveries = std::iter::once(messages[5].clone()).chain(rest);

    // WHEN each is stored with the thread as of that message
    let mut stored = 0;
    let mut replayed = 0;
    for m in deliveries {
        match store.store_message(&at(&t, &m), &m).await.unwrap() {
            StoreOutcome::Stored => stored += 1,
            StoreOutcome::AlreadyStored => replayed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }

    // THEN every message is there once, and the thread's activity is the newest message's
    assert_eq!((stored, replayed), (6, 9));
    assert_eq!(
        store.messages(&t.seat_id, &t.thread_id).await.unwrap(),
        messages
    );
    let thread = store
        .thread(&t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.last_activity_at, ts("2026-03-06T10:00:00Z"));

    // WHEN ten deliveries of a new message race each other
    let newest = message(&t, "m6", Some("<m6@example.org>"), "2026-03-07T10:00:00Z");
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (store, t, m) = (store.clone(), at(&t, &newest), newest.clone());
        racing.spawn(async move { store.store_message(&t, &m).await.unwrap() });
    }
    let outcomes = racing.join_all().await;

    // THEN exactly one stored it
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == StoreOutcome::Stored)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, StoreOutcome::Stored | StoreOutcome::AlreadyStored)));
    assert_eq!(
        store
            .messages(&t.seat_id, &t.thread_id)
            .await
            .unwrap()
            .len(),
        7
    );
    let thread = store
        .thread(&t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.last_activity_at, newest.sent_at);

    // AND a different message under a stored provider id is refused, not overwritten
    let mut changed = messages[0].clone();
    changed.subject = "Something else".into();
    assert!(matches!(
        store.store_message(&at(&t, &changed), &changed).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        store.messages(&t.seat_id, &t.thread_id).await.unwrap()[0],
        messages[0]
    );
}

#[tokio::test]
async fn the_same_rfc_message_under_two_provider_ids_is_stored_once() {
    let store = mail("mail-message-id").await;
    let t = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    // GIVEN a message seen in Inbox, and the same RFC message in Sent Items
    let inbox = message(&t, "inbox-1", Some("<abc@x.org>"), "2026-03-02T09:00:00Z");
    let sent = message(&t, "sent-1", Some("<abc@x.org>"), "2026-03-02T09:00:00Z");

    // WHEN both are stored, each twice
    let first = store.store_message(&t, &inbox).await.unwrap();
    let second = store.store_message(&t, &sent).await.unwrap();
    let replay = store.store_message(&t, &inbox).await.unwrap();
    let again = store.store_message(&t, &sent).await.unwrap();

    // THEN only the first copy is stored; the other is reported as its duplicate
    assert_eq!(first, StoreOutcome::Stored);
    assert_eq!(
        second,
        StoreOutcome::DuplicateOfOther {
            provider_id: "inbox-1".into()
        }
    );
    assert_eq!(replay, StoreOutcome::AlreadyStored);
    assert_eq!(again, second);
    assert_eq!(
        store.messages(&t.seat_id, &t.thread_id).await.unwrap(),
        vec![inbox]
    );
    // AND a message without a Message-ID is stored by its provider id alone
    let bare = message(&t, "bare-1", None, "2026-03-02T10:00:00Z");
    assert_eq!(
        store.store_message(&at(&t, &bare), &bare).await.unwrap(),
        StoreOutcome::Stored
    );
}

#[tokio::test]
async fn threads_are_private_until_shared_and_never_cross_contracts() {
    let store = mail("mail-visibility").await;
    let jane = addr("jane@example.org");
    let (acme, globex) = (contract("acme"), contract("globex"));
    // GIVEN a thread of acme's seat-1 and one of globex's seat-g1, both with jane
    let mine = thread(
        "acme",
        "seat-1",
        "conv-1",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let theirs = thread(
        "globex",
        "seat-g1",
        "conv-9",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    for t in [&mine, &theirs] {
        let m = message(t, "m1", None, "2026-03-02T09:00:00Z");
        store.store_message(t, &m).await.unwrap();
    }
    let visible = |c: ContractId, s: &'static str| {
        let (store, jane) = (store.clone(), jane.clone());
        async move {
            store
                .threads_with_counterpart(&c, &jane, &seat(s))
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.thread_id)
                .collect::<Vec<_>>()
        }
    };

    // THEN the owner sees its thread; another seat of the contract sees nothing
    assert_eq!(visible(acme.clone(), "seat-1").await, vec!["conv-1"]);
    assert!(visible(acme.clone(), "seat-2").await.is_empty());

    // WHEN both owners share with their organizations
    store
        .set_visibility(&mine.seat_id, "conv-1", Visibility::Organization)
        .await
        .unwrap();
    store
        .set_visibility(&theirs.seat_id, "conv-9", Visibility::Organization)
        .await
        .unwrap();

    // THEN each contract's other seats see their own contract's thread, never the other's
    assert_eq!(visible(acme.clone(), "seat-2").await, vec!["conv-1"]);
    assert_eq!(visible(globex.clone(), "seat-g2").await, vec!["conv-9"]);

    // AND a later message keeps the owner's choice
    let later = message(&mine, "m2", None, "2026-03-03T09:00:00Z");
    store
        .store_message(&at(&mine, &later), &later)
        .await
        .unwrap();
    let shared = store
        .thread(&mine.seat_id, "conv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shared.visibility, Visibility::Organization);
    assert_eq!(shared.last_activity_at, later.sent_at);

    // AND the owner can make it private again
    store
        .set_visibility(&mine.seat_id, "conv-1", Visibility::Private)
        .await
        .unwrap();
    assert!(visible(acme.clone(), "seat-2").await.is_empty());

    // AND there is nothing to share that does not exist
    assert!(matches!(
        store
            .set_visibility(&mine.seat_id, "no-such", Visibility::Organization)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store
        .thread(&mine.seat_id, "no-such")
        .await
        .unwrap()
        .is_none());
}

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
    store.store_message(&at(&t, &first), &first).await.unwrap();
    store
        .store_message(&at(&t, &second), &second)
        .await
        .unwrap();

    // WHEN one is deleted (twice)
    assert!(store
        .delete_message(&t.seat_id, "conv-1", "m1")
        .await
        .unwrap());
    assert!(!store
        .delete_message(&t.seat_id, "conv-1", "m1")
        .await
        .unwrap());

    // THEN the thread stays with the other
    assert!(store.thread(&t.seat_id, "conv-1").await.unwrap().is_some());
    assert_eq!(
        store.messages(&t.seat_id, "conv-1").await.unwrap(),
        vec![second.clone()]
    );

    // WHEN the last one is deleted
    assert!(store
        .delete_message(&t.seat_id, "conv-1", "m2")
        .await
        .unwrap());

    // THEN the thread is gone too, and so are the Message-ID guards: the same RFC message
    // under another provider id can be stored again, in a new, private thread
    assert!(store.thread(&t.seat_id, "conv-1").await.unwrap().is_none());
    assert!(store
        .messages(&t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_empty());
    let copy = message(&t, "m1-copy", Some("<one@x.org>"), "2026-03-02T09:00:00Z");
    assert_eq!(
        store.store_message(&at(&t, &copy), &copy).await.unwrap(),
        StoreOutcome::Stored
    );
    assert_eq!(
        store.thread(&t.seat_id, "conv-1").await.unwrap().unwrap(),
        at(&t, &copy)
    );
    assert!(!store
        .delete_message(&t.seat_id, "no-such", "m1")
        .await
        .unwrap());
}

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
        store.store_message(&t, &m).await.unwrap();
        if t.expires_at() <= now {
            expected.insert((seat(&seat_id), t.thread_id.clone()));
        }
    }
    assert_eq!(expected.len(), 21);
    // ... and threads that expire on other days, or a fraction of a second after now
    for (id, active) in [
        ("conv-yesterday", "2026-03-29T05:00:00Z"),
        ("conv-tomorrow", "2026-04-01T05:00:00Z"),
        ("conv-just-after", "2026-03-30T10:00:00.5Z"),
    ] {
        let t = thread("acme", "seat-9", id, "jane@example.org", active);
        let m = message(&t, "m", None, active);
        store.store_message(&t, &m).await.unwrap();
    }
    let shards: BTreeSet<u32> = expected
        .iter()
        .map(|(s, t)| keys::shard(&format!("{s}#{t}"), keys::EXPIRY_SHARDS))
        .collect();
    assert!(
        shards.len() > 5,
        "the threads spread over shards: {shards:?}"
    );

    // WHEN the day's expired threads are asked for at 10:00
    let found: BTreeSet<(SeatId, String)> = store
        .expired_threads(day, now, 100)
        .await
        .unwrap()
        .into_iter()
        .collect();

    // THEN exactly those expired at or before now come back
    assert_eq!(found, expected);

    // WHEN an expired thread has new activity
    let (s0, t0) = (seat("seat-0"), "conv-0".to_owned());
    let revived = thread(
        "acme",
        "seat-0",
        &t0,
        "jane@example.org",
        "2026-05-01T08:00:00Z",
    );
    let m = message(&revived, "m-new", None, "2026-05-01T08:00:00Z");
    store.store_message(&revived, &m).await.unwrap();

    // THEN it leaves the day's bucket for the day of its new expiry
    let end_of_day = ts("2026-09-30T23:59:59Z");
    let later = store.expired_threads(day, end_of_day, 100).await.unwrap();
    assert!(!later.contains(&(s0.clone(), t0.clone())));
    assert_eq!(later.len(), 39 + 1, "the other 39 and conv-just-after");
    let moved = store
        .expired_threads(
            jiff::civil::date(2026, 11, 1),
            ts("2026-11-01T08:00:00Z"),
            100,
        )
        .await
        .unwrap();
    assert_eq!(moved, vec![(s0, t0)]);

    // AND at most `per_shard` come from each shard
    let capped = store.expired_threads(day, end_of_day, 1).await.unwrap();
    assert!(capped.len() <= keys::EXPIRY_SHARDS as usize);
    assert!(capped.len() < later.len());
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
        store.store_message(&t, &m).await.unwrap();
    }
    let neighbour = message(&keep, "k1", Some("<keep@x.org>"), "2026-03-02T09:00:00Z");
    store.store_message(&keep, &neighbour).await.unwrap();

    // WHEN the thread is removed
    let removed = store.remove_thread(&t.seat_id, "conv-1").await.unwrap();

    // THEN it, its messages and their guards are gone; the neighbour is untouched
    assert_eq!(removed, 30);
    assert!(store.thread(&t.seat_id, "conv-1").await.unwrap().is_none());
    assert!(store
        .messages(&t.seat_id, "conv-1")
        .await
        .unwrap()
        .is_empty());
    let copy = message(&t, "copy", Some("<7@x.org>"), "2026-03-02T09:00:00Z");
    assert_eq!(
        store.store_message(&t, &copy).await.unwrap(),
        StoreOutcome::Stored,
        "the guard went with its message"
    );
    assert_eq!(
        store.messages(&t.seat_id, "conv-10").await.unwrap(),
        vec![neighbour]
    );
    assert!(store.thread(&t.seat_id, "conv-10").await.unwrap().is_some());
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
    assert_eq!(store.remove_thread(&t.seat_id, "no-such").await.unwrap(), 0);
}

#[tokio::test]
async fn a_seats_threads_are_listed_page_by_page_without_their_messages() {
    let store = mail("mail-paging").await;
    // GIVEN seat-1 with 7 threads of 3 messages each, and seat-2 with one thread
    let mut all = BTreeSet::new();
    for i in 0..7 {
        let t = thread(
            "acme",
            "seat-1",
            &format!("conv-{i}"),
            "jane@example.org",
            "2026-03-02T09:00:00Z",
        );
        for j in 0..3 {
            let m = message(&t, &format!("m{j}"), None, "2026-03-02T09:00:00Z");
            store.store_message(&t, &m).await.unwrap();
        }
        all.insert(t.thread_id);
    }
    let other = thread(
        "acme",
        "seat-2",
        "conv-x",
        "jane@example.org",
        "2026-03-02T09:00:00Z",
    );
    let m = message(&other, "m0", None, "2026-03-02T09:00:00Z");
    store.store_message(&other, &m).await.unwrap();

    // WHEN seat-1's threads are read three at a time
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .threads_of_seat(&seat("seat-1"), 3, token.as_ref())
            .await
            .unwrap();
        pages.push(page.items.len());
        token = page.next;
        for t in page.items {
            assert!(all.remove(&t.thread_id), "{} listed twice", t.thread_id);
        }
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "paging does not end");
    }

    // THEN every thread came exactly once, in full pages
    assert!(all.is_empty(), "missing {all:?}");
    assert_eq!(pages, vec![3, 3, 1]);
}

#[tokio::test]
async fn skip_decisions_come_back_newest_first_for_one_counterpart() {
    let (client, table) = mail_table("mail-skips").await;
    let store = DynamoMailStore::new(client.clone(), table.clone());
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
        SkipLog::record(&store, s, None).await.unwrap();
    }
    for s in [
        skip("seat-1", "jane@x.org.uk", "m4", "2026-03-04T09:00:00Z"),
        skip("seat-1", "john@x.org", "m5", "2026-03-05T09:00:00Z"),
        skip("seat-2", "jane@x.org", "m6", "2026-03-06T09:00:00Z"),
    ] {
        SkipLog::record(&store, &s, None).await.unwrap();
    }

    // WHEN seat-1 asks why jane's messages did not sync
    let found = store
        .skips_for(&seat("seat-1"), &addr("jane@x.org"))
        .await
        .unwrap();

    // THEN it gets jane's decisions only, newest first
    assert_eq!(
        found,
        vec![jane[1].clone(), jane[2].clone(), jane[0].clone()]
    );

    // AND each expires 30 days after its decision
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(keys::mail_pk(&seat("seat-1"))))
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

fn tombstone(thread_id: &str, who: &[&str], last: &str, removed: &str) -> ThreadTombstone {
    ThreadTombstone {
        contract: contract("acme"),
        seat: seat("seat-1"),
        thread_id: thread_id.into(),
        participants: who.iter().map(|a| addr(a)).collect(),
        started_from_product: false,
        last_activity_at: ts(last),
        removed_at: ts(removed),
        reason: "too_many_participants".into(),
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
        .key("pk", AttributeValue::S(keys::mail_pk(&seat("seat-1"))))
        .key("sk", AttributeValue::S(keys::tombstone_sk(thread_id)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("a tombstone item")
}

#[tokio::test]
async fn a_thread_removed_for_a_rule_leaves_a_tombstone_and_stays_removed() {
    let (client, table) = mail_table("mail-tombstone").await;
    let store = DynamoMailStore::new(client.clone(), table.clone());
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
        store.store_message(&at(&t, &m), &m).await.unwrap();
    }

    // WHEN a message that also went to bob removes it
    let removal = tombstone(
        "conv-1",
        &["jane@example.org", "bob@else.org", "seat-1@acme.com"],
        "2026-03-04T09:00:00Z",
        "2026-03-05T12:00:00Z",
    );
    let removed = store.remove_thread_for_rule(&removal).await.unwrap();

    // THEN the thread and its messages are gone, and what stays names everyone seen
    assert_eq!(removed, 3);
    let (live, gone) = store
        .thread_with_tombstone(&seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert_eq!(live, None);
    assert_eq!(gone.as_ref(), Some(&removal));
    assert!(store
        .messages(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .threads_of_seat(&seat("seat-1"), 10, None)
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
        store.store_message(&at(&t, &late), &late).await.unwrap(),
        StoreOutcome::ThreadRemoved
    );
    assert!(store
        .thread(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .messages(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_empty());

    // WHEN the same removal is replayed, later
    let mut replay = removal.clone();
    replay.removed_at = ts("2026-03-06T00:00:00Z");
    assert_eq!(store.remove_thread_for_rule(&replay).await.unwrap(), 0);
    // THEN nothing changes, not even the tombstone's version
    let item = tombstone_item(&client, &table, "conv-1").await;
    assert_eq!(item.get("version").cloned(), version);
    assert_eq!(
        store
            .tombstone(&seat("seat-1"), "conv-1")
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
    store.remove_thread_for_rule(&carol).await.unwrap();
    // THEN she joins the tombstone, whose activity (and expiry) move forward, while the
    // removal keeps the instant it first happened
    let merged = store
        .tombstone(&seat("seat-1"), "conv-1")
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
    assert_eq!(store.remove_thread_for_rule(&never).await.unwrap(), 0);
    assert!(store
        .tombstone(&seat("seat-1"), "conv-2")
        .await
        .unwrap()
        .is_some());

    // AND the sweep's removal is refused here
    let mut idle = never.clone();
    idle.reason = ThreadTombstone::INACTIVITY.into();
    assert!(matches!(
        store.remove_thread_for_rule(&idle).await,
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
        store.store_message(&at(&t, &m), &m).await.unwrap();
    }

    // WHEN the sweep comes a second before six months have passed
    let early = store
        .remove_thread_for_inactivity(&seat("seat-1"), "conv-1", ts("2026-02-01T08:59:59Z"))
        .await
        .unwrap();
    // THEN nothing happens
    assert_eq!(early, None);
    assert!(store
        .thread(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .tombstone(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .is_none());

    // WHEN it comes after
    let removed = store
        .remove_thread_for_inactivity(&seat("seat-1"), "conv-1", ts("2026-02-02T03:00:00Z"))
        .await
        .unwrap();
    // THEN the thread leaves, and its tombstone says when and why
    assert_eq!(removed, Some(2));
    let (live, gone) = store
        .thread_with_tombstone(&seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert_eq!(live, None);
    let gone = gone.unwrap();
    assert!(gone.removed_for_inactivity());
    assert_eq!(gone.removed_at, ts("2026-02-02T03:00:00Z"));
    assert_eq!(gone.last_activity_at, ts("2025-08-01T09:00:00Z"));
    assert_eq!(
        gone.participants,
        BTreeSet::from([addr("jane@example.org")])
    );
    // AND removing what is gone is nothing
    assert_eq!(
        store
            .remove_thread_for_inactivity(&seat("seat-1"), "conv-1", ts("2026-02-03T00:00:00Z"))
            .await
            .unwrap(),
        None
    );

    // WHEN the conversation comes back, then gains a third participant
    let m = message(&t, "m3", None, "2026-03-01T09:00:00Z");
    store.store_message(&at(&t, &m), &m).await.unwrap();
    let (live, gone) = store
        .thread_with_tombstone(&seat("seat-1"), "conv-1")
        .await
        .unwrap();
    assert!(live.is_some() && gone.is_some(), "both are read together");
    let rule = tombstone(
        "conv-1",
        &["bob@else.org"],
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
    );
    assert_eq!(store.remove_thread_for_rule(&rule).await.unwrap(), 1);
    // THEN the rule is what the tombstone says now, with everyone seen
    let gone = store
        .tombstone(&seat("seat-1"), "conv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.reason, "too_many_participants");
    assert_eq!(gone.removed_at, ts("2026-03-02T10:00:00Z"));
    assert_eq!(
        gone.participants,
        BTreeSet::from([addr("jane@example.org"), addr("bob@else.org")])
    );
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
        store.record_skip_in_thread(s, thread_id).await.unwrap();
    }
    let m5 = skip("m5", "thread_inactive", "2025-09-01T09:00:00Z");
    SkipLog::record(&store, &m5, None).await.unwrap();

    // WHEN the inactive decisions of thread t1 are asked for
    let found = store
        .skips_in_thread(
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
        .skips_in_thread(
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
            .skips_for(&seat("seat-1"), &addr("jane@x.org"))
            .await
            .unwrap()
            .len(),
        5
    );

    // WHEN a decision no longer holds
    store.forget_skip(&m2).await.unwrap();
    // THEN it is gone, and forgetting it again is fine
    store.forget_skip(&m2).await.unwrap();
    assert_eq!(
        store
            .skips_in_thread(
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
