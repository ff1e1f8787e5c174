//! The calendar ports ([`CalendarSource`], [`CalendarEvents`], [`ZoomMeetings`]) over the
//! providers' APIs: Graph's `getSchedule` and events with Teams, Google Calendar's
//! `freeBusy` and events with Meet, and Zoom's meetings.
//!
//! Failures come back in the kinds the scheduler acts on: a refused token (401) is
//! [`CalendarErrorKind::Unauthorized`]; throttling, a 5xx or no answer, once the client's
//! own retries are spent, is [`CalendarErrorKind::Temporary`] with the provider's
//! `Retry-After` when it gave one; any other refusal is [`CalendarErrorKind::Failed`].
//! Video refusals and unreadable calendars have their own kinds (see each provider).

mod google;
mod graph;
#[cfg(test)]
mod tests;
mod zoom;

use async_trait::async_trait;
use hiresync_domain::availability::Busy;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, CalendarEvent, CalendarEvents, CalendarSource, EventRequest,
    ProviderVideo,
};
use jiff::Timestamp;
use secrecy::SecretString;

use crate::{Api, ApiError, GoogleCalendarClient, GraphClient, ProviderClients, RetryPolicy};

pub use zoom::ProviderZoom;

/// Opens a seat's calendar at its provider. Like the mailboxes, it needs no OAuth
/// application: one HTTP client, the API base URLs and the retry policy.
#[derive(Clone)]
pub struct ProviderCalendars {
    pub http: reqwest::Client,
    pub graph_base: String,
    pub calendar_base: String,
    pub retry: RetryPolicy,
}

impl ProviderCalendars {
    /// With the provider clients of this cold start.
    pub fn new(clients: &ProviderClients) -> Self {
        ProviderCalendars {
            http: clients.http.clone(),
            graph_base: clients.graph_base.clone(),
            calendar_base: clients.calendar_base.clone(),
            retry: clients.retry,
        }
    }

    fn api(&self, access: &SecretString) -> Api {
        Api::new(self.http.clone(), access.clone()).with_retry(self.retry)
    }

    fn graph(&self, access: &SecretString) -> Result<GraphClient, CalendarError> {
        GraphClient::new(self.api(access), &self.graph_base)
            .map_err(|e| CalendarError::new("graph base URL", CalendarErrorKind::Failed, e))
    }

    fn google(&self, access: &SecretString) -> Result<GoogleCalendarClient, CalendarError> {
        GoogleCalendarClient::new(self.api(access), &self.calendar_base)
            .map_err(|e| CalendarError::new("calendar base URL", CalendarErrorKind::Failed, e))
    }
}

#[async_trait]
impl CalendarSource for ProviderCalendars {
    async fn busy(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Busy>, CalendarError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let busy = match provider {
            Provider::Microsoft365 => graph::busy(&self.graph(access)?, owner, from, to).await?,
            Provider::GoogleWorkspace => {
                google::busy(&self.google(access)?, owner, from, to).await?
            }
        };
        Ok(within(busy, from, to))
    }
}

#[async_trait]
impl CalendarEvents for ProviderCalendars {
    async fn create(
        &self,
        provider: Provider,
        _owner: &EmailAddress,
        access: &SecretString,
        event: &EventRequest,
    ) -> Result<CalendarEvent, CalendarError> {
        match provider {
            Provider::Microsoft365 => graph::create(&self.graph(access)?, event).await,
            Provider::GoogleWorkspace => google::create(&self.google(access)?, event).await,
        }
    }

    async fn get(
        &self,
        provider: Provider,
        _owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
    ) -> Result<Option<CalendarEvent>, CalendarError> {
        match provider {
            Provider::Microsoft365 => graph::get(&self.graph(access)?, event_id).await,
            Provider::GoogleWorkspace => google::get(&self.google(access)?, event_id).await,
        }
    }

    async fn reschedule(
        &self,
        provider: Provider,
        _owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<CalendarEvent, CalendarError> {
        match provider {
            Provider::Microsoft365 => {
                graph::reschedule(&self.graph(access)?, event_id, start, end).await
            }
            Provider::GoogleWorkspace => {
                google::reschedule(&self.google(access)?, event_id, start, end).await
            }
        }
    }

    async fn cancel(
        &self,
        provider: Provider,
        _owner: &EmailAddress,
        access: &SecretString,
        event_id: &str,
    ) -> Result<(), CalendarError> {
        match provider {
            Provider::Microsoft365 => graph::cancel(&self.graph(access)?, event_id).await,
            Provider::GoogleWorkspace => google::cancel(&self.google(access)?, event_id).await,
        }
    }
}

/// The busy intervals inside `[from, to)`, in order, each once (a range read in several
/// windows sees an event across a boundary in both).
fn within(mut busy: Vec<Busy>, from: Timestamp, to: Timestamp) -> Vec<Busy> {
    for b in &mut busy {
        b.start = b.start.max(from);
        b.end = b.end.min(to);
    }
    busy.retain(|b| b.end > b.start);
    busy.sort_by_key(|b| (b.start, b.end));
    busy.dedup();
    busy
}

/// Why a calendar call failed when the provider did not refuse it outright.
#[derive(Debug, thiserror::Error)]
enum Fault {
    /// The provider's reason codes, never its message (which can quote addresses).
    #[error("the provider cannot show the calendar ({0})")]
    Unreadable(String),
    #[error(
        "the event key is not a Google event id (base32hex: 0-9 and a-v, 5 to 1024 characters)"
    )]
    InvalidEventId,
    #[error("{0:?} is not a video meeting this calendar provider makes")]
    ForeignVideo(ProviderVideo),
    #[error("the event id is taken by an event that is deleted or not visible")]
    IdTaken,
    #[error("the provider answered with a cancelled event")]
    Cancelled,
}

impl Fault {
    fn during(self, operation: &'static str, kind: CalendarErrorKind) -> CalendarError {
        CalendarError::new(operation, kind, self)
    }
}

/// A failed call of a calendar provider as the port's error.
fn api_error(operation: &'static str, e: ApiError) -> CalendarError {
    let kind = match e.status() {
        Some(401) => CalendarErrorKind::Unauthorized,
        _ if e.is_retryable() => CalendarErrorKind::Temporary,
        _ => CalendarErrorKind::Failed,
    };
    with_kind(operation, kind, e)
}

/// `e` as the port's error of `kind`, keeping the provider's request to wait.
fn with_kind(operation: &'static str, kind: CalendarErrorKind, e: ApiError) -> CalendarError {
    let retry_after = e.retry_after();
    CalendarError {
        retry_after,
        ..CalendarError::new(operation, kind, e)
    }
}
