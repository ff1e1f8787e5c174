//! HTTP clients for the provider APIs hiresync calls when it connects a mailbox or a
//! calendar: Microsoft Graph, Gmail and Google Calendar, plus Google token revocation, and
//! Zoom's meetings API and user-level OAuth for interviews held on Zoom.
//!
//! Each client takes an access token (getting one is the OAuth code's job) and a base URL
//! from configuration, so tests and the local stack can point it at a stub. Calls retry
//! throttling and transient failures per [`RetryPolicy`]; everything else comes back as
//! an [`ApiError`] carrying the provider's status, code and reason for the caller to act
//! on. Tokens and client secrets are `SecretString`s, and nothing here logs a token or a
//! body.

pub mod adapters;
pub mod calendar;
pub mod calendar_events;
mod clients;
pub mod free_busy;
pub mod gmail;
pub mod gmail_sync;
pub mod graph;
pub mod graph_delta;
pub mod graph_events;
pub mod graph_folders;
mod http;
/// OAuth 2 code flow (maintained alongside, by the connect work).
pub mod oauth;
pub mod revoke;
pub mod settings;
pub mod zoom;
pub mod zoom_oauth;

pub use calendar::{Channel, GoogleCalendar, GoogleCalendarClient, WatchRequest, CALENDAR_BASE};
pub use calendar_events::{Conference, GoogleEvent};
pub use clients::ProviderClients;
pub use free_busy::{FreeBusyCalendar, GraphTime, ScheduleInformation, ScheduleItem};
pub use gmail::{GmailClient, GmailProfile, GmailWatch, SendAs, GMAIL_BASE};
pub use gmail_sync::{
    GmailMessage, HistoryChange, HistoryError, HistoryPage, MessageList, MessageRef,
};
pub use graph::{
    resources, Created, GraphCalendar, GraphClient, GraphUser, Subscription, SubscriptionRequest,
    ALL_CHANGES, GRAPH_BASE,
};
pub use graph_delta::{
    DeltaError, DeltaItem, DeltaNext, DeltaPage, DeltaStart, GraphMessage, Recipient,
    WellKnownFolder,
};
pub use graph_events::GraphEvent;
pub use http::{
    http_client, Api, ApiError, InvalidBaseUrl, RetryPolicy, CONNECT_TIMEOUT, REQUEST_TIMEOUT,
};
pub use revoke::{revoke_google, GOOGLE_REVOKE_URL};
pub use zoom::{MeetingTimes, ZoomClient, ZOOM_BASE};
pub use zoom_oauth::{
    ZoomOAuth, ZoomOAuthSettings, ZoomOAuthSetupError, ZOOM_AUTHORIZE, ZOOM_REVOKE, ZOOM_TOKEN,
};
