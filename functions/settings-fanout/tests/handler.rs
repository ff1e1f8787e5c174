//! The handler fed SQS events as Lambda delivers them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/connect/tests/common/mod.rs"]
mod common;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use common::{ts, Harness, NOW};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::ContractId;

fn record(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m
}

#[tokio::test]
async fn a_malformed_page_fails_alone_and_a_valid_one_continues_the_fan_out() {
    let h = Harness::new("fanout-handler").await;
    let acme = ContractId::parse("acme").unwrap();
    h.connector
        .change_settings(
            &acme,
            SettingsUpdate {
                provider: Some(Provider::Microsoft365),
                email_access: Some(EmailAccess::SendAndView),
                calendar_enabled: None,
            },
            ts(NOW),
        )
        .await
        .unwrap();
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
    let response = settings_fanout::handle(&h.connector, event, ts(NOW)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["bad"]);
}
