//! The connect use cases: what happens when an admin changes settings and when a seat
//! connects, reconnects or disconnects its mailbox or calendar.
//!
//! Handlers in `functions/` parse their events and call one of these; the rules themselves
//! are in `hiresync-domain`. The use cases take ports (`hiresync_domain::ports`, the queue
//! ports of `hiresync-messages`), never a concrete store, queue or HTTP client: [`config`]
//! is the one place that builds those from the environment.

mod authorization;
pub mod config;
mod connector;
mod renewal;
mod settings;
pub mod state;
mod subscriptions;
mod tokens;

pub use authorization::{AuthorizationStart, Callback, Connected};
pub use connector::{ConnectPorts, Connector, NotConfigured};
pub use hiresync_domain::failure::Failure;
pub use hiresync_domain::ports::PushSettings;
pub use renewal::RenewalReport;
pub use settings::{FanOutOutcome, SettingsChange};
