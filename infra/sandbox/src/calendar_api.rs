//! Google Calendar (protocols.md §3.1–§3.3; protocols-additions.md §7), under the
//! sandbox's Calendar base `/calendar` (Google's `/calendar/v3`):
//!
//! - `GET /calendars/{primary|address}`: the caller's calendar, with
//!   `conferenceProperties.allowedConferenceSolutionTypes` (`hangoutsMeet` unless Meet is
//!   refused for the account);
//! - `POST /freeBusy`: busy ranges (merged, clipped to the window) per item, `primary` and
//!   the account's address both naming the caller's calendar; `errors: [notFound]` for a
//!   calendar that cannot be read or that the sandbox does not know;
//! - `POST /calendars/{id}/events`: 200 and the event; a client `id` must be base32hex of 5
//!   to 1024 characters (400) and not taken (409, deleted events included); with
//!   `conferenceDataVersion=1` a `hangoutsMeet` create request makes a conference that
//!   answers `pending` first, then `success` (entry point, `conferenceId`, `hangoutLink`) or
//!   `failure`; without it `conferenceData` is ignored; Meet refused is 400 `invalid`
//!   "Invalid conference type value." and no event;
//! - `GET`, `PATCH` (start, end and the rest; the conference kept, or a new one for a new
//!   `requestId` with `conferenceDataVersion=1`), `DELETE` (204; 410 once deleted)
//!   `/calendars/{id}/events/{eventId}`; a deleted event still reads, `status: cancelled`;
//! - `POST /calendars/{id}/events/watch` and `POST /channels/stop`: push channels
//!   ([`crate::calendar_push`]).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::calendar::{
    base32hex_id, instant, utc_time, valid_google_id, zone, Attendee, CalEvent, Meet, MeetMode,
    MeetOutcome, Origin, ShowAs, Video,
};
use crate::calendar_control::new_event;
use crate::calendar_push::{Channel, EventChange, RESOURCE_URI};
use crate::{caller, unauthorized, week_from_now_ms, Sandbox};

fn google_error(status: StatusCode, reason: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            "code": status.as_u16(),
            "message": message,
        }})),
    )
        .into_response()
}

fn not_found() -> Response {
    google_error(StatusCode::NOT_FOUND, "notFound", "Not Found")
}

fn invalid(message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, "invalid", message)
}

fn meet_refused() -> Response {
    invalid("Invalid conference type value.")
}

/// The caller, when `calendar` names their calendar (`primary` or their address).
fn owner_of(s: &Sandbox, headers: &HeaderMap, calendar: &str) -> Result<String, Box<Response>> {
    let Some((owner, _)) = caller(s, headers) else {
        return Err(Box::new(unauthorized()));
    };
    if calendar == "primary" || calendar.eq_ignore_ascii_case(&owner) {
        Ok(owner)
    } else {
        Err(Box::new(not_found()))
    }
}

/// An instant from `{dateTime, timeZone}` (an offset, or a wall-clock time in the zone).
fn when(value: &Value, field: &str) -> Result<Timestamp, Box<Response>> {
    let Some(date_time) = value["dateTime"].as_str() else {
        return Err(Box::new(google_error(
            StatusCode::BAD_REQUEST,
            "required",
            &format!("Missing {field} time."),
        )));
    };
    let time_zone = value["timeZone"].as_str().unwrap_or("UTC");
    if zone(time_zone).is_none() {
        return Err(Box::new(invalid(&format!(
            "Invalid time zone definition for {field} time."
        ))));
    }
    instant(date_time, time_zone)
        .ok_or_else(|| Box::new(invalid(&format!("Invalid {field} time."))))
}

/// The event as Google answers it; a pending conference counts this answer as a read.
fn event_json(e: &mut CalEvent) -> Value {
    let when = |ts: Timestamp| json!({"dateTime": utc_time(ts), "timeZone": e.time_zone});
    let attendees: Vec<Value> = e
        .attendees
        .iter()
        .map(|a| {
            let mut v = json!({"email": a.address, "responseStatus": "needsAction"});
            if let Some(name) = &a.name {
                v["displayName"] = json!(name);
            }
            v
        })
        .collect();
    let mut v = json!({
        "kind": "calendar#event",
        "etag": format!("\"{}\"", 3_000_000_000_000u64 + e.version),
        "id": e.id,
        "status": if e.cancelled { "cancelled" } else { "confirmed" },
        "htmlLink": format!("https://www.google.com/calendar/event?eid={}", e.id),
        "created": utc_time(e.created),
        "updated": utc_time(e.modified),
        "summary": e.subject,
        "description": e.body,
        "creator": {"email": e.organizer, "self": true},
        "organizer": {"email": e.organizer, "self": true},
        "start": when(e.start),
        "end": when(e.end),
        "iCalUID": format!("{}@google.com", e.id),
        "sequence": 0,
        "attendees": attendees,
        "transparency": if e.show_as == ShowAs::Free { "transparent" } else { "opaque" },
        "eventType": if e.show_as == ShowAs::Oof { "outOfOffice" } else { "default" },
    });
    if let Some(location) = &e.location {
        v["location"] = json!(location);
    }
    if let Video::Meet(meet) = &mut e.video {
        let status = meet.read();
        let mut conference = json!({"createRequest": {
            "requestId": meet.request_id,
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
            "status": {"statusCode": status},
        }});
        if status == "success" {
            let uri = meet.join_url();
            conference["entryPoints"] = json!([{
                "entryPointType": "video", "uri": uri, "label": uri.trim_start_matches("https://"),
            }]);
            conference["conferenceSolution"] = json!({
                "key": {"type": "hangoutsMeet"}, "name": "Google Meet",
                "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
            });
            conference["conferenceId"] = json!(meet.code);
            v["hangoutLink"] = json!(uri);
        }
        v["conferenceData"] = conference;
    }
    v
}

/// A Meet conference code: `abc-defg-hij`.
fn meet_code(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed ^ fastrand::u64(..));
    let mut part = |n: usize| -> String { (0..n).map(|_| rng.lowercase()).collect() };
    format!("{}-{}-{}", part(3), part(4), part(3))
}

/// The conference a create request asks for, or the refusal; `None` when none is asked
/// for (or `conferenceDataVersion` is not 1).
fn conference(
    s: &Sandbox,
    body: &Value,
    version: u8,
    settings: &crate::calendar::CalendarSettings,
) -> Result<Option<Meet>, Box<Response>> {
    let request = &body["conferenceData"]["createRequest"];
    if version != 1 || !request.is_object() {
        return Ok(None);
    }
    let kind = request["conferenceSolutionKey"]["type"].as_str();
    if kind != Some("hangoutsMeet") || settings.meet == MeetMode::Refused {
        return Err(Box::new(meet_refused()));
    }
    Ok(Some(Meet {
        request_id: request["requestId"].as_str().unwrap_or_default().to_owned(),
        code: meet_code(s.next_number()),
        outcome: if settings.meet == MeetMode::Failing {
            MeetOutcome::Failure
        } else {
            MeetOutcome::Success
        },
        pending_reads: settings.meet_pending_reads,
    }))
}

/// Reads an event's writable fields from an insert or patch body into `e`.
fn apply_fields(e: &mut CalEvent, body: &Value) -> Result<(), Box<Response>> {
    if let Some(summary) = body["summary"].as_str() {
        e.subject = summary.to_owned();
    }
    if let Some(description) = body["description"].as_str() {
        e.body = description.to_owned();
    }
    if let Some(location) = body["location"].as_str() {
        e.location = Some(location.to_owned()).filter(|l| !l.is_empty());
    }
    if !body["start"].is_null() {
        e.start = when(&body["start"], "start")?;
        e.time_zone = body["start"]["timeZone"]
            .as_str()
            .unwrap_or("UTC")
            .to_owned();
    }
    if !body["end"].is_null() {
        e.end = when(&body["end"], "end")?;
    }
    if e.end < e.start {
        return Err(Box::new(google_error(
            StatusCode::BAD_REQUEST,
            "timeRangeEmpty",
            "The specified time range is empty.",
        )));
    }
    match body["transparency"].as_str() {
        Some("transparent") => e.show_as = ShowAs::Free,
        Some("opaque") if e.show_as == ShowAs::Free => e.show_as = ShowAs::Busy,
        _ => {}
    }
    if let Some(list) = body["attendees"].as_array() {
        e.attendees = list
            .iter()
            .filter_map(|a| {
                Some(Attendee {
                    address: a["email"].as_str()?.to_owned(),
                    name: a["displayName"].as_str().map(str::to_owned),
                })
            })
            .collect();
    }
    Ok(())
}

/// `conferenceDataVersion` (0 or 1) and `sendUpdates` of a write, or the refusal.
fn write_options(q: &HashMap<String, String>) -> Result<(u8, Option<String>), Box<Response>> {
    let version = match q.get("conferenceDataVersion").map(String::as_str) {
        None | Some("0") => 0,
        Some("1") => 1,
        Some(_) => return Err(Box::new(invalid("Invalid conferenceDataVersion value."))),
    };
    let send = q.get("sendUpdates").cloned();
    if send
        .as_deref()
        .is_some_and(|v| !matches!(v, "all" | "externalOnly" | "none"))
    {
        return Err(Box::new(invalid("Invalid value for sendUpdates.")));
    }
    Ok((version, send))
}

async fn insert(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(calendar): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let owner = match owner_of(&s, &headers, &calendar) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let (version, send_updates) = match write_options(&q) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let id = match body["id"].as_str() {
        Some(id) if !valid_google_id(id) => return invalid("Invalid resource id value."),
        Some(id) => id.to_owned(),
        None => base32hex_id(s.next_number()),
    };
    if body["start"].is_null() || body["end"].is_null() {
        let missing = if body["start"].is_null() {
            "start"
        } else {
            "end"
        };
        return google_error(
            StatusCode::BAD_REQUEST,
            "required",
            &format!("Missing {missing} time."),
        );
    }
    let mut e = new_event(
        id.clone(),
        &owner,
        Timestamp::UNIX_EPOCH,
        Timestamp::UNIX_EPOCH,
    );
    if let Err(r) = apply_fields(&mut e, &body) {
        return *r;
    }
    e.origin = Origin::Google;
    e.send_updates = send_updates;
    let settings = s
        .lock()
        .calendars
        .entry(owner.clone())
        .or_default()
        .settings
        .clone();
    match conference(&s, &body, version, &settings) {
        Ok(Some(meet)) => e.video = Video::Meet(meet),
        Ok(None) => {}
        Err(r) => return *r,
    }
    let answer = {
        let mut w = s.lock();
        let calendar = w.calendars.entry(owner.clone()).or_default();
        if calendar.get(&id).is_some() {
            return google_error(
                StatusCode::CONFLICT,
                "duplicate",
                "The requested identifier already exists.",
            );
        }
        let answer = event_json(&mut e);
        calendar.events.push(e);
        answer
    };
    s.calendar_changed(&owner, &id, EventChange::Created, 1)
        .await;
    Json(answer).into_response()
}

async fn read(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((calendar, id)): Path<(String, String)>,
) -> Response {
    let owner = match owner_of(&s, &headers, &calendar) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let mut w = s.lock();
    match w.calendars.get_mut(&owner).and_then(|c| c.get_mut(&id)) {
        Some(e) => Json(event_json(e)).into_response(),
        None => not_found(),
    }
}

async fn patch(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((calendar, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let owner = match owner_of(&s, &headers, &calendar) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let (version, send_updates) = match write_options(&q) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let found = {
        let w = s.lock();
        w.calendars
            .get(&owner)
            .and_then(|c| Some((c.get(&id)?.clone(), c.settings.clone())))
    };
    let Some((mut e, settings)) = found else {
        return not_found();
    };
    if e.cancelled {
        return google_error(StatusCode::GONE, "deleted", "Resource has been deleted");
    }
    if let Err(r) = apply_fields(&mut e, &body) {
        return *r;
    }
    // A new requestId asks for a new conference; the one already asked for is ignored.
    let current = match &e.video {
        Video::Meet(m) => Some(m.request_id.clone()),
        _ => None,
    };
    let asked = body["conferenceData"]["createRequest"]["requestId"].as_str();
    if asked.is_some() && asked != current.as_deref() {
        match conference(&s, &body, version, &settings) {
            Ok(Some(meet)) => e.video = Video::Meet(meet),
            Ok(None) => {}
            Err(r) => return *r,
        }
    }
    if send_updates.is_some() {
        e.send_updates = send_updates;
    }
    e.touch();
    let changed = e.version;
    let answer = {
        let mut w = s.lock();
        let Some(slot) = w.calendars.get_mut(&owner).and_then(|c| c.get_mut(&id)) else {
            return not_found();
        };
        *slot = e;
        event_json(slot)
    };
    s.calendar_changed(&owner, &id, EventChange::Updated, changed)
        .await;
    Json(answer).into_response()
}

async fn delete(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((calendar, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let owner = match owner_of(&s, &headers, &calendar) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let (_, send_updates) = match write_options(&q) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let version = {
        let mut w = s.lock();
        let Some(e) = w.calendars.get_mut(&owner).and_then(|c| c.get_mut(&id)) else {
            return not_found();
        };
        if e.cancelled {
            return google_error(StatusCode::GONE, "deleted", "Resource has been deleted");
        }
        e.cancelled = true;
        if send_updates.is_some() {
            e.send_updates = send_updates;
        }
        e.touch();
        e.version
    };
    s.calendar_changed(&owner, &id, EventChange::Deleted, version)
        .await;
    StatusCode::NO_CONTENT.into_response()
}

async fn free_busy(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some((owner, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    let bound = |field: &str| {
        body[field]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
    };
    let (Some(from), Some(to)) = (bound("timeMin"), bound("timeMax")) else {
        return google_error(
            StatusCode::BAD_REQUEST,
            "required",
            "timeMin and timeMax are required RFC 3339 date-times.",
        );
    };
    if to <= from {
        return google_error(
            StatusCode::BAD_REQUEST,
            "timeRangeEmpty",
            "The specified time range is empty.",
        );
    }
    let items = body["items"].as_array().cloned().unwrap_or_default();
    if items.len() > 50 {
        return invalid("Too many calendars requested (at most 50).");
    }
    let mut calendars = Map::new();
    let w = s.lock();
    for item in &items {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        let address = if id == "primary" {
            owner.clone()
        } else {
            id.to_lowercase()
        };
        let known = w.accounts.contains_key(&address) || w.calendars.contains_key(&address);
        let calendar = w.calendars.get(&address);
        let answer = match calendar {
            _ if !known => None,
            Some(c) if c.settings.unreadable => None,
            Some(c) => Some(c.busy_ranges(from, to)),
            None => Some(vec![]),
        };
        let entry = match answer {
            Some(ranges) => {
                let busy: Vec<Value> = ranges
                    .into_iter()
                    .map(|(a, b)| json!({"start": utc_time(a), "end": utc_time(b)}))
                    .collect();
                json!({"busy": busy})
            }
            None => json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}),
        };
        calendars.insert(id.to_owned(), entry);
    }
    Json(json!({
        "kind": "calendar#freeBusy",
        "timeMin": utc_time(from),
        "timeMax": utc_time(to),
        "calendars": calendars,
    }))
    .into_response()
}

/// `GET /calendar/calendars/{primary|address}`.
async fn calendar_get(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(calendar): Path<String>,
) -> Response {
    let owner = match owner_of(&s, &headers, &calendar) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let refused = s
        .lock()
        .calendars
        .get(&owner)
        .is_some_and(|c| c.settings.meet == MeetMode::Refused);
    let allowed = if refused {
        json!([])
    } else {
        json!(["hangoutsMeet"])
    };
    Json(json!({
        "kind": "calendar#calendar", "id": owner, "summary": owner, "timeZone": "Europe/Berlin",
        "conferenceProperties": {"allowedConferenceSolutionTypes": allowed},
    }))
    .into_response()
}

/// `POST /calendar/calendars/{id}/events/watch`: opens a channel on the caller's events.
async fn watch(State(s): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let Some((owner, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    let resource = s.next("resource");
    let channel = Channel {
        id: body["id"].as_str().unwrap_or_default().to_owned(),
        owner,
        address: body["address"].as_str().unwrap_or_default().to_owned(),
        token: body["token"].as_str().map(str::to_owned),
        resource_id: resource.clone(),
        expiration: week_from_now_ms(),
        message_number: 1,
    };
    let answer = json!({
        "kind": "api#channel", "id": body["id"], "resourceId": resource,
        "resourceUri": RESOURCE_URI, "token": body["token"], "expiration": channel.expiration,
    });
    s.lock().channels.insert(channel.id.clone(), channel);
    Json(answer).into_response()
}

/// `POST /calendar/channels/stop {"id", "resourceId"}`: 204 (whether or not it was open).
async fn stop(State(s): State<Sandbox>, body: axum::body::Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(id) = body["id"].as_str() {
        let mut w = s.lock();
        let matches = w.channels.get(id).is_some_and(|c| {
            body["resourceId"]
                .as_str()
                .is_none_or(|r| r == c.resource_id)
        });
        if matches {
            w.channels.remove(id);
        }
    }
    StatusCode::NO_CONTENT
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/calendar/calendars/{calendar}", get(calendar_get))
        .route("/calendar/freeBusy", post(free_busy))
        .route("/calendar/calendars/{calendar}/events", post(insert))
        .route("/calendar/calendars/{calendar}/events/watch", post(watch))
        .route(
            "/calendar/calendars/{calendar}/events/{event}",
            get(read).patch(patch).delete(delete),
        )
        .route("/calendar/channels/stop", post(stop))
}
