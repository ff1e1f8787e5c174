//! Google Calendar events: the interview on the seat's primary calendar, with its Meet
//! conference (protocols.md §3.2, protocols-additions.md §7).
//!
//! The event's id is the booking's key, so a repeated insert is refused with 409 and the
//! caller reads the event instead; inserts are therefore retried like reads. Every write
//! carries `conferenceDataVersion=1` (without it Google silently drops conference data)
//! and `sendUpdates=all` (without it guests outside Google hear nothing).

use hiresync_domain::ports::EventRequest;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::free_busy::utc_text;
use crate::http::{ApiError, Repeat};
use crate::GoogleCalendarClient;

/// The query of every event write.
const WRITE_QUERY: &str = "conferenceDataVersion=1&sendUpdates=all";

/// An event as the calendar adapter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEvent {
    pub id: String,
    /// `status: cancelled`: a deleted event Google still answers for.
    pub cancelled: bool,
    /// Absent only on a cancelled event.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub hangout_link: Option<String>,
    pub conference: Option<Conference>,
}

/// `conferenceData`, as far as the Meet request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    /// The `requestId` of the create request Google answered.
    pub request_id: Option<String>,
    /// `pending`, `success` or `failure`.
    pub status: Option<String>,
    /// The `uri` of the `video` entry point.
    pub video_uri: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InsertBody<'a> {
    id: &'a str,
    summary: &'a str,
    description: &'a str,
    start: TimeWire,
    end: TimeWire,
    attendees: [AttendeeWire<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conference_data: Option<ConferenceRequest>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimeWire {
    date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendeeWire<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConferenceRequest {
    create_request: CreateRequest,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    request_id: String,
    conference_solution_key: SolutionKey,
}

#[derive(Serialize)]
struct SolutionKey {
    #[serde(rename = "type")]
    kind: &'static str,
}

impl ConferenceRequest {
    fn meet(request_id: &str) -> Self {
        ConferenceRequest {
            create_request: CreateRequest {
                request_id: request_id.to_owned(),
                conference_solution_key: SolutionKey {
                    kind: "hangoutsMeet",
                },
            },
        }
    }
}

#[derive(Serialize)]
struct MoveBody {
    start: TimeWire,
    end: TimeWire,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConferencePatch {
    conference_data: ConferenceRequest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    id: String,
    status: Option<String>,
    start: Option<TimeRead>,
    end: Option<TimeRead>,
    hangout_link: Option<String>,
    conference_data: Option<ConferenceWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeRead {
    date_time: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConferenceWire {
    create_request: Option<CreateRequestWire>,
    #[serde(default)]
    entry_points: Vec<EntryPointWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequestWire {
    request_id: Option<String>,
    status: Option<StatusWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    status_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryPointWire {
    entry_point_type: Option<String>,
    uri: Option<String>,
}

impl EventWire {
    fn into_event(self, operation: &'static str) -> Result<GoogleEvent, ApiError> {
        let cancelled = self.status.as_deref() == Some("cancelled");
        let start = self.start.and_then(|t| t.date_time);
        let end = self.end.and_then(|t| t.date_time);
        if !cancelled && (start.is_none() || end.is_none()) {
            // An all-day event (`date` only) is none we made.
            return Err(ApiError::Decode {
                operation,
                source: <serde_json::Error as serde::de::Error>::custom("an event without times"),
            });
        }
        let conference = self.conference_data.map(|c| {
            let (request_id, status) = match c.create_request {
                Some(r) => (r.request_id, r.status.and_then(|s| s.status_code)),
                None => (None, None),
            };
            Conference {
                request_id,
                status,
                video_uri: c
                    .entry_points
                    .into_iter()
                    .find(|e| e.entry_point_type.as_deref() == Some("video"))
                    .and_then(|e| e.uri),
            }
        });
        Ok(GoogleEvent {
            id: self.id,
            cancelled,
            start,
            end,
            hangout_link: self.hangout_link,
            conference,
        })
    }
}

/// The zone an event is shown in: the request's, when it is a zone we know.
fn shown_in(zone: &str) -> String {
    match TimeZone::get(zone) {
        Ok(_) => zone.to_owned(),
        Err(_) => "UTC".to_owned(),
    }
}

impl GoogleCalendarClient {
    /// Inserts `event` into the primary calendar under the id `event.key` (which must be
    /// base32hex: the caller checks), inviting its attendee, with a Meet conference asked
    /// under `meet_request_id` when given. A 409 means the id is taken: read the event.
    pub async fn insert_event(
        &self,
        event: &EventRequest,
        meet_request_id: Option<&str>,
    ) -> Result<GoogleEvent, ApiError> {
        const OP: &str = "calendar.insert_event";
        let url = self
            .base
            .join(&["calendars", "primary", "events"], Some(WRITE_QUERY));
        let zone = shown_in(&event.time_zone);
        let time = |t: Timestamp| TimeWire {
            date_time: utc_text(t),
            time_zone: Some(zone.clone()),
        };
        let body = InsertBody {
            id: &event.key,
            summary: &event.subject,
            description: &event.description,
            start: time(event.start),
            end: time(event.end),
            attendees: [AttendeeWire {
                email: event.attendee.as_str(),
                display_name: event.attendee_name.as_deref(),
            }],
            location: event.location.as_deref(),
            conference_data: meet_request_id.map(ConferenceRequest::meet),
        };
        let wire: EventWire = self
            .api
            .send(OP, Repeat::Safe, |h| h.post(url.clone()).json(&body))
            .await?
            .json(OP)?;
        wire.into_event(OP)
    }

    /// The event of the primary calendar with this id; `None` when Google no longer has
    /// it (404, 410). A deleted event Google still answers for comes back `cancelled`.
    pub async fn event(&self, id: &str) -> Result<Option<GoogleEvent>, ApiError> {
        const OP: &str = "calendar.event";
        let url = self
            .base
            .join(&["calendars", "primary", "events", id], None);
        match self
            .api
            .send(OP, Repeat::Safe, |h| h.get(url.clone()))
            .await
        {
            Ok(answer) => Ok(Some(answer.json::<EventWire>(OP)?.into_event(OP)?)),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Moves the event to `[start, end)`, telling its guests; the zone it is shown in
    /// and its conference stay.
    pub async fn move_event(
        &self,
        id: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<GoogleEvent, ApiError> {
        let body = MoveBody {
            start: TimeWire {
                date_time: utc_text(start),
                time_zone: None,
            },
            end: TimeWire {
                date_time: utc_text(end),
                time_zone: None,
            },
        };
        self.patch("calendar.move_event", id, &body).await
    }

    /// Asks again for a Meet conference on the event, under a `request_id` not used
    /// before (reusing one makes Google ignore the request).
    pub async fn request_meet(&self, id: &str, request_id: &str) -> Result<GoogleEvent, ApiError> {
        let body = ConferencePatch {
            conference_data: ConferenceRequest::meet(request_id),
        };
        self.patch("calendar.request_meet", id, &body).await
    }

    async fn patch(
        &self,
        operation: &'static str,
        id: &str,
        body: &impl Serialize,
    ) -> Result<GoogleEvent, ApiError> {
        let url = self
            .base
            .join(&["calendars", "primary", "events", id], Some(WRITE_QUERY));
        let wire: EventWire = self
            .api
            .send(operation, Repeat::Safe, |h| {
                h.request(Method::PATCH, url.clone()).json(body)
            })
            .await?
            .json(operation)?;
        wire.into_event(operation)
    }

    /// Deletes the event and tells its guests; one already gone counts as deleted.
    pub async fn delete_event(&self, id: &str) -> Result<(), ApiError> {
        const OP: &str = "calendar.delete_event";
        let url = self.base.join(
            &["calendars", "primary", "events", id],
            Some("sendUpdates=all"),
        );
        match self
            .api
            .send(OP, Repeat::Safe, |h| h.delete(url.clone()))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Google answers 404 for an id it never had and 410 for one deleted.
fn gone(e: &ApiError) -> bool {
    matches!(e.status(), Some(404 | 410))
}
