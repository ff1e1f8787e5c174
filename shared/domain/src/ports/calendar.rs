//! A seat's calendar as the scheduler uses it, whatever the provider: its busy time over a
//! range, and the interview events booked into it (with their video meeting); the
//! contract's Zoom account for Zoom meetings.
//!
//! Adapters (in `hiresync-providers`) speak Graph (`getSchedule`, events with a Teams
//! online meeting and a `transactionId`), Google Calendar (`freeBusy`, events with a
//! deterministic id and Meet conference data) and Zoom's meetings API.

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use thiserror::Error;

use crate::availability::Busy;
use crate::contract::Provider;
use crate::ids::EmailAddress;

use super::BoxError;

/// Reads a seat's busy time.
#[async_trait]
pub trait CalendarSource: Send + Sync {
    /// The busy intervals of the primary calendar of `owner` at `provider` in
    /// `[from, to)`, read with `access`. Tentative and out-of-office time is busy; only
    /// time the provider says is free is free. A calendar the provider cannot show
    /// (a per-calendar error in the answer) is [`CalendarErrorKind::Unreadable`], never an
    /// empty list.
    async fn busy(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Busy>, CalendarError>;
}

/// The video meeting an interview event asks its calendar provider for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderVideo {
    /// No meeting from the calendar provider (a phone interview, or a Zoom meeting whose
    /// link travels in `location`).
    None,
    /// A Teams meeting (Graph `isOnlineMeeting`, `teamsForBusiness`).
    Teams,
    /// A Google Meet conference (conference data, `hangoutsMeet`).
    Meet,
}

/// An interview to put on the seat's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRequest {
    /// Derived from the booking: the same key for every attempt at the same event, so a
    /// retried create is dropped by the provider (Graph `transactionId`, Google event id:
    /// lowercase hex only, 5 to 1024 characters).
    pub key: String,
    pub subject: String,
    /// Plain text.
    pub description: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The IANA zone the event is shown in.
    pub time_zone: String,
    pub attendee: EmailAddress,
    pub attendee_name: Option<String>,
    /// Where the meeting happens when the calendar provider makes no video meeting: a
    /// phone number, a Zoom join URL.
    pub location: Option<String>,
    pub video: ProviderVideo,
}

/// The state of an event's video meeting as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoState {
    /// No video meeting was asked for.
    NotAsked,
    /// Ready: the link to join.
    Ready { join_url: String },
    /// Still being created (Google Meet is asynchronous): read the event again.
    Pending,
    /// The provider did not make it (no Teams licence, Meet not allowed or failed).
    Refused { detail: String },
}

/// An event as the calendar holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub video: VideoState,
}

/// Creates, reads, moves and cancels the interview events on a seat's calendar.
#[async_trait]
pub trait CalendarEvents: Send + Sync {
    /// Creates the event, or finds the one an earlier attempt with the same key created.
    async fn create(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        event: &EventRequest,
    ) -> Result<CalendarEvent, CalendarError>;

    /// The event as it is now (`None` when it is gone): how a pending Meet is polled.
    async fn get(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
    ) -> Result<Option<CalendarEvent>, CalendarError>;

    /// Moves the event (and its meeting) to `[start, end)`.
    async fn reschedule(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<CalendarEvent, CalendarError>;

    /// Cancels the event, telling its attendees; an event already gone is not an error.
    async fn cancel(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
    ) -> Result<(), CalendarError>;
}

/// A Zoom meeting to schedule for a host of the contract's Zoom account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomRequest {
    /// The Zoom user who hosts: the seat's calendar address (it must be a user of the
    /// account, or Zoom answers 404 code 1001).
    pub host: EmailAddress,
    pub topic: String,
    pub start: Timestamp,
    pub duration_minutes: u32,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomMeeting {
    /// Zoom's meeting id (an int64, kept as text).
    pub id: String,
    pub join_url: String,
}

/// The contract's Zoom account, with the account's access token.
#[async_trait]
pub trait ZoomMeetings: Send + Sync {
    async fn create(
        &self,
        access: &SecretString,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError>;
    /// Moves the meeting; the answer is the meeting read again (its link may change).
    async fn reschedule(
        &self,
        access: &SecretString,
        meeting_id: &str,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError>;
    /// Deletes the meeting; one already gone is not an error.
    async fn delete(&self, access: &SecretString, meeting_id: &str) -> Result<(), CalendarError>;
}

/// What went wrong, in the kinds the scheduler acts on differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarErrorKind {
    /// The access token was refused (401): the grant needs a refresh or a reconnection.
    Unauthorized,
    /// The provider cannot show this calendar (a per-calendar error in a free/busy answer).
    Unreadable,
    /// The video provider's account cannot make meetings, or we cannot authenticate with
    /// it (Zoom 401, 4700, 3161, 3000; Meet "invalid conference type").
    VideoNotEligible,
    /// The host is not a user of the contract's video account (Zoom 404 code 1001).
    VideoUserUnknown,
    /// Worth trying again later: throttling, a 5xx, a timeout.
    Temporary,
    /// Anything else the provider refused (a 4xx we did not expect).
    Failed,
}

/// A calendar or video call that failed (after the client's own retries).
#[derive(Debug, Error)]
#[error("{operation} failed ({kind:?})")]
pub struct CalendarError {
    pub operation: &'static str,
    pub kind: CalendarErrorKind,
    #[source]
    pub source: BoxError,
    /// How long the provider asked to be left alone, when it said.
    pub retry_after: Option<std::time::Duration>,
}

impl CalendarError {
    pub fn new(
        operation: &'static str,
        kind: CalendarErrorKind,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        CalendarError {
            operation,
            kind,
            source: Box::new(source),
            retry_after: None,
        }
    }
}
