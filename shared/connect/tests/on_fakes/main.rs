//! The connect use cases on in-memory fakes of every port: no emulator, no HTTP, so each
//! test runs in milliseconds. The emulator tests (`connect_flow.rs`,
//! `tokens_and_renewal.rs`) keep covering the adapters underneath.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod world;

mod authorization;
mod renewal;
mod settings;
mod tokens;
