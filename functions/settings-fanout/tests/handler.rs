//! The handler fed SQS events as Lambda delivers them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/connect/tests/common/mod.rs"]
mod common;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{ts, Harness, NOW};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::ContractId;

/// The function as `main.rs` builds it: the tenancy table and its queue, no provider and
/// no key (the harness's connector, which has both, only sets the scene).
fn function(h: &Harness) -> settings_fanout::App {
    let config = settings_fanout::Config {
        tenancy_table: h.resources.table("TenancyTable").unwrap().to_owned(),
        deauthorizations_queue_url: h
            .resources
            .queue("DeauthorizationsQueue")
            .unwrap()
            .to_owned(),
    };
    settings_fanout::build(config, &h.aws).unwrap()
}

fn record(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m
}

/// The admin chooses Microsoft 365 with Send & view.
async fn enable_microsoft(h: &Harness, acme: &ContractId) {
    h.connector
        .change_settings(
            acme,
            SettingsUpdate {
                provider: Some(Provider::Microsoft365),
                email_access: Some(EmailAccess::SendAndView),
                calendar_enabled: None,
                video_meetings: None,
            },
            ts(NOW),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_malformed_page_fails_alone_and_a_valid_one_continues_the_fan_out() {
    let h = Harness::new("fanout-handler").await;
    let acme = ContractId::parse("acme").unwrap();
    enable_microsoft(&h, &acme).await;
    h.connector
        .change_settings(
            &acme,
            SettingsUpdate {
                email_access: Some(EmailAccess::Off),
                ..Default::default()
            },
            ts(NOW),
        )
        .await
        .unwrap();
    let pages = h.drain("DeauthorizationsQueue").await;
    assert_eq!(pages.len(), 1, "the downgrade started a fan-out");

    let mut event = SqsEvent::default();
    event.records = vec![
        record("good", &pages[0].to_string()),
        record("bad", "{\"contract\": \"acme\"}"),
    ];
    let response = function(&h).handle(event, ts(NOW)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["bad"]);
}

/// Delivers `bodies` to the handler as one batch; the ids of the records that failed.
async fn deliver(h: &Harness, bodies: &[serde_json::Value], now: &str) -> Vec<String> {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .enumerate()
        .map(|(n, b)| record(&format!("r{n}"), &b.to_string()))
        .collect();
    function(h)
        .handle(event, ts(now))
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

#[tokio::test]
async fn a_seat_changing_hands_ends_its_former_holders_authorizations_and_keeps_order() {
    use hiresync_domain::access::DeauthorizationReason;
    use hiresync_domain::connection::{ConnectionKind, ConnectionState, SyncStart};
    use hiresync_domain::ids::{SeatId, UserId};

    let h = Harness::new("fanout-seat-events").await;
    let acme = ContractId::parse("acme").unwrap();
    let s1 = SeatId::parse("s1").unwrap();
    enable_microsoft(&h, &acme).await;
    h.microsoft_tenant(
        "ms-refresh-token-seat",
        "Mail.Read Mail.Send User.Read openid profile email",
        "desk@acme.example",
    )
    .await;
    let connect = |user: &'static str, at: &'static str| {
        let h = &h;
        let (acme, s1) = (acme.clone(), s1.clone());
        async move {
            let user = UserId::parse(user).unwrap();
            let start = h
                .connector
                .start_authorization(&acme, &s1, &user, ConnectionKind::Email, None, ts(at))
                .await
                .unwrap();
            h.connector
                .complete_authorization(
                    &common::sign_in(s1.clone(), user, ConnectionKind::Email),
                    &common::consent(&start.url, "code"),
                    ts(at),
                )
                .await
                .unwrap()
                .sync
        }
    };
    connect("u1", "2026-03-02T09:30:00Z").await;
    let stores = &h.connector.stores;
    let email = || async {
        stores
            .connections
            .get(&acme, &s1, ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value
    };
    assert_eq!(email().await.authorized_by.unwrap().as_str(), "u1");

    // WHEN the product transfers s1 to u2 (delivered twice)
    let transferred = serde_json::json!({"contract_id": "acme", "seat_id": "s1", "holder": "u2", "transferred_at": "2026-03-03T09:00:00Z"});
    assert!(deliver(
        &h,
        &[transferred.clone(), transferred.clone()],
        "2026-03-03T09:00:05Z"
    )
    .await
    .is_empty());

    // THEN u1's authorization ended at once: its token and subscriptions gone, the
    // provider's part left to the renewal job; the seat is u2's
    let conn = email().await;
    assert_eq!(
        conn.state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::SeatTransferred
        }
    );
    assert!(stores
        .tokens
        .get(&acme, &s1, ConnectionKind::Email)
        .await
        .unwrap()
        .is_none());
    assert!(stores
        .subscriptions
        .for_connection(&acme, &s1, ConnectionKind::Email)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        stores.retirements.of_seat(&acme, &s1).await.unwrap().len(),
        1
    );
    let seat = stores.seats.get(&acme, &s1).await.unwrap().unwrap().value;
    assert_eq!(seat.holder.unwrap().as_str(), "u2");

    // AND a parking older than the transfer, delivered late, changes nothing
    let late = serde_json::json!({"contract_id": "acme", "seat_id": "s1", "parked_at": "2026-03-02T12:00:00Z"});
    assert!(deliver(&h, &[late], "2026-03-03T09:10:00Z")
        .await
        .is_empty());
    let seat = stores.seats.get(&acme, &s1).await.unwrap().unwrap().value;
    assert_eq!(seat.holder.unwrap().as_str(), "u2");

    // WHEN u2 connects the same mailbox, it starts a history of its own
    assert_eq!(
        connect("u2", "2026-03-03T10:00:00Z").await,
        SyncStart::Historical
    );
    // AND a redelivered transfer does not take u2's newer authorization away
    let again = serde_json::json!({"contract_id": "acme", "seat_id": "s1", "holder": "u2", "transferred_at": "2026-03-03T09:00:00Z"});
    assert!(deliver(&h, &[again], "2026-03-03T10:05:00Z")
        .await
        .is_empty());
    assert!(email().await.is_authorized());

    // WHEN the seat is parked: u2's authorization ends, nobody holds it
    let parked = serde_json::json!({"contract_id": "acme", "seat_id": "s1", "parked_at": "2026-03-04T09:00:00Z"});
    let malformed = serde_json::json!({"contract_id": "acme", "seat_id": "s1", "parked_at": "2026-03-04T09:00:00Z", "by": "x"});
    assert_eq!(
        deliver(&h, &[parked, malformed], "2026-03-04T09:00:05Z").await,
        vec!["r1"],
        "a detail with an unknown field is refused, alone"
    );
    assert_eq!(
        email().await.state,
        ConnectionState::Deauthorized {
            reason: DeauthorizationReason::SeatParked
        }
    );
    let seat = stores.seats.get(&acme, &s1).await.unwrap().unwrap().value;
    assert_eq!(seat.holder, None);
}
