//! The connect path end to end: settings -> authorize -> callback -> connection, sealed
//! token, push subscriptions and sync job -> downgrade fan-out -> reauthorization, against
//! the local AWS and a provider stub over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{consent, query, sign_in, ts, Harness, NOW};
use hiresync_connect::{Callback, Failure};
use hiresync_domain::access::{DeauthorizationReason, ReconnectReason};
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::{ConnectError, ErrorClass, StaleReason};
use hiresync_domain::connection::{ConnectionKind, ConnectionState, SyncStart};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_messages::FanOutPage;
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::ResponseTemplate;

fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}
fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}
fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

async fn enable(h: &Harness, provider: Provider, level: EmailAccess, calendar: bool) {
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(provider),
                email_access: Some(level),
                calendar_enabled: Some(calendar),
                video_meetings: None,
            },
            ts(NOW),
        )
        .await
        .unwrap();
}

fn refused(result: Result<impl std::fmt::Debug, Failure>) -> ConnectError {
    match result {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn no_seat_can_authorize_before_the_admin_chooses_a_provider() {
    let h = Harness::new("no-provider").await;
    let e = refused(
        h.connector
            .start_authorization(
                &acme(),
                &seat("s1"),
                &user("u1"),
                ConnectionKind::Email,
                None,
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e, ConnectError::NotAllowed(Denial::NoProvider));
    assert_eq!(e.code(), "no_provider");
}

#[tokio::test]
async fn a_microsoft_mailbox_connects_with_pkce_and_gets_its_token_subscriptions_and_sync() {
    let h = Harness::new("ms-connect").await;
    enable(&h, Provider::Microsoft365, EmailAccess::SendAndView, true).await;
    h.microsoft_tenant(
        "ms-refresh-token-1",
        "Mail.Read Mail.Send User.Read openid profile email",
        "Rita@Acme.example",
    )
    .await;

    // WHEN the seat starts
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            Some("rita@acme.example"),
            ts(NOW),
        )
        .await
        .unwrap();
    let q = query(&start.url);
    assert!(start
        .url
        .starts_with(&format!("{}/ms/authorize?", h.server.uri())));
    assert_eq!(q["client_id"], "ms-client");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["login_hint"], "rita@acme.example");
    assert_eq!(q["prompt"], "select_account", "the seat picks the account");
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    for s in ["offline_access", "Mail.Read", "Mail.Send", "User.Read"] {
        assert!(scopes.contains(&s), "{s} requested");
    }
    assert_eq!(start.expires_at, ts("2026-03-02T09:15:00Z"));

    // AND comes back with a code
    let connected = h
        .connector
        .complete_authorization(
            &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
            &consent(&start.url, "auth-code-1"),
            ts("2026-03-02T09:01:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(connected.address.as_str(), "rita@acme.example");
    assert_eq!(connected.sync, SyncStart::Historical);
    // The sign-in asked the provider for no subscription; the first sync job does.
    assert!(h
        .requests_to("POST", "/graph/subscriptions")
        .await
        .is_empty());
    h.first_sync_job("acme", "s1", ConnectionKind::Email, "2026-03-02T09:01:00Z")
        .await;

    // THEN the code was redeemed with the PKCE verifier that matches the challenge (the
    // second call is the first sync job's refresh)
    let token_calls = h.requests_to("POST", "/ms/token").await;
    assert_eq!(token_calls.len(), 2);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_calls[0].body)
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "auth-code-1");
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        Sha256::digest(form["code_verifier"].as_bytes()),
    );
    assert_eq!(challenge, q["code_challenge"]);

    // AND the connection is stored, authorized, with the granted scopes
    let conn = h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(conn.state, ConnectionState::Authorized);
    assert!(conn.grant.scopes.contains("Mail.Send"));

    // AND the refresh token is stored sealed, and opens to the provider's token
    let stored = h
        .connector
        .stores
        .tokens
        .get(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored
        .sealed
        .ciphertext
        .windows(10)
        .any(|w| w == b"ms-refresh"));
    let opened = h
        .connector
        .sealer
        .open(
            &stored.sealed,
            &[("contract", "acme"), ("seat", "s1"), ("kind", "email")],
        )
        .await
        .unwrap();
    assert_eq!(opened.expose_secret(), "ms-refresh-token-1");

    // AND one subscription on the whole mailbox exists, with a lifecycle URL and a secret
    // state
    let subs = h.requests_to("POST", "/graph/subscriptions").await;
    let bodies: Vec<serde_json::Value> = subs
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let resources: Vec<&str> = bodies
        .iter()
        .map(|b| b["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, vec!["me/messages"]);
    for b in &bodies {
        assert_eq!(b["notificationUrl"], "https://hooks.example/webhooks/graph");
        assert_eq!(
            b["lifecycleNotificationUrl"],
            "https://hooks.example/webhooks/graph/lifecycle"
        );
        assert!(b["clientState"].as_str().unwrap().len() >= 32);
    }
    let stored_subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    let kinds: Vec<SubscriptionKind> = stored_subs.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, vec![SubscriptionKind::GraphMessages]);
    for s in &stored_subs {
        let hash = s.secret_hash.as_deref().unwrap();
        assert_eq!(hash.len(), 64, "only a hash of the client state is kept");
        assert!(bodies
            .iter()
            .all(|b| b["clientState"].as_str().unwrap() != hash));
    }

    // AND a historical sync is queued for the connection
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "historical");
    assert_eq!(jobs[0]["_group"], "acme:s1:email");

    // AND the same callback cannot be redeemed twice
    let again = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                &consent(&start.url, "auth-code-1"),
                ts("2026-03-02T09:02:00Z"),
            )
            .await,
    );
    assert_eq!(
        again,
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::AlreadyUsed
        }
    );
    assert_eq!(
        h.requests_to("POST", "/ms/token").await.len(),
        2,
        "no second redemption (the other call is the first sync job's refresh)"
    );
}

#[tokio::test]
async fn forged_expired_and_settings_changed_callbacks_are_refused_without_storing_anything() {
    let h = Harness::new("callbacks").await;
    enable(&h, Provider::GoogleWorkspace, EmailAccess::ViewOnly, true).await;
    h.google_account(
        "g-refresh-1",
        "https://www.googleapis.com/auth/gmail.readonly openid",
        "g@acme.example",
    )
    .await;

    let forged = Callback {
        state: Some("made-up.c2lnbmF0dXJl".into()),
        code: Some("c".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(
            h.connector
                .complete_authorization(
                    &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                    &forged,
                    ts(NOW)
                )
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Unrecognized
        }
    );

    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    assert_eq!(
        refused(
            h.connector
                .complete_authorization(
                    &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                    &consent(&start.url, "c"),
                    ts("2026-03-02T09:15:00Z")
                )
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired
        }
    );

    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    enable(&h, Provider::Microsoft365, EmailAccess::ViewOnly, true).await;
    assert_eq!(
        refused(
            h.connector
                .complete_authorization(
                    &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                    &consent(&start.url, "c"),
                    ts(NOW)
                )
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::SettingsChanged
        }
    );
    assert!(
        h.requests_to("POST", "/google/token").await.is_empty(),
        "no code redeemed"
    );
    assert!(h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn google_granular_consent_without_every_scope_is_refused_with_the_missing_ones() {
    let h = Harness::new("google-partial").await;
    enable(&h, Provider::GoogleWorkspace, EmailAccess::ViewOnly, true).await;
    // The seat unticked free/busy.
    h.google_account(
        "g-refresh-1",
        "openid https://www.googleapis.com/auth/calendar.events",
        "g@acme.example",
    )
    .await;
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Calendar,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    let q = query(&start.url);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    let e = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Calendar),
                &consent(&start.url, "c"),
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e.code(), "insufficient_scopes");
    assert!(
        e.message().contains("calendar.freebusy")
            || e.missing_scopes()
                .iter()
                .any(|s| s.contains("calendar.freebusy")),
        "{e:?}"
    );
    assert!(h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .is_none());
    assert!(h
        .connector
        .stores
        .tokens
        .get(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn provider_refusals_reach_the_seat_as_the_precise_table_rows() {
    let h = Harness::new("ms-errors").await;
    enable(&h, Provider::Microsoft365, EmailAccess::ViewOnly, true).await;

    // Need admin approval, straight from the authorize redirect.
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    let redirect = Callback {
        state: query(&start.url).get("state").cloned(),
        error: Some("access_denied".into()),
        error_description: Some("AADSTS90094: The grant requires admin permission.".into()),
        ..Default::default()
    };
    let e = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                &redirect,
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e.code(), "need_admin_approval");
    assert!(e.admin_action().is_some());

    // Not assigned, from the token endpoint's error_codes.
    h.mount(
        "POST",
        "/ms/token",
        ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "AADSTS50105: not assigned", "error_codes": [50105]
        })),
    )
    .await;
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    let e = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                &consent(&start.url, "c"),
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e.code(), "not_assigned");
}

#[tokio::test]
async fn an_inactive_mailbox_is_named_as_such() {
    let h = Harness::new("ms-mailbox").await;
    enable(&h, Provider::Microsoft365, EmailAccess::ViewOnly, true).await;
    h.mount(
        "GET",
        "/graph/me/mailboxSettings",
        ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "MailboxNotEnabledForRESTAPI",
            "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
        }})),
    )
    .await;
    h.microsoft_tenant("r", "Mail.Read User.Read", "rita@acme.example")
        .await;
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    let e = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                &consent(&start.url, "c"),
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e.code(), "mailbox_unavailable");
    assert_eq!(e.class(), ErrorClass::MailboxProblem);
}

/// Seat `s` connects its own account, `<s>@acme.example`.
async fn connect(h: &Harness, s: &str, kind: ConnectionKind, at: &str) {
    h.mailbox_is(&format!("{s}@acme.example"));
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat(s),
            &user(&format!("u-{s}")),
            kind,
            None,
            ts(at),
        )
        .await
        .unwrap();
    h.connector
        .complete_authorization(
            &sign_in(seat(s), user(&format!("u-{s}")), kind),
            &consent(&start.url, &format!("code-{s}")),
            ts(at),
        )
        .await
        .unwrap();
    h.first_sync_job("acme", s, kind, at).await;
}

/// Runs the fan-out as the settings-fanout function would, until its queue is empty.
async fn run_fan_out(h: &Harness, at: &str) -> usize {
    let mut pages = 0;
    loop {
        let messages = h.drain("DeauthorizationsQueue").await;
        if messages.is_empty() {
            return pages;
        }
        for m in messages {
            let page: FanOutPage = serde_json::from_value(m).unwrap();
            h.connector.fan_out_page(&page, ts(at)).await.unwrap();
            pages += 1;
        }
    }
}

#[tokio::test]
async fn a_downgrade_deauthorizes_every_email_connection_across_pages_and_leaves_calendars() {
    let h = Harness::new("downgrade").await;
    enable(&h, Provider::Microsoft365, EmailAccess::SendAndView, true).await;
    h.microsoft_tenant(
        "ms-refresh",
        "Mail.Read Mail.Send User.Read Calendars.ReadWrite",
        "r@acme.example",
    )
    .await;
    let seats: Vec<String> = (0..14).map(|n| format!("s{n:02}")).collect();
    for s in &seats {
        connect(&h, s, ConnectionKind::Email, NOW).await;
        connect(&h, s, ConnectionKind::Calendar, NOW).await;
    }
    h.drain("SyncJobsQueue").await;

    // WHEN the admin lowers Send & view to View only
    let change = h
        .connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                email_access: Some(EmailAccess::ViewOnly),
                ..Default::default()
            },
            ts("2026-03-03T10:00:00Z"),
        )
        .await
        .unwrap();
    assert!(!change.effects.is_empty());
    // 28 connections in pages of 25: two pages.
    assert_eq!(run_fan_out(&h, "2026-03-03T10:00:05Z").await, 2);

    // THEN every email connection is deauthorized, its subscriptions stopped, its token gone
    for s in &seats {
        let email = h
            .connector
            .stores
            .connections
            .get(&acme(), &seat(s), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(
            email.state,
            ConnectionState::Deauthorized {
                reason: DeauthorizationReason::AccessLowered
            }
        );
        assert!(h
            .connector
            .stores
            .tokens
            .get(&acme(), &seat(s), ConnectionKind::Email)
            .await
            .unwrap()
            .is_none());
        assert!(h
            .connector
            .stores
            .subscriptions
            .for_connection(&acme(), &seat(s), ConnectionKind::Email)
            .await
            .unwrap()
            .is_empty());
        let cal = h
            .connector
            .stores
            .connections
            .get(&acme(), &seat(s), ConnectionKind::Calendar)
            .await
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(
            cal.state,
            ConnectionState::Authorized,
            "calendars are untouched"
        );
    }
    let deletes = || async {
        h.requests()
            .await
            .into_iter()
            .filter(|r| r.method.as_str() == "DELETE")
            .count()
    };
    assert_eq!(deletes().await, 0, "the provider's side comes after");
    let cleaned = h
        .connector
        .retire_due(ts("2026-03-03T10:15:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(cleaned.finished, 14);
    assert_eq!(
        deletes().await,
        14,
        "each seat's mail subscription stopped at Graph"
    );

    // AND repeating the change or redelivering a page does nothing more
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                email_access: Some(EmailAccess::ViewOnly),
                ..Default::default()
            },
            ts("2026-03-03T10:01:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        run_fan_out(&h, "2026-03-03T10:01:05Z").await,
        0,
        "no effects, no fan-out"
    );
    let replay = FanOutPage {
        contract: acme(),
        effects: change.effects.clone(),
        issued_at: ts("2026-03-03T10:00:00Z"),
        page: None,
        change: "replay".into(),
    };
    h.connector
        .fan_out_page(&replay, ts("2026-03-03T10:02:00Z"))
        .await
        .unwrap();
    let deletes_after = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .count();
    assert_eq!(deletes_after, 14);
    h.drain("DeauthorizationsQueue").await;

    // AND a seat reauthorizing a week later resumes, since its cursor is kept
    let read = h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s00"), ConnectionKind::Email)
        .await
        .unwrap()
        .unwrap();
    let mut with_cursor = read.value.clone();
    with_cursor
        .cursor
        .0
        .insert("inbox".into(), "delta-1".into());
    h.connector
        .stores
        .connections
        .update(&read, &with_cursor)
        .await
        .unwrap();
    connect(&h, "s00", ConnectionKind::Email, "2026-03-10T10:00:00Z").await;
    let jobs = h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["reason"], "resume");
}

#[tokio::test]
async fn a_provider_switch_makes_everyone_reconnect_and_revokes_google_grants() {
    let h = Harness::new("switch").await;
    enable(&h, Provider::GoogleWorkspace, EmailAccess::ViewOnly, true).await;
    h.google_account(
        "g-refresh-1",
        "openid https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy",
        "g@acme.example",
    )
    .await;
    connect(&h, "s1", ConnectionKind::Email, NOW).await;
    connect(&h, "s1", ConnectionKind::Calendar, NOW).await;

    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(Provider::Microsoft365),
                ..Default::default()
            },
            ts("2026-03-04T08:00:00Z"),
        )
        .await
        .unwrap();
    run_fan_out(&h, "2026-03-04T08:00:01Z").await;
    assert!(h.requests_to("POST", "/google/revoke").await.is_empty());
    let cleaned = h
        .connector
        .retire_due(ts("2026-03-04T08:15:00Z"), 50)
        .await
        .unwrap();
    assert_eq!(cleaned.finished, 2);

    for kind in ConnectionKind::ALL {
        let c = h
            .connector
            .stores
            .connections
            .get(&acme(), &seat("s1"), kind)
            .await
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(
            c.state,
            ConnectionState::NeedsReconnect {
                reason: ReconnectReason::ProviderChanged {
                    from: Provider::GoogleWorkspace,
                    to: Provider::Microsoft365
                }
            }
        );
    }
    assert_eq!(
        h.requests_to("POST", "/google/revoke").await.len(),
        2,
        "both grants revoked"
    );
    assert_eq!(h.requests_to("POST", "/gmail/users/me/stop").await.len(), 1);
    assert_eq!(
        h.requests_to("POST", "/calendar/channels/stop").await.len(),
        1
    );
}

#[tokio::test]
async fn calendar_off_stops_the_feature_and_revokes_nothing() {
    let h = Harness::new("calendar-off").await;
    enable(&h, Provider::Microsoft365, EmailAccess::ViewOnly, true).await;
    h.microsoft_tenant(
        "r",
        "Calendars.ReadWrite User.Read Mail.Read",
        "r@acme.example",
    )
    .await;
    connect(&h, "s1", ConnectionKind::Calendar, NOW).await;
    let change = h
        .connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                calendar_enabled: Some(false),
                ..Default::default()
            },
            ts("2026-03-04T08:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(change.effects.len(), 1);
    assert_eq!(
        run_fan_out(&h, "2026-03-04T08:00:01Z").await,
        0,
        "nothing to fan out"
    );
    let c = h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(c.is_authorized());
    assert!(h
        .connector
        .stores
        .tokens
        .get(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_seat_deauthorizes_its_mailbox_and_keeps_its_calendar() {
    let h = Harness::new("seat-deauth").await;
    enable(&h, Provider::Microsoft365, EmailAccess::ViewOnly, true).await;
    h.microsoft_tenant(
        "r",
        "Calendars.ReadWrite User.Read Mail.Read",
        "r@acme.example",
    )
    .await;
    connect(&h, "s1", ConnectionKind::Email, NOW).await;
    connect(&h, "s1", ConnectionKind::Calendar, NOW).await;
    // Besides its mailbox-wide subscription, the mailbox still holds a Deleted Items one an
    // earlier version created (not due for retirement yet).
    let legacy = PushSubscription {
        id: "legacy-deleted-items".into(),
        kind: SubscriptionKind::GraphDeletedItems,
        contract_id: acme(),
        seat_id: seat("s1"),
        resource_id: None,
        secret_hash: Some("0".repeat(64)),
        expires_at: ts("2026-03-06T00:00:00Z"),
        renewed_at: ts(NOW),
        failures: 0,
    };
    h.connector
        .stores
        .subscriptions
        .put(&legacy, ts("2026-03-05T00:00:00Z"))
        .await
        .unwrap();
    let mail_subs = h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap();
    let mut kinds: Vec<SubscriptionKind> = mail_subs.iter().map(|s| s.kind).collect();
    kinds.sort_by_key(|k| *k as u8);
    assert_eq!(
        kinds,
        [
            SubscriptionKind::GraphMessages,
            SubscriptionKind::GraphDeletedItems
        ]
    );
    let c = h
        .connector
        .deauthorize(
            &acme(),
            &seat("s1"),
            ConnectionKind::Email,
            ts("2026-03-05T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        c.state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::SeatRequested
        }
    );
    // Every mail subscription, the earlier version's included, is forgotten at once and
    // stopped at Graph by the clean-up.
    h.connector
        .retire_due(ts("2026-03-05T00:00:00Z"), 50)
        .await
        .unwrap();
    for sub in &mail_subs {
        assert_eq!(
            h.requests_to("DELETE", &format!("/graph/subscriptions/{}", sub.id))
                .await
                .len(),
            1,
            "{:?} stopped",
            sub.kind
        );
    }
    assert!(h
        .connector
        .stores
        .subscriptions
        .for_connection(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        h.connector
            .stores
            .subscriptions
            .for_connection(&acme(), &seat("s1"), ConnectionKind::Calendar)
            .await
            .unwrap()
            .len(),
        1,
        "the calendar's subscription stays"
    );
    assert!(h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Calendar)
        .await
        .unwrap()
        .unwrap()
        .value
        .is_authorized());
    assert!(matches!(
        h.connector
            .deauthorize(&acme(), &seat("nobody"), ConnectionKind::Email, ts(NOW))
            .await,
        Err(Failure::NotFound(_))
    ));
}

fn id_token(claims: serde_json::Value) -> String {
    let enc = |v: serde_json::Value| {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            v.to_string(),
        )
    };
    format!(
        "{}.{}.signature",
        enc(json!({"alg": "RS256", "kid": "k"})),
        enc(claims)
    )
}

#[tokio::test]
async fn a_google_account_outside_workspace_and_gmail_is_the_provider_mismatch_row() {
    let h = Harness::new("mismatch").await;
    enable(&h, Provider::GoogleWorkspace, EmailAccess::ViewOnly, true).await;
    h.mount(
        "POST",
        "/google/token",
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/gmail.readonly",
            "access_token": "at", "refresh_token": "rt",
            "id_token": id_token(json!({"iss": "https://accounts.google.com", "email": "someone@outlook.example", "email_verified": true}))
        })),
    )
    .await;
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    let e = refused(
        h.connector
            .complete_authorization(
                &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
                &consent(&start.url, "c"),
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e.code(), "address_provider_mismatch");
    assert_eq!(e.class(), ErrorClass::WrongAccount);
    assert!(
        h.requests_to("GET", "/gmail/users/me/profile")
            .await
            .is_empty(),
        "refused before reading the mailbox"
    );
    assert!(h
        .connector
        .stores
        .connections
        .get(&acme(), &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .is_none());

    // A Workspace account (with its hosted domain) is welcome.
    h.server.reset().await;
    h.mount(
        "POST",
        "/google/token",
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/gmail.readonly",
            "access_token": "at", "refresh_token": "rt-2",
            "id_token": id_token(json!({"email": "w@acme.example", "hd": "acme.example"}))
        })),
    )
    .await;
    // Mounted after: the token answer above (with the id_token) takes precedence.
    h.google_account(
        "rt-2",
        "openid https://www.googleapis.com/auth/gmail.readonly",
        "w@acme.example",
    )
    .await;
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("u1"),
            ConnectionKind::Email,
            None,
            ts(NOW),
        )
        .await
        .unwrap();
    h.connector
        .complete_authorization(
            &sign_in(seat("s1"), user("u1"), ConnectionKind::Email),
            &consent(&start.url, "c2"),
            ts(NOW),
        )
        .await
        .unwrap();
}
