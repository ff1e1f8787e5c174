//! A seat's sign-in: where it is sent, and everything checked before a connection is stored.

use std::collections::BTreeSet;

use hiresync_connect::{Callback, Failure, SignIn};
use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::{ConnectError, ProviderSignal, StaleReason};
use hiresync_domain::connection::{ConnectionKind, ConnectionState, SyncStart};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::ContractId;
use hiresync_domain::ports::TokenSealer;
use hiresync_domain::subscription::SubscriptionKind;
use hiresync_messages::SyncReason;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::providers::{invalid_grant, GrantScript};
use secrecy::ExposeSecret;

use crate::world::{acme, consent, refused, seat, state_of, user, World, NOW};

const BACK: &str = "2026-03-02T09:01:00Z";

fn scopes(list: &[&str]) -> Option<BTreeSet<String>> {
    Some(list.iter().map(|s| (*s).to_owned()).collect())
}

/// Nothing of a connection was stored.
fn nothing_stored(w: &World) {
    assert!(w.tenancy.connections.all().is_empty());
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
    assert!(w.tenancy.subscriptions.all().is_empty());
    assert!(w.queues.jobs().is_empty());
}

#[tokio::test]
async fn no_seat_can_sign_in_before_the_admin_picks_a_provider() {
    let w = World::new();
    let e = refused(
        w.connector
            .start_authorization(
                &acme(),
                &seat("s1"),
                &user("s1"),
                ConnectionKind::Email,
                None,
                ts(NOW),
            )
            .await,
    );
    assert_eq!(e, ConnectError::NotAllowed(Denial::NoProvider));
    assert_eq!(w.tenancy.authorizations.pending(), 0);
}

#[tokio::test]
async fn a_microsoft_mailbox_connects_with_its_token_subscriptions_and_historical_sync() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::SendAndView, true)
        .await;
    w.provider(Provider::Microsoft365)
        .address("Rita@Acme.example");

    // WHEN the seat starts
    let start = w
        .connector
        .start_authorization(
            &acme(),
            &seat("s1"),
            &user("s1"),
            ConnectionKind::Email,
            Some("rita@acme.example"),
            ts(NOW),
        )
        .await
        .unwrap();
    assert!(start
        .url
        .contains("scope=openid+profile+email+offline_access+User.Read+Mail.Read+Mail.Send"));
    assert!(start.url.ends_with("&login_hint=rita@acme.example"));
    assert_eq!(start.expires_at, ts("2026-03-02T09:15:00Z"));
    assert_eq!(w.tenancy.authorizations.pending(), 1);
    assert!(w.tenancy.seats.stored(&acme(), &seat("s1")).is_some());

    // AND comes back with a code
    let connected = w
        .come_back(
            "s1",
            ConnectionKind::Email,
            &start.url,
            "auth-code-1",
            ts(BACK),
        )
        .await
        .unwrap();

    // THEN the connection is stored for the mailbox behind the grant
    assert_eq!(connected.address.as_str(), "rita@acme.example");
    assert_eq!(connected.sync, SyncStart::Historical);
    assert_eq!(
        w.tenancy.authorizations.pending(),
        0,
        "the sign-in is used up"
    );
    let conn = w.connection("s1", ConnectionKind::Email);
    assert!(conn.is_authorized());
    assert_eq!(conn.grant.provider, Provider::Microsoft365);
    // AND its refresh token is sealed for this connection
    let stored = w
        .tenancy
        .tokens
        .stored(&acme(), &seat("s1"), ConnectionKind::Email)
        .unwrap();
    assert_eq!(stored.authorized_at, ts(BACK));
    let context = [("contract", "acme"), ("seat", "s1"), ("kind", "email")];
    let opened = w.sealer.open(&stored.sealed, &context).await.unwrap();
    // (the first sync job's refresh, setting up the subscriptions, rotated the sign-in's -1)
    assert_eq!(opened.expose_secret(), "microsoft-refresh-token-2");
    // AND the whole mailbox pushes to us, through one subscription with its secret's hash
    let subs = w.tenancy.subscriptions.all();
    let kinds: Vec<_> = subs.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SubscriptionKind::GraphMessages]);
    assert!(subs
        .iter()
        .all(|s| s.secret_hash.as_ref().is_some_and(|h| h.len() == 64)));
    // AND a historical sync is queued once for this sign-in
    let jobs = w.queues.sync_jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0.reason, SyncReason::Historical);
    assert!(jobs[0].1.starts_with("connect:"));
}

#[tokio::test]
async fn a_google_calendar_gets_a_channel_and_a_gmail_mailbox_its_watch() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;

    let subs = w.tenancy.subscriptions.all();
    let watch = subs
        .iter()
        .find(|s| s.kind == SubscriptionKind::GmailWatch)
        .unwrap();
    assert_eq!(watch.id, "gmail:s1@acme.example");
    assert_eq!(
        watch.secret_hash, None,
        "Pub/Sub pushes carry no secret of ours"
    );
    let channel = subs
        .iter()
        .find(|s| s.kind == SubscriptionKind::CalendarChannel)
        .unwrap();
    assert!(channel.resource_id.is_some());
    assert!(channel.secret_hash.is_some());
    assert_eq!(
        channel.expires_at,
        ts("2026-03-09T09:00:00Z"),
        "a week, as configured"
    );
}

#[tokio::test]
async fn a_consent_link_sent_to_someone_else_connects_nothing_and_stays_the_seats() {
    // GIVEN seat s1 starts connecting its mailbox, and the link reaches a colleague
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    let colleague = consent(&url, "colleagues-code");
    let unrecognized = ConnectError::AuthorizationRequestExpired {
        reason: StaleReason::Unrecognized,
    };

    // WHEN the colleague's front end finishes it with the colleague's own seat and token,
    // or anyone else's user on s1, or as another kind
    let others = [
        SignIn {
            contract: acme(),
            seat: seat("s2"),
            user: user("s2"),
            kind: ConnectionKind::Email,
        },
        SignIn {
            contract: acme(),
            seat: seat("s1"),
            user: user("mallory"),
            kind: ConnectionKind::Email,
        },
        SignIn {
            contract: acme(),
            seat: seat("s1"),
            user: user("s1"),
            kind: ConnectionKind::Calendar,
        },
        SignIn {
            contract: ContractId::parse("globex").unwrap(),
            seat: seat("s1"),
            user: user("s1"),
            kind: ConnectionKind::Email,
        },
    ];
    for holder in &others {
        // THEN it is refused before anything is redeemed or consumed
        let e = refused(
            w.connector
                .complete_authorization(holder, &colleague, ts(BACK))
                .await,
        );
        assert_eq!(e, unrecognized, "{holder:?}");
    }
    nothing_stored(&w);
    assert_eq!(w.provider(Provider::Microsoft365).count("redeem"), 0);
    assert_eq!(w.tenancy.authorizations.pending(), 1, "still the seat's");

    // AND the seat that started it still finishes it
    let connected = w
        .come_back("s1", ConnectionKind::Email, &url, "own-code", ts(BACK))
        .await
        .unwrap();
    assert_eq!(connected.seat, seat("s1"));
    assert!(w
        .tenancy
        .connections
        .stored(&acme(), &seat("s2"), ConnectionKind::Email)
        .is_none());
}

#[tokio::test]
async fn forged_used_and_expired_states_are_refused_without_storing_anything() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    let url = w.start("s1", ConnectionKind::Email, NOW).await;

    let forged = Callback {
        state: Some(format!("{}x", state_of(&url))),
        code: Some("c".into()),
        ..Callback::default()
    };
    let e = refused(
        w.complete("s1", ConnectionKind::Email, &forged, ts(BACK))
            .await,
    );
    assert_eq!(
        e,
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Unrecognized
        }
    );
    let no_code = Callback {
        code: None,
        ..consent(&url, "c")
    };
    assert_eq!(
        refused(
            w.complete("s1", ConnectionKind::Email, &no_code, ts(BACK))
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Unrecognized
        }
    );
    // The callback without a code used the sign-in up.
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::AlreadyUsed
        }
    );

    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    assert_eq!(
        refused(
            w.come_back(
                "s1",
                ConnectionKind::Email,
                &url,
                "c",
                ts("2026-03-02T09:16:00Z")
            )
            .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired
        }
    );
    nothing_stored(&w);
    assert_eq!(w.provider(Provider::Microsoft365).count("redeem"), 0);
}

#[tokio::test]
async fn provider_refusals_reach_the_seat_as_the_precise_rows() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    let ms = w.provider(Provider::Microsoft365);

    // The seat declined on the consent screen.
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    let declined = Callback {
        error: Some("access_denied".into()),
        error_description: Some("The user declined".into()),
        ..consent(&url, "c")
    };
    assert_eq!(
        refused(
            w.complete("s1", ConnectionKind::Email, &declined, ts(BACK))
                .await
        ),
        ConnectError::UserDeclined {
            provider: Provider::Microsoft365
        }
    );

    // The token endpoint says the user is not assigned to the application.
    ms.grants(GrantScript {
        refusal: Some(ProviderSignal::TokenEndpoint {
            error: "invalid_grant".into(),
            description: None,
            codes: vec![50105],
        }),
        ..GrantScript::default()
    });
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::NotAssigned {
            provider: Provider::Microsoft365
        }
    );

    // The provider could not be reached from our side.
    ms.grants(GrantScript {
        refusal: Some(ProviderSignal::TransportFailed),
        ..GrantScript::default()
    });
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::ProviderUnavailable {
            provider: Provider::Microsoft365
        }
    );

    // The grant reaches no mailbox.
    ms.grants(GrantScript::default());
    ms.account(
        ConnectionKind::Email,
        Err(ProviderSignal::ProfileWithoutMailbox),
    );
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::NoMailboxOrCalendar {
            provider: Provider::Microsoft365,
            kind: ConnectionKind::Email
        }
    );
    nothing_stored(&w);
}

#[tokio::test]
async fn a_code_the_provider_no_longer_honours_is_the_expired_row() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    // The code was too old, or redeemed already.
    w.provider(Provider::Microsoft365).grants(GrantScript {
        refusal: Some(invalid_grant()),
        ..GrantScript::default()
    });
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired
        }
    );
}

#[tokio::test]
async fn google_granular_consent_without_every_scope_names_the_missing_ones() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.provider(Provider::GoogleWorkspace).grants(GrantScript {
        scopes: scopes(&[
            "openid",
            "email",
            "https://www.googleapis.com/auth/calendar.events",
        ]),
        ..GrantScript::default()
    });
    let url = w.start("s1", ConnectionKind::Calendar, NOW).await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Calendar, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::InsufficientScopes {
            provider: Provider::GoogleWorkspace,
            missing: vec!["https://www.googleapis.com/auth/calendar.freebusy".into()]
        }
    );

    // A grant without offline access cannot be kept.
    w.provider(Provider::GoogleWorkspace).grants(GrantScript {
        offline_access: false,
        ..GrantScript::default()
    });
    let url = w.start("s1", ConnectionKind::Calendar, NOW).await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Calendar, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::InsufficientScopes {
            provider: Provider::GoogleWorkspace,
            missing: vec!["offline_access".into()]
        }
    );
    nothing_stored(&w);
}

#[tokio::test]
async fn a_personal_account_connects_with_a_warning_until_the_admin_pins_organizations() {
    // GIVEN a Google contract, and a recruiter signing in with a personal Gmail account
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    let google = w.provider(Provider::GoogleWorkspace);
    google.address("someone@gmail.com");
    let connected = w.sign_in("s1", ConnectionKind::Email, BACK).await.unwrap();
    // THEN it connects, marked personal, with no organization recorded
    assert!(connected.personal);
    assert_eq!(
        w.connection("s1", ConnectionKind::Email).grant.organization,
        None
    );
    // AND a Workspace account of the organization records its domain
    w.connect("s2", ConnectionKind::Email, NOW).await;
    assert_eq!(
        w.connection("s2", ConnectionKind::Email).grant.organization,
        Some("acme.example".to_owned())
    );

    // WHEN the admin pins the contract to its organization
    let change = w
        .connector
        .pin_organizations(&acme(), &[" ACME.example ".to_owned()], ts(BACK))
        .await
        .unwrap();
    assert_eq!(change.contract.organizations.len(), 1);
    let page = w.queues.pages().last().unwrap().clone();
    let outcome = w.connector.fan_out_page(&page, ts(BACK)).await.unwrap();

    // THEN the personal connection loses its authorization, the organization's stays
    assert_eq!(outcome.lost_authorization, 1);
    assert_eq!(
        w.connection("s1", ConnectionKind::Email).state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::OrganizationNotAllowed
        }
    );
    assert!(w.connection("s2", ConnectionKind::Email).is_authorized());
    // AND a personal account, or one of another organization, is refused with its row
    // before the mailbox is read
    let reads = google.count("address");
    for (address, personal) in [("someone@gmail.com", true), ("x@other.example", false)] {
        google.address(address);
        assert_eq!(
            refused(w.sign_in("s3", ConnectionKind::Email, BACK).await),
            ConnectError::OrganizationNotAllowed {
                provider: Provider::GoogleWorkspace,
                personal
            }
        );
    }
    assert_eq!(google.count("address"), reads, "no mailbox was read");

    // AND a list that is not one of organizations is refused whole, changing nothing
    for bad in [
        vec!["acme.example".to_owned(), "not an org".to_owned()],
        vec![String::new()],
    ] {
        let e = w
            .connector
            .pin_organizations(&acme(), &bad, ts(BACK))
            .await
            .unwrap_err();
        assert!(matches!(e, Failure::Invalid(_)), "{e:?}");
    }
    assert_eq!(
        w.tenancy
            .contracts
            .stored(&acme())
            .unwrap()
            .value
            .organizations,
        BTreeSet::from(["acme.example".to_owned()])
    );
}

#[tokio::test]
async fn without_an_id_token_nothing_is_connected() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.provider(Provider::Microsoft365).grants(GrantScript {
        id_token: false,
        ..GrantScript::default()
    });
    let e = refused(w.sign_in("s1", ConnectionKind::Email, BACK).await);
    assert_eq!(e.code(), "service_misconfigured");
    nothing_stored(&w);
}

#[tokio::test]
async fn settings_changed_while_the_seat_was_away_refuse_the_sign_in() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    assert_eq!(
        refused(
            w.come_back("s1", ConnectionKind::Email, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::SettingsChanged
        }
    );

    let url = w.start("s1", ConnectionKind::Calendar, NOW).await;
    w.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                calendar_enabled: Some(false),
                ..SettingsUpdate::default()
            },
            ts(NOW),
        )
        .await
        .unwrap();
    assert!(matches!(
        refused(
            w.come_back("s1", ConnectionKind::Calendar, &url, "c", ts(BACK))
                .await
        ),
        ConnectError::NotAllowed(Denial::FeatureOff { .. })
    ));
    nothing_stored(&w);
}

#[tokio::test]
async fn coming_back_to_the_same_mailbox_resumes_and_a_failed_subscription_leaves_a_placeholder() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    // The sync has a cursor by now.
    let mut conn = w.connection("s1", ConnectionKind::Email);
    conn.cursor.0.insert("inbox".into(), "delta-1".into());
    w.tenancy.connections.overwrite(&conn);
    // The seat deauthorizes (its subscription goes) and comes back within six months.
    w.connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(NOW))
        .await
        .unwrap();
    w.provider(Provider::Microsoft365).fail_creates(1);

    let again = w.connect("s1", ConnectionKind::Email, BACK).await;

    assert_eq!(again.sync, SyncStart::Resume);
    let reasons: Vec<_> = w.queues.jobs().iter().map(|j| j.reason).collect();
    assert_eq!(reasons, [SyncReason::Historical, SyncReason::Resume]);
    let placeholders: Vec<_> = w
        .tenancy
        .subscriptions
        .all()
        .into_iter()
        .filter(|s| s.id.starts_with("pending:"))
        .collect();
    assert_eq!(placeholders.len(), 1);
    assert_eq!(placeholders[0].id, "pending:acme:s1:email:graph_messages");
    assert_eq!(
        w.tenancy.subscriptions.renew_at(&placeholders[0].id),
        Some(ts(BACK))
    );
    assert!(w.logs.text().contains(
        "push subscription failed: provider call create failed: scripted failure (fake)"
    ));
}

#[tokio::test]
async fn a_re_consent_to_the_same_mailbox_keeps_its_subscription_and_adds_none() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let mut conn = w.connection("s1", ConnectionKind::Email);
    conn.cursor.0.insert("graph_inbox".into(), "delta-1".into());
    w.tenancy.connections.overwrite(&conn);
    let before = w.tenancy.subscriptions.all();
    assert_eq!(before.len(), 1);

    // WHEN the seat consents again to the same mailbox while still connected
    let again = w.connect("s1", ConnectionKind::Email, BACK).await;

    // THEN it resumes, and the live subscription is the only one: no placeholder, no
    // second subscription pushing every change twice
    assert_eq!(again.sync, SyncStart::Resume);
    assert_eq!(w.tenancy.subscriptions.all(), before);
}

#[tokio::test]
async fn an_account_connected_to_one_seat_is_refused_to_another_until_it_lets_go() {
    // GIVEN seat s1 has connected the Gmail mailbox and the calendar of shared@acme.example
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    let google = w.provider(Provider::GoogleWorkspace);
    google.address("shared@acme.example");
    w.sign_in("s1", ConnectionKind::Email, NOW).await.unwrap();
    w.sign_in("s1", ConnectionKind::Calendar, NOW)
        .await
        .unwrap();
    let watch = w.tenancy.subscriptions.all();

    // WHEN seat s2 signs in to the same account
    let e = refused(w.sign_in("s2", ConnectionKind::Email, BACK).await);

    // THEN it is refused with its own row, and s1's connection and shared watch are intact
    assert_eq!(
        e,
        ConnectError::MailboxInUse {
            provider: Provider::GoogleWorkspace,
            kind: ConnectionKind::Email
        }
    );
    assert_eq!(e.code(), "mailbox_in_use");
    assert!(w
        .tenancy
        .connections
        .stored(&acme(), &seat("s2"), ConnectionKind::Email)
        .is_none());
    assert!(!w.is_token_stored("s2", ConnectionKind::Email));
    assert_eq!(w.tenancy.subscriptions.all(), watch);
    assert!(w.connection("s1", ConnectionKind::Email).is_authorized());
    // The same seat connecting it again is no conflict.
    w.sign_in("s1", ConnectionKind::Email, BACK).await.unwrap();

    // WHEN s1 disconnects the mailbox (its calendar stays)
    w.connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(BACK))
        .await
        .unwrap();
    assert_eq!(w.tenancy.mailboxes.held(), 1, "the calendar's claim stays");

    // THEN s2 may connect the mailbox, but not the calendar s1 still has
    let connected = w.sign_in("s2", ConnectionKind::Email, BACK).await.unwrap();
    assert_eq!(connected.address.as_str(), "shared@acme.example");
    assert_eq!(
        refused(w.sign_in("s2", ConnectionKind::Calendar, BACK).await),
        ConnectError::MailboxInUse {
            provider: Provider::GoogleWorkspace,
            kind: ConnectionKind::Calendar
        }
    );
}

#[tokio::test]
async fn a_claim_left_by_a_seat_that_no_longer_has_the_account_is_taken_over() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    let google = w.provider(Provider::GoogleWorkspace);
    google.address("shared@acme.example");
    w.sign_in("s1", ConnectionKind::Email, NOW).await.unwrap();
    // s1 moves to another account: its claim on the first is left behind.
    google.address("s1-new@acme.example");
    w.sign_in("s1", ConnectionKind::Email, BACK).await.unwrap();

    google.address("shared@acme.example");
    let connected = w.sign_in("s2", ConnectionKind::Email, BACK).await.unwrap();
    assert_eq!(connected.address.as_str(), "shared@acme.example");
}

#[tokio::test]
async fn a_sign_in_leaves_placeholders_and_the_first_sync_job_subscribes_before_reading() {
    // GIVEN a seat signing in to its Microsoft mailbox
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.provider(Provider::Microsoft365)
        .address("s1@acme.example");
    let url = w.start("s1", ConnectionKind::Email, NOW).await;
    let holder = SignIn {
        contract: acme(),
        seat: seat("s1"),
        user: user("s1"),
        kind: ConnectionKind::Email,
    };

    // WHEN the front end completes it
    w.connector
        .complete_authorization(&holder, &consent(&url, "code"), ts(BACK))
        .await
        .unwrap();

    // THEN the provider was not asked for a single subscription: one placeholder per kind,
    // due now, and the historical sync queued
    let ms = w.provider(Provider::Microsoft365);
    assert_eq!(
        ms.count("create"),
        0,
        "the sign-in waits on no subscription"
    );
    let mut pending: Vec<String> = w
        .tenancy
        .subscriptions
        .all()
        .into_iter()
        .map(|s| {
            assert_eq!(w.tenancy.subscriptions.renew_at(&s.id), Some(ts(BACK)));
            s.id
        })
        .collect();
    pending.sort();
    assert_eq!(pending, ["pending:acme:s1:email:graph_messages"]);
    let reasons: Vec<_> = w.queues.jobs().iter().map(|j| j.reason).collect();
    assert_eq!(reasons, [SyncReason::Historical]);

    // WHEN its first sync job sets up push (twice: a redelivered job)
    for _ in 0..2 {
        w.connector
            .set_up_push(&acme(), &seat("s1"), ConnectionKind::Email, ts(BACK))
            .await
            .unwrap();
    }

    // THEN the mailbox's subscription exists at Graph, created once, no placeholder is
    // left, and no catch-up is queued: the job reads the mailbox right after
    assert_eq!(ms.count("create"), 1);
    let subs = w.tenancy.subscriptions.all();
    assert_eq!(subs.len(), 1);
    assert!(subs.iter().all(|s| !s.id.starts_with("pending:")));
    let reasons: Vec<_> = w.queues.jobs().iter().map(|j| j.reason).collect();
    assert_eq!(reasons, [SyncReason::Historical]);
}
