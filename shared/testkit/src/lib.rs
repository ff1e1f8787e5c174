//! The test kit: what tests across the workspace share.
//!
//! - [`clock`]: fixed instants.
//! - [`logs`]: every log line of a test captured at trace level, and the check that no
//!   secret reached any of them.
//! - [`fakes`]: an in-memory fake of every port, so the use cases are tested in
//!   milliseconds without DynamoDB, SQS, KMS or a provider.
//!
//! Dev-only: a dev-dependency of the crates whose tests use it, never a dependency of a
//! function.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code fails loudly by design

pub mod clock;
pub mod fakes;
pub mod logs;
