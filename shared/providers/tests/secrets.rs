//! Tokens and client states never show in `Debug` output, which is what ends up in logs
//! and panic messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hiresync_providers::{
    http_client, resources, Api, GmailClient, GoogleCalendarClient, GraphClient,
    SubscriptionRequest, WatchRequest, ALL_CHANGES, CALENDAR_BASE, GMAIL_BASE, GRAPH_BASE,
};
use secrecy::SecretString;

const TOKEN: &str = "ya29.super-secret-access-token";
const CLIENT_STATE: &str = "super-secret-client-state";
const CHANNEL_TOKEN: &str = "super-secret-channel-token";

fn assert_hidden(what: &str, debug: String) {
    for secret in [TOKEN, CLIENT_STATE, CHANNEL_TOKEN, "super-secret"] {
        assert!(!debug.contains(secret), "{what} shows a secret: {debug}");
    }
    assert!(debug.contains("REDACTED"), "{what}: {debug}");
}

#[test]
fn debug_output_hides_every_secret() {
    let api = Api::new(http_client().unwrap(), SecretString::from(TOKEN));
    assert_hidden("Api", format!("{api:?}"));
    assert_hidden(
        "GraphClient",
        format!("{:?}", GraphClient::new(api.clone(), GRAPH_BASE).unwrap()),
    );
    assert_hidden(
        "GmailClient",
        format!("{:#?}", GmailClient::new(api.clone(), GMAIL_BASE).unwrap()),
    );
    assert_hidden(
        "GoogleCalendarClient",
        format!(
            "{:?}",
            GoogleCalendarClient::new(api, CALENDAR_BASE).unwrap()
        ),
    );
    let subscription = SubscriptionRequest {
        change_type: ALL_CHANGES.to_owned(),
        notification_url: "https://api.example.com/hooks/graph".to_owned(),
        lifecycle_notification_url: "https://api.example.com/hooks/graph-lifecycle".to_owned(),
        resource: resources::INBOX_MESSAGES.to_owned(),
        expiration: "2026-01-08T08:00:00Z".parse().unwrap(),
        client_state: SecretString::from(CLIENT_STATE),
    };
    assert_hidden("SubscriptionRequest", format!("{subscription:?}"));
    let watch = WatchRequest {
        channel_id: "c1".to_owned(),
        address: "https://api.example.com/hooks/gcal".to_owned(),
        token: SecretString::from(CHANNEL_TOKEN),
        ttl_seconds: 604_800,
    };
    assert_hidden("WatchRequest", format!("{watch:?}"));
}

#[test]
fn a_base_url_that_cannot_take_paths_is_refused_at_construction() {
    let api = Api::new(http_client().unwrap(), SecretString::from(TOKEN));
    assert!(GraphClient::new(api.clone(), "mailto:ops@example.com").is_err());
    assert!(GmailClient::new(api, "gmail.googleapis.com").is_err());
}
