//! The contract's Zoom account ([`ZoomMeetings`]) over Zoom's meetings API.
//!
//! Zoom's answers in the port's kinds: 404 code 1001 (the host is not a user of the
//! account) is [`CalendarErrorKind::VideoUserUnknown`]; 401 (code 124, the account's
//! token), and 3161, 3000, 300 or 4700 (the user may not host, scheduling for them is not
//! allowed, the daily cap, missing scopes) are [`CalendarErrorKind::VideoNotEligible`];
//! 429 and 5xx, once the client's backoff is spent, are [`CalendarErrorKind::Temporary`].

use async_trait::async_trait;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, ZoomMeeting, ZoomMeetings, ZoomRequest,
};
use secrecy::SecretString;

use super::with_kind;
use crate::zoom::{MeetingTimes, ZoomClient};
use crate::{Api, ApiError, ProviderClients, RetryPolicy};

/// The codes of an account or user that cannot make this meeting.
const NOT_ELIGIBLE: [&str; 4] = ["3161", "3000", "300", "4700"];

/// The code of a host who is not a user of the account.
const USER_UNKNOWN: &str = "1001";

/// Schedules Zoom meetings with the contract's Zoom account: one HTTP client, Zoom's
/// base URL and the retry policy; the account's token comes with each call.
#[derive(Clone)]
pub struct ProviderZoom {
    pub http: reqwest::Client,
    pub zoom_base: String,
    pub retry: RetryPolicy,
}

impl ProviderZoom {
    /// With the provider clients of this cold start.
    pub fn new(clients: &ProviderClients) -> Self {
        ProviderZoom {
            http: clients.http.clone(),
            zoom_base: clients.zoom_base.clone(),
            retry: clients.retry,
        }
    }

    fn client(&self, access: &SecretString) -> Result<ZoomClient, CalendarError> {
        let api = Api::new(self.http.clone(), access.clone()).with_retry(self.retry);
        ZoomClient::new(api, &self.zoom_base)
            .map_err(|e| CalendarError::new("zoom base URL", CalendarErrorKind::Failed, e))
    }
}

fn times(meeting: &ZoomRequest) -> MeetingTimes<'_> {
    MeetingTimes {
        topic: &meeting.topic,
        start: meeting.start,
        duration_minutes: meeting.duration_minutes,
        time_zone: &meeting.time_zone,
    }
}

/// A failed Zoom call as the port's error.
fn zoom_error(operation: &'static str, e: ApiError) -> CalendarError {
    let kind = match &e {
        ApiError::Status {
            status: 404,
            code: Some(code),
            ..
        } if code == USER_UNKNOWN => CalendarErrorKind::VideoUserUnknown,
        ApiError::Status { status: 401, .. } => CalendarErrorKind::VideoNotEligible,
        ApiError::Status {
            status: 400..=499,
            code: Some(code),
            ..
        } if NOT_ELIGIBLE.contains(&code.as_str()) => CalendarErrorKind::VideoNotEligible,
        _ if e.is_retryable() => CalendarErrorKind::Temporary,
        _ => CalendarErrorKind::Failed,
    };
    with_kind(operation, kind, e)
}

#[async_trait]
impl ZoomMeetings for ProviderZoom {
    async fn create(
        &self,
        access: &SecretString,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError> {
        self.client(access)?
            .create_meeting(meeting.host.as_str(), &times(meeting))
            .await
            .map_err(|e| zoom_error("zoom.create_meeting", e))
    }

    async fn reschedule(
        &self,
        access: &SecretString,
        meeting_id: &str,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError> {
        let zoom = self.client(access)?;
        zoom.update_meeting(meeting_id, &times(meeting))
            .await
            .map_err(|e| zoom_error("zoom.update_meeting", e))?;
        zoom.meeting(meeting_id)
            .await
            .map_err(|e| zoom_error("zoom.meeting", e))
    }

    async fn delete(&self, access: &SecretString, meeting_id: &str) -> Result<(), CalendarError> {
        self.client(access)?
            .delete_meeting(meeting_id)
            .await
            .map_err(|e| zoom_error("zoom.delete_meeting", e))
    }
}
