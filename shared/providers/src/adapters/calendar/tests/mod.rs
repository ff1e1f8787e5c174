//! The calendar adapters against a stub speaking Graph's, Google Calendar's and Zoom's
//! documented shapes: what each request carries, how each answer reads, and which kind
//! each failure is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{CalendarError, CalendarErrorKind, EventRequest, ProviderVideo};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use wiremock::{MockServer, Request, ResponseTemplate};

use super::{ProviderCalendars, ProviderZoom};
use crate::{http_client, RetryPolicy};

const OWNER: &str = "rita@acme.example";
const ACCESS: &str = "access-token";
/// The lowercase hex SHA-256 of a booking id, as the scheduler derives event keys.
const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Two attempts, with waits short enough for a test and a `Retry-After` above the cap
/// handed back rather than slept through.
fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

async fn calendars() -> (MockServer, ProviderCalendars) {
    let server = MockServer::start().await;
    let calendars = ProviderCalendars {
        http: http_client().unwrap(),
        graph_base: format!("{}/graph", server.uri()),
        calendar_base: format!("{}/calendar", server.uri()),
        retry: retry(),
    };
    (server, calendars)
}

async fn zoom() -> (MockServer, ProviderZoom) {
    let server = MockServer::start().await;
    let zoom = ProviderZoom {
        http: http_client().unwrap(),
        zoom_base: format!("{}/zoom", server.uri()),
        retry: retry(),
    };
    (server, zoom)
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn owner() -> EmailAddress {
    EmailAddress::parse(OWNER).unwrap()
}

fn access() -> SecretString {
    SecretString::from(ACCESS)
}

fn interview(video: ProviderVideo) -> EventRequest {
    EventRequest {
        key: KEY.to_owned(),
        subject: "Interview: Jane Doe".to_owned(),
        description: "Second round with the hiring manager.".to_owned(),
        start: t("2026-01-12T15:00:00Z"),
        end: t("2026-01-12T15:45:00Z"),
        time_zone: "Europe/Paris".to_owned(),
        attendee: EmailAddress::parse("jane@cand.example").unwrap(),
        attendee_name: Some("Jane Doe".to_owned()),
        location: None,
        video,
    }
}

fn ok(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[track_caller]
fn assert_kind(err: &CalendarError, kind: CalendarErrorKind) {
    assert_eq!(err.kind, kind, "{err:?}");
}

mod google;
mod graph;
mod zoom;
