//! Ingest: for one sync job, pull what changed in the seat's mailbox (Graph delta per
//! folder, Gmail history), decide each message with the sync policy, store what is kept,
//! record why the rest was skipped, delete what the mailbox deleted, and advance the
//! cursor only once a page's items are stored.
//!
//! Metadata first: a message the policy skips never costs a body download. An expired
//! cursor starts a bounded full resync (back to the lookback start) instead of silently
//! syncing nothing. A job does a bounded number of pages and enqueues its own
//! continuation, so a historical sync is paged, resumable and one-at-a-time per mailbox
//! (the FIFO group is the connection).

mod facts;
mod ingest;

pub use ingest::{IngestReport, Ingestor, Limits};
