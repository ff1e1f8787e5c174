//! The admin's settings and what follows from them, pair by pair.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use hiresync_domain::access::{self, DeauthorizationReason, Effect, Feature, ReconnectReason};
use hiresync_domain::capability::{capabilities, may_authorize, Denial};
use hiresync_domain::connection::{Connection, ConnectionKind, ConnectionState, Grant, SyncStart};
use hiresync_domain::contract::{
    Contract, EmailAccess, Lifecycle, Provider, SettingsError, SettingsUpdate,
};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::seat::{Seat, SeatError};
use hiresync_domain::Timestamp;
use proptest::prelude::*;

use EmailAccess::{Off, SendAndView, ViewOnly};
use Feature::{Calendar, EmailSend, EmailView};

fn start(feature: Feature) -> Effect {
    Effect::StartFeature { feature }
}
fn stop(feature: Feature) -> Effect {
    Effect::StopFeature { feature }
}
const DEAUTH_EMAIL: Effect = Effect::Deauthorize {
    kind: ConnectionKind::Email,
    reason: DeauthorizationReason::AccessLowered,
};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn every_email_access_transition_yields_exactly_its_effects() {
    let table: [(EmailAccess, EmailAccess, Vec<Effect>); 9] = [
        (Off, Off, vec![]),
        (Off, ViewOnly, vec![start(EmailView)]),
        (Off, SendAndView, vec![start(EmailView), start(EmailSend)]),
        (ViewOnly, Off, vec![stop(EmailView), DEAUTH_EMAIL]),
        (ViewOnly, ViewOnly, vec![]),
        (ViewOnly, SendAndView, vec![start(EmailSend)]),
        (
            SendAndView,
            Off,
            vec![stop(EmailSend), stop(EmailView), DEAUTH_EMAIL],
        ),
        (SendAndView, ViewOnly, vec![stop(EmailSend), DEAUTH_EMAIL]),
        (SendAndView, SendAndView, vec![]),
    ];
    for (from, to, expected) in table {
        assert_eq!(
            access::email_access_change(from, to),
            expected,
            "{from:?} -> {to:?}"
        );
    }
}

#[test]
fn calendar_off_stops_the_feature_and_deauthorizes_nothing() {
    assert_eq!(access::calendar_change(true, false), vec![stop(Calendar)]);
    assert_eq!(access::calendar_change(false, true), vec![start(Calendar)]);
    assert_eq!(access::calendar_change(true, true), vec![]);
    assert_eq!(access::calendar_change(false, false), vec![]);
}

#[test]
fn only_a_switch_between_providers_forces_reconnection() {
    use Provider::*;
    assert_eq!(access::provider_change(None, Some(Microsoft365)), vec![]);
    assert_eq!(
        access::provider_change(Some(GoogleWorkspace), Some(GoogleWorkspace)),
        vec![]
    );
    assert_eq!(access::provider_change(Some(GoogleWorkspace), None), vec![]);
    assert_eq!(
        access::provider_change(Some(GoogleWorkspace), Some(Microsoft365)),
        vec![Effect::RequireReconnect {
            reason: ReconnectReason::ProviderChanged {
                from: GoogleWorkspace,
                to: Microsoft365
            }
        }]
    );
}

fn levels() -> impl Strategy<Value = EmailAccess> {
    prop_oneof![Just(Off), Just(ViewOnly), Just(SendAndView)]
}

proptest! {
    #[test]
    fn deauthorization_happens_exactly_when_the_level_goes_down(from in levels(), to in levels()) {
        let deauthorizes = access::email_access_change(from, to).contains(&DEAUTH_EMAIL);
        prop_assert_eq!(deauthorizes, to < from);
    }

    #[test]
    fn a_settings_update_applied_twice_has_no_effect_the_second_time(
        level in levels(), calendar in any::<bool>(), google in any::<bool>()
    ) {
        let provider = if google { Provider::GoogleWorkspace } else { Provider::Microsoft365 };
        let mut contract = Contract::new(ContractId::parse("c").unwrap());
        let update = SettingsUpdate { provider: Some(provider), email_access: Some(level), calendar_enabled: Some(calendar), video_meetings: Some(calendar) };
        contract.change_settings(update).unwrap();
        prop_assert_eq!(contract.change_settings(update).unwrap(), vec![]);
    }
}

fn contract(provider: Provider, level: EmailAccess, calendar: bool) -> Contract {
    let mut c = Contract::new(ContractId::parse("acme").unwrap());
    c.change_settings(SettingsUpdate {
        provider: Some(provider),
        email_access: Some(level),
        calendar_enabled: Some(calendar),
        video_meetings: None,
    })
    .unwrap();
    c
}

fn grant(provider: Provider, address: &str, scopes: &[&str]) -> Grant {
    Grant {
        provider,
        address: EmailAddress::parse(address).unwrap(),
        scopes: scopes
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        organization: None,
    }
}

fn connection(kind: ConnectionKind, g: Grant) -> Connection {
    Connection::first(
        ContractId::parse("acme").unwrap(),
        SeatId::parse("seat-1").unwrap(),
        kind,
        g,
        ts("2025-06-01T12:00:00Z"),
    )
}

#[test]
fn a_combined_change_carries_out_the_provider_switch_and_the_downgrade() {
    let mut c = contract(Provider::Microsoft365, SendAndView, true);
    let effects = c
        .change_settings(SettingsUpdate {
            provider: Some(Provider::GoogleWorkspace),
            email_access: Some(ViewOnly),
            calendar_enabled: Some(false),
            video_meetings: None,
        })
        .unwrap();
    assert_eq!(
        effects,
        vec![
            Effect::RequireReconnect {
                reason: ReconnectReason::ProviderChanged {
                    from: Provider::Microsoft365,
                    to: Provider::GoogleWorkspace
                }
            },
            stop(EmailSend),
            DEAUTH_EMAIL,
            stop(Calendar),
        ]
    );
}

#[test]
fn a_suspended_contract_refuses_settings_changes() {
    let mut c = contract(Provider::Microsoft365, ViewOnly, true);
    let (t1, t2) = (ts("2026-01-10T08:00:00Z"), ts("2026-02-10T08:00:00Z"));
    assert_eq!(c.suspend(t1), Lifecycle::Applied);
    assert_eq!(c.suspend(t1), Lifecycle::Repeated);
    assert_eq!(
        c.change_settings(SettingsUpdate::default()),
        Err(SettingsError::Suspended(c.id.clone()))
    );
    assert_eq!(c.reactivate(t2), Lifecycle::Applied);
    assert_eq!(c.change_settings(SettingsUpdate::default()), Ok(vec![]));
}

#[test]
fn lifecycle_events_delivered_out_of_order_converge_on_the_newest() {
    let (t1, t2, t3) = (
        ts("2026-01-10T08:00:00Z"),
        ts("2026-02-10T08:00:00Z"),
        ts("2026-03-10T08:00:00Z"),
    );
    let mut c = contract(Provider::Microsoft365, ViewOnly, true);
    // A reactivation of a contract never suspended has nothing to undo.
    assert_eq!(c.reactivate(t1), Lifecycle::Stale);
    assert!(c.is_active());
    // The reactivation arrives, then the suspension it followed: the suspension is stale.
    assert_eq!(c.suspend(t1), Lifecycle::Applied);
    assert_eq!(c.reactivate(t2), Lifecycle::Applied);
    assert_eq!(c.suspend(t1), Lifecycle::Stale);
    assert!(c.is_active());
    // A reactivation at the suspension's own instant loses the tie.
    assert_eq!(c.suspend(t3), Lifecycle::Applied);
    assert_eq!(c.reactivate(t3), Lifecycle::Stale);
    assert_eq!(c.reactivate(t2), Lifecycle::Stale);
    assert!(!c.is_active());
    assert_eq!(c.lifecycle_at, Some(t3));
}

#[test]
fn effects_reach_only_the_connections_they_name() {
    let now = ts("2026-01-10T08:00:00Z");
    let mut email = connection(
        ConnectionKind::Email,
        grant(
            Provider::Microsoft365,
            "r@acme.com",
            &["Mail.Read", "User.Read"],
        ),
    );
    let mut cal = connection(
        ConnectionKind::Calendar,
        grant(
            Provider::Microsoft365,
            "r@acme.com",
            &["Calendars.ReadWrite", "User.Read"],
        ),
    );
    for effect in access::email_access_change(SendAndView, ViewOnly) {
        email.apply(&effect, now, now);
        cal.apply(&effect, now, now);
    }
    assert_eq!(
        email.state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::AccessLowered
        }
    );
    assert_eq!(email.deauthorized_at, Some(now));
    assert!(
        cal.is_authorized(),
        "lowering email access leaves the calendar alone"
    );

    for effect in access::calendar_change(true, false) {
        assert!(!cal.apply(&effect, now, now));
    }
    assert!(cal.is_authorized(), "calendar off revokes nothing");

    let switch = access::provider_change(
        Some(Provider::Microsoft365),
        Some(Provider::GoogleWorkspace),
    );
    assert!(
        cal.apply(&switch[0], now, now),
        "an authorized connection loses its grant"
    );
    assert!(
        !email.apply(&switch[0], now, now),
        "a deauthorized one had nothing left to lose"
    );
    for c in [&email, &cal] {
        assert!(matches!(c.state, ConnectionState::NeedsReconnect { .. }));
    }
    // Deauthorizing twice is harmless.
    assert!(!email.deauthorize(DeauthorizationReason::SeatRequested, now));
}

#[test]
fn at_view_only_nothing_is_sent_even_with_the_send_scope() {
    let g = grant(
        Provider::Microsoft365,
        "r@acme.com",
        &["Mail.Read", "Mail.Send", "User.Read"],
    );
    let email = connection(ConnectionKind::Email, g);
    let view_only = contract(Provider::Microsoft365, ViewOnly, false);
    let caps = capabilities(&view_only, Some(&email), None);
    assert_eq!(caps.view_email, Ok(()));
    assert_eq!(
        caps.send_email,
        Err(Denial::FeatureOff { feature: EmailSend })
    );
    assert_eq!(caps.calendar, Err(Denial::FeatureOff { feature: Calendar }));

    let send = contract(Provider::Microsoft365, SendAndView, false);
    assert_eq!(capabilities(&send, Some(&email), None).send_email, Ok(()));
}

#[test]
fn sending_needs_the_granted_send_scope_and_a_provider_that_offers_it() {
    let ms = connection(
        ConnectionKind::Email,
        grant(
            Provider::Microsoft365,
            "r@acme.com",
            &["Mail.Read", "User.Read"],
        ),
    );
    let send = contract(Provider::Microsoft365, SendAndView, false);
    assert_eq!(
        capabilities(&send, Some(&ms), None).send_email,
        Err(Denial::MissingScope {
            scope: "Mail.Send".into()
        })
    );
    let google = connection(
        ConnectionKind::Email,
        grant(
            Provider::GoogleWorkspace,
            "r@acme.com",
            &["https://www.googleapis.com/auth/gmail.readonly"],
        ),
    );
    let gsend = contract(Provider::GoogleWorkspace, SendAndView, false);
    let caps = capabilities(&gsend, Some(&google), None);
    assert_eq!(caps.view_email, Ok(()));
    assert_eq!(caps.send_email, Err(Denial::SendingUnavailable));
}

#[test]
fn nothing_is_usable_through_a_connection_of_the_old_provider_or_a_suspended_contract() {
    let ms = connection(
        ConnectionKind::Email,
        grant(
            Provider::Microsoft365,
            "r@acme.com",
            &["Mail.Read", "User.Read"],
        ),
    );
    let google = contract(Provider::GoogleWorkspace, ViewOnly, false);
    assert_eq!(
        capabilities(&google, Some(&ms), None).view_email,
        Err(Denial::ProviderMismatch {
            kind: ConnectionKind::Email
        })
    );
    let mut suspended = contract(Provider::Microsoft365, ViewOnly, false);
    suspended.suspend("2026-06-01T00:00:00Z".parse().unwrap());
    assert_eq!(
        capabilities(&suspended, Some(&ms), None).view_email,
        Err(Denial::ContractSuspended)
    );
}

#[test]
fn authorization_needs_a_provider_and_the_feature_turned_on() {
    let fresh = Contract::new(ContractId::parse("new").unwrap());
    assert_eq!(
        may_authorize(&fresh, ConnectionKind::Email),
        Err(Denial::NoProvider)
    );
    assert_eq!(
        may_authorize(&fresh, ConnectionKind::Calendar),
        Err(Denial::NoProvider)
    );
    let c = contract(Provider::GoogleWorkspace, Off, true);
    assert_eq!(
        may_authorize(&c, ConnectionKind::Email),
        Err(Denial::FeatureOff { feature: EmailView })
    );
    assert_eq!(
        may_authorize(&c, ConnectionKind::Calendar),
        Ok(Provider::GoogleWorkspace)
    );
}

#[test]
fn reauthorizing_within_six_months_resumes_and_later_starts_over() {
    let g = grant(
        Provider::GoogleWorkspace,
        "r@acme.com",
        &["https://www.googleapis.com/auth/gmail.readonly"],
    );
    let mut base = connection(ConnectionKind::Email, g.clone());
    base.cursor.0.insert("history".into(), "12345".into());
    base.deauthorize(
        DeauthorizationReason::SeatRequested,
        ts("2026-01-31T10:00:00Z"),
    );

    // Six calendar months after 31 January is 31 July, inclusive.
    let cases = [
        ("2026-03-01T00:00:00Z", SyncStart::Resume),
        ("2026-07-31T10:00:00Z", SyncStart::Resume),
        ("2026-07-31T10:00:01Z", SyncStart::Historical),
        ("2027-01-01T00:00:00Z", SyncStart::Historical),
    ];
    for (at, expected) in cases {
        let mut c = base.clone();
        assert_eq!(
            c.reauthorize(g.clone(), ts(at)),
            expected,
            "reauthorized at {at}"
        );
        assert!(c.is_authorized());
        assert_eq!(c.deauthorized_at, None);
        assert_eq!(c.last_authorized_at, ts(at));
        assert_eq!(c.first_authorized_at, base.first_authorized_at);
        match expected {
            SyncStart::Resume => assert_eq!(c.cursor, base.cursor),
            SyncStart::Historical => {
                assert!(c.cursor.is_empty());
                assert_eq!(c.historical_anchor, ts(at));
            }
        }
    }

    // Another mailbox, or no cursor yet, always starts over.
    let other = grant(Provider::GoogleWorkspace, "someone.else@acme.com", &[]);
    assert_eq!(
        base.sync_start_on_reauthorization(&other, ts("2026-02-01T00:00:00Z")),
        SyncStart::Historical
    );
    let mut no_cursor = base.clone();
    no_cursor.cursor.0.clear();
    assert_eq!(
        no_cursor.sync_start_on_reauthorization(&g, ts("2026-02-01T00:00:00Z")),
        SyncStart::Historical
    );
}

#[test]
fn a_seat_keeps_its_data_but_not_its_holders_grants() {
    let contract_id = ContractId::parse("acme").unwrap();
    let alice = UserId::parse("alice").unwrap();
    let bob = UserId::parse("bob").unwrap();
    let mut seat = Seat::new(
        SeatId::parse("seat-1").unwrap(),
        contract_id,
        Some(alice.clone()),
    );
    let effects = seat.transfer(bob.clone()).unwrap();
    assert_eq!(
        effects,
        vec![
            Effect::Deauthorize {
                kind: ConnectionKind::Email,
                reason: DeauthorizationReason::SeatTransferred
            },
            Effect::Deauthorize {
                kind: ConnectionKind::Calendar,
                reason: DeauthorizationReason::SeatTransferred
            },
        ]
    );
    assert!(matches!(
        seat.transfer(bob),
        Err(SeatError::AlreadyHeldBy { .. })
    ));
    assert_eq!(seat.park().unwrap().len(), 2);
    assert!(seat.is_parked());
    assert!(matches!(seat.park(), Err(SeatError::AlreadyParked(_))));
    assert_eq!(seat.transfer(alice).unwrap(), vec![]);
}

#[test]
fn a_late_effect_never_undoes_a_newer_authorization() {
    let g = grant(
        Provider::Microsoft365,
        "r@acme.com",
        &["Mail.Read", "User.Read"],
    );
    let mut email = connection(ConnectionKind::Email, g.clone());
    let issued = ts("2026-02-01T10:00:00Z");
    // The seat reconnected after the admin's downgrade was issued.
    email.reauthorize(g, ts("2026-02-01T10:00:01Z"));
    for effect in access::email_access_change(SendAndView, ViewOnly) {
        assert!(!email.apply(&effect, issued, ts("2026-02-01T10:05:00Z")));
    }
    assert!(email.is_authorized());
    // The same effect issued after the reconnection applies.
    let later = ts("2026-02-01T11:00:00Z");
    assert!(email.apply(&DEAUTH_EMAIL, later, later));
}

#[test]
fn a_seats_next_holder_authorizing_the_same_mailbox_starts_a_new_historical_sync() {
    let g = grant(
        Provider::GoogleWorkspace,
        "desk@acme.com",
        &["https://www.googleapis.com/auth/gmail.readonly"],
    );
    let (alice, bob) = (
        UserId::parse("alice").unwrap(),
        UserId::parse("bob").unwrap(),
    );
    let mut base = connection(ConnectionKind::Email, g.clone()).by(alice.clone());
    base.cursor.0.insert("history".into(), "12345".into());
    base.deauthorize(
        DeauthorizationReason::SeatTransferred,
        ts("2026-01-31T10:00:00Z"),
    );
    let at = ts("2026-02-01T10:00:00Z");
    // The same person back within six months resumes; another person starts over.
    let mut same = base.clone();
    assert_eq!(same.reauthorize_by(g.clone(), alice, at), SyncStart::Resume);
    let mut next = base.clone();
    assert_eq!(
        next.reauthorize_by(g, bob.clone(), at),
        SyncStart::Historical
    );
    assert_eq!(next.authorized_by, Some(bob));
    assert!(next.cursor.0.is_empty());
    assert_eq!(next.historical_anchor, at);
}
