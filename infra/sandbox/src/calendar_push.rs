//! Calendar changes pushed as the providers push them: a Graph change notification to
//! each subscription on the owner's events (`me/events`, `users/{id}/events`, with or
//! without `calendar/`), `#Microsoft.Graph.Event` resource data (protocols.md §1.4), and a
//! bodiless Google Calendar notification to each channel the owner opened with
//! `events.watch` (`X-Goog-Resource-State: exists`, §3.3).
//!
//! Like mail changes, the pushes go out before the change's call returns and are recorded
//! (so `/sandbox/pushes` shows them and `/sandbox/pushes/replay` sends them again). The
//! `sync` message Google sends when a channel opens is not sent: the channel is not yet
//! stored by whoever opened it, so it would only be refused.

use jiff::Timestamp;
use serde_json::json;

use crate::push::GraphSubscription;
use crate::Sandbox;

/// What the Calendar channels answer points at.
pub const RESOURCE_URI: &str = "https://www.googleapis.com/calendar/v3/calendars/primary/events";

/// A Google Calendar push channel as the sandbox keeps it.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub owner: String,
    pub address: String,
    pub token: Option<String>,
    pub resource_id: String,
    /// Milliseconds since the epoch, as text (the watch answer's `expiration`).
    pub expiration: String,
    /// The last `X-Goog-Message-Number` sent (1 stands for the unsent `sync`).
    pub message_number: u64,
}

/// How an event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventChange {
    Created,
    Updated,
    Deleted,
}

impl EventChange {
    fn graph(self) -> &'static str {
        match self {
            EventChange::Created => "created",
            EventChange::Updated => "updated",
            EventChange::Deleted => "deleted",
        }
    }
}

/// Whether a Graph subscription watches its owner's events.
pub fn watches_events(sub: &GraphSubscription) -> bool {
    let resource = sub.resource.trim_start_matches('/').to_ascii_lowercase();
    let resource = resource.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = resource.split('/').collect();
    matches!(
        parts.as_slice(),
        ["me", "events"]
            | ["me", "calendar", "events"]
            | ["users", _, "events"]
            | ["users", _, "calendar", "events"]
    )
}

fn graph_event_notification(
    sub: &GraphSubscription,
    event_id: &str,
    change: EventChange,
    version: u64,
) -> String {
    let resource = format!("Users/oid-{}/Events/{event_id}", sub.owner);
    json!({"value": [{
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": sub.expiration,
        "changeType": change.graph(),
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": resource,
            "@odata.etag": format!("W/\"{version}\""),
            "id": event_id,
        },
        "clientState": sub.client_state,
        "tenantId": "sandbox-tenant",
    }]})
    .to_string()
}

fn channel_headers(channel: &Channel) -> Vec<(String, String)> {
    let expiration = channel
        .expiration
        .parse::<i64>()
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string());
    let mut headers = vec![
        ("x-goog-channel-id".to_owned(), channel.id.clone()),
        ("x-goog-resource-id".to_owned(), channel.resource_id.clone()),
        (
            "x-goog-resource-uri".to_owned(),
            format!("{RESOURCE_URI}?alt=json"),
        ),
        ("x-goog-resource-state".to_owned(), "exists".to_owned()),
        (
            "x-goog-message-number".to_owned(),
            channel.message_number.to_string(),
        ),
    ];
    if let Some(token) = &channel.token {
        headers.push(("x-goog-channel-token".to_owned(), token.clone()));
    }
    if let Some(expiration) = expiration {
        headers.push(("x-goog-channel-expiration".to_owned(), expiration));
    }
    headers
}

impl Sandbox {
    /// Pushes a change of `owner`'s event to every Graph events subscription and Calendar
    /// channel of theirs; the answers, in the order sent.
    pub(crate) async fn calendar_changed(
        &self,
        owner: &str,
        event_id: &str,
        change: EventChange,
        version: u64,
    ) -> Vec<Option<u16>> {
        let mut outgoing = Vec::new();
        {
            let mut w = self.lock();
            for sub in w.subscriptions.values() {
                if sub.owner == owner && watches_events(sub) {
                    let body = graph_event_notification(sub, event_id, change, version);
                    outgoing.push((sub.notification_url.clone(), vec![], body));
                }
            }
            for channel in w.channels.values_mut() {
                if channel.owner == owner {
                    // Increasing, not consecutive, as Google numbers them.
                    channel.message_number += fastrand::u64(1..=3);
                    outgoing.push((
                        channel.address.clone(),
                        channel_headers(channel),
                        String::new(),
                    ));
                }
            }
        }
        let mut answers = Vec::new();
        for (url, headers, body) in outgoing {
            let done = crate::push::send(&self.http, url, headers, body).await;
            answers.push(done.status);
            self.lock().pushes.push(done);
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(resource: &str) -> GraphSubscription {
        GraphSubscription {
            id: "s".into(),
            owner: "o@x.example".into(),
            resource: resource.into(),
            notification_url: "http://127.0.0.1/hook".into(),
            lifecycle_url: None,
            client_state: None,
            expiration: serde_json::Value::Null,
        }
    }

    #[test]
    fn only_event_subscriptions_hear_of_calendar_changes() {
        for yes in [
            "me/events",
            "/me/calendar/events",
            "users/oid-1/events",
            "Users/x/Calendar/Events",
        ] {
            assert!(watches_events(&sub(yes)), "{yes}");
        }
        for no in [
            "me/messages",
            "me/mailFolders('inbox')/messages",
            "me/eventsx",
        ] {
            assert!(!watches_events(&sub(no)), "{no}");
        }
    }
}
