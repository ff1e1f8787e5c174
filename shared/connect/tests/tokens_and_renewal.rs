//! Token refresh with rotation, refused grants, push-subscription renewal, and a check that
//! no token ever reaches a log line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::sync::{Arc, Mutex};

use common::{consent, sign_in, ts, Harness, NOW};
use hiresync_connect::Failure;
use hiresync_domain::access::ReconnectReason;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use secrecy::ExposeSecret;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}
fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}

async fn connected(h: &Harness, provider: Provider, kind: ConnectionKind) {
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(provider),
                email_access: Some(EmailAccess::ViewOnly),
                calendar_enabled: Some(true),
                video_meetings: None,
            },
            ts(NOW),
        )
        .await
        .unwrap();
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &UserId::parse("u1").unwrap(),
            kind,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    h.connector
        .complete_authorization(
            &sign_in(seat("s1"), UserId::parse("u1").unwrap(), kind),
            &consent(&start.url, "code-1"),
            ts(NOW),
        )
        .await
        .unwrap();
    h.first_sync_job("acme", "s1", kind, NOW).await;
    h.drain("SyncJobsQueue").await;
}

async fn connection(h: &Harness, kind: ConnectionKind) -> hiresync_domain::connection::Connection {
    h.connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), kind)
        .await
        .unwrap()
        .unwrap()
        .value
}

#[tokio::test]
async fn microsofts_rotated_refresh_token_replaces_the_stored_one() {
    let h = Harness::new("rotation").await;
    h.microsoft_tenant("rt-original", "Mail.Read User.Read", "r@acme.example")
        .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    // From now on the token endpoint rotates (mounted first wins in wiremock, so reset).
    h.server.reset().await;
    h.mount(
        "POST",
        "/ms/token",
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "scope": "Mail.Read User.Read",
            "access_token": "at-2", "refresh_token": "rt-rotated"
        })),
    )
    .await;
    let conn = connection(&h, ConnectionKind::Email).await;
    let access = h
        .connector
        .access_token(&conn, ts("2026-03-03T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(access.expose_secret(), "at-2");
    let form = String::from_utf8(h.requests_to("POST", "/ms/token").await[0].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=refresh_token") && form.contains("refresh_token=rt-original")
    );
    let stored = h
        .connector
        .stores
        .tokens
        .get(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .unwrap();
    let opened = h
        .connector
        .sealer
        .open(
            &stored.sealed,
            &[("contract", "acme"), ("seat", "s1"), ("kind", "email")],
        )
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), "rt-rotated");
    assert_eq!(
        stored.authorized_at,
        ts(NOW),
        "rotation keeps the authorization instant"
    );
}

#[tokio::test]
async fn a_refused_grant_marks_the_connection_and_tells_the_seat_once() {
    let h = Harness::new("invalid-grant").await;
    h.google_account(
        "rt-1",
        "openid https://www.googleapis.com/auth/gmail.readonly",
        "g@acme.example",
    )
    .await;
    connected(&h, Provider::GoogleWorkspace, ConnectionKind::Email).await;
    h.server.reset().await;
    h.mount(
        "POST",
        "/google/token",
        ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})),
    )
    .await;
    let conn = connection(&h, ConnectionKind::Email).await;
    let result = h
        .connector
        .access_token(&conn, ts("2026-03-05T00:00:00Z"))
        .await;
    assert!(matches!(result, Err(Failure::Refused(_))), "{result:?}");
    assert_eq!(
        connection(&h, ConnectionKind::Email).await.state,
        ConnectionState::NeedsReconnect {
            reason: ReconnectReason::GrantRevoked
        }
    );
    // A second refusal does not notify again.
    let _ = h
        .connector
        .access_token(&conn, ts("2026-03-05T00:01:00Z"))
        .await;
    let notices = h.drain("NotificationsQueue").await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["type"], "reauthorization_needed");
    assert_eq!(notices[0]["seat"], "s1");
    assert_eq!(notices[0]["kind"], "email");
}

#[tokio::test]
async fn graph_subscriptions_are_renewed_before_expiry_with_the_clamp_and_recreated_when_gone() {
    let h = Harness::new("renew-graph").await;
    h.microsoft_tenant("rt", "Mail.Read User.Read", "r@acme.example")
        .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    let subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    assert_eq!(subs.len(), 1, "one subscription on the whole mailbox");
    let mailbox = subs[0].clone();
    assert_eq!(mailbox.kind, SubscriptionKind::GraphMessages);
    // Created with the configured 4,200 minutes: due a day before.
    assert_eq!(mailbox.expires_at, ts("2026-03-05T07:00:00Z"));

    // Graph refuses more than 4,000 minutes at the first renewal (clamp and retry), and has
    // dropped the subscription by the second (404: recreate and catch up).
    let mailbox_path = format!("/graph/subscriptions/{}", mailbox.id);
    Mock::given(method("PATCH"))
        .and(path(mailbox_path.as_str()))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "ExtensionError", "message": "Subscription expiration can only be 4000 minutes in the future."}})))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(mailbox_path.as_str()))
        .respond_with(renewed_as_asked)
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/graph/subscriptions/.+$"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "ResourceNotFound", "message": "gone"}})),
        )
        .mount(&h.server)
        .await;

    // Not due yet an hour earlier.
    let early = h
        .connector
        .renew_due(ts("2026-03-04T06:59:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(early.renewed + early.recreated, 0);
    let refreshes_before = h.requests_to("POST", "/ms/token").await.len();
    let report = h
        .connector
        .renew_due(ts("2026-03-04T08:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(
        h.requests_to("POST", "/ms/token").await.len() - refreshes_before,
        1,
        "one token refresh for the run"
    );
    assert_eq!(
        (
            report.renewed,
            report.recreated,
            report.added,
            report.failed
        ),
        (1, 0, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        h.connector
            .stores
            .contracts
            .graph_ceiling(&acme())
            .await
            .unwrap(),
        Some(4000)
    );
    let renewed = h
        .connector
        .stores
        .subscriptions
        .get(&mailbox.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        renewed.expires_at,
        ts("2026-03-07T02:40:00Z"),
        "now + 4,000 minutes"
    );
    assert!(h.drain("SyncJobsQueue").await.is_empty(), "nothing missed");

    // WHEN it comes due again, Graph having dropped it
    let creates_before = h.requests_to("POST", "/graph/subscriptions").await.len();
    let report = h
        .connector
        .renew_due(ts("2026-03-06T03:00:00Z"), 50)
        .await
        .unwrap();

    // THEN it is recreated, asking for no more than the ceiling learned, and the gap caught
    // up
    assert_eq!(
        (
            report.renewed,
            report.recreated,
            report.added,
            report.failed
        ),
        (0, 1, 0, 0),
        "{report:?}"
    );
    let creates = h.requests_to("POST", "/graph/subscriptions").await;
    assert_eq!(creates.len() - creates_before, 1);
    let body: serde_json::Value = serde_json::from_slice(&creates.last().unwrap().body).unwrap();
    assert_eq!(body["resource"], "me/messages");
    assert_eq!(
        ts(body["expirationDateTime"].as_str().unwrap()),
        ts("2026-03-08T21:40:00Z"),
        "now + 4,000 minutes"
    );
    assert!(h
        .connector
        .stores
        .subscriptions
        .get(&mailbox.id)
        .await
        .unwrap()
        .is_none());
    let now_subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    assert_eq!(now_subs.len(), 1);
    assert_eq!(now_subs[0].kind, SubscriptionKind::GraphMessages);
    assert_ne!(now_subs[0].id, mailbox.id);
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "catch_up");
}

/// Graph's renewal: the subscription, expiring as asked.
fn renewed_as_asked(r: &wiremock::Request) -> ResponseTemplate {
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let id = r.url.path().rsplit('/').next().unwrap_or_default();
    ResponseTemplate::new(200).set_body_json(
        json!({"id": id, "resource": "me/mailFolders('Inbox')/messages", "expirationDateTime": body["expirationDateTime"]}),
    )
}

/// A Graph mail subscription of `kind` an earlier version made for s1, expiring as one
/// made at [`NOW`].
fn per_folder(id: &str, kind: SubscriptionKind) -> PushSubscription {
    PushSubscription {
        id: id.to_owned(),
        kind,
        contract_id: acme(),
        seat_id: seat("s1"),
        resource_id: None,
        secret_hash: Some("0".repeat(64)),
        expires_at: ts("2026-03-05T07:00:00Z"),
        renewed_at: ts(NOW),
        failures: 0,
    }
}

#[tokio::test]
async fn a_mailbox_connected_before_deleted_items_was_followed_gains_it_at_its_next_renewal() {
    let h = Harness::new("renew-adds").await;
    h.microsoft_tenant("rt", "Mail.Read User.Read", "r@acme.example")
        .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    // GIVEN a connection holding only the Inbox and Sent Items subscriptions of an earlier
    // version, as every mailbox connected before Deleted Items was followed does
    let subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    for sub in &subs {
        h.connector.stores.subscriptions.delete(sub).await.unwrap();
    }
    let earlier = [
        per_folder("inbox-sub", SubscriptionKind::GraphInbox),
        per_folder("sent-items-sub", SubscriptionKind::GraphSentItems),
    ];
    for sub in &earlier {
        h.connector
            .stores
            .subscriptions
            .put(sub, ts("2026-03-04T07:00:00Z"))
            .await
            .unwrap();
    }
    let creates_before = h.requests_to("POST", "/graph/subscriptions").await.len();
    let refreshes_before = h.requests_to("POST", "/ms/token").await.len();
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/graph/subscriptions/.+$"))
        .respond_with(renewed_as_asked)
        .mount(&h.server)
        .await;

    // WHEN they come due
    let report = h
        .connector
        .renew_due(ts("2026-03-04T08:00:00Z"), 50)
        .await
        .unwrap();

    // THEN both are stopped at Graph, not renewed, and one subscription on the whole
    // mailbox, Deleted Items included, takes their place
    assert_eq!(
        (report.renewed, report.stopped, report.added, report.failed),
        (0, 2, 1, 0),
        "{report:?}"
    );
    for sub in &earlier {
        let deletes = h
            .requests_to("DELETE", &format!("/graph/subscriptions/{}", sub.id))
            .await;
        assert_eq!(deletes.len(), 1, "{} stopped", sub.id);
    }
    assert!(h
        .requests()
        .await
        .iter()
        .all(|r| r.method.as_str() != "PATCH"));
    let creates = h.requests_to("POST", "/graph/subscriptions").await;
    assert_eq!(creates.len() - creates_before, 1);
    let body: serde_json::Value = serde_json::from_slice(&creates.last().unwrap().body).unwrap();
    assert_eq!(body["resource"], "me/messages");
    let kinds: Vec<SubscriptionKind> = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, [SubscriptionKind::GraphMessages]);
    // AND one token refresh served the connection's two subscriptions
    assert_eq!(
        h.requests_to("POST", "/ms/token").await.len() - refreshes_before,
        1
    );
    // AND a catch-up sync reads what changed meanwhile
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "catch_up");
    // AND the next run has nothing to do
    let again = h
        .connector
        .renew_due(ts("2026-03-04T08:15:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(again, Default::default());
}

#[tokio::test]
async fn calendar_channels_are_replaced_and_stale_subscriptions_dropped() {
    let h = Harness::new("renew-cal").await;
    h.google_account(
        "rt",
        "openid https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy",
        "g@acme.example",
    )
    .await;
    connected(&h, Provider::GoogleWorkspace, ConnectionKind::Calendar).await;
    let old = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap();
    assert_eq!(old.len(), 1);
    let old = old[0].clone();
    assert_eq!(old.kind, SubscriptionKind::CalendarChannel);
    let watch = &h
        .requests_to("POST", "/calendar/calendars/primary/events/watch")
        .await[0];
    let body: serde_json::Value = serde_json::from_slice(&watch.body).unwrap();
    assert_eq!(body["type"], "web_hook");
    assert_eq!(body["address"], "https://hooks.example/webhooks/calendar");
    assert_eq!(body["params"]["ttl"], "604800");

    // Channel expires 2026-03-09T09:00Z: renewed (replaced) a day before.
    let report = h
        .connector
        .renew_due(ts("2026-03-08T10:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(report.recreated, 1, "{report:?}");
    let now = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap();
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].id, old.id, "a new channel id");
    let stop = &h.requests_to("POST", "/calendar/channels/stop").await[0];
    let stopped: serde_json::Value = serde_json::from_slice(&stop.body).unwrap();
    assert_eq!(stopped["id"], old.id.as_str());
    assert_eq!(
        stopped["resourceId"],
        old.resource_id.clone().unwrap().as_str()
    );

    // A subscription whose connection is no longer authorized is dropped, not renewed.
    h.connector
        .deauthorize(
            &acme(),
            &seat("s1"),
            ConnectionKind::Calendar,
            ts("2026-03-08T11:00:00Z"),
        )
        .await
        .unwrap();
    assert!(h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_subscription_that_failed_at_connect_is_created_by_the_next_renewal() {
    let h = Harness::new("renew-placeholder").await;
    // Gmail watch fails at connect (Pub/Sub topic not granted yet).
    h.mount(
        "POST",
        "/gmail/users/me/watch",
        ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "User not authorized to perform this action."}})),
    )
    .await;
    h.google_account(
        "rt",
        "openid https://www.googleapis.com/auth/gmail.readonly",
        "g@acme.example",
    )
    .await;
    connected(&h, Provider::GoogleWorkspace, ConnectionKind::Email).await;
    let subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].id.starts_with("pending:"));
    assert!(
        connection(&h, ConnectionKind::Email).await.is_authorized(),
        "the connection stands"
    );

    // The topic is fixed; the next renewal run creates the watch and catches up.
    h.server.reset().await;
    h.google_account(
        "rt",
        "openid https://www.googleapis.com/auth/gmail.readonly",
        "g@acme.example",
    )
    .await;
    let report = h
        .connector
        .renew_due(ts("2026-03-02T10:00:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(report.recreated, 1, "{report:?}");
    let subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].id, "gmail:g@acme.example");
    assert_eq!(subs[0].kind, SubscriptionKind::GmailWatch);
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "catch_up");
}

#[tokio::test]
async fn no_token_or_secret_reaches_any_log_line() {
    let h = Harness::new("log-capture").await;
    h.microsoft_tenant(
        "rt-SECRET-refresh-7731",
        "Mail.Read User.Read Calendars.ReadWrite",
        "r@acme.example",
    )
    .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    let conn = connection(&h, ConnectionKind::Email).await;
    h.connector
        .access_token(&conn, ts("2026-03-03T00:00:00Z"))
        .await
        .unwrap();
    h.connector
        .renew_due(ts("2026-03-05T00:00:00Z"), 50)
        .await
        .unwrap();
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                email_access: Some(EmailAccess::Off),
                ..Default::default()
            },
            ts("2026-03-05T01:00:00Z"),
        )
        .await
        .unwrap();
    for m in h.drain("DeauthorizationsQueue").await {
        h.connector
            .fan_out_page(
                &serde_json::from_value(m).unwrap(),
                ts("2026-03-05T01:00:01Z"),
            )
            .await
            .unwrap();
    }

    let logs = h.logs();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(logs.lines().count() > 5, "the flows did log: {logs}");
    for secret in [
        "rt-SECRET-refresh-7731",
        "ms-access-token-1",
        "ms-client-secret-value",
        "code-1",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    for b in h.requests_to("POST", "/graph/subscriptions").await {
        let body: serde_json::Value = serde_json::from_slice(&b.body).unwrap();
        let state = body["clientState"].as_str().unwrap();
        assert!(!logs.contains(state), "a client state leaked into the logs");
    }
}

#[tokio::test]
async fn a_connection_quiet_longer_than_the_interval_gets_a_catch_up_sync_until_it_no_longer_syncs()
{
    use hiresync_domain::sync_status::{SyncStage, SyncStatus};
    let h = Harness::new("catch-up").await;
    h.microsoft_tenant("rt", "Mail.Read User.Read", "r@acme.example")
        .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    let stores = &h.connector.stores;
    let run = |at: &'static str| {
        let h = &h;
        async move {
            h.connector
                .catch_up(ts(at), jiff::SignedDuration::from_hours(1), 10)
                .await
                .unwrap()
        }
    };
    let mut status = SyncStatus::new(SyncStage::Incremental, ts(NOW));
    let succeeded = |status: &mut SyncStatus, at: &str| {
        status.succeeded(SyncStage::Incremental, 1, 1, ts(at));
        let status = status.clone();
        async move {
            stores
                .sync_status
                .put(&acme(), &seat("s1"), ConnectionKind::Email, &status)
                .await
                .unwrap()
        }
    };
    // GIVEN s1's last successful sync at 09:00
    succeeded(&mut status, NOW).await;

    // WHEN the run comes at 09:59: not quiet long enough, nothing queued
    assert_eq!(run("2026-03-02T09:59:00Z").await.queued, 0);
    assert!(h.drain("SyncJobsQueue").await.is_empty());

    // WHEN it comes at 10:01 (a push was lost in between): one catch-up sync is queued
    assert_eq!(run("2026-03-02T10:01:00Z").await.queued, 1);
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "catch_up");
    assert_eq!(jobs[0]["seat"], "s1");

    // WHEN the job succeeds at 10:02, the connection is no longer quiet
    succeeded(&mut status, "2026-03-02T10:02:00Z").await;
    assert_eq!(run("2026-03-02T10:30:00Z").await.queued, 0);

    // WHEN the seat deauthorizes, the next quiet run forgets it instead of queueing, and
    // the run after that does not even list it
    h.connector
        .deauthorize(
            &acme(),
            &seat("s1"),
            ConnectionKind::Email,
            ts("2026-03-02T10:40:00Z"),
        )
        .await
        .unwrap();
    let report = run("2026-03-02T12:00:00Z").await;
    assert_eq!((report.queued, report.forgotten), (0, 1));
    let report = run("2026-03-02T13:00:00Z").await;
    assert_eq!((report.queued, report.forgotten), (0, 0));
    assert!(h.drain("SyncJobsQueue").await.is_empty());
}

#[tokio::test]
async fn a_renewal_run_out_of_time_leaves_what_is_due_for_the_next_run() {
    let h = Harness::new("renew-deadline").await;
    h.microsoft_tenant("rt", "Mail.Read User.Read", "r@acme.example")
        .await;
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/graph/subscriptions/[^/]+$"))
        .respond_with(|r: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            ResponseTemplate::new(200).set_body_json(json!({"id": "kept", "resource": "me/mailFolders('Inbox')/messages", "expirationDateTime": body["expirationDateTime"]}))
        })
        .mount(&h.server)
        .await;
    let due = ts("2026-03-05T08:00:00Z");
    // WHEN the run has no time left: nothing is renewed, and it says so
    let report = h
        .connector
        .renew_due_until(due, 10, Some(std::time::Instant::now()))
        .await
        .unwrap();
    assert_eq!(report.renewed, 0);
    assert!(report.unfinished);
    let patches = || async {
        h.requests()
            .await
            .into_iter()
            .filter(|r| r.method.as_str() == "PATCH")
            .count()
    };
    assert_eq!(patches().await, 0);
    // THEN the next run finds the subscriptions still due and renews them
    let report = h.connector.renew_due(due, 10).await.unwrap();
    assert_eq!(report.renewed, 1);
    assert!(!report.unfinished);
    assert_eq!(patches().await, 1);
}

/// The aliases stored on s1's mail connection.
async fn aliases(h: &Harness) -> Vec<String> {
    connection(h, ConnectionKind::Email)
        .await
        .aliases
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn a_microsoft_mailboxs_aliases_are_its_smtp_proxy_addresses_read_at_set_up_and_renewal() {
    let h = Harness::new("aliases-graph").await;
    h.microsoft_tenant("rt", "Mail.Read User.Read", "r@acme.example")
        .await;
    // GIVEN a user whose proxy addresses are its primary one, two aliases, and addresses
    // that are not mail
    let proxies = Arc::new(Mutex::new(json!([
        "SMTP:R@acme.example",
        "smtp:recruiting@acme.example",
        "smtp:r.mueller@acme-gmbh.example",
        "X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=r",
        "SIP:r@acme.example"
    ])));
    let answer = proxies.clone();
    Mock::given(method("GET"))
        .and(path("/graph/me"))
        .respond_with(move |_: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "id": "0f1e2d3c", "mail": "r@acme.example", "userPrincipalName": "r@acme.example",
                "proxyAddresses": *answer.lock().unwrap()
            }))
        })
        .with_priority(1)
        .mount(&h.server)
        .await;

    // WHEN the mailbox connects and its first sync job sets up push
    connected(&h, Provider::Microsoft365, ConnectionKind::Email).await;

    // THEN Graph was asked for the proxy addresses, and the SMTP ones other than the
    // mailbox's own are stored as its aliases
    let me = h.requests_to("GET", "/graph/me").await;
    let select: String = me
        .last()
        .unwrap()
        .url
        .query_pairs()
        .find(|(k, _)| k == "$select")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(select.split(',').any(|f| f == "proxyAddresses"), "{select}");
    assert_eq!(
        aliases(&h).await,
        ["r.mueller@acme-gmbh.example", "recruiting@acme.example"]
    );

    // WHEN an alias is removed and another added before the renewal job comes
    *proxies.lock().unwrap() = json!(["SMTP:r@acme.example", "smtp:talent@acme.example"]);
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/graph/subscriptions/.+$"))
        .respond_with(renewed_as_asked)
        .mount(&h.server)
        .await;
    let report = h
        .connector
        .renew_due(ts("2026-03-04T08:00:00Z"), 50)
        .await
        .unwrap();

    // THEN the connection holds the new list
    assert_eq!((report.renewed, report.failed), (1, 0), "{report:?}");
    assert_eq!(aliases(&h).await, ["talent@acme.example"]);
}

#[tokio::test]
async fn a_gmail_mailboxs_aliases_are_its_accepted_send_as_addresses() {
    let h = Harness::new("aliases-gmail").await;
    h.google_account(
        "rt",
        "openid https://www.googleapis.com/auth/gmail.readonly",
        "g@acme.example",
    )
    .await;
    // GIVEN a mailbox that may send as talent@, and has asked to send as hr@ (not verified
    // yet)
    let send_as = |hr_status: &str| {
        ResponseTemplate::new(200).set_body_json(json!({"sendAs": [
            {"sendAsEmail": "g@acme.example", "displayName": "G", "replyToAddress": "",
             "signature": "", "isPrimary": true, "isDefault": true},
            {"sendAsEmail": "talent@acme.example", "displayName": "Talent", "replyToAddress": "",
             "signature": "", "isPrimary": false, "isDefault": false, "treatAsAlias": true,
             "verificationStatus": "accepted"},
            {"sendAsEmail": "hr@acme.example", "displayName": "HR", "replyToAddress": "",
             "signature": "", "isPrimary": false, "isDefault": false, "treatAsAlias": true,
             "verificationStatus": hr_status}
        ]}))
    };
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/settings/sendAs"))
        .respond_with(send_as("pending"))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/settings/sendAs"))
        .respond_with(send_as("accepted"))
        .mount(&h.server)
        .await;

    // WHEN the mailbox connects and its first sync job sets up push
    connected(&h, Provider::GoogleWorkspace, ConnectionKind::Email).await;

    // THEN the accepted send-as address is stored as its alias; its own and the pending
    // one are not
    assert_eq!(
        h.requests_to("GET", "/gmail/users/me/settings/sendAs")
            .await
            .len(),
        1
    );
    assert_eq!(aliases(&h).await, ["talent@acme.example"]);

    // WHEN hr@ is verified before the next renewal (Gmail asks for a fresh watch daily)
    let report = h
        .connector
        .renew_due(ts("2026-03-03T10:00:00Z"), 50)
        .await
        .unwrap();

    // THEN the renewal stores it too
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(
        h.requests_to("GET", "/gmail/users/me/settings/sendAs")
            .await
            .len(),
        2
    );
    assert_eq!(
        aliases(&h).await,
        ["hr@acme.example", "talent@acme.example"]
    );
}
