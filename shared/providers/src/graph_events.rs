//! Microsoft Graph events: the interview on the seat's calendar, with its Teams meeting
//! (protocols.md §1.12, protocols-additions.md §8).
//!
//! A create carries the booking's key as `transactionId`, so Graph drops a repeated POST
//! after a timeout; it is therefore retried like a read. Times go out and come back in
//! UTC. Teams may silently not happen (no licence, a consumer account): the event then
//! comes back with `isOnlineMeeting: false` and no `onlineMeeting`, which is why the join
//! URL is handed to the caller to check rather than trusted.

use hiresync_domain::ports::EventRequest;
use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::free_busy::GraphTime;
use crate::graph::GraphClient;
use crate::http::{ApiError, Repeat};

/// The fields an event is read with.
const EVENT_SELECT: &str =
    "$select=id,start,end,isOnlineMeeting,onlineMeetingProvider,onlineMeeting,isCancelled";

/// An event as the calendar adapter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEvent {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub is_online_meeting: bool,
    /// `teamsForBusiness`, `skypeForBusiness`, `skypeForConsumer` or `unknown`.
    pub online_meeting_provider: Option<String>,
    /// `onlineMeeting.joinUrl`, when Graph made a meeting.
    pub join_url: Option<String>,
    pub is_cancelled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    subject: &'a str,
    body: ItemBody<'a>,
    start: GraphTime,
    end: GraphTime,
    attendees: [Attendee<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location<'a>>,
    /// Keeps the candidate on the offered slot: a proposal would bypass the scheduler.
    allow_new_time_proposals: bool,
    transaction_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_online_meeting: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    online_meeting_provider: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemBody<'a> {
    content_type: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attendee<'a> {
    email_address: AddressWire<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct AddressWire<'a> {
    address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    display_name: &'a str,
}

#[derive(Serialize)]
struct MoveBody {
    start: GraphTime,
    end: GraphTime,
}

#[derive(Serialize)]
struct CancelBody {}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    id: String,
    start: GraphTime,
    end: GraphTime,
    #[serde(default)]
    is_online_meeting: Option<bool>,
    online_meeting_provider: Option<String>,
    online_meeting: Option<OnlineMeetingWire>,
    #[serde(default)]
    is_cancelled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnlineMeetingWire {
    join_url: Option<String>,
}

impl EventWire {
    fn into_event(self, operation: &'static str) -> Result<GraphEvent, ApiError> {
        let instant = |t: &GraphTime| {
            t.instant().ok_or_else(|| ApiError::Decode {
                operation,
                source: <serde_json::Error as serde::de::Error>::custom("an unreadable time"),
            })
        };
        Ok(GraphEvent {
            start: instant(&self.start)?,
            end: instant(&self.end)?,
            id: self.id,
            is_online_meeting: self.is_online_meeting.unwrap_or(false),
            online_meeting_provider: self.online_meeting_provider,
            join_url: self.online_meeting.and_then(|m| m.join_url),
            is_cancelled: self.is_cancelled.unwrap_or(false),
        })
    }
}

impl GraphClient {
    /// Creates `event` on the signed-in user's calendar and invites its attendee, with a
    /// Teams meeting when `teams`. The event's key is the `transactionId`.
    pub async fn create_event(
        &self,
        event: &EventRequest,
        teams: bool,
    ) -> Result<GraphEvent, ApiError> {
        const OP: &str = "graph.create_event";
        let url = self.base.join(&["me", "events"], None);
        let body = CreateBody {
            subject: &event.subject,
            body: ItemBody {
                content_type: "text",
                content: &event.description,
            },
            start: GraphTime::utc(event.start),
            end: GraphTime::utc(event.end),
            attendees: [Attendee {
                email_address: AddressWire {
                    address: event.attendee.as_str(),
                    name: event.attendee_name.as_deref(),
                },
                kind: "required",
            }],
            location: event
                .location
                .as_deref()
                .map(|display_name| Location { display_name }),
            allow_new_time_proposals: false,
            transaction_id: &event.key,
            is_online_meeting: teams.then_some(true),
            online_meeting_provider: teams.then_some("teamsForBusiness"),
        };
        let wire: EventWire = self
            .api
            .send(OP, Repeat::Safe, |h| {
                self.request(h, Method::POST, &url).json(&body)
            })
            .await?
            .json(OP)?;
        wire.into_event(OP)
    }

    /// The event, or `None` when the calendar has no such event.
    pub async fn event(&self, id: &str) -> Result<Option<GraphEvent>, ApiError> {
        const OP: &str = "graph.event";
        let url = self.base.join(&["me", "events", id], Some(EVENT_SELECT));
        match self
            .api
            .send(OP, Repeat::Safe, |h| self.request(h, Method::GET, &url))
            .await
        {
            Ok(answer) => Ok(Some(answer.json::<EventWire>(OP)?.into_event(OP)?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Moves the event to `[start, end)`, telling its attendees; nothing else is sent, so
    /// its online meeting stays as it is.
    pub async fn move_event(
        &self,
        id: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<GraphEvent, ApiError> {
        const OP: &str = "graph.move_event";
        let url = self.base.join(&["me", "events", id], None);
        let body = MoveBody {
            start: GraphTime::utc(start),
            end: GraphTime::utc(end),
        };
        let wire: EventWire = self
            .api
            .send(OP, Repeat::Safe, |h| {
                self.request(h, Method::PATCH, &url).json(&body)
            })
            .await?
            .json(OP)?;
        wire.into_event(OP)
    }

    /// Cancels the event as its organizer: the attendees get the cancellation and the
    /// event moves to Deleted Items. One already gone counts as cancelled.
    pub async fn cancel_event(&self, id: &str) -> Result<(), ApiError> {
        const OP: &str = "graph.cancel_event";
        let url = self.base.join(&["me", "events", id, "cancel"], None);
        match self
            .api
            .send(OP, Repeat::Safe, |h| {
                self.request(h, Method::POST, &url).json(&CancelBody {})
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
