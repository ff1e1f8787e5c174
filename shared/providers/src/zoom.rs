//! Zoom's meetings API: scheduled meetings hosted by a user of the contract's Zoom
//! account (protocols-additions.md §6).
//!
//! Zoom's errors are `{"code": <number>, "message"}`; the number comes back as text in
//! [`ApiError::Status::code`]. Zoom documents no `Retry-After`, so a 429 backs off per the
//! [`RetryPolicy`](crate::RetryPolicy). A create has no idempotency key: it is repeated
//! only when Zoom surely did nothing, or a timeout could leave two meetings.

use hiresync_domain::ports::ZoomMeeting;
use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::free_busy::utc_text;
use crate::http::{google_json, Api, ApiError, BaseUrl, InvalidBaseUrl, Repeat};

/// Zoom's API v2.
pub const ZOOM_BASE: &str = "https://api.zoom.us/v2";

/// A scheduled meeting (`type` 2).
const SCHEDULED: u8 = 2;

/// The codes Zoom answers a meeting that no longer exists with (404).
const GONE_CODES: [&str; 2] = ["1001", "3001"];

/// When, how long, in which zone and under which title a meeting takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingTimes<'a> {
    pub topic: &'a str,
    pub start: Timestamp,
    pub duration_minutes: u32,
    /// The IANA zone the meeting is shown in.
    pub time_zone: &'a str,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    topic: &'a str,
    #[serde(rename = "type")]
    kind: u8,
    start_time: String,
    duration: u32,
    timezone: &'a str,
}

#[derive(Serialize)]
struct UpdateBody<'a> {
    topic: &'a str,
    start_time: String,
    duration: u32,
    timezone: &'a str,
}

#[derive(Deserialize)]
struct MeetingWire {
    /// An int64 that can pass 10 digits; some proxies send it as a string.
    #[serde(deserialize_with = "google_json::id_text")]
    id: String,
    join_url: String,
}

#[derive(Debug, Clone)]
pub struct ZoomClient {
    api: Api,
    base: BaseUrl,
}

impl ZoomClient {
    /// `base` is [`ZOOM_BASE`] in production and a stub's URL in tests; `api` carries the
    /// Zoom account's access token.
    pub fn new(api: Api, base: &str) -> Result<Self, InvalidBaseUrl> {
        Ok(Self {
            api,
            base: BaseUrl::parse(base)?,
        })
    }

    /// Schedules a meeting hosted by `host` (a user id or the user's email address).
    pub async fn create_meeting(
        &self,
        host: &str,
        meeting: &MeetingTimes<'_>,
    ) -> Result<ZoomMeeting, ApiError> {
        const OP: &str = "zoom.create_meeting";
        let url = self.base.join(&["users", host, "meetings"], None);
        let body = CreateBody {
            topic: meeting.topic,
            kind: SCHEDULED,
            start_time: utc_text(meeting.start),
            duration: meeting.duration_minutes,
            timezone: meeting.time_zone,
        };
        let wire: MeetingWire = self
            .api
            .send(OP, Repeat::Unsafe, |h| h.post(url.clone()).json(&body))
            .await?
            .json(OP)?;
        Ok(wire.into())
    }

    /// Moves (and renames) the meeting; Zoom answers 204 with nothing.
    pub async fn update_meeting(
        &self,
        meeting_id: &str,
        meeting: &MeetingTimes<'_>,
    ) -> Result<(), ApiError> {
        const OP: &str = "zoom.update_meeting";
        let url = self.base.join(&["meetings", meeting_id], None);
        let body = UpdateBody {
            topic: meeting.topic,
            start_time: utc_text(meeting.start),
            duration: meeting.duration_minutes,
            timezone: meeting.time_zone,
        };
        self.api
            .send(OP, Repeat::Safe, |h| {
                h.request(Method::PATCH, url.clone()).json(&body)
            })
            .await
            .map(drop)
    }

    /// The meeting as it is now.
    pub async fn meeting(&self, meeting_id: &str) -> Result<ZoomMeeting, ApiError> {
        const OP: &str = "zoom.meeting";
        let url = self.base.join(&["meetings", meeting_id], None);
        let wire: MeetingWire = self
            .api
            .send(OP, Repeat::Safe, |h| h.get(url.clone()))
            .await?
            .json(OP)?;
        Ok(wire.into())
    }

    /// Deletes the meeting without mailing the host a reminder; one already gone (404,
    /// code 1001 or 3001) counts as deleted.
    pub async fn delete_meeting(&self, meeting_id: &str) -> Result<(), ApiError> {
        const OP: &str = "zoom.delete_meeting";
        let url = self.base.join(
            &["meetings", meeting_id],
            Some("schedule_for_reminder=false"),
        );
        match self
            .api
            .send(OP, Repeat::Safe, |h| h.delete(url.clone()))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if meeting_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn meeting_gone(e: &ApiError) -> bool {
    match e {
        ApiError::Status {
            status: 404,
            code: Some(code),
            ..
        } => GONE_CODES.contains(&code.as_str()),
        _ => false,
    }
}

impl From<MeetingWire> for ZoomMeeting {
    fn from(w: MeetingWire) -> Self {
        ZoomMeeting {
            id: w.id,
            join_url: w.join_url,
        }
    }
}
