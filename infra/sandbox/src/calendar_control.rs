//! Driving calendars: a test puts the owner's own appointments in (busy, tentative, away
//! or free time), reads every event back as the recruiter would see it (the interview the
//! scheduler booked: its subject, times, attendees, join link, location), removes one by
//! hand, and sets how the calendar misbehaves ([`CalendarSettings`]).
//!
//! Offered in process and over HTTP under `/sandbox/calendars/{address}/...`; a change
//! pushes to whoever watches the calendar before the call returns, as for mail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::calendar::{
    base32hex_id, Attendee, CalEvent, CalendarSettings, Origin, SettingsChange, ShowAs, Video,
};
use crate::calendar_push::EventChange;
use crate::mailbox::Person;
use crate::Sandbox;

/// An appointment to put in a calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    #[serde(default = "busy_subject")]
    pub subject: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// `busy` (the default), `tentative`, `oof` or `free`.
    #[serde(default)]
    pub show_as: ShowAs,
    /// `"Jane Doe <jane@example.org>"` or `"jane@example.org"`.
    #[serde(default)]
    pub attendees: Vec<String>,
    pub location: Option<String>,
    #[serde(default)]
    pub body: String,
    /// Who organized it: the owner when absent (an event organized by someone else cannot
    /// be cancelled by the owner through Graph).
    pub organizer: Option<String>,
    /// The provider drops this change's pushes.
    #[serde(default)]
    pub silent: bool,
}

fn busy_subject() -> String {
    "Busy".to_owned()
}

/// An event as the sandbox holds it, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: String,
    pub subject: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_zone: String,
    pub show_as: ShowAs,
    /// `confirmed` or `cancelled` (no longer busy).
    pub status: &'static str,
    pub organizer: String,
    pub attendees: Vec<Attendee>,
    pub location: Option<String>,
    pub body: String,
    /// `none`, `teams`, `teams_refused` (asked, none made) or `meet`.
    pub video: &'static str,
    /// Meet only: `pending`, `success` or `failure`, as the next answer would say it
    /// (listing counts no read).
    pub conference_status: Option<&'static str>,
    /// The Teams or Meet link, once there is one.
    pub join_url: Option<String>,
    pub origin: Origin,
    pub transaction_id: Option<String>,
    pub send_updates: Option<String>,
}

impl EventView {
    pub fn of(e: &CalEvent) -> EventView {
        let (video, conference_status) = match &e.video {
            Video::None => ("none", None),
            Video::Teams { .. } => ("teams", None),
            Video::TeamsRefused => ("teams_refused", None),
            Video::Meet(m) => ("meet", Some(m.status())),
        };
        EventView {
            id: e.id.clone(),
            subject: e.subject.clone(),
            start: e.start,
            end: e.end,
            time_zone: e.time_zone.clone(),
            show_as: e.show_as,
            status: if e.cancelled {
                "cancelled"
            } else {
                "confirmed"
            },
            organizer: e.organizer.clone(),
            attendees: e.attendees.clone(),
            location: e.location.clone(),
            body: e.body.clone(),
            video,
            conference_status,
            join_url: e.join_url(),
            origin: e.origin,
            transaction_id: e.transaction_id.clone(),
            send_updates: e.send_updates.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarControlError {
    #[error("an event must end after it starts")]
    Empty,
    #[error("no event {0} in that calendar")]
    NoSuchEvent(String),
}

/// A new event's fields every API fills in the same way.
pub(crate) fn new_event(id: String, owner: &str, start: Timestamp, end: Timestamp) -> CalEvent {
    let now = Timestamp::now();
    CalEvent {
        id,
        subject: String::new(),
        body: String::new(),
        body_type: "text".to_owned(),
        start,
        end,
        time_zone: "UTC".to_owned(),
        show_as: ShowAs::Busy,
        attendees: vec![],
        location: None,
        organizer: owner.to_owned(),
        video: Video::None,
        cancelled: false,
        origin: Origin::Sandbox,
        transaction_id: None,
        send_updates: None,
        allow_new_time_proposals: true,
        created: now,
        modified: now,
        version: 1,
    }
}

pub(crate) fn attendee(text: &str) -> Attendee {
    let p = Person::parse(text);
    Attendee {
        address: p.address,
        name: p.name,
    }
}

impl Sandbox {
    /// Puts an appointment in `address`'s calendar and pushes the change.
    pub async fn seed_event(
        &self,
        address: &str,
        event: NewEvent,
    ) -> Result<(EventView, Vec<Option<u16>>), CalendarControlError> {
        if event.end <= event.start {
            return Err(CalendarControlError::Empty);
        }
        let owner = address.to_lowercase();
        let id = base32hex_id(self.next_number());
        let mut e = new_event(id.clone(), &owner, event.start, event.end);
        e.subject = event.subject;
        e.show_as = event.show_as;
        e.attendees = event.attendees.iter().map(|a| attendee(a)).collect();
        e.location = event.location;
        e.body = event.body;
        if let Some(organizer) = event.organizer {
            e.organizer = organizer.to_lowercase();
        }
        let view = EventView::of(&e);
        self.lock()
            .calendars
            .entry(owner.clone())
            .or_default()
            .events
            .push(e);
        let pushes = if event.silent {
            vec![]
        } else {
            self.calendar_changed(&owner, &id, EventChange::Created, 1)
                .await
        };
        Ok((view, pushes))
    }

    /// `address`'s events by start, cancelled ones included.
    pub fn events(&self, address: &str) -> Vec<EventView> {
        let w = self.lock();
        let mut views: Vec<EventView> = w
            .calendars
            .get(&address.to_lowercase())
            .map(|c| c.events.iter().map(EventView::of).collect())
            .unwrap_or_default();
        views.sort_by_key(|v| (v.start, v.end));
        views
    }

    /// Removes an event from `address`'s calendar, as its owner deleting it by hand, and
    /// pushes the change.
    pub async fn remove_event(
        &self,
        address: &str,
        id: &str,
    ) -> Result<Vec<Option<u16>>, CalendarControlError> {
        let owner = address.to_lowercase();
        let version = {
            let mut w = self.lock();
            let calendar = w.calendars.entry(owner.clone()).or_default();
            let at = calendar
                .events
                .iter()
                .position(|e| e.id == id)
                .ok_or_else(|| CalendarControlError::NoSuchEvent(id.to_owned()))?;
            calendar.events.remove(at).version + 1
        };
        Ok(self
            .calendar_changed(&owner, id, EventChange::Deleted, version)
            .await)
    }

    /// Changes how `address`'s calendar behaves; the settings that result.
    pub fn calendar_settings(&self, address: &str, change: &SettingsChange) -> CalendarSettings {
        let mut w = self.lock();
        let settings = &mut w
            .calendars
            .entry(address.to_lowercase())
            .or_default()
            .settings;
        settings.apply(change);
        settings.clone()
    }
}

fn refused(status: StatusCode, e: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

/// `POST /sandbox/calendars/{address}/events` with a [`NewEvent`]: 201 with the
/// [`EventView`] and `pushes`.
async fn seed(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(event): Json<NewEvent>,
) -> Response {
    match s.seed_event(&address, event).await {
        Ok((view, pushes)) => {
            let mut body = serde_json::to_value(view).unwrap_or_default();
            body["pushes"] = json!(pushes);
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(e) => refused(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET /sandbox/calendars/{address}/events`: `{"events": [EventView, ...]}`.
async fn list(State(s): State<Sandbox>, Path(address): Path<String>) -> Response {
    Json(json!({"events": s.events(&address)})).into_response()
}

/// `DELETE /sandbox/calendars/{address}/events/{id}`: `{"pushes": [...]}`, 404 if absent.
async fn remove(State(s): State<Sandbox>, Path((address, id)): Path<(String, String)>) -> Response {
    match s.remove_event(&address, &id).await {
        Ok(pushes) => Json(json!({"pushes": pushes})).into_response(),
        Err(e) => refused(StatusCode::NOT_FOUND, e),
    }
}

/// `PUT /sandbox/calendars/{address}/settings` with any of `unreadable`,
/// `teams_available`, `meet` (`allowed`, `refused`, `failing`), `meet_pending_reads`:
/// the settings that result.
async fn put_settings(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(change): Json<SettingsChange>,
) -> Response {
    Json(s.calendar_settings(&address, &change)).into_response()
}

/// `GET /sandbox/calendars/{address}/settings`.
async fn get_settings(State(s): State<Sandbox>, Path(address): Path<String>) -> Response {
    Json(s.calendar_settings(&address, &SettingsChange::default())).into_response()
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/calendars/{address}/events", post(seed).get(list))
        .route("/sandbox/calendars/{address}/events/{id}", delete(remove))
        .route(
            "/sandbox/calendars/{address}/settings",
            get(get_settings).put(put_settings),
        )
}
