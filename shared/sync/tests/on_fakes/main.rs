//! The ingest use case on in-memory fakes: every decision, the page loop and its cursors,
//! and when nothing is fetched. No emulator, no provider: milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod decisions;
mod guards;
mod pages;
mod reconcile;
mod support;
