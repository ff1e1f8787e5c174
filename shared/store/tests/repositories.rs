//! The repositories against a real DynamoDB Local, with fresh tables per test.
//! Run through `make test`, which starts the emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_domain::ports::{
    ConnectionStore, ContractStore, DirectoryReader, DirectoryWrite, DirectoryWriter, SeatStore,
    StoreError,
};
use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{Contract, EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::directory::{Degree, DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId, UserId};
use hiresync_domain::seat::Seat;
use hiresync_domain::Timestamp;
use hiresync_store::{
    DynamoConnectionStore, DynamoContractStore, DynamoDirectoryStore, DynamoSeatStore,
};

async fn tenancy(label: &str) -> (aws_sdk_dynamodb::Client, String) {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let table = resources.table("TenancyTable").unwrap().to_owned();
    (aws_sdk_dynamodb::Client::new(&config), table)
}

fn contract_id(s: &str) -> ContractId {
    ContractId::parse(s).unwrap()
}
fn seat_id(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}
fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}
const NOW: &str = "2026-03-02T09:30:00Z";
fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn email_connection(contract: &str, seat: &str, kind: ConnectionKind) -> Connection {
    Connection::first(
        contract_id(contract),
        seat_id(seat),
        kind,
        Grant {
            provider: Provider::Microsoft365,
            address: addr(&format!("{seat}@acme.com")),
            scopes: BTreeSet::from(["Mail.Read".to_owned(), "User.Read".to_owned()]),
            organization: Some("5f1e0c2a-acme".to_owned()),
        },
        now(),
    )
}

#[tokio::test]
async fn a_contract_round_trips_and_a_stale_update_is_refused() {
    let (client, table) = tenancy("contracts").await;
    let store = DynamoContractStore::new(client, table);
    let id = contract_id("acme");

    // GIVEN a new contract
    let created = store.create(&Contract::new(id.clone())).await.unwrap();
    assert_eq!(created.version, 1);
    assert!(matches!(
        store.create(&Contract::new(id.clone())).await,
        Err(StoreError::AlreadyExists { .. })
    ));

    // WHEN two admins read it and both change the settings
    let read_a = store.get(&id).await.unwrap().unwrap();
    let read_b = read_a.clone();
    let mut a = read_a.value.clone();
    a.change_settings(SettingsUpdate {
        provider: Some(Provider::GoogleWorkspace),
        email_access: Some(EmailAccess::SendAndView),
        calendar_enabled: Some(true),
        video_meetings: None,
    })
    .unwrap();
    let mut b = read_b.value.clone();
    b.change_settings(SettingsUpdate {
        email_access: Some(EmailAccess::ViewOnly),
        ..Default::default()
    })
    .unwrap();
    store.update(&read_a, &a).await.unwrap();
    let second = store.update(&read_b, &b).await;

    // THEN the second write is refused and the first one is what is stored
    match second {
        Err(StoreError::Conflict {
            expected, found, ..
        }) => {
            assert_eq!(expected, 1);
            assert_eq!(found, Some(2));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.value, a);

    // Updating a contract that does not exist is not a conflict.
    let ghost = store
        .update(
            &created.clone().map(|mut c| {
                c.id = contract_id("ghost");
                c
            }),
            &Contract::new(contract_id("ghost")),
        )
        .await;
    assert!(
        matches!(ghost, Err(StoreError::NotFound { .. })),
        "{ghost:?}"
    );
}

#[tokio::test]
async fn concurrent_read_modify_write_loses_no_update() {
    let (client, table) = tenancy("race").await;
    let store = DynamoConnectionStore::new(client, table);
    let original = email_connection("acme", "seat-1", ConnectionKind::Email);
    store.create(&original).await.unwrap();

    let writers = 8;
    let mut tasks = Vec::new();
    for n in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let read = store
                    .get(
                        &contract_id("acme"),
                        &seat_id("seat-1"),
                        ConnectionKind::Email,
                    )
                    .await
                    .unwrap()
                    .unwrap();
                let mut changed = read.value.clone();
                changed
                    .cursor
                    .0
                    .insert(format!("stream-{n}"), format!("token-{n}"));
                match store.update(&read, &changed).await {
                    Ok(_) => return,
                    Err(e) if e.is_conflict() => continue,
                    Err(e) => panic!("{e:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stored = store
        .get(
            &contract_id("acme"),
            &seat_id("seat-1"),
            ConnectionKind::Email,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1 + writers);
    assert_eq!(
        stored.value.cursor.0.len() as u64,
        writers,
        "every writer's change survives"
    );
}

#[tokio::test]
async fn seats_are_provisioned_in_batches_and_listed_page_by_page() {
    let (client, table) = tenancy("seats").await;
    let store = DynamoSeatStore::new(client.clone(), table.clone());
    let contract = contract_id("big");
    let seats: Vec<Seat> = (0..137)
        .map(|n| {
            Seat::new(
                seat_id(&format!("s{n:04}")),
                contract.clone(),
                Some(UserId::parse(format!("u{n}")).unwrap()),
            )
        })
        .collect();
    store.provision(&seats).await.unwrap();
    // A seat of another contract and the contract itself share nothing with the listing.
    store
        .create(&Seat::new(seat_id("s0000"), contract_id("other"), None))
        .await
        .unwrap();
    DynamoContractStore::new(client, table)
        .create(&Contract::new(contract.clone()))
        .await
        .unwrap();

    let mut listed = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = store.list(&contract, 20, token.as_ref()).await.unwrap();
        assert!(page.items.len() <= 20);
        pages += 1;
        listed.extend(page.items.into_iter().map(|v| v.value));
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert!(pages >= 7, "137 seats in pages of 20 took {pages} pages");
    assert_eq!(listed, seats, "every seat once, in id order");

    // Parking a seat is a versioned update like any other.
    let read = store
        .get(&contract, &seat_id("s0007"))
        .await
        .unwrap()
        .unwrap();
    let mut parked = read.value.clone();
    parked.park().unwrap();
    store.update(&read, &parked).await.unwrap();
    assert!(store
        .get(&contract, &seat_id("s0007"))
        .await
        .unwrap()
        .unwrap()
        .value
        .is_parked());
}

#[tokio::test]
async fn connections_are_listed_per_contract_and_per_seat() {
    let (client, table) = tenancy("connections").await;
    let store = DynamoConnectionStore::new(client.clone(), table.clone());
    let seats = DynamoSeatStore::new(client, table);
    for seat in ["seat-1", "seat-10", "seat-2"] {
        seats
            .create(&Seat::new(seat_id(seat), contract_id("acme"), None))
            .await
            .unwrap();
        for kind in ConnectionKind::ALL {
            store
                .create(&email_connection("acme", seat, kind))
                .await
                .unwrap();
        }
    }
    store
        .create(&email_connection("other", "seat-1", ConnectionKind::Email))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create(&email_connection("acme", "seat-1", ConnectionKind::Email))
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));

    let page = store
        .list_by_contract(&contract_id("acme"), 100, None)
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        6,
        "both kinds of three seats, and no seat items"
    );
    assert!(page.next.is_none());

    let mine = store
        .list_for_seat(&contract_id("acme"), &seat_id("seat-1"))
        .await
        .unwrap();
    let kinds: Vec<_> = mine
        .iter()
        .map(|c| (c.value.seat_id.to_string(), c.value.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("seat-1".to_owned(), ConnectionKind::Calendar),
            ("seat-1".to_owned(), ConnectionKind::Email)
        ]
    );

    // A deauthorization is stored with its reason and instant.
    let read = store
        .get(
            &contract_id("acme"),
            &seat_id("seat-2"),
            ConnectionKind::Email,
        )
        .await
        .unwrap()
        .unwrap();
    let mut c = read.value.clone();
    assert!(c.deauthorize(
        DeauthorizationReason::AccessLowered,
        "2026-04-01T00:00:00Z".parse().unwrap()
    ));
    store.update(&read, &c).await.unwrap();
    let stored = store
        .get(
            &contract_id("acme"),
            &seat_id("seat-2"),
            ConnectionKind::Email,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.value, c);
    assert_eq!(stored.version, 2);
}

fn candidate(profile: &str, emails: &[&str], version: u64) -> DirectoryEntry {
    DirectoryEntry {
        contract_id: contract_id("acme"),
        profile_id: ProfileId::parse(profile).unwrap(),
        emails: emails.iter().map(|e| addr(e)).collect(),
        discovery: DiscoverySetting::FirstDegree,
        in_pipeline: true,
        degrees: BTreeMap::from([(seat_id("seat-1"), Degree::First)]),
        source_version: version,
    }
}

#[tokio::test]
async fn the_directory_ignores_duplicated_and_reordered_events() {
    let (client, table) = tenancy("directory").await;
    let store = DynamoDirectoryStore::new(client, table);
    let acme = contract_id("acme");
    let jane = ProfileId::parse("p-jane").unwrap();

    // GIVEN version 2 of Jane, delivered before version 1
    let v2 = candidate("p-jane", &["jane@home.org", "Jane.Doe@Work.com"], 2);
    assert_eq!(store.upsert(&v2).await.unwrap(), DirectoryWrite::Applied);
    assert_eq!(
        store.upsert(&v2).await.unwrap(),
        DirectoryWrite::Stale { stored_version: 2 }
    );
    let v1 = candidate("p-jane", &["old@home.org"], 1);
    assert_eq!(
        store.upsert(&v1).await.unwrap(),
        DirectoryWrite::Stale { stored_version: 2 }
    );

    // THEN she is found by either address, case-insensitively, and never by the old one
    let found = store
        .find_by_email(&acme, &addr("jane.doe@work.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, v2);
    assert!(store
        .find_by_email(&acme, &addr("old@home.org"))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .find_by_email(&contract_id("other"), &addr("jane@home.org"))
        .await
        .unwrap()
        .is_none());

    // WHEN she drops an address, it stops matching
    let v3 = candidate("p-jane", &["jane.doe@work.com"], 3);
    store.upsert(&v3).await.unwrap();
    assert!(store
        .find_by_email(&acme, &addr("jane@home.org"))
        .await
        .unwrap()
        .is_none());

    // and another candidate who takes over an address keeps it when Jane changes again
    let john = candidate("p-john", &["jane.doe@work.com"], 1);
    store.upsert(&john).await.unwrap();
    store
        .upsert(&candidate("p-jane", &["jane@new.org"], 4))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_by_email(&acme, &addr("jane.doe@work.com"))
            .await
            .unwrap()
            .unwrap()
            .profile_id,
        john.profile_id
    );

    // WHEN she is removed, a late upsert of an older version does not bring her back
    assert_eq!(
        store.remove(&acme, &jane, 5).await.unwrap(),
        DirectoryWrite::Applied
    );
    assert_eq!(
        store.upsert(&v3).await.unwrap(),
        DirectoryWrite::Stale { stored_version: 5 }
    );
    assert!(store.get(&acme, &jane).await.unwrap().is_none());
    assert!(store
        .find_by_email(&acme, &addr("jane@new.org"))
        .await
        .unwrap()
        .is_none());
    // but a newer one does
    store
        .upsert(&candidate("p-jane", &["jane@new.org"], 6))
        .await
        .unwrap();
    assert!(store
        .find_by_email(&acme, &addr("jane@new.org"))
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_candidate_with_too_many_addresses_is_refused_and_nothing_is_written() {
    let (client, table) = tenancy("dir-limit").await;
    let store = DynamoDirectoryStore::new(client, table);
    let many: Vec<String> = (0..100).map(|n| format!("a{n}@x.org")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let result = store.upsert(&candidate("p-many", &refs, 1)).await;
    assert!(
        matches!(result, Err(StoreError::Invalid { .. })),
        "{result:?}"
    );
    assert!(store
        .get(&contract_id("acme"), &ProfileId::parse("p-many").unwrap())
        .await
        .unwrap()
        .is_none());
}
