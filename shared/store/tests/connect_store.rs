//! Storage of the connect flow: pending authorizations, sealed tokens, push subscriptions,
//! retirements.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_domain::authorization::PendingAuthorization;
use std::collections::BTreeSet;

use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{EmailAccess, Provider};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{
    AuthorizationStore, ConnectionStore, ContractStore, MailboxClaims, MailboxHolder,
    RetirementStore, StoreError, StoredToken, SubscriptionStore, TokenStore, Versioned,
};
use hiresync_domain::retirement::Retirement;
use hiresync_domain::sealed::Sealed;
use hiresync_domain::subscription::{Lifetimes, PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_store::{
    DynamoAuthorizationStore, DynamoConnectionStore, DynamoContractStore, DynamoMailboxClaims,
    DynamoRetirementStore, DynamoSubscriptionStore, DynamoTokenStore,
};
use secrecy::{ExposeSecret, SecretString};

async fn tenancy(label: &str) -> (aws_sdk_dynamodb::Client, String) {
    let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
    let table = resources.table("TenancyTable").unwrap().to_owned();
    (aws_sdk_dynamodb::Client::new(&config), table)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}
fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}
fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}

#[tokio::test]
async fn a_pending_authorization_can_be_taken_exactly_once() {
    let (client, table) = tenancy("auth").await;
    let store = DynamoAuthorizationStore::new(client, table);
    let pending = PendingAuthorization::new(
        "a1b2c3".into(),
        acme(),
        seat("seat-1"),
        UserId::parse("user-1").unwrap(),
        ConnectionKind::Email,
        Provider::GoogleWorkspace,
        EmailAccess::ViewOnly,
        ts("2026-03-02T09:00:00Z"),
    );
    store
        .create(&pending, &SecretString::from("verifier-xyz"))
        .await
        .unwrap();
    let (taken, verifier) = store.take("a1b2c3").await.unwrap().unwrap();
    assert_eq!(taken, pending);
    assert_eq!(verifier.expose_secret(), "verifier-xyz");
    assert!(store.take("a1b2c3").await.unwrap().is_none(), "single use");
    assert!(store.take("never-issued").await.unwrap().is_none());
}

fn sealed(n: u8) -> Sealed {
    Sealed {
        key_id: "key-1".into(),
        wrapped_key: vec![n; 32],
        nonce: vec![n; 12],
        ciphertext: vec![n, 1, 2, 3],
    }
}

fn mailbox(seat_id: &str) -> Connection {
    Connection::first(
        acme(),
        seat(seat_id),
        ConnectionKind::Email,
        Grant {
            provider: Provider::Microsoft365,
            address: EmailAddress::parse(format!("{seat_id}@acme.com")).unwrap(),
            scopes: BTreeSet::from(["Mail.Read".to_owned()]),
            organization: Some("acme.com".to_owned()),
        },
        ts("2026-03-02T09:00:00Z"),
    )
}

#[tokio::test]
async fn a_deauthorization_is_one_step_and_its_provider_work_is_kept_until_finished() {
    let (client, table) = tenancy("retire").await;
    let connections = DynamoConnectionStore::new(client.clone(), table.clone());
    let tokens = DynamoTokenStore::new(client.clone(), table.clone());
    let subscriptions = DynamoSubscriptionStore::new(client.clone(), table.clone());
    let retirements = DynamoRetirementStore::new(client, table);
    let (c, s, k) = (acme(), seat("seat-1"), ConnectionKind::Email);
    let read = connections.create(&mailbox("seat-1")).await.unwrap();
    let token = StoredToken {
        sealed: sealed(1),
        authorized_at: ts("2026-03-02T09:00:00.250Z"),
    };
    tokens.put(&c, &s, k, &token).await.unwrap();
    let inbox = subscription(
        "graph-inbox-1",
        SubscriptionKind::GraphInbox,
        "seat-1",
        "2026-03-04T22:00:00Z",
    );
    let sent = subscription(
        "graph-sent-1",
        SubscriptionKind::GraphSentItems,
        "seat-1",
        "2026-03-04T22:00:00Z",
    );
    for sub in [&inbox, &sent] {
        subscriptions
            .put(sub, ts("2026-03-04T20:00:00Z"))
            .await
            .unwrap();
    }
    let now = ts("2026-03-03T10:00:00Z");
    let mut off = read.value.clone();
    off.deauthorize(DeauthorizationReason::AccessLowered, now);
    let retirement = Retirement {
        contract_id: c.clone(),
        seat_id: s.clone(),
        kind: k,
        provider: Provider::Microsoft365,
        address: off.grant.address.clone(),
        version: read.version + 1,
        token: Some(token.clone()),
        subscriptions: vec![inbox.clone(), sent.clone()],
        retired_at: now,
        failures: 0,
    };
    let untouched = || async {
        assert_eq!(
            connections.get(&c, &s, k).await.unwrap().unwrap().version,
            1
        );
        assert!(subscriptions.get("graph-inbox-1").await.unwrap().is_some());
        assert!(retirements.due(now, 10).await.unwrap().is_empty());
    };

    // A stale read of the connection changes nothing at all ...
    let stale = Versioned {
        version: 7,
        ..read.clone()
    };
    let refused = retirements.retire(&stale, &off, &retirement).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
    untouched().await;
    assert_eq!(tokens.get(&c, &s, k).await.unwrap(), Some(token.clone()));
    // ... nor does a token rotated since it was read (the rotation keeps its
    // authorization, the ciphertext differs).
    let rotated = StoredToken {
        sealed: sealed(2),
        ..token.clone()
    };
    tokens.put(&c, &s, k, &rotated).await.unwrap();
    let refused = retirements.retire(&read, &off, &retirement).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
    untouched().await;
    assert_eq!(tokens.get(&c, &s, k).await.unwrap(), Some(rotated.clone()));

    // Read again, it is one step: the state, the token and the subscriptions go together,
    // and the work for the provider is kept, due at once.
    let retirement = Retirement {
        token: Some(rotated),
        ..retirement
    };
    let written = retirements.retire(&read, &off, &retirement).await.unwrap();
    assert_eq!(written.version, 2);
    let stored = connections.get(&c, &s, k).await.unwrap().unwrap();
    assert_eq!(stored, written);
    assert!(!stored.value.is_authorized());
    assert_eq!(tokens.get(&c, &s, k).await.unwrap(), None);
    assert_eq!(subscriptions.get("graph-inbox-1").await.unwrap(), None);
    assert!(subscriptions
        .for_connection(&c, &s, k)
        .await
        .unwrap()
        .is_empty());
    assert!(subscriptions
        .due(ts("2026-03-05T00:00:00Z"), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(retirements
        .due(ts("2026-03-03T09:59:59Z"), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        retirements.due(now, 10).await.unwrap(),
        vec![retirement.clone()]
    );

    // A failed attempt moves it later and counts; finishing removes it.
    let later = ts("2026-03-03T10:15:00Z");
    assert!(retirements.defer(&retirement, later, 1).await.unwrap());
    assert!(retirements.due(now, 10).await.unwrap().is_empty());
    let again = retirements.due(later, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].failures, 1);
    retirements.finish(&retirement).await.unwrap();
    assert!(retirements.due(later, 10).await.unwrap().is_empty());
    assert!(
        !retirements.defer(&retirement, later, 2).await.unwrap(),
        "gone"
    );
}

#[tokio::test]
async fn a_rotated_token_lands_only_on_the_authorization_it_came_from() {
    let (client, table) = tenancy("rotation").await;
    let store = DynamoTokenStore::new(client, table);
    let (c, s, k) = (acme(), seat("seat-1"), ConnectionKind::Email);
    let first = StoredToken {
        sealed: sealed(1),
        authorized_at: ts("2026-03-02T09:00:00.250Z"),
    };
    let rotated = StoredToken {
        sealed: sealed(2),
        ..first.clone()
    };
    // Nothing stored (a deauthorization deleted it): the rotation brings nothing back.
    assert!(!store.rotate(&c, &s, k, &rotated).await.unwrap());
    assert_eq!(store.get(&c, &s, k).await.unwrap(), None);
    // Same authorization: replaced.
    store.put(&c, &s, k, &first).await.unwrap();
    assert!(store.rotate(&c, &s, k, &rotated).await.unwrap());
    assert_eq!(store.get(&c, &s, k).await.unwrap(), Some(rotated.clone()));
    // A newer grant stored meanwhile: the late rotation of the old one is dropped.
    let newer = StoredToken {
        sealed: sealed(3),
        authorized_at: ts("2026-03-02T10:00:00Z"),
    };
    store.put(&c, &s, k, &newer).await.unwrap();
    let late = StoredToken {
        sealed: sealed(4),
        ..first
    };
    assert!(!store.rotate(&c, &s, k, &late).await.unwrap());
    assert_eq!(store.get(&c, &s, k).await.unwrap(), Some(newer));
}

fn subscription(
    id: &str,
    kind: SubscriptionKind,
    seat_id: &str,
    expires: &str,
) -> PushSubscription {
    PushSubscription {
        id: id.into(),
        kind,
        contract_id: acme(),
        seat_id: seat(seat_id),
        resource_id: None,
        secret_hash: Some("ab12".into()),
        expires_at: ts(expires),
        renewed_at: ts("2026-03-02T00:00:00Z"),
        failures: 0,
    }
}

#[tokio::test]
async fn subscriptions_are_found_by_id_by_connection_and_by_renewal_time() {
    let (client, table) = tenancy("subs").await;
    let store = DynamoSubscriptionStore::new(client, table);
    let lifetimes = Lifetimes::default();
    let inbox = subscription(
        "graph-inbox-1",
        SubscriptionKind::GraphInbox,
        "seat-1",
        "2026-03-04T22:00:00Z",
    );
    let sent = subscription(
        "graph-sent-1",
        SubscriptionKind::GraphSentItems,
        "seat-1",
        "2026-03-04T22:00:00Z",
    );
    let events = subscription(
        "graph-events-1",
        SubscriptionKind::GraphEvents,
        "seat-1",
        "2026-03-06T00:00:00Z",
    );
    let other = subscription(
        "graph-inbox-2",
        SubscriptionKind::GraphInbox,
        "seat-10",
        "2026-03-10T00:00:00Z",
    );
    // Enough others to land in many shards of the renewal index.
    let many: Vec<_> = (0..40)
        .map(|n| {
            subscription(
                &format!("bulk-{n}"),
                SubscriptionKind::GraphInbox,
                &format!("bulk-{n}"),
                "2026-03-04T23:00:00Z",
            )
        })
        .collect();
    for s in [&inbox, &sent, &events, &other]
        .into_iter()
        .chain(many.iter())
    {
        store.put(s, s.renew_at(&lifetimes)).await.unwrap();
    }

    assert_eq!(
        store.get("graph-inbox-1").await.unwrap(),
        Some(inbox.clone())
    );
    let mail = store
        .for_connection(
            &acme(),
            &seat("seat-1"),
            hiresync_domain::connection::ConnectionKind::Email,
        )
        .await
        .unwrap();
    let mut ids: Vec<_> = mail.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec!["graph-inbox-1", "graph-sent-1"],
        "seat-10's subscription is not seat-1's"
    );

    // Renewal due 24 h before expiry: at 2026-03-03T23:30 the inbox, sent and the 40 bulk
    // ones are due; events (due 03-05) and seat-10's (due 03-09) are not.
    let due = store.due(ts("2026-03-03T23:30:00Z"), 100).await.unwrap();
    assert_eq!(due.len(), 2 + 40);
    assert!(due
        .iter()
        .all(|s| s.id != "graph-events-1" && s.id != "graph-inbox-2"));

    // Renewed, it leaves the due set; deleted, it is gone with its pointer.
    let mut renewed = inbox.clone();
    renewed.expires_at = ts("2026-03-07T00:00:00Z");
    store
        .put(&renewed, renewed.renew_at(&lifetimes))
        .await
        .unwrap();
    store.delete(&sent).await.unwrap();
    let due = store.due(ts("2026-03-03T23:30:00Z"), 100).await.unwrap();
    assert_eq!(due.len(), 40);
    let mail = store
        .for_connection(
            &acme(),
            &seat("seat-1"),
            hiresync_domain::connection::ConnectionKind::Email,
        )
        .await
        .unwrap();
    assert_eq!(mail, vec![renewed.clone()]);

    // A lifecycle event makes the renewed one due again without undoing its renewal; one
    // for a subscription that is gone writes nothing.
    assert!(store
        .make_due("graph-inbox-1", ts("2026-03-03T23:00:00Z"))
        .await
        .unwrap());
    assert_eq!(store.get("graph-inbox-1").await.unwrap(), Some(renewed));
    let due = store.due(ts("2026-03-03T23:30:00Z"), 100).await.unwrap();
    assert!(due.iter().any(|s| s.id == "graph-inbox-1"));
    assert!(!store
        .make_due("graph-sent-1", ts("2026-03-03T23:00:00Z"))
        .await
        .unwrap());
    // A failed renewal defers it with its count, and only that.
    assert!(store
        .defer("graph-inbox-1", ts("2026-03-04T01:00:00Z"), 3)
        .await
        .unwrap());
    let deferred = store.get("graph-inbox-1").await.unwrap().unwrap();
    assert_eq!(deferred.failures, 3);
    assert_eq!(deferred.expires_at, ts("2026-03-07T00:00:00Z"));
    let due = store.due(ts("2026-03-03T23:30:00Z"), 100).await.unwrap();
    assert!(due.iter().all(|s| s.id != "graph-inbox-1"));
    assert!(!store
        .defer("graph-sent-1", ts("2026-03-04T01:00:00Z"), 1)
        .await
        .unwrap());
    assert_eq!(store.get("graph-sent-1").await.unwrap(), None);
}

#[tokio::test]
async fn a_tenants_graph_ceiling_is_remembered() {
    let (client, table) = tenancy("ceiling").await;
    let store = DynamoContractStore::new(client, table);
    assert_eq!(store.graph_ceiling(&acme()).await.unwrap(), None);
    store.remember_graph_ceiling(&acme(), 4230).await.unwrap();
    assert_eq!(store.graph_ceiling(&acme()).await.unwrap(), Some(4230));
}

#[tokio::test]
async fn the_lowest_graph_ceiling_learned_is_kept() {
    // GIVEN a tenant whose Graph clamped a lifetime to 4,230 minutes
    let (client, table) = tenancy("ceiling-lowest").await;
    let store = DynamoContractStore::new(client, table);
    store.remember_graph_ceiling(&acme(), 4230).await.unwrap();
    // WHEN a racing first request (or a resource with a longer limit) reports a higher one
    store.remember_graph_ceiling(&acme(), 10_070).await.unwrap();
    // THEN the lower stays, so no request asks for more than every resource accepts
    assert_eq!(store.graph_ceiling(&acme()).await.unwrap(), Some(4230));
    // AND a lower one still replaces it
    store.remember_graph_ceiling(&acme(), 4000).await.unwrap();
    assert_eq!(store.graph_ceiling(&acme()).await.unwrap(), Some(4000));
    store.remember_graph_ceiling(&acme(), 4000).await.unwrap();
    assert_eq!(store.graph_ceiling(&acme()).await.unwrap(), Some(4000));
}

#[tokio::test]
async fn an_account_is_held_by_one_seat_and_changes_hands_only_from_the_holder_read() {
    let (client, table) = tenancy("mailboxes").await;
    let claims = DynamoMailboxClaims::new(client, table);
    let (p, k) = (Provider::GoogleWorkspace, ConnectionKind::Email);
    let address = EmailAddress::parse("shared#1@acme.com").unwrap();
    let holder = |c: &str, s: &str| MailboxHolder {
        contract: ContractId::parse(c).unwrap(),
        seat: seat(s),
    };
    let (a, b) = (holder("acme", "s1"), holder("globex", "s1"));

    assert_eq!(claims.holder(p, k, &address).await.unwrap(), None);
    claims.claim(p, k, &address, None, &a).await.unwrap();
    assert_eq!(
        claims.holder(p, k, &address).await.unwrap(),
        Some(a.clone())
    );
    // Another seat that read "nobody", or the wrong holder, loses.
    for from in [None, Some(&b)] {
        assert!(matches!(
            claims.claim(p, k, &address, from, &b).await,
            Err(StoreError::Conflict { .. })
        ));
    }
    // The calendar, and the other provider, are separate accounts.
    assert_eq!(
        claims
            .holder(p, ConnectionKind::Calendar, &address)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        claims
            .holder(Provider::Microsoft365, k, &address)
            .await
            .unwrap(),
        None
    );
    // Taken over from the holder read; released only by its holder.
    claims.claim(p, k, &address, Some(&a), &b).await.unwrap();
    assert!(!claims.release(p, k, &address, &a).await.unwrap());
    assert_eq!(
        claims.holder(p, k, &address).await.unwrap(),
        Some(b.clone())
    );
    assert!(claims.release(p, k, &address, &b).await.unwrap());
    assert_eq!(claims.holder(p, k, &address).await.unwrap(), None);
}
