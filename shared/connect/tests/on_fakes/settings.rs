//! An admin's settings change and its fan-out a page at a time; a seat's own disconnect.

use hiresync_domain::access::{DeauthorizationReason, Effect, ReconnectReason};
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ports::{StoredToken, TokenStore};
use hiresync_domain::sealed::Sealed;
use hiresync_messages::FanOutPage;
use hiresync_testkit::clock::ts;

use hiresync_connect::RetirementReport;

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
                video_meetings: None,
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
    assert_eq!(w.provider(Provider::Microsoft365).live().len(), 26 + 1);

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
    // AND their subscriptions are forgotten at once (the calendar keeps its own) and
    // stopped at the provider by the clean-up that follows
    assert_eq!(w.tenancy.subscriptions.all().len(), 1);
    assert_eq!(w.provider(Provider::Microsoft365).live().len(), 26 + 1);
    assert_eq!(
        w.clean_up(LATER).await,
        RetirementReport {
            finished: 26,
            failed: 0
        }
    );
    assert_eq!(w.provider(Provider::Microsoft365).live().len(), 1);
    assert!(w.tenancy.retirements.all().is_empty());
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
    assert!(
        google.revoked().is_empty(),
        "the provider's side comes after"
    );
    w.clean_up(LATER).await;

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
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
    assert!(w.is_token_stored("s1", ConnectionKind::Calendar));
    let left: Vec<_> = w.tenancy.subscriptions.all();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind.connection_kind(), ConnectionKind::Calendar);
    assert_eq!(google.count("stop gmail:s1@acme.example"), 0);

    w.clean_up(LATER).await;
    assert_eq!(google.count("stop gmail:s1@acme.example"), 1);
    assert_eq!(google.revoked().len(), 1);
    assert!(google.live().iter().all(|id| !id.starts_with("gmail:")));
}

#[tokio::test]
async fn a_provider_that_keeps_failing_never_holds_up_a_downgrade_and_is_cleaned_up_after() {
    // GIVEN 26 Google mailboxes (two pages), and a provider that answers 500 to every stop
    // and every revocation
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    let google = w.provider(Provider::GoogleWorkspace);
    for n in 0..26 {
        w.connect(&format!("s{n:02}"), ConnectionKind::Email, NOW)
            .await;
    }
    google.fail_stops(u32::MAX);
    google.fail_revokes(u32::MAX);
    let refreshes = google.count("refresh");

    // WHEN the admin turns email off, within one fan-out
    w.turn_email_off(LATER).await;
    let (seen, lost) = run_fan_out(&w, LATER).await;

    // THEN every mailbox is deauthorized, its token and subscriptions gone, and nothing was
    // asked of the provider: no token refreshed, so nothing can be fetched any more
    assert_eq!((seen, lost), (26, 26));
    for n in 0..26 {
        let s = format!("s{n:02}");
        assert!(!w.connection(&s, ConnectionKind::Email).is_authorized());
        assert!(!w.is_token_stored(&s, ConnectionKind::Email));
    }
    assert!(w.tenancy.subscriptions.all().is_empty());
    assert_eq!(google.count("refresh"), refreshes);
    let refused = w
        .connector
        .access_token(&w.connection("s00", ConnectionKind::Email), ts(LATER))
        .await;
    assert!(refused.is_err(), "no token is left to fetch with");

    // AND the clean-up fails, and is tried again later, each time waiting longer
    assert_eq!(
        w.clean_up(LATER).await,
        RetirementReport {
            finished: 0,
            failed: 26
        }
    );
    assert_eq!(google.live().len(), 26, "the watches still run at Google");
    assert_eq!(
        w.clean_up(LATER).await,
        RetirementReport::default(),
        "not due yet"
    );
    assert_eq!(w.clean_up("2026-03-03T10:15:00Z").await.failed, 26);
    assert_eq!(
        w.clean_up("2026-03-03T10:30:00Z").await.failed,
        0,
        "waits 30 min now"
    );
    assert_eq!(w.clean_up("2026-03-03T10:45:00Z").await.failed, 26);
    assert!(w
        .tenancy
        .retirements
        .all()
        .iter()
        .all(|(r, _)| r.failures == 3));

    // AND once the provider answers, every watch is stopped and every grant revoked
    google.fail_stops(0);
    google.fail_revokes(0);
    assert_eq!(
        w.clean_up("2026-03-03T12:00:00Z").await,
        RetirementReport {
            finished: 26,
            failed: 0
        }
    );
    assert!(google.live().is_empty());
    assert_eq!(google.revoked().len(), 26);
    assert!(w.tenancy.retirements.all().is_empty());
    assert_eq!(
        w.clean_up("2026-03-04T12:00:00Z").await,
        RetirementReport::default()
    );
}

#[tokio::test]
async fn a_clean_up_that_fails_half_way_is_finished_by_the_next() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let google = w.provider(Provider::GoogleWorkspace);
    google.fail_revokes(1);

    w.connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await
        .unwrap();
    assert!(!w.connection("s1", ConnectionKind::Email).is_authorized());
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));

    // The watch is stopped, the revocation fails: the whole is tried again.
    assert_eq!(w.clean_up(LATER).await.failed, 1);
    assert!(google.live().is_empty());
    assert!(google.revoked().is_empty());
    assert_eq!(w.clean_up("2026-03-03T10:15:00Z").await.finished, 1);
    assert_eq!(google.revoked().len(), 1);
}

#[tokio::test]
async fn a_seat_that_connects_the_same_mailbox_again_keeps_it_when_the_old_clean_up_runs() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.connector
        .deauthorize(&acme(), &seat("s1"), ConnectionKind::Email, ts(LATER))
        .await
        .unwrap();
    // Before the clean-up ran, the seat connected the same mailbox again.
    w.connect("s1", ConnectionKind::Email, "2026-03-03T10:05:00Z")
        .await;
    let google = w.provider(Provider::GoogleWorkspace);
    let stops = google.count("stop");

    assert_eq!(w.clean_up("2026-03-03T10:10:00Z").await.finished, 1);

    // Its new watch (same mailbox, same id) is left alone, and so is the grant.
    assert_eq!(google.count("stop"), stops);
    assert!(google.revoked().is_empty());
    assert!(google.live().iter().any(|id| id.starts_with("gmail:")));
    assert!(w.connection("s1", ConnectionKind::Email).is_authorized());
}

#[tokio::test]
async fn a_token_newer_than_the_change_is_neither_used_nor_deleted() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let refreshes = w.provider(Provider::GoogleWorkspace).count("refresh");
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
    assert_eq!(
        google.count("refresh"),
        refreshes,
        "no refresh with the newer token"
    );
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
    // The second attempt wrote it, once: one retirement, one revocation.
    assert!(!w.is_token_stored("s1", ConnectionKind::Email));
    assert_eq!(w.tenancy.retirements.all().len(), 1);
    assert_eq!(w.clean_up(LATER).await.finished, 1);
    assert_eq!(w.provider(Provider::GoogleWorkspace).count("revoke"), 1);
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
async fn a_page_that_fails_still_sends_the_rest_of_the_contract_on() {
    // GIVEN 26 mailboxes (two pages), and storage that fails the first deauthorization
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    for n in 0..26 {
        w.connect(&format!("s{n:02}"), ConnectionKind::Email, NOW)
            .await;
    }
    w.turn_email_off(LATER).await;
    w.tenancy.retirements.faults.fail_next(1);

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
