//! The product rules of hiresync as pure Rust.
//!
//! Nothing in this crate performs I/O, touches AWS or reads the clock: every instant a rule
//! needs arrives as a [`Timestamp`] parameter, so the rules are tested at fixed instants.

pub mod access;
pub mod address;
pub mod authorization;
pub mod availability;
pub mod booking;
pub mod capability;
pub mod connect_error;
pub mod connection;
pub mod contract;
pub mod directory;
pub mod failure;
pub mod ids;
pub mod mail;
pub mod policy;
pub mod ports;
pub mod purge;
pub mod retirement;
pub mod scheduler;
pub mod scopes;
pub mod sealed;
pub mod seat;
pub mod subscription;
pub mod sync_status;
pub mod time;
pub mod zoom;

pub use jiff::Timestamp;
