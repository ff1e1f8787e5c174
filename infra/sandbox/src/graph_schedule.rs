//! Graph's free/busy, `calendar/getSchedule` (protocols.md §1.13), under `/graph`, and
//! the calendar itself (`GET /me/calendar`, with the online meeting providers it allows).
//!
//! Up to 20 schedules over a window under 62 days, slots of 5 to 1,440 minutes; every
//! instant in UTC. A schedule the sandbox does not know, or whose calendar is unreadable,
//! answers an `error` (`responseCode` `ErrorMailRecipientNotFound` or
//! `ErrorNoFreeBusyAccess`) beside an empty `availabilityView` and no items: read as free,
//! it would be wrong. Free events are listed (`status: free`); cancelled ones are not.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::graph_calendar::{bad_request, date_time_zone, graph_error, owner, owner_as, utc};
use crate::Sandbox;

/// One schedule's free/busy over `[from, to)`.
fn schedule_information(
    s: &Sandbox,
    id: &str,
    from: Timestamp,
    to: Timestamp,
    interval: i64,
) -> Value {
    let address = id.to_lowercase();
    let w = s.lock();
    let known = w.accounts.contains_key(&address) || w.calendars.contains_key(&address);
    let calendar = w.calendars.get(&address).cloned().unwrap_or_default();
    let error = if !known {
        Some((
            "ErrorMailRecipientNotFound",
            "The mail recipient could not be found.",
        ))
    } else if calendar.settings.unreadable {
        Some((
            "ErrorNoFreeBusyAccess",
            "Microsoft.Exchange.InfoWorker.Common.Availability.NoFreeBusyAccessException: You do not have permission to view free/busy information for this mailbox.",
        ))
    } else {
        None
    };
    if let Some((code, message)) = error {
        return json!({
            "scheduleId": id, "availabilityView": "", "scheduleItems": [],
            "error": {"message": message, "responseCode": code},
        });
    }
    let items: Vec<Value> = calendar
        .events
        .iter()
        .filter(|e| !e.cancelled && e.overlaps(from, to))
        .map(|e| {
            json!({
                "isPrivate": false, "status": e.show_as.graph(), "subject": e.subject,
                "location": e.location.clone().unwrap_or_default(), "isMeeting": !e.attendees.is_empty(),
                "isRecurring": false, "isException": false, "isReminderSet": false,
                "start": utc(e.start), "end": utc(e.end),
            })
        })
        .collect();
    json!({
        "scheduleId": id,
        "availabilityView": calendar.availability_view(from, to, interval),
        "scheduleItems": items,
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"},
        },
    })
}

async fn get_schedule(s: &Sandbox, body: Value) -> Response {
    let Some(schedules) = body["schedules"].as_array() else {
        return bad_request("schedules is required.");
    };
    let ids: Vec<&str> = schedules.iter().filter_map(Value::as_str).collect();
    if ids.is_empty() || ids.len() != schedules.len() {
        return bad_request("schedules must be a list of SMTP addresses.");
    }
    if ids.len() > 20 {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorExceededFindCountLimit",
            "At most 20 schedules may be requested at once.",
        );
    }
    let (from, to) = match (
        date_time_zone(&body["startTime"], "startTime"),
        date_time_zone(&body["endTime"], "endTime"),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let interval = body["availabilityViewInterval"].as_i64().unwrap_or(30);
    if !(5..=1440).contains(&interval) {
        return bad_request("availabilityViewInterval must be between 5 and 1440.");
    }
    if to <= from {
        return bad_request("endTime must be after startTime.");
    }
    if to.as_second() - from.as_second() >= 62 * 24 * 3600 {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorTimeIntervalTooBig",
            "The requested time duration specified is too long. The duration must be less than 62 days.",
        );
    }
    let value: Vec<Value> = ids
        .iter()
        .map(|id| schedule_information(s, id, from, to, interval))
        .collect();
    Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
        "value": value,
    }))
    .into_response()
}

/// `GET /graph/me/calendar`.
async fn me_calendar(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    let owner = match owner(&s, &headers) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let teams = s
        .lock()
        .calendars
        .get(&owner)
        .is_none_or(|c| c.settings.teams_available);
    let (allowed, default) = if teams {
        (json!(["teamsForBusiness"]), "teamsForBusiness")
    } else {
        (json!([]), "unknown")
    };
    Json(json!({
        "id": "calendar-1", "name": "Calendar", "canEdit": true, "isDefaultCalendar": true,
        "owner": {"name": owner, "address": owner},
        "allowedOnlineMeetingProviders": allowed, "defaultOnlineMeetingProvider": default,
    }))
    .into_response()
}

async fn schedule_me(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match owner(&s, &headers) {
        Ok(_) => get_schedule(&s, body).await,
        Err(r) => *r,
    }
}

async fn schedule_user(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    match owner_as(&s, &headers, &user) {
        Ok(_) => get_schedule(&s, body).await,
        Err(r) => *r,
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/graph/me/calendar", get(me_calendar))
        .route("/graph/me/calendar/getSchedule", post(schedule_me))
        .route(
            "/graph/users/{user}/calendar/getSchedule",
            post(schedule_user),
        )
}
