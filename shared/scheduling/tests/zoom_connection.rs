//! The contract's Zoom connection on fakes: an admin connects it (the sign-in taken once,
//! only by who started it), reconnects or removes it (the former grant given back), and the
//! confirmation's access token is shared, refreshed with rotation, and a refusal believed
//! only once no concurrent refresh explains it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod world;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::contract::{Contract, Provider};
use hiresync_domain::ids::UserId;
use hiresync_domain::ports::{ContractStore, TokenSealer, ZoomAuthErrorKind, ZoomStore};
use hiresync_domain::zoom::{seal_context, ZoomState, ZoomTokens};
use hiresync_scheduling::confirm::Wait;
use hiresync_scheduling::zoom::{
    ZoomAccess, ZoomAccessTokens, ZoomCallback, ZoomConnections, ZoomError, ZoomPorts,
    REFUSAL_RECHECK,
};
use hiresync_testkit::clock::ts;
use secrecy::{ExposeSecret, SecretString};
use world::{World, NOW};

const LATER: &str = "2026-03-02T11:00:00Z";

fn admin() -> UserId {
    UserId::parse("ada").unwrap()
}

fn state_of(url: &str) -> String {
    url.split("state=").nth(1).unwrap().to_owned()
}

fn callback(state: String) -> ZoomCallback {
    ZoomCallback {
        state,
        code: Some("code-1".into()),
        error: None,
    }
}

async fn started(w: &World) -> String {
    let start = w
        .zoom()
        .start(&w.contract, &admin(), ts(NOW))
        .await
        .unwrap();
    assert_eq!(start.expires_at, ts("2026-03-02T09:15:00Z"));
    state_of(&start.url)
}

async fn access(w: &World, zoom: &ZoomConnections, at: &str) -> String {
    match zoom.zoom_access(&w.contract, ts(at)).await.unwrap() {
        ZoomAccess::Ready(token) => token.expose_secret().to_owned(),
        ZoomAccess::NotConnected => panic!("not connected"),
        ZoomAccess::Refused => panic!("refused"),
    }
}

#[tokio::test]
async fn an_admin_connects_the_account_and_its_tokens_are_stored_sealed() {
    let w = World::new(Provider::Microsoft365).await;
    let state = started(&w).await;

    let account = w
        .zoom()
        .complete(&w.contract, &admin(), &callback(state.clone()), ts(NOW))
        .await
        .unwrap();

    assert_eq!(account.state, ZoomState::Connected);
    assert_eq!(account.account_id, "zoom-acct-1");
    assert_eq!(account.authorized_as.as_str(), "admin@acme.example");
    assert_eq!(account.connected_by, admin());
    let stored = w.zoom_store.get(&w.contract).await.unwrap().unwrap().value;
    assert_eq!(stored.account, account);
    assert_eq!(stored.tokens.access_expires_at, ts("2026-03-02T09:59:59Z"));
    let refresh = w
        .sealer
        .open(
            &stored.tokens.refresh,
            &seal_context(&w.contract, "refresh"),
        )
        .await
        .unwrap();
    assert_eq!(refresh.expose_secret(), "zoom-rt-1");
    assert!(
        w.sealer
            .open(&stored.tokens.refresh, &seal_context(&w.contract, "access"))
            .await
            .is_err(),
        "each token is bound to its role"
    );

    // The same sign-in cannot be completed twice.
    let again = w
        .zoom()
        .complete(&w.contract, &admin(), &callback(state), ts(NOW))
        .await;
    assert!(matches!(again, Err(ZoomError::SignInStale)), "{again:?}");
}

#[tokio::test]
async fn only_the_admin_who_started_it_and_in_time_can_finish_a_sign_in() {
    let w = World::new(Provider::Microsoft365).await;
    let other = UserId::parse("mallory").unwrap();
    let state = started(&w).await;
    let theirs = w
        .zoom()
        .complete(&w.contract, &other, &callback(state.clone()), ts(NOW))
        .await;
    assert!(matches!(theirs, Err(ZoomError::SignInStale)));
    // Refused without being used up: the admin who started it still finishes it.
    let own = w
        .zoom()
        .complete(&w.contract, &admin(), &callback(state), ts(NOW))
        .await;
    assert!(own.is_ok(), "{own:?}");
    w.zoom().remove(&w.contract).await.unwrap();

    let state = started(&w).await;
    let late = w
        .zoom()
        .complete(
            &w.contract,
            &admin(),
            &callback(state),
            ts("2026-03-02T09:15:00Z"),
        )
        .await;
    assert!(matches!(late, Err(ZoomError::SignInStale)));

    // A declined consent is its own error; the redirect's error comes through the
    // browser, so what is shown of it is cleaned.
    for (error, shown) in [
        ("access_denied", "access_denied"),
        ("<b>access_denied</b>", "baccess_denied/b"),
    ] {
        let declined = ZoomCallback {
            state: started(&w).await,
            code: None,
            error: Some(error.into()),
        };
        let answer = w
            .zoom()
            .complete(&w.contract, &admin(), &declined, ts(NOW))
            .await;
        assert!(
            matches!(&answer, Err(ZoomError::Declined(e)) if e == shown),
            "{answer:?}"
        );
    }

    let state = started(&w).await;
    w.zoom_oauth.fail_next(ZoomAuthErrorKind::Temporary);
    let down = w
        .zoom()
        .complete(&w.contract, &admin(), &callback(state), ts(NOW))
        .await;
    assert!(matches!(down, Err(ZoomError::Unavailable(_))));

    assert!(
        w.zoom().account(&w.contract).await.unwrap().is_none(),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_suspended_contract_cannot_connect_zoom() {
    let w = World::new(Provider::Microsoft365).await;
    let read = w.tenancy.contracts.get(&w.contract).await.unwrap().unwrap();
    let mut suspended: Contract = read.value.clone();
    let _ = suspended.suspend(ts(NOW));
    w.tenancy.contracts.update(&read, &suspended).await.unwrap();

    let start = w.zoom().start(&w.contract, &admin(), ts(NOW)).await;
    assert!(matches!(start, Err(ZoomError::ContractInactive)));
}

#[tokio::test]
async fn reconnecting_or_removing_gives_the_former_grant_back_to_zoom() {
    let w = World::new(Provider::Microsoft365).await;
    w.connect_zoom().await;
    w.connect_zoom().await;
    assert_eq!(w.zoom_oauth.revoked(), vec!["zoom-rt-1".to_owned()]);
    assert_eq!(access(&w, &w.zoom(), NOW).await, "zoom-at-2");

    assert!(w.zoom().remove(&w.contract).await.unwrap());
    assert_eq!(
        w.zoom_oauth.revoked(),
        vec!["zoom-rt-1".to_owned(), "zoom-rt-2".to_owned()]
    );
    assert!(w.zoom().account(&w.contract).await.unwrap().is_none());
    assert!(
        !w.zoom().remove(&w.contract).await.unwrap(),
        "removing none"
    );
    assert!(matches!(
        w.zoom().zoom_access(&w.contract, ts(NOW)).await.unwrap(),
        ZoomAccess::NotConnected
    ));
}

#[tokio::test]
async fn the_access_token_is_shared_until_near_its_expiry_then_refreshed_with_rotation() {
    let w = World::new(Provider::Microsoft365).await;
    w.connect_zoom().await;
    let zoom = w.zoom();

    assert_eq!(access(&w, &zoom, NOW).await, "zoom-at-1");
    assert_eq!(access(&w, &zoom, "2026-03-02T09:54:00Z").await, "zoom-at-1");
    assert_eq!(w.zoom_oauth.refreshes(), 0);

    assert_eq!(access(&w, &zoom, "2026-03-02T09:56:00Z").await, "zoom-at-2");
    assert_eq!(access(&w, &zoom, "2026-03-02T09:57:00Z").await, "zoom-at-2");
    assert_eq!(w.zoom_oauth.refreshes(), 1);
    let stored = w.zoom_store.get(&w.contract).await.unwrap().unwrap().value;
    let refresh = w
        .sealer
        .open(
            &stored.tokens.refresh,
            &seal_context(&w.contract, "refresh"),
        )
        .await
        .unwrap();
    assert_eq!(refresh.expose_secret(), "zoom-rt-2", "the rotated one kept");
}

#[tokio::test]
async fn a_revoked_grant_is_believed_after_one_look_and_marked_for_the_admin() {
    let w = World::new(Provider::Microsoft365).await;
    w.connect_zoom().await;
    w.zoom_oauth.revoke_grant();

    let zoom = w.zoom();
    assert!(matches!(
        zoom.zoom_access(&w.contract, ts(LATER)).await.unwrap(),
        ZoomAccess::Refused
    ));
    assert_eq!(w.waits.0.lock().unwrap().clone(), vec![REFUSAL_RECHECK]);
    let account = zoom.account(&w.contract).await.unwrap().unwrap();
    assert_eq!(account.state, ZoomState::NeedsReconnect);
    assert_eq!(account.refused_at, Some(ts(LATER)));

    // Marked: Zoom is not asked again until the admin reconnects.
    assert!(matches!(
        zoom.zoom_access(&w.contract, ts(LATER)).await.unwrap(),
        ZoomAccess::Refused
    ));
    assert_eq!(w.waits.count(), 1, "no second look");
    w.connect_zoom().await;
    assert_eq!(access(&w, &zoom, NOW).await, "zoom-at-2");
}

/// While the refused caller waits, another caller's refresh lands in the store.
struct RotatedMeanwhile {
    world: Arc<World>,
}

#[async_trait]
impl Wait for RotatedMeanwhile {
    async fn wait(&self, _: Duration) {
        let w = &self.world;
        let read = w.zoom_store.get(&w.contract).await.unwrap().unwrap();
        let mut next = read.value.clone();
        let seal = |secret: &'static str, which: &'static str| {
            let w = w.clone();
            async move {
                w.sealer
                    .seal(
                        &SecretString::from(secret),
                        &seal_context(&w.contract, which),
                    )
                    .await
                    .unwrap()
            }
        };
        next.tokens = ZoomTokens {
            refresh: seal("zoom-rt-9", "refresh").await,
            access: seal("zoom-at-9", "access").await,
            access_expires_at: ts("2026-03-02T12:00:00Z"),
        };
        w.zoom_store.update(&read, &next).await.unwrap();
    }
}

#[tokio::test]
async fn a_refusal_explained_by_another_callers_rotation_uses_their_token_instead() {
    let w = Arc::new(World::new(Provider::Microsoft365).await);
    w.connect_zoom().await;
    // Another caller has refreshed at Zoom: the stored refresh token is dead.
    w.zoom_oauth.revoke_grant();
    let zoom = ZoomConnections::new(ZoomPorts {
        contracts: w.tenancy.contracts.clone(),
        store: w.zoom_store.clone(),
        sealer: w.sealer.clone(),
        oauth: w.zoom_oauth.clone(),
        wait: Arc::new(RotatedMeanwhile { world: w.clone() }),
    });

    assert_eq!(access(&w, &zoom, LATER).await, "zoom-at-9");
    let account = zoom.account(&w.contract).await.unwrap().unwrap();
    assert_eq!(account.state, ZoomState::Connected, "not marked refused");
}
