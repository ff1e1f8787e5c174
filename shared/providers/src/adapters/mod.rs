//! The ports of `hiresync_domain::ports` implemented over the provider clients.

pub mod connect;
pub mod mailbox;

pub use mailbox::ProviderMailboxes;
