//! The contract's Zoom connection against a real DynamoDB Local: a sign-in is taken once
//! and by its contract only; writes over a stale read conflict, also once the connection
//! is gone or connected again; the contract purge deletes every Zoom item and counts it.
//! Run through `make test`, which starts the emulators.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::ids::{ContractId, EmailAddress, UserId};
use hiresync_domain::ports::{PurgeStore, StoreError, Versioned, ZoomStore};
use hiresync_domain::purge::DataClass;
use hiresync_domain::sealed::Sealed;
use hiresync_domain::zoom::{PendingZoom, StoredZoom, ZoomAccount, ZoomState, ZoomTokens};
use hiresync_domain::Timestamp;
use hiresync_store::{DynamoPurgeStore, DynamoZoomStore};
use secrecy::{ExposeSecret, SecretString};

struct World {
    client: aws_sdk_dynamodb::Client,
    tenancy: String,
    mail: String,
    scheduling: String,
    store: DynamoZoomStore,
}

async fn world(label: &str) -> World {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(&config);
    let tenancy = resources.table("TenancyTable").unwrap().to_owned();
    World {
        store: DynamoZoomStore::new(client.clone(), tenancy.clone()),
        mail: resources.table("MailTable").unwrap().to_owned(),
        scheduling: resources.table("SchedulingTable").unwrap().to_owned(),
        client,
        tenancy,
    }
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Far enough ahead that DynamoDB Local's TTL never deletes what a test wrote.
const NOW: &str = "2037-03-02T09:30:00Z";

fn contract(id: &str) -> ContractId {
    ContractId::parse(id).unwrap()
}

fn sealed(byte: u8) -> Sealed {
    Sealed {
        key_id: "arn:aws:kms:us-east-1:000000000000:key/k".into(),
        wrapped_key: vec![byte, 0, 255],
        nonce: vec![byte; 12],
        ciphertext: vec![byte, 1, 2, 3],
    }
}

fn zoom(c: &str, connected_at: &str) -> StoredZoom {
    StoredZoom {
        account: ZoomAccount {
            contract_id: contract(c),
            account_id: "zoom-acc-1".into(),
            authorized_as: EmailAddress::parse("admin@acme.example").unwrap(),
            connected_by: UserId::parse("admin-1").unwrap(),
            connected_at: at(connected_at),
            state: ZoomState::Connected,
            refused_at: None,
        },
        tokens: ZoomTokens {
            refresh: sealed(1),
            access: sealed(2),
            access_expires_at: at("2037-03-02T10:30:00Z"),
        },
    }
}

/// The same connection after a refresh: both tokens new, a later expiry.
fn refreshed(read: &Versioned<StoredZoom>, n: u8) -> StoredZoom {
    let mut next = read.value.clone();
    next.tokens.refresh = sealed(10 + n);
    next.tokens.access = sealed(20 + n);
    next.tokens.access_expires_at = at("2037-03-02T11:30:00Z");
    next
}

fn admin() -> UserId {
    UserId::parse("admin-1").unwrap()
}

fn pending(c: &str, id: &str) -> PendingZoom {
    PendingZoom::new(id.into(), contract(c), admin(), at(NOW))
}

fn is_conflict(result: Result<Versioned<StoredZoom>, StoreError>, found: Option<u64>) -> bool {
    matches!(result, Err(StoreError::Conflict { found: f, .. }) if f == found)
}

#[tokio::test]
async fn a_sign_in_is_taken_once_with_its_verifier() {
    let w = world("zoom-take").await;
    let p = pending("acme", "state-1");
    w.store
        .begin(&p, &SecretString::from("verifier-1"))
        .await
        .unwrap();

    // The item carries its contract, its verifier and a TTL an hour after it expires.
    let item = w
        .client
        .get_item()
        .table_name(&w.tenancy)
        .key("pk", AttributeValue::S("CONTRACT#acme".into()))
        .key("sk", AttributeValue::S("ZOOMAUTH#state-1".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ttl = p.expires_at.as_second() + 3600;
    assert_eq!(item.get("ttl"), Some(&AttributeValue::N(ttl.to_string())));

    // A second sign-in of the same id is refused.
    let again = w.store.begin(&p, &SecretString::from("other")).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists { .. })),
        "{again:?}"
    );

    // Another admin of the contract neither gets it nor uses it up.
    let mallory = UserId::parse("mallory").unwrap();
    let theirs = w
        .store
        .take_pending(&contract("acme"), "state-1", &mallory)
        .await
        .unwrap();
    assert!(theirs.is_none());
    let (taken, verifier) = w
        .store
        .take_pending(&contract("acme"), "state-1", &admin())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken, p);
    assert_eq!(verifier.expose_secret(), "verifier-1");
    let second = w
        .store
        .take_pending(&contract("acme"), "state-1", &admin())
        .await
        .unwrap();
    assert!(second.is_none(), "a sign-in is taken once");
}

#[tokio::test]
async fn another_contract_cannot_take_a_sign_in() {
    let w = world("zoom-tenancy").await;
    let p = pending("acme", "state-1");
    w.store.begin(&p, &SecretString::from("v")).await.unwrap();

    // GIVEN acme's sign-in WHEN globex takes its id THEN nothing is found, nor removed.
    let across = w
        .store
        .take_pending(&contract("globex"), "state-1", &admin())
        .await
        .unwrap();
    assert!(across.is_none());
    let own = w
        .store
        .take_pending(&contract("acme"), "state-1", &admin())
        .await
        .unwrap();
    assert_eq!(own.map(|(p, _)| p.id).as_deref(), Some("state-1"));

    // Nor does another contract's connection read as acme's.
    w.store.put(&zoom("globex", NOW)).await.unwrap();
    assert!(w.store.get(&contract("acme")).await.unwrap().is_none());
    assert!(w.store.remove(&contract("acme")).await.unwrap().is_none());
    assert!(w.store.get(&contract("globex")).await.unwrap().is_some());
}

#[tokio::test]
async fn an_update_over_a_stale_read_conflicts() {
    let w = world("zoom-update").await;
    let c = contract("acme");
    assert!(w.store.get(&c).await.unwrap().is_none());

    let put = w.store.put(&zoom("acme", NOW)).await.unwrap();
    assert_eq!(put.version, 1);
    let read = w.store.get(&c).await.unwrap().unwrap();
    assert_eq!(read, put);

    // Two refreshers read version 1: the first wins, the second conflicts.
    let won = w.store.update(&read, &refreshed(&read, 1)).await.unwrap();
    assert_eq!(won.version, 2);
    let lost = w.store.update(&read, &refreshed(&read, 2)).await;
    assert!(is_conflict(lost, Some(2)));
    assert_eq!(w.store.get(&c).await.unwrap(), Some(won.clone()));

    // A refusal is written over what was read, and read back as written.
    let refused = won.value.refused(at("2037-03-02T12:00:00Z")).unwrap();
    let written = w.store.update(&won, &refused).await.unwrap();
    let back = w.store.get(&c).await.unwrap().unwrap();
    assert_eq!(back, written);
    assert_eq!(back.value.account.state, ZoomState::NeedsReconnect);
    assert_eq!(back.version, 3);

    // An update may not carry the connection into another contract.
    let mut moved = back.value.clone();
    moved.account.contract_id = contract("globex");
    let moved = w.store.update(&back, &moved).await;
    assert!(
        matches!(moved, Err(StoreError::Invalid { .. })),
        "{moved:?}"
    );
    assert!(w.store.get(&contract("globex")).await.unwrap().is_none());
}

#[tokio::test]
async fn an_update_after_a_remove_conflicts_and_remove_returns_the_old() {
    let w = world("zoom-remove").await;
    let c = contract("acme");
    let read = w.store.put(&zoom("acme", NOW)).await.unwrap();

    let removed = w.store.remove(&c).await.unwrap();
    assert_eq!(removed, Some(read.value.clone()));
    assert!(w.store.remove(&c).await.unwrap().is_none());
    assert!(w.store.get(&c).await.unwrap().is_none());

    // The refresher that read before the remove conflicts, and writes nothing back.
    let late = w.store.update(&read, &refreshed(&read, 1)).await;
    assert!(is_conflict(late, None));
    assert!(w.store.get(&c).await.unwrap().is_none());

    // Connected again: the versions start over, yet the old read is not this connection's.
    let again = w
        .store
        .put(&zoom("acme", "2037-03-02T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(again.version, read.version);
    let late = w.store.update(&read, &refreshed(&read, 2)).await;
    assert!(is_conflict(late, Some(1)));
    assert_eq!(w.store.get(&c).await.unwrap(), Some(again));
}

#[tokio::test]
async fn a_put_replaces_the_connection_and_moves_its_version_on() {
    let w = world("zoom-put").await;
    let c = contract("acme");
    let first = w.store.put(&zoom("acme", NOW)).await.unwrap();
    let refused = first.value.refused(at("2037-03-02T12:00:00Z")).unwrap();
    let first = w.store.update(&first, &refused).await.unwrap();
    assert_eq!(first.version, 2);

    // Connected again over it: nothing of the old connection is left (not its refusal).
    let mut next = zoom("acme", "2037-03-03T09:00:00Z");
    next.account.account_id = "zoom-acc-2".into();
    next.tokens.refresh = sealed(7);
    let second = w.store.put(&next).await.unwrap();
    assert_eq!(second.version, 3);
    let stored = w.store.get(&c).await.unwrap().unwrap();
    assert_eq!(stored, second);
    assert_eq!(stored.value.account.refused_at, None);
    assert_eq!(stored.value.account.state, ZoomState::Connected);

    // Whoever read the replaced connection conflicts.
    let late = w.store.update(&first, &refreshed(&first, 1)).await;
    assert!(is_conflict(late, Some(3)));
    assert_eq!(w.store.get(&c).await.unwrap(), Some(second));
}

#[tokio::test]
async fn the_contract_purge_deletes_and_counts_its_zoom_items() {
    let w = world("zoom-purge").await;
    let purge = DynamoPurgeStore::new(
        w.client.clone(),
        w.tenancy.clone(),
        w.mail.clone(),
        w.scheduling.clone(),
    );
    let (acme, globex) = (contract("acme"), contract("globex"));
    w.store.put(&zoom("acme", NOW)).await.unwrap();
    for id in ["state-1", "state-2"] {
        w.store
            .begin(&pending("acme", id), &SecretString::from("v"))
            .await
            .unwrap();
    }
    w.store.put(&zoom("globex", NOW)).await.unwrap();
    w.store
        .begin(&pending("globex", "state-1"), &SecretString::from("v"))
        .await
        .unwrap();

    // The verification sees them, as the contract's own (no seat).
    let left = purge.contract_leftovers(&acme).await.unwrap();
    assert_eq!(left, vec![(None, DataClass::Zoom)]);

    let counts = purge.purge_contract_records(&acme).await.unwrap();
    assert_eq!(counts.get(DataClass::Zoom), 3, "{counts:?}");
    assert_eq!(counts.total(), 3);
    assert!(w.store.get(&acme).await.unwrap().is_none());
    assert!(w
        .store
        .take_pending(&acme, "state-1", &admin())
        .await
        .unwrap()
        .is_none());
    assert!(purge.contract_leftovers(&acme).await.unwrap().is_empty());
    // Again: nothing left to count.
    let again = purge.purge_contract_records(&acme).await.unwrap();
    assert_eq!(again.total(), 0);

    // Another contract's Zoom items are untouched.
    assert!(w.store.get(&globex).await.unwrap().is_some());
    assert!(w
        .store
        .take_pending(&globex, "state-1", &admin())
        .await
        .unwrap()
        .is_some());
}
