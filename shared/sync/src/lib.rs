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
//!
//! What is stored about a thread is what its next message is judged against: the live
//! thread and, once a thread has been removed (a third participant appeared, or it went
//! idle), its tombstone, so a removed thread stays out. Pages come in no particular order,
//! so a thread's older message can be judged before its newest one says the thread is
//! active: when a message stores a new thread, the thread's messages skipped as
//! `thread_inactive` are fetched again and judged again.

mod facts;
mod ingest;
mod state;

pub use ingest::{IngestReport, Ingestor, Limits};
