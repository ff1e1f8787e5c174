//! The ports of `hiresync_domain::ports` implemented over the provider clients.

pub mod calendar;
pub mod connect;
pub mod mailbox;

pub use calendar::{ProviderCalendars, ProviderZoom};
pub use mailbox::ProviderMailboxes;
