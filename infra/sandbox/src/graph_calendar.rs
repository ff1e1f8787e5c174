//! Graph's calendar events (protocols.md §1.12; protocols-additions.md §8), under the
//! sandbox's Graph base `/graph` (Graph's `/v1.0`); free/busy and the calendar itself are
//! in `graph_schedule`:
//!
//! - `POST /me/events` (and `/me/calendar/events`, `/users/{id}/...`): 201 and the event;
//!   a repeated `transactionId` answers the event it made first (201 again); a Teams
//!   meeting when asked for (`isOnlineMeeting`, `teamsForBusiness`), none when the account
//!   has no Teams (`isOnlineMeeting: false`, `onlineMeetingProvider: unknown`, no error);
//! - `GET`, `PATCH` (200 and the event, its meeting kept unless the new `body` drops the
//!   join link), `DELETE` (204) `/me/events/{id}`, and `POST /me/events/{id}/cancel` (202,
//!   organizer only; the event stays, `isCancelled`, no longer busy).
//!
//! Instants are answered in UTC (`Prefer: outlook.timezone` is not honoured); requests
//! may name UTC, an IANA zone or a few common Windows zones.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::calendar::{
    base32hex_id, graph_time, instant, zone, Attendee, CalEvent, Origin, ShowAs, Video,
};
use crate::calendar_control::new_event;
use crate::calendar_push::EventChange;
use crate::{caller, inactive, unauthorized, Behaviour, Sandbox};

pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

pub(crate) fn bad_request(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
}

fn not_found() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// The signed-in account, or the answer to give instead.
pub(crate) fn owner(s: &Sandbox, headers: &HeaderMap) -> Result<String, Box<Response>> {
    match caller(s, headers) {
        Some((_, Behaviour::InactiveMailbox)) => Err(Box::new(inactive())),
        Some((address, _)) => Ok(address),
        None => Err(Box::new(unauthorized())),
    }
}

/// The signed-in account when `user` names it (its address or its object id).
pub(crate) fn owner_as(
    s: &Sandbox,
    headers: &HeaderMap,
    user: &str,
) -> Result<String, Box<Response>> {
    let address = owner(s, headers)?;
    let user = user.to_lowercase();
    if user == address || user == format!("oid-{address}") {
        Ok(address)
    } else {
        Err(Box::new(graph_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )))
    }
}

/// An instant from `{dateTime, timeZone}`, or Graph's refusal.
pub(crate) fn date_time_zone(value: &Value, field: &str) -> Result<Timestamp, Box<Response>> {
    let Some(date_time) = value["dateTime"].as_str() else {
        return Err(Box::new(bad_request(&format!(
            "{field}.dateTime is required."
        ))));
    };
    let time_zone = value["timeZone"].as_str().unwrap_or("UTC");
    if zone(time_zone).is_none() {
        return Err(Box::new(graph_error(
            StatusCode::BAD_REQUEST,
            "TimeZoneNotSupportedException",
            &format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{time_zone}'."
            ),
        )));
    }
    instant(date_time, time_zone).ok_or_else(|| {
        Box::new(bad_request(&format!(
            "{field}.dateTime is not a date and time."
        )))
    })
}

pub(crate) fn utc(ts: Timestamp) -> Value {
    json!({"dateTime": graph_time(ts), "timeZone": "UTC"})
}

/// The event as Graph answers it.
fn event_json(e: &CalEvent) -> Value {
    let person = |address: &str, name: &Option<String>| json!({"name": name.clone().unwrap_or_else(|| address.to_owned()), "address": address});
    let attendees: Vec<Value> = e
        .attendees
        .iter()
        .map(|a| {
            json!({
                "type": "required",
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": person(&a.address, &a.name),
            })
        })
        .collect();
    let (is_online, provider, meeting) = match &e.video {
        Video::Teams {
            join_url,
            conference_id,
        } => (
            true,
            "teamsForBusiness",
            json!({"joinUrl": join_url, "conferenceId": conference_id, "tollNumber": null}),
        ),
        _ => (false, "unknown", Value::Null),
    };
    let location = e.location.clone().unwrap_or_default();
    let mut v = json!({
        "@odata.etag": format!("W/\"{}\"", e.version),
        "id": e.id,
        "createdDateTime": e.created.to_string(),
        "lastModifiedDateTime": e.modified.to_string(),
        "iCalUId": format!("040000008200E00074C5B7101A82E008{}", e.id.to_uppercase()),
        "subject": e.subject,
        "bodyPreview": e.body.chars().take(255).collect::<String>(),
        "body": {"contentType": e.body_type, "content": e.body},
        "start": utc(e.start),
        "end": utc(e.end),
        "originalStartTimeZone": e.time_zone,
        "originalEndTimeZone": e.time_zone,
        "isAllDay": false,
        "isCancelled": e.cancelled,
        "isOrganizer": true,
        "responseRequested": true,
        "showAs": e.show_as.graph(),
        "type": "singleInstance",
        "allowNewTimeProposals": e.allow_new_time_proposals,
        "webLink": format!("https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item", e.id),
        "location": {"displayName": location, "locationType": "default"},
        "locations": if location.is_empty() { json!([]) } else { json!([{"displayName": location}]) },
        "attendees": attendees,
        "organizer": {"emailAddress": person(&e.organizer, &None)},
        "isOnlineMeeting": is_online,
        "onlineMeetingProvider": provider,
        "onlineMeeting": meeting,
        "onlineMeetingUrl": null,
    });
    // Returned only when the create set it (§8).
    if let Some(t) = &e.transaction_id {
        v["transactionId"] = json!(t);
    }
    v
}

/// The Teams meeting Graph makes for `owner`, or none when the account has no Teams.
fn teams(s: &Sandbox, owner: &str, available: bool) -> Video {
    if !available {
        return Video::TeamsRefused;
    }
    let n = s.next_number();
    let thread = format!("19%3ameeting_{}%40thread.v2", base32hex_id(n));
    let context = format!(
        "%7b%22Tid%22%3a%22tenant-{}%22%2c%22Oid%22%3a%22oid-{}%22%7d",
        owner.rsplit_once('@').map(|(_, d)| d).unwrap_or_default(),
        owner.replace('@', "%40"),
    );
    Video::Teams {
        join_url: format!("https://teams.microsoft.com/l/meetup-join/{thread}/0?context={context}"),
        conference_id: format!("{:09}", 100_000_000 + n % 900_000_000),
    }
}

/// Graph puts the join details into the body of an event it makes a meeting for.
fn with_join_details(body: &str, body_type: &str, join_url: &str) -> String {
    if body_type == "html" {
        format!("{body}<div><p>Microsoft Teams meeting</p><a href=\"{join_url}\">Join the meeting now</a></div>")
    } else {
        format!("{body}\n\nMicrosoft Teams meeting\nJoin the meeting now: {join_url}")
    }
}

/// Reads an event's writable fields from a create or update body into `e`.
fn apply_fields(e: &mut CalEvent, body: &Value) -> Result<(), Box<Response>> {
    if let Some(subject) = body["subject"].as_str() {
        e.subject = subject.to_owned();
    }
    if body["body"].is_object() {
        e.body = body["body"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        e.body_type = body["body"]["contentType"]
            .as_str()
            .unwrap_or("text")
            .to_ascii_lowercase();
    }
    if !body["start"].is_null() {
        e.start = date_time_zone(&body["start"], "start")?;
        e.time_zone = body["start"]["timeZone"]
            .as_str()
            .unwrap_or("UTC")
            .to_owned();
    }
    if !body["end"].is_null() {
        e.end = date_time_zone(&body["end"], "end")?;
    }
    if e.end < e.start {
        return Err(Box::new(bad_request(
            "The event's end must not be before its start.",
        )));
    }
    if let Some(show_as) = body["showAs"].as_str() {
        e.show_as = ShowAs::parse_graph(show_as)
            .ok_or_else(|| Box::new(bad_request("showAs is not valid.")))?;
    }
    if let Some(location) = body["location"]["displayName"].as_str() {
        e.location = Some(location.to_owned()).filter(|l| !l.is_empty());
    }
    if let Some(list) = body["attendees"].as_array() {
        e.attendees = list
            .iter()
            .filter_map(|a| {
                let address = a["emailAddress"]["address"].as_str()?;
                Some(Attendee {
                    address: address.to_owned(),
                    name: a["emailAddress"]["name"].as_str().map(str::to_owned),
                })
            })
            .collect();
    }
    if let Some(allow) = body["allowNewTimeProposals"].as_bool() {
        e.allow_new_time_proposals = allow;
    }
    Ok(())
}

/// Whether the body asks for a Teams meeting (another provider gets none either).
fn wants_meeting(body: &Value) -> bool {
    body["isOnlineMeeting"].as_bool() == Some(true)
}

fn grant_meeting(s: &Sandbox, e: &mut CalEvent, body: &Value, owner: &str, available: bool) {
    let provider = body["onlineMeetingProvider"].as_str();
    let teams_asked = provider.is_none_or(|p| p.eq_ignore_ascii_case("teamsForBusiness"));
    e.video = if teams_asked {
        teams(s, owner, available)
    } else {
        Video::TeamsRefused
    };
    if let Video::Teams { join_url, .. } = &e.video {
        e.body = with_join_details(&e.body, &e.body_type, join_url);
    }
}

async fn create(s: &Sandbox, owner: String, body: Value) -> Response {
    if body["start"].is_null() || body["end"].is_null() {
        return bad_request("An event needs a start and an end.");
    }
    let transaction_id = body["transactionId"].as_str().map(str::to_owned);
    let id = format!("AAMkAD{}", base32hex_id(s.next_number()).to_uppercase());
    let mut e = new_event(
        id.clone(),
        &owner,
        Timestamp::UNIX_EPOCH,
        Timestamp::UNIX_EPOCH,
    );
    if let Err(r) = apply_fields(&mut e, &body) {
        return *r;
    }
    e.origin = Origin::Graph;
    e.transaction_id = transaction_id.clone();
    let available = s
        .lock()
        .calendars
        .get(&owner)
        .is_none_or(|c| c.settings.teams_available);
    if wants_meeting(&body) {
        grant_meeting(s, &mut e, &body, &owner, available);
    }
    let answer = {
        let mut w = s.lock();
        let calendar = w.calendars.entry(owner.clone()).or_default();
        // A retried create with the same transactionId: the event the first one made.
        let first = transaction_id.as_ref().and_then(|t| {
            calendar
                .events
                .iter()
                .find(|x| x.transaction_id.as_ref() == Some(t))
        });
        if let Some(first) = first {
            return (StatusCode::CREATED, Json(event_json(first))).into_response();
        }
        let answer = event_json(&e);
        calendar.events.push(e);
        answer
    };
    s.calendar_changed(&owner, &id, EventChange::Created, 1)
        .await;
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn read(s: &Sandbox, owner: &str, id: &str) -> Response {
    let w = s.lock();
    match w.calendars.get(owner).and_then(|c| c.get(id)) {
        Some(e) => Json(event_json(e)).into_response(),
        None => not_found(),
    }
}

async fn update(s: &Sandbox, owner: String, id: String, body: Value) -> Response {
    let (answer, version) = {
        let Some((mut e, available)) = ({
            let w = s.lock();
            w.calendars
                .get(&owner)
                .and_then(|c| Some((c.get(&id)?.clone(), c.settings.teams_available)))
        }) else {
            return not_found();
        };
        if let Err(r) = apply_fields(&mut e, &body) {
            return *r;
        }
        // A new body without the meeting's join details disables the meeting (§8).
        if let (Video::Teams { join_url, .. }, true) = (&e.video, body["body"].is_object()) {
            if !e.body.contains(join_url.as_str()) {
                e.video = Video::None;
            }
        }
        if wants_meeting(&body) && matches!(e.video, Video::None) {
            grant_meeting(s, &mut e, &body, &owner, available);
        }
        e.touch();
        let answer = event_json(&e);
        let version = e.version;
        let mut w = s.lock();
        match w.calendars.get_mut(&owner).and_then(|c| c.get_mut(&id)) {
            Some(slot) => *slot = e,
            None => return not_found(),
        }
        (answer, version)
    };
    s.calendar_changed(&owner, &id, EventChange::Updated, version)
        .await;
    Json(answer).into_response()
}

async fn remove(s: &Sandbox, owner: String, id: String) -> Response {
    let version = {
        let mut w = s.lock();
        let Some(calendar) = w.calendars.get_mut(&owner) else {
            return not_found();
        };
        let Some(at) = calendar.events.iter().position(|e| e.id == id) else {
            return not_found();
        };
        calendar.events.remove(at).version + 1
    };
    s.calendar_changed(&owner, &id, EventChange::Deleted, version)
        .await;
    StatusCode::NO_CONTENT.into_response()
}

async fn cancel(s: &Sandbox, owner: String, id: String) -> Response {
    let version = {
        let mut w = s.lock();
        let Some(e) = w.calendars.get_mut(&owner).and_then(|c| c.get_mut(&id)) else {
            return not_found();
        };
        if e.organizer != owner {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorAccessDenied",
                "Your request can't be completed. You need to be an organizer to cancel a meeting.",
            );
        }
        e.cancelled = true;
        e.touch();
        e.version
    };
    s.calendar_changed(&owner, &id, EventChange::Deleted, version)
        .await;
    StatusCode::ACCEPTED.into_response()
}

async fn create_me(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match owner(&s, &headers) {
        Ok(o) => create(&s, o, body).await,
        Err(r) => *r,
    }
}

async fn create_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(o) => create(&s, o, body).await,
        Err(r) => *r,
    }
}

async fn patch_me(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    match owner(&s, &headers) {
        Ok(o) => update(&s, o, id, body).await,
        Err(r) => *r,
    }
}

async fn patch_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((user, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(o) => update(&s, o, id, body).await,
        Err(r) => *r,
    }
}

async fn get_me(State(s): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match owner(&s, &headers) {
        Ok(o) => read(&s, &o, &id).await,
        Err(r) => *r,
    }
}

async fn get_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(o) => read(&s, &o, &id).await,
        Err(r) => *r,
    }
}

async fn delete_me(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match owner(&s, &headers) {
        Ok(o) => remove(&s, o, id).await,
        Err(r) => *r,
    }
}

async fn delete_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(o) => remove(&s, o, id).await,
        Err(r) => *r,
    }
}

async fn cancel_me(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match owner(&s, &headers) {
        Ok(o) => cancel(&s, o, id).await,
        Err(r) => *r,
    }
}

async fn cancel_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(o) => cancel(&s, o, id).await,
        Err(r) => *r,
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/graph/me/events", post(create_me))
        .route("/graph/me/calendar/events", post(create_me))
        .route("/graph/users/{user}/events", post(create_user))
        .route("/graph/users/{user}/calendar/events", post(create_user))
        .route(
            "/graph/me/events/{id}",
            get(get_me).patch(patch_me).delete(delete_me),
        )
        .route(
            "/graph/users/{user}/events/{id}",
            get(get_user).patch(patch_user).delete(delete_user),
        )
        .route("/graph/me/events/{id}/cancel", post(cancel_me))
        .route("/graph/users/{user}/events/{id}/cancel", post(cancel_user))
}
