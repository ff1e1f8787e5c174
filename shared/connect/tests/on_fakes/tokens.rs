//! Usable access tokens: refresh, rotation, and a grant the provider refuses.

use std::sync::Arc;

use hiresync_connect::Failure;
use hiresync_domain::access::ReconnectReason;
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{EmailAccess, Provider};
use hiresync_domain::ports::{AccessTokens, TokenSealer};
use hiresync_messages::Notice;
use hiresync_testkit::clock::ts;
use secrecy::ExposeSecret;

use crate::world::{acme, refused, seat, World, NOW};

const LATER: &str = "2026-03-02T12:00:00Z";
const CONTEXT: [(&str, &str); 3] = [("contract", "acme"), ("seat", "s1"), ("kind", "email")];

async fn stored_refresh_token(w: &World) -> String {
    let stored = w
        .tenancy
        .tokens
        .stored(&acme(), &seat("s1"), ConnectionKind::Email)
        .unwrap();
    let opened = w.sealer.open(&stored.sealed, &CONTEXT).await.unwrap();
    opened.expose_secret().to_owned()
}

#[tokio::test]
async fn microsofts_rotated_refresh_token_replaces_the_stored_one() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let conn = w.connection("s1", ConnectionKind::Email);

    let access = w.connector.access_token(&conn, ts(LATER)).await.unwrap();

    assert!(access
        .expose_secret()
        .starts_with("microsoft-access-token-"));
    // The sign-in stored -1, the first sync job's refresh -2, this refresh -3.
    assert_eq!(stored_refresh_token(&w).await, "microsoft-refresh-token-3");
    let stored = w
        .tenancy
        .tokens
        .stored(&acme(), &seat("s1"), ConnectionKind::Email)
        .unwrap();
    assert_eq!(
        stored.authorized_at,
        ts(NOW),
        "still the same authorization"
    );
    // The rotated one works next time.
    w.connector.access_token(&conn, ts(LATER)).await.unwrap();
    assert_eq!(stored_refresh_token(&w).await, "microsoft-refresh-token-4");
}

#[tokio::test]
async fn a_refresh_token_that_does_not_rotate_stays_as_it_is() {
    let w = World::new();
    w.enable(Provider::GoogleWorkspace, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let seals = w.sealer.calls.load(std::sync::atomic::Ordering::Relaxed);

    // Through the port ingest uses.
    let tokens: Arc<dyn AccessTokens> = Arc::new(w.connector.clone());
    tokens
        .access_token(&w.connection("s1", ConnectionKind::Email), ts(LATER))
        .await
        .unwrap();

    assert_eq!(stored_refresh_token(&w).await, "google-refresh-token-1");
    assert_eq!(
        w.sealer.calls.load(std::sync::atomic::Ordering::Relaxed),
        seals + 2,
        "opened (twice: the check above), never sealed again"
    );
}

#[tokio::test]
async fn a_refused_grant_marks_the_connection_and_tells_the_seat_once() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let conn = w.connection("s1", ConnectionKind::Email);
    w.provider(Provider::Microsoft365).forget_grants();

    for _ in 0..2 {
        let e = refused(w.connector.access_token(&conn, ts(LATER)).await);
        assert_eq!(
            e,
            ConnectError::NotAllowed(Denial::NeedsReconnect {
                kind: ConnectionKind::Email
            })
        );
    }

    assert_eq!(
        w.connection("s1", ConnectionKind::Email).state,
        ConnectionState::NeedsReconnect {
            reason: ReconnectReason::GrantRevoked
        }
    );
    assert_eq!(
        w.queues.sent_notices(),
        [Notice::ReauthorizationNeeded {
            contract: acme(),
            seat: seat("s1"),
            kind: ConnectionKind::Email,
            reason: ReconnectReason::GrantRevoked,
            at: ts(LATER),
        }]
    );
    assert!(w.logs.text().contains("seat must reconnect"));
}

#[tokio::test]
async fn a_seat_that_never_connected_has_no_token() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    let mut other = w.connection("s1", ConnectionKind::Email);
    other.seat_id = seat("s2");
    assert_eq!(
        refused(w.connector.access_token(&other, ts(LATER)).await),
        ConnectError::NotAllowed(Denial::NotAuthorized {
            kind: ConnectionKind::Email
        })
    );
}

#[tokio::test]
async fn a_provider_failing_for_its_own_reasons_is_internal_and_changes_nothing() {
    let w = World::new();
    w.enable(Provider::Microsoft365, EmailAccess::ViewOnly, false)
        .await;
    w.connect("s1", ConnectionKind::Email, NOW).await;
    w.provider(Provider::Microsoft365).fail_refresh(None);

    let result = w
        .connector
        .access_token(&w.connection("s1", ConnectionKind::Email), ts(LATER))
        .await;

    assert!(matches!(
        result,
        Err(Failure::Internal {
            context: "token refresh",
            ..
        })
    ));
    assert!(w.connection("s1", ConnectionKind::Email).is_authorized());
    assert!(w.queues.sent_notices().is_empty());
}
