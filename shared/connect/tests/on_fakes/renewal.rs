//! Keeping push subscriptions alive.

use hiresync_connect::RenewalReport;
use hiresync_domain::access::ReconnectReason;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider};
use hiresync_domain::ports::{ChannelTerms, NewChannel, PushChannels, SubscriptionStore};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_messages::SyncReason;
use hiresync_testkit::clock::ts;
use secrecy::SecretString;

use crate::world::{acme, push_settings, seat, World, NOW};

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

/// Replaces seat `s`'s mail subscriptions with the per-folder ones (`kinds`) an earlier
/// version made: live at Graph and due at [`GRAPH_DUE`]. Their ids.
async fn subscribed_per_folder(w: &World, s: &str, kinds: &[SubscriptionKind]) -> Vec<String> {
    let ms = w.provider(Provider::Microsoft365);
    for sub in w.tenancy.subscriptions.all() {
        if sub.seat_id == seat(s) && sub.kind.connection_kind() == ConnectionKind::Email {
            ms.drop_channel(&sub.id);
            w.tenancy.subscriptions.delete(&sub).await.unwrap();
        }
    }
    let address = w.connection(s, ConnectionKind::Email).grant.address;
    let settings = push_settings();
    let terms = ChannelTerms {
        settings: &settings,
        ceiling_minutes: None,
        now: ts(NOW),
    };
    let mut ids = Vec::new();
    for &kind in kinds {
        let channel = ms
            .create(
                &SecretString::from("an earlier version's token"),
                &NewChannel {
                    kind,
                    address: &address,
                    channel_id: "unused",
                    secret: &SecretString::from("an earlier version's client state"),
                },
                &terms,
            )
            .await
            .unwrap();
        let sub = PushSubscription {
            id: channel.id,
            kind,
            contract_id: acme(),
            seat_id: seat(s),
            resource_id: None,
            secret_hash: Some("0".repeat(64)),
            expires_at: channel.expires_at,
            renewed_at: ts(NOW),
            failures: 0,
        };
        w.tenancy
            .subscriptions
            .put(&sub, ts(GRAPH_DUE))
            .await
            .unwrap();
        ids.push(sub.id);
    }
    ids
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
    let mailbox = &subs_of(&w, SubscriptionKind::GraphMessages)[0];
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&mailbox.id),
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
            renewed: 1,
            ..RenewalReport::default()
        }
    );
    let renewed = &subs_of(&w, SubscriptionKind::GraphMessages)[0];
    assert_eq!(renewed.id, mailbox.id);
    assert_eq!(renewed.renewed_at, ts(GRAPH_DUE));
    assert_eq!(renewed.expires_at, ts("2026-03-07T05:00:00Z"));
    // (one refresh for several subscriptions of a connection: see
    // a_mailbox_subscribed_per_folder_by_an_earlier_version_moves_to_one_mailbox_wide_subscription)
    assert_eq!(
        w.provider(Provider::Microsoft365).count("refresh") - refreshes,
        1,
        "one refresh for the connection"
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
    let mailbox = &subs_of(&w, SubscriptionKind::GraphMessages)[0];
    assert_eq!(mailbox.expires_at, ts("2026-03-07T01:40:00Z"));
    // Every renewal after the first asked for no more than the ceiling.
    let clamped_again = w
        .connector
        .renew_due(ts("2026-03-06T01:40:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(clamped_again.renewed, 1);
    let mailbox = &subs_of(&w, SubscriptionKind::GraphMessages)[0];
    assert_eq!(
        mailbox.expires_at,
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
    let mailbox = subs_of(&w, SubscriptionKind::GraphMessages)[0].clone();
    w.provider(Provider::Microsoft365).drop_channel(&mailbox.id);

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!((report.renewed, report.recreated), (0, 1));
    let fresh = &subs_of(&w, SubscriptionKind::GraphMessages);
    assert_eq!(fresh.len(), 1);
    assert_ne!(fresh[0].id, mailbox.id);
    assert!(
        w.tenancy.subscriptions.renew_at(&mailbox.id).is_none(),
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
        format!("catchup:{}:{}", mailbox.id, ts(GRAPH_DUE).as_second())
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

    assert_eq!(report.stopped, 2, "the mailbox's and the calendar's");
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
    // GIVEN a mailbox subscribed by a version that followed only Inbox and Sent Items
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    subscribed_per_folder(
        &w,
        "s1",
        &[
            SubscriptionKind::GraphInbox,
            SubscriptionKind::GraphSentItems,
        ],
    )
    .await;

    // WHEN they come due
    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    // THEN it gains, once, the subscription on the whole mailbox, Deleted Items included,
    // and a catch-up sync reads what it missed
    assert_eq!(
        (report.renewed, report.stopped, report.added),
        (0, 2, 1),
        "{report:?}"
    );
    assert_eq!(subs_of(&w, SubscriptionKind::GraphMessages).len(), 1);
    assert_eq!(w.tenancy.subscriptions.all().len(), 1);
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
            "added:acme:s1:email:graph_messages:{}",
            ts(GRAPH_DUE).as_second()
        )]
    );

    // The next run finds nothing missing.
    let next = w
        .connector
        .renew_due(ts("2026-03-06T07:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!((next.renewed, next.added), (1, 0));
}

#[tokio::test]
async fn a_mailbox_subscribed_per_folder_by_an_earlier_version_moves_to_one_mailbox_wide_subscription(
) {
    // GIVEN a mailbox holding the Inbox, Sent Items and Deleted Items subscriptions an
    // earlier version made, live at Graph and due
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let per_folder = subscribed_per_folder(
        &w,
        "s1",
        &[
            SubscriptionKind::GraphInbox,
            SubscriptionKind::GraphSentItems,
            SubscriptionKind::GraphDeletedItems,
        ],
    )
    .await;
    let ms = w.provider(Provider::Microsoft365);
    let (refreshes, creates) = (ms.count("refresh"), ms.count("create"));

    // WHEN the renewal job comes
    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    // THEN the three are stopped at Graph and forgotten, not renewed
    assert_eq!(
        report,
        RenewalReport {
            stopped: 3,
            added: 1,
            ..RenewalReport::default()
        }
    );
    assert_eq!(ms.count("renew"), 0);
    for id in &per_folder {
        assert_eq!(ms.count(&format!("stop {id}")), 1, "{id} stopped");
        assert!(w.tenancy.subscriptions.renew_at(id).is_none());
    }
    // AND one subscription on the whole mailbox takes their place, live at Graph and due
    // for renewal as any other
    assert_eq!(ms.count("create") - creates, 1);
    assert_eq!(ms.count("create graph_messages"), 2, "at connect, and now");
    let subs = w.tenancy.subscriptions.all();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].kind, SubscriptionKind::GraphMessages);
    assert!(!subs[0].id.starts_with("pending:"));
    assert_eq!(ms.live(), [subs[0].id.clone()]);
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&subs[0].id),
        Some(ts("2026-03-06T05:00:00Z"))
    );
    // AND the connection's token was refreshed once for its three subscriptions
    assert_eq!(ms.count("refresh") - refreshes, 1);
    // AND one catch-up sync reads what changed between the old and the new subscription
    assert_eq!(catch_ups(&w), 1);

    // AND the next run has nothing more to retire
    let next = w
        .connector
        .renew_due(ts("2026-03-06T05:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(
        next,
        RenewalReport {
            renewed: 1,
            ..RenewalReport::default()
        }
    );
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
    // GIVEN two mailboxes due, the renewal of the first failing
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connect("s2", ConnectionKind::Email, NOW).await;
    w.provider(Provider::Microsoft365).fail_renewals(1);

    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    assert_eq!((report.renewed, report.failed), (1, 1));
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
    // GIVEN 60 mailboxes whose renewals are all due, the first 16 (by id order) failing
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    for n in 0..60 {
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

/// The mailbox aliases stored on seat `s`'s mail connection.
fn aliases_of(w: &World, s: &str) -> Vec<String> {
    w.connection(s, ConnectionKind::Email)
        .aliases
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn the_first_sync_job_and_each_renewal_read_the_mailbox_aliases() {
    // GIVEN a mailbox that also receives mail as recruiting@
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    let ms = w.provider(Provider::Microsoft365);
    ms.aliases(Some(&["recruiting@acme.example", "s1@acme.example"]));

    // WHEN it connects, and its first sync job sets up push
    w.connect("s1", ConnectionKind::Email, NOW).await;

    // THEN its aliases are stored on the connection, its own address left out
    assert_eq!(ms.count("aliases"), 1);
    assert_eq!(aliases_of(&w, "s1"), ["recruiting@acme.example"]);
    // (a calendar has none to read)
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    assert_eq!(ms.count("aliases"), 1);
    assert!(w
        .connection("s1", ConnectionKind::Calendar)
        .aliases
        .is_empty());

    // WHEN the mailbox gains an alias and loses one before the renewal job comes
    ms.aliases(Some(&["talent@acme.example", "jobs@acme.example"]));
    let report = w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    // THEN the renewal reads them, once for the mailbox, and stores them
    assert_eq!(report.renewed, 2, "the mailbox's and the calendar's");
    assert_eq!(ms.count("aliases"), 2);
    assert_eq!(
        aliases_of(&w, "s1"),
        ["jobs@acme.example", "talent@acme.example"]
    );

    // WHEN reading them fails at the next renewal
    ms.aliases(None);
    let report = w
        .connector
        .renew_due(ts("2026-03-06T05:00:00Z"), 50)
        .await
        .unwrap();

    // THEN the renewal goes on, the failure is logged, and the stored aliases stay
    assert_eq!((report.renewed, report.failed), (2, 0));
    assert_eq!(ms.count("aliases"), 3);
    assert!(w.logs.text().contains("mailbox aliases not read"));
    assert_eq!(
        aliases_of(&w, "s1"),
        ["jobs@acme.example", "talent@acme.example"]
    );
}

/// The dedup ids of the reconciliations queued so far, in order.
fn reconciliations(w: &World) -> Vec<String> {
    w.queues
        .sync_jobs
        .lock()
        .unwrap()
        .iter()
        .filter(|(job, _)| job.reason == SyncReason::Reconcile)
        .map(|(_, dedup)| dedup.clone())
        .collect()
}

/// Seat s1's mail sync is under way (it has a cursor), last reconciled `at` (`None`:
/// never).
fn reconciled(w: &World, at: Option<hiresync_domain::Timestamp>) {
    use hiresync_domain::connection::RECONCILED_AT;
    let mut conn = w.connection("s1", ConnectionKind::Email);
    conn.cursor.0.insert("inbox".into(), "delta-1".into());
    match at {
        Some(at) => conn.cursor.0.insert(RECONCILED_AT.into(), at.to_string()),
        None => conn.cursor.0.remove(RECONCILED_AT),
    };
    w.tenancy.connections.overwrite(&conn);
}

/// When the next subscription is due.
fn next_due(w: &World) -> hiresync_domain::Timestamp {
    w.tenancy
        .subscriptions
        .all()
        .iter()
        .filter_map(|s| w.tenancy.subscriptions.renew_at(&s.id))
        .min()
        .unwrap()
}

fn week_of(at: hiresync_domain::Timestamp) -> i64 {
    at.as_second() / (hiresync_domain::connection::RECONCILE_EVERY_DAYS * 24 * 3600)
}

#[tokio::test]
async fn a_connection_is_reconciled_weekly() {
    // GIVEN a mailbox whose sync is under way and was never reconciled
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    assert!(reconciliations(&w).is_empty(), "nothing synced yet");
    reconciled(&w, None);

    // WHEN the renewal job visits it
    w.connector.renew_due(ts(GRAPH_DUE), 50).await.unwrap();

    // THEN a reconciliation is queued for the connection, once for the week
    assert_eq!(
        reconciliations(&w),
        [format!(
            "reconcile:acme:s1:email:{}",
            week_of(ts(GRAPH_DUE))
        )]
    );
    let job = w
        .queues
        .jobs()
        .into_iter()
        .find(|j| j.reason == SyncReason::Reconcile)
        .unwrap();
    assert_eq!(
        (job.contract, job.seat, job.kind, job.requested_at),
        (acme(), seat("s1"), ConnectionKind::Email, ts(GRAPH_DUE))
    );

    // WHEN the next run comes 3 days after the last reconciliation
    let due = next_due(&w);
    reconciled(&w, Some(due - jiff::SignedDuration::from_hours(3 * 24)));
    w.connector.renew_due(due, 50).await.unwrap();
    // THEN none is queued
    assert_eq!(reconciliations(&w).len(), 1);

    // WHEN the run after comes 7 days after it
    let due = next_due(&w);
    reconciled(&w, Some(due - jiff::SignedDuration::from_hours(7 * 24)));
    w.connector.renew_due(due, 50).await.unwrap();
    // THEN the week's reconciliation is queued
    let queued = reconciliations(&w);
    assert_eq!(queued.len(), 2);
    assert_eq!(
        queued[1],
        format!("reconcile:acme:s1:email:{}", week_of(due))
    );

    // WHEN the seat, having deauthorized, reconnects a week later, its sync still
    // unreconciled, its first sync job setting up push
    reconciled(&w, None);
    w.connector
        .deauthorize(
            &acme(),
            &seat("s1"),
            ConnectionKind::Email,
            ts("2026-03-16T09:00:00Z"),
        )
        .await
        .unwrap();
    let again = w
        .connect("s1", ConnectionKind::Email, "2026-03-16T10:00:00Z")
        .await;
    // THEN that job queues no reconciliation: it reads the mailbox itself
    assert_eq!(again.sync, hiresync_domain::connection::SyncStart::Resume);
    assert_eq!(
        w.provider(Provider::Microsoft365).count("aliases"),
        5,
        "the job did visit it"
    );
    assert_eq!(reconciliations(&w).len(), 2);
}
