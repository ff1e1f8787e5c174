//! The connect use cases: what happens when an admin changes settings and when a seat
//! connects, reconnects or disconnects its mailbox or calendar.
//!
//! Handlers in `functions/` parse their events and call one of these; the rules themselves
//! are in `hiresync-domain`, storage in `hiresync-store`, provider calls in
//! `hiresync-providers`.

pub mod config;

pub use hiresync_domain::failure::Failure;
mod connector;
pub mod state;

pub use connector::{
    AuthorizationStart, Callback, Connected, Connector, FanOutOutcome, ProviderSetup, PushSettings,
    RenewalReport, SettingsChange, Stores,
};
