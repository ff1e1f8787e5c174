//! Keeping push subscriptions alive.

use hiresync_connect::RenewalReport;
use hiresync_domain::access::ReconnectReason;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_messages::SyncReason;
use hiresync_testkit::clock::ts;

use crate::world::{acme, World, NOW};

/// When Graph subscriptions made at [`NOW`] are due: 4,200 minutes on, less a day.
const GRAPH_DUE: &str = "2026-03-04T07:00:00Z";

fn subs_of(w: &World, kind: SubscriptionKind) -> Vec<PushSubscription> {
    w.tenancy
        .subscriptions
        .all()
        .into_iter()
        .filter(|s| s.kind == kind)
        .collect()
}

fn catch_ups(w: &World) -> usize {
    w.queues
        .jobs()
        .iter()
        .filter(|j| j.reason == SyncReason::CatchUp)
        .count()
}

#[tokio::test]
async fn graph_subscriptions_are_extended_before_they_expire_with_one_refresh() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let inbox = &subs_of(&w, SubscriptionKind::GraphInbox)[0];
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&inbox.id),
        Some(ts(GRAPH_DUE))
    );
    let refreshes = w.provider(Provider::Microsoft365).count("refresh");

    let early = w
        .connector
        .renew_due(ts("2026-03-04T06:59:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(early, RenewalReport::default(), "nothing due yet");

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!(
        report,
        RenewalReport {
            renewed: 3,
            ..RenewalReport::default()
        }
    );
    let renewed = &subs_of(&w, SubscriptionKind::GraphInbox)[0];
    assert_eq!(renewed.id, inbox.id);
    assert_eq!(renewed.renewed_at, ts(GRAPH_DUE));
    assert_eq!(renewed.expires_at, ts("2026-03-07T05:00:00Z"));
    assert_eq!(
        w.provider(Provider::Microsoft365).count("refresh") - refreshes,
        1,
        "one refresh for the three"
    );
    assert_eq!(catch_ups(&w), 0, "nothing was missed");
}

#[tokio::test]
async fn a_clamped_lifetime_is_remembered_and_not_asked_for_again() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.provider(Provider::Microsoft365).clamp_to(4_000);

    w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!(w.tenancy.contracts.ceiling(&acme()), Some(4_000));
    let inbox = &subs_of(&w, SubscriptionKind::GraphInbox)[0];
    assert_eq!(inbox.expires_at, ts("2026-03-07T01:40:00Z"));
    // Every renewal after the first asked for no more than the ceiling.
    let clamped_again = w
        .connector
        .renew_due(ts("2026-03-06T01:40:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(clamped_again.renewed, 3);
    let inbox = &subs_of(&w, SubscriptionKind::GraphInbox)[0];
    assert_eq!(
        inbox.expires_at,
        ts("2026-03-08T20:20:00Z"),
        "4,000 minutes, as learned"
    );
    assert_eq!(w.tenancy.contracts.ceiling(&acme()), Some(4_000));
}

#[tokio::test]
async fn a_subscription_graph_dropped_is_recreated_and_the_gap_caught_up() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let inbox = subs_of(&w, SubscriptionKind::GraphInbox)[0].clone();
    w.provider(Provider::Microsoft365).drop_channel(&inbox.id);

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!((report.renewed, report.recreated), (2, 1));
    let fresh = &subs_of(&w, SubscriptionKind::GraphInbox)[0];
    assert_ne!(fresh.id, inbox.id);
    assert!(
        w.tenancy.subscriptions.renew_at(&inbox.id).is_none(),
        "the old record is gone"
    );
    let job = w
        .queues
        .sync_jobs
        .lock()
        .unwrap()
        .iter()
        .find(|(j, _)| j.reason == SyncReason::CatchUp)
        .cloned()
        .unwrap();
    assert_eq!(
        job.1,
        format!("catchup:{}:{}", inbox.id, ts(GRAPH_DUE).as_second())
    );
}

#[tokio::test]
async fn calendar_channels_are_replaced_and_a_lapsed_one_is_caught_up() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::Off, true)
        .await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    let old = subs_of(&w, SubscriptionKind::CalendarChannel)[0].clone();
    let google = w.provider(Provider::GoogleWorkspace);

    // Due a day before it ends: replaced, nothing missed.
    let report = w
        .connector
        .renew_due(ts("2026-03-08T09:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(report.recreated, 1);
    let new = subs_of(&w, SubscriptionKind::CalendarChannel)[0].clone();
    assert_ne!(new.id, old.id);
    assert_eq!(google.count(&format!("stop {}", old.id)), 1);
    assert_eq!(catch_ups(&w), 0);

    // Renewed only after it ended: what it missed is caught up.
    w.connector
        .renew_due(ts("2026-03-16T10:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(catch_ups(&w), 1);
}

#[tokio::test]
async fn subscriptions_of_a_connection_that_lost_its_grant_are_dropped() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    // The calendar's connection needs a reconnect (marked elsewhere).
    let mut calendar = w.connection("s1", ConnectionKind::Calendar);
    calendar.require_reconnect(ReconnectReason::GrantRevoked, ts(NOW));
    w.tenancy.connections.overwrite(&calendar);
    // And the mailbox's grant was revoked at the provider.
    w.provider(Provider::Microsoft365).forget_grants();

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!(report.stopped, 4);
    assert!(w.tenancy.subscriptions.all().is_empty());
    assert_eq!(
        w.connection("s1", ConnectionKind::Email).state,
        ConnectionState::NeedsReconnect {
            reason: ReconnectReason::GrantRevoked
        }
    );
    assert_eq!(w.queues.sent_notices().len(), 1, "the seat is told once");
}

#[tokio::test]
async fn a_mailbox_connected_before_deleted_items_was_followed_gains_it() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    // As connected before Deleted Items was followed.
    let deleted = subs_of(&w, SubscriptionKind::GraphDeletedItems)[0].clone();
    {
        use hiresync_domain::ports::SubscriptionStore;
        w.tenancy.subscriptions.delete(&deleted).await.unwrap();
    }

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!((report.renewed, report.added), (2, 1));
    assert_eq!(subs_of(&w, SubscriptionKind::GraphDeletedItems).len(), 1);
    let added: Vec<_> = w
        .queues
        .sync_jobs
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, dedup)| dedup.starts_with("added:"))
        .map(|(_, dedup)| dedup.clone())
        .collect();
    assert_eq!(
        added,
        [format!(
            "added:acme:s1:email:graph_deleted_items:{}",
            ts(GRAPH_DUE).as_second()
        )]
    );

    // The next run finds nothing missing.
    let next = w
        .connector
        .renew_due(ts("2026-03-06T07:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(next.added, 0);
}

#[tokio::test]
async fn a_placeholder_is_created_by_the_next_renewal_and_caught_up() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.provider(Provider::GoogleWorkspace).fail_creates(1);
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let placeholder = subs_of(&w, SubscriptionKind::GmailWatch)[0].clone();
    assert!(placeholder.id.starts_with("pending:"));

    let report = w.connector.renew_due(ts(NOW), 50).await.unwrap();

    assert_eq!(report.recreated, 1);
    let watch = &subs_of(&w, SubscriptionKind::GmailWatch)[0];
    assert_eq!(watch.id, "gmail:s1@acme.example");
    assert_eq!(
        w.provider(Provider::GoogleWorkspace).count("stop"),
        0,
        "nothing at the provider to stop"
    );
    assert_eq!(catch_ups(&w), 1);
}

#[tokio::test]
async fn a_failed_renewal_is_counted_logged_with_its_cause_and_retried_next_run() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.provider(Provider::Microsoft365).fail_renewals(1);

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!((report.renewed, report.failed), (2, 1));
    assert!(w
        .logs
        .text()
        .contains("push renewal failed: provider call renew failed: scripted failure (fake)"));
    // AND it waits 15 minutes before the next attempt, longer after each further failure,
    // so a subscription that keeps failing never heads every run of its shard
    let failed = w
        .tenancy
        .subscriptions
        .all()
        .into_iter()
        .find(|s| s.failures == 1)
        .expect("the failure is counted");
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&failed.id),
        Some(ts("2026-03-04T07:15:00Z"))
    );
    let again = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();
    assert_eq!(again, RenewalReport::default(), "not due again at once");
    w.provider(Provider::Microsoft365).fail_renewals(1);
    let second = w
        .connector
        .renew_due(ts("2026-03-04T07:15:00Z"), 50)
        .await
        .unwrap();
    assert_eq!((second.renewed, second.failed), (0, 1));
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&failed.id),
        Some(ts("2026-03-04T07:45:00Z"))
    );
    // AND a success clears the count
    let retried = w
        .connector
        .renew_due(ts("2026-03-04T07:45:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(retried.renewed, 1, "only the one that failed was due");
    assert!(w
        .tenancy
        .subscriptions
        .all()
        .iter()
        .all(|s| s.failures == 0));
}

#[tokio::test]
async fn broken_subscriptions_give_way_to_the_others_due() {
    // GIVEN 20 mailboxes whose renewals are all due, the first 10 (by id order) failing
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    for n in 0..20 {
        w.connect(&format!("s{n:02}"), ConnectionKind::Email, NOW)
            .await;
    }
    // 60 subscriptions due; a run takes at most 16 shards x 1 = 16 of them.
    w.provider(Provider::Microsoft365).fail_renewals(16);
    let first = w.connector.renew_due(ts(GRAPH_DUE), 1).await.unwrap();
    assert_eq!(first.failed, 16);
    // WHEN the next runs come at once
    let mut renewed = 0;
    for _ in 0..3 {
        renewed += w
            .connector
            .renew_due(ts(GRAPH_DUE), 1)
            .await
            .unwrap()
            .renewed;
    }
    // THEN the others are renewed instead of the failing ones being tried again
    assert_eq!(renewed, 60 - 16);
}

#[tokio::test]
async fn only_a_provider_that_clamps_lifetimes_has_its_ceiling_read() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    // Any read of the contract would fail now: a Google renewal must not need one.
    w.tenancy.contracts.faults.fail_next(1);

    let report = w
        .connector
        .renew_due(ts("2026-03-08T09:00:00Z"), 50)
        .await
        .unwrap();

    assert_eq!((report.recreated, report.failed), (1, 0));
}

#[tokio::test]
async fn a_function_built_without_push_settings_says_so_when_asked_to_renew() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    let c = &w.connector;
    let without_push = hiresync_connect::Connector::new(hiresync_connect::ConnectPorts {
        stores: c.stores.clone(),
        sealer: c.sealer.clone(),
        queues: c.queues.clone(),
        providers: c.providers.clone(),
    });

    let report = without_push
        .renew_due(ts("2026-03-08T09:00:00Z"), 50)
        .await
        .unwrap();

    assert_eq!(report.failed, 1);
    assert!(w
        .logs
        .text()
        .contains("push settings is not configured in this function"));
}
