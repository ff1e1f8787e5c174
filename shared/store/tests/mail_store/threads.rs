//! Storing messages into threads: idempotent, in any order, private until shared, listed
//! page by page.

use super::*;

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
    let outcome = store.threads().store_message(&t, &m).await.unwrap();

    // THEN the thread exists, private, active at the message, with exactly that message
    assert_eq!(outcome, StoreOutcome::Stored);
    let stored = store
        .thread(&t.contract_id, &t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, t);
    assert_eq!(stored.visibility, Visibility::Private);
    assert_eq!(
        store
            .reader()
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap(),
        vec![m.clone()]
    );
    let page = store
        .reader()
        .threads_of_seat(&t.contract_id, &t.seat_id, 10, None)
        .await
        .unwrap();
    assert_eq!(page.items, vec![t.clone()]);
    assert!(page.next.is_none());
    assert!(store
        .thread(&t.contract_id, &t.seat_id, "AAQkAGI2")
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
        match store
            .threads()
            .store_message(&at(&t, &m), &m)
            .await
            .unwrap()
        {
            StoreOutcome::Stored => stored += 1,
            StoreOutcome::AlreadyStored => replayed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }

    // THEN every message is there once, and the thread's activity is the newest message's
    assert_eq!((stored, replayed), (6, 9));
    assert_eq!(
        store
            .threads()
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap(),
        messages
    );
    let thread = store
        .thread(&t.contract_id, &t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.last_activity_at, ts("2026-03-06T10:00:00Z"));

    // WHEN ten deliveries of a new message race each other
    let newest = message(&t, "m6", Some("<m6@example.org>"), "2026-03-07T10:00:00Z");
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (store, t, m) = (store.clone(), at(&t, &newest), newest.clone());
        racing.spawn(async move { store.threads().store_message(&t, &m).await.unwrap() });
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
            .threads()
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap()
            .len(),
        7
    );
    let thread = store
        .thread(&t.contract_id, &t.seat_id, &t.thread_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.last_activity_at, newest.sent_at);

    // AND a different message under a stored provider id is refused, not overwritten
    let mut changed = messages[0].clone();
    changed.subject = "Something else".into();
    assert!(matches!(
        store
            .threads()
            .store_message(&at(&t, &changed), &changed)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        store
            .threads()
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap()[0],
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
    let first = store.threads().store_message(&t, &inbox).await.unwrap();
    let second = store.threads().store_message(&t, &sent).await.unwrap();
    let replay = store.threads().store_message(&t, &inbox).await.unwrap();
    let again = store.threads().store_message(&t, &sent).await.unwrap();

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
        store
            .threads()
            .messages(&t.contract_id, &t.seat_id, &t.thread_id)
            .await
            .unwrap(),
        vec![inbox]
    );
    // AND a message without a Message-ID is stored by its provider id alone
    let bare = message(&t, "bare-1", None, "2026-03-02T10:00:00Z");
    assert_eq!(
        store
            .threads()
            .store_message(&at(&t, &bare), &bare)
            .await
            .unwrap(),
        StoreOutcome::Stored
    );
}

#[tokio::test]
async fn threads_are_private_until_shared_and_never_cross_contracts() {
    let store = mail("mail-visibility").await;
    let (acme, globex) = (contract("acme"), contract("globex"));
    // GIVEN a thread of acme's seat-1 (synced for u1) and one of globex's seat-g1, both
    // with jane, matched to the profile p-jane of each contract
    let jane_profile = hiresync_domain::ids::ProfileId::parse("p-jane").unwrap();
    let mine = Thread {
        holder: Some(UserId::parse("u1").unwrap()),
        profile: Some(jane_profile.clone()),
        ..thread(
            "acme",
            "seat-1",
            "conv-1",
            "jane@example.org",
            "2026-03-02T09:00:00Z",
        )
    };
    let theirs = Thread {
        profile: Some(jane_profile.clone()),
        ..thread(
            "globex",
            "seat-g1",
            "conv-9",
            "jane@example.org",
            "2026-03-02T09:00:00Z",
        )
    };
    for t in [&mine, &theirs] {
        let m = message(t, "m1", None, "2026-03-02T09:00:00Z");
        store.threads().store_message(t, &m).await.unwrap();
    }
    let visible_to = |c: ContractId, s: &'static str, u: &'static str| {
        let (store, profile) = (store.clone(), jane_profile.clone());
        async move {
            let viewer = Viewer {
                contract: c,
                seat: seat(s),
                user: UserId::parse(u).unwrap(),
            };
            store
                .of_profile(&viewer, &profile)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.thread_id)
                .collect::<Vec<_>>()
        }
    };

    let visible = |c: ContractId, s: &'static str| visible_to(c, s, "u1");
    // THEN its owner sees the thread; another seat of the contract sees nothing, nor does
    // the seat's next holder
    assert_eq!(visible(acme.clone(), "seat-1").await, vec!["conv-1"]);
    assert!(visible(acme.clone(), "seat-2").await.is_empty());
    assert!(visible_to(acme.clone(), "seat-1", "u-next")
        .await
        .is_empty());

    // WHEN both owners share with their organizations
    store
        .set_visibility(
            &mine.contract_id,
            &mine.seat_id,
            "conv-1",
            Visibility::Organization,
        )
        .await
        .unwrap();
    store
        .set_visibility(
            &theirs.contract_id,
            &theirs.seat_id,
            "conv-9",
            Visibility::Organization,
        )
        .await
        .unwrap();

    // THEN each contract's other seats see their own contract's thread, never the other's
    assert_eq!(visible(acme.clone(), "seat-2").await, vec!["conv-1"]);
    assert_eq!(
        visible_to(acme.clone(), "seat-1", "u-next").await,
        vec!["conv-1"]
    );
    assert_eq!(visible(globex.clone(), "seat-g2").await, vec!["conv-9"]);

    // AND a later message keeps the owner's choice
    let later = message(&mine, "m2", None, "2026-03-03T09:00:00Z");
    store
        .threads()
        .store_message(&at(&mine, &later), &later)
        .await
        .unwrap();
    let shared = DynamoMailStore::thread(&store, &mine.contract_id, &mine.seat_id, "conv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shared.visibility, Visibility::Organization);
    assert_eq!(shared.last_activity_at, later.sent_at);

    // AND the owner can make it private again
    store
        .set_visibility(
            &mine.contract_id,
            &mine.seat_id,
            "conv-1",
            Visibility::Private,
        )
        .await
        .unwrap();
    assert!(visible(acme.clone(), "seat-2").await.is_empty());

    // AND there is nothing to share that does not exist
    assert!(matches!(
        store
            .set_visibility(
                &mine.contract_id,
                &mine.seat_id,
                "no-such",
                Visibility::Organization
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store
        .thread(&mine.contract_id, &mine.seat_id, "no-such")
        .await
        .unwrap()
        .is_none());
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
            store.threads().store_message(&t, &m).await.unwrap();
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
    store.threads().store_message(&other, &m).await.unwrap();

    // WHEN seat-1's threads are read three at a time
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .reader()
            .threads_of_seat(&contract("acme"), &seat("seat-1"), 3, token.as_ref())
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
