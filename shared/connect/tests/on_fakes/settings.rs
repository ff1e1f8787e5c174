//! An admin's settings change and its fan-out a page at a time; a seat's own disconnect.

use hiresync_domain::access::{DeauthorizationReason, Effect, ReconnectReason};
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ports::{StoredToken, TokenStore};
use hiresync_domain::sealed::Sealed;
use hiresync_messages::FanOutPage;
use hiresync_testkit::clock::ts;

use crate::world::{acme, seat, World, NOW};

const LATER: &str = "2026-03-03T10:00:00Z";

/// Runs every page of the fan-out queued so far; the connections seen and lost.
async fn run_fan_out(w: &World, at: &str) -> (usize, usize) {
    let (mut seen, mut lost) = (0, 0);
    let mut done = 0;
    while done < w.queues.pages().len() {
        let page = w.queues.pages()[done].clone();
        let outcome = w.connector.fan_out_page(&page, ts(at)).await.unwrap();
        seen += outcome.seen;
        lost += outcome.lost_authorization;
        done += 1;
    }
    (seen, lost)
}

#[tokio::test]
async fn a_first_change_creates_the_contract_and_repeating_it_changes_nothing() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    let stored = w.tenancy.contracts.stored(&acme()).unwrap();
    assert_eq!(stored.version, 2, "created, then changed");
    assert_eq!(stored.value.settings.provider, Some(Provider::Microsoft365));
    assert!(
        w.queues.pages().is_empty(),
        "nothing to carry to connections"
    );

    let again = w
        .connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(Provider::Microsoft365),
                email_access: Some(EmailAccess::ViewOnly),
                calendar_enabled: Some(true),
            },
            ts(NOW),
        )
        .await
        .unwrap();
    assert!(again.effects.is_empty());
    assert!(w.queues.pages().is_empty());
}

#[tokio::test]
async fn a_change_that_loses_a_race_is_applied_again_to_what_won() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    w.tenancy.contracts.faults.race_next(2);
    let change = w
        .connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                email_access: Some(EmailAccess::SendAndView),
                ..SettingsUpdate::default()
            },
            ts(NOW),
        )
        .await
        .unwrap();
    assert_eq!(
        change.contract.settings.email_access,
        EmailAccess::SendAndView
    );
    // Two writes lost (each moved the version on), the third won.
    assert_eq!(w.tenancy.contracts.stored(&acme()).unwrap().version, 5);
}

#[tokio::test]
async fn a_downgrade_deauthorizes_every_mailbox_across_pages_and_leaves_calendars() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    for n in 0..26 {
        w.connect(&format!("s{n:02}"), ConnectionKind::Email, NOW)
            .await;
    }
    w.connect("s00", ConnectionKind::Calendar, NOW).await;
    assert_eq!(w.provider(Provider::Microsoft365).live().len(), 26 * 3 + 1);

    // WHEN the admin turns email off
    let change = w.turn_email_off(LATER).await;
    assert!(change.effects.contains(&Effect::Deauthorize {
        kind: ConnectionKind::Email,
        reason: DeauthorizationReason::AccessLowered,
    }));
    let first = &w.queues.pages()[0];
    assert_eq!(first.page, None);
    assert_eq!(first.change, "v3");

    // THEN the fan-out walks two pages (25 + 2) and every mailbox loses its authorization
    let (seen, lost) = run_fan_out(&w, LATER).await;
    assert_eq!(w.queues.pages().len(), 2);
    assert!(w.queues.pages()[1].page.is_some());
    assert_eq!((seen, lost), (27, 26));
    for n in 0..26 {
        let s = format!("s{n:02}");
        assert_eq!(
            w.connection(&s, ConnectionKind::Email).state,
            ConnectionState::Deauthorized {
                reason: DeauthorizationReason::AccessLowered
            }
        );
        assert!(!w.is_token_stored(&s, ConnectionKind::Email));
    }
    // AND their subscriptions are stopped and forgotten; the calendar keeps its own
    assert_eq!(w.provider(Provider::Microsoft365).live().len(), 1);
    assert_eq!(w.tenancy.subscriptions.all().len(), 1);
    assert!(w
        .connection("s00", ConnectionKind::Calendar)
        .is_authorized());
    assert!(w.is_token_stored("s00", ConnectionKind::Calendar));
    // Microsoft has nothing to revoke.
    assert_eq!(w.provider(Provider::Microsoft365).count("revoke"), 0);

    // AND a redelivered page changes nothing more
    let again = w
        .connector
        .fan_out_page(&w.queues.pages()[0].clone(), ts(LATER))
        .await
        .unwrap();
    assert_eq!(again.lost_authorization, 0);
}

#[tokio::test]
async fn a_provider_switch_makes_everyone_reconnect_and_revokes_google_grants() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    let google = w.provider(Provider::GoogleWorkspace);
    let grants = google.valid_grants();
    assert_eq!(grants.len(), 2);

    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, true)
        .await;
    let (_, lost) = run_fan_out(&w, LATER).await;

    assert_eq!(lost, 2);
    for kind in [ConnectionKind::Email, ConnectionKind::Calendar] {
        assert_eq!(
            w.connection("s1", kind).state,
            ConnectionState::NeedsReconnect {
                reason: ReconnectReason::ProviderChanged {
                    from: Provider::GoogleWorkspace,
                    to: Provider::Microsoft365
                }
            }
        );
    }
    let mut revoked = google.revoked();
    revoked.sort();
    assert_eq!(revoked, grants);
    assert!(google.live().is_empty(), "watch and channel stopped");
}

#[tokio::test]
async fn a_seat_disconnects_its_mailbox_keeps_its_calendar_and_its_google_grant_is_revoked() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, true)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connect("s1", ConnectionKind::Calendar, NOW).await;
    let google = w.provider(Provider::GoogleWorkspace);

    let conn = w
        .connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await
        .unwrap();

    assert_eq!(
        conn.state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::SeatRequested
        }
    );
    assert_eq!(google.count("stop gmail:ana@acme.example"), 1);
    assert_eq!(google.revoked().len(), 1);
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
    assert!(w.is_token_stored("s1", ConnectionKind::Calendar));
    let left: Vec<_> = w.tenancy.subscriptions.all();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind.connection_kind(), ConnectionKind::Calendar);
}

#[tokio::test]
async fn a_disconnect_that_fails_half_way_is_finished_by_the_retry() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let google = w.provider(Provider::GoogleWorkspace);
    google.fail_revokes(1);

    let failed = w
        .connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await;
    assert_eq!(failed.unwrap_err().code(), "token revocation");
    assert!(w.connection("s1", ConnectionKind::Email).is_authorized());

    w.connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await
        .unwrap();
    assert!(!w.connection("s1", ConnectionKind::Email).is_authorized());
    assert_eq!(google.revoked().len(), 1);
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
}

#[tokio::test]
async fn a_token_newer_than_the_change_is_neither_used_nor_deleted() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    // A reconnect's token, written after the change was made.
    let newer = StoredToken {
        sealed: Sealed {
            key_id: "k".into(),
            wrapped_key: vec![1],
            nonce: vec![2],
            ciphertext: vec![3],
        },
        authorized_at: ts("2026-03-03T11:00:00Z"),
    };
    w.tenancy
        .tokens
        .put(&acme(), &seat("s1"), ConnectionKind::Email, &newer)
        .await
        .unwrap();

    w.connector
        .fan_out_page(
            &FanOutPage {
                contract: acme(),
                effects: vec![Effect::Deauthorize {
                    kind: ConnectionKind::Email,
                    reason: DeauthorizationReason::AccessLowered,
                }],
                issued_at: ts(LATER),
                page: None,
                change: "v9".into(),
            },
            ts(LATER),
        )
        .await
        .unwrap();

    assert!(!w.connection("s1", ConnectionKind::Email).is_authorized());
    let google = w.provider(Provider::GoogleWorkspace);
    assert_eq!(google.count("refresh"), 0);
    assert!(google.revoked().is_empty());
    assert_eq!(
        w.tenancy
            .tokens
            .stored(&acme(), &seat("s1"), ConnectionKind::Email),
        Some(newer)
    );
}

#[tokio::test]
async fn a_connection_update_that_loses_a_race_reads_again_and_applies_once() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.tenancy.connections.faults.race_next(1);

    let conn = w
        .connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await
        .unwrap();
    assert!(!conn.is_authorized());
    // The release ran before the lost write; the second attempt found nothing left to
    // release and only wrote the connection.
    assert_eq!(w.provider(Provider::GoogleWorkspace).count("revoke"), 1);
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
}

#[tokio::test]
async fn storage_trouble_fails_the_page_so_the_queue_delivers_it_again() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.tenancy.connections.faults.fail_next(1);
    let page = FanOutPage {
        contract: acme(),
        effects: vec![],
        issued_at: ts(LATER),
        page: None,
        change: "v9".into(),
    };
    let failed = w.connector.fan_out_page(&page, ts(LATER)).await;
    assert_eq!(failed.unwrap_err().code(), "storage");
    assert_eq!(
        w.connector
            .fan_out_page(&page, ts(LATER))
            .await
            .unwrap()
            .seen,
        1
    );
}

#[tokio::test]
async fn a_page_whose_provider_fails_still_sends_the_rest_of_the_contract_on() {
    // GIVEN 26 Google mailboxes (two pages) and revocations that fail at first
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    for n in 0..26 {
        w.connect(&format!("s{n:02}"), ConnectionKind::Email, NOW)
            .await;
    }
    w.turn_email_off(LATER).await;
    w.provider(Provider::GoogleWorkspace).fail_revokes(1);

    // WHEN the first page fails on its first connection
    let first = w.queues.pages()[0].clone();
    assert!(w.connector.fan_out_page(&first, ts(LATER)).await.is_err());

    // THEN the second page is already on its way, and works
    assert_eq!(w.queues.pages().len(), 2, "the next page went out first");
    let second = w.queues.pages()[1].clone();
    assert!(second.page.is_some());
    let outcome = w.connector.fan_out_page(&second, ts(LATER)).await.unwrap();
    assert_eq!(outcome.lost_authorization, 1);
    assert!(!w.connection("s25", ConnectionKind::Email).is_authorized());
    // AND the first page, delivered again, finishes its own
    w.connector.fan_out_page(&first, ts(LATER)).await.unwrap();
    for n in 0..26 {
        assert!(!w
            .connection(&format!("s{n:02}"), ConnectionKind::Email)
            .is_authorized());
    }
}
