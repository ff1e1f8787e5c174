//! The connect use cases: what happens when an admin changes settings and when a seat
//! connects, reconnects or disconnects its mailbox or calendar.
//!
//! Handlers in `functions/` parse their events and call one of these; the rules themselves
//! are in `hiresync-domain`. The use cases take ports (`hiresync_domain::ports`, the queue
//! ports of `hiresync-messages`), never a concrete store, queue or HTTP client: each
//! function's composition root wires those (`hiresync-wiring`), and the use-case tests run
//! on the test kit's fakes.

mod authorization;
mod catch_up;
mod connector;
mod purge;
mod renewal;
mod retirement;
mod seats;
mod settings;
pub mod state;
mod subscriptions;
mod tokens;

pub use authorization::{AuthorizationStart, Callback, Connected, SignIn};
pub use catch_up::CatchUpReport;
pub use connector::{ConnectPorts, Connector, NotConfigured};
pub use hiresync_domain::failure::Failure;
pub use hiresync_domain::ports::PushSettings;
pub use purge::{verify_delay, Purger};
pub use renewal::RenewalReport;
pub use retirement::RetirementReport;
pub use seats::SeatChanged;
pub use settings::{FanOutOutcome, SettingsChange};
