//! Ingest: for one sync job, pull what changed in the seat's mailbox, decide each message
//! with the sync policy, store what is kept, record why the rest was skipped, delete what
//! the mailbox deleted, and advance the cursor only once a page's items are stored.
//!
//! The use case takes ports only: the mailbox (`hiresync_domain::ports::MailboxSource`,
//! one adapter per provider), the stores of connections, threads, skips, directory and
//! status, the access tokens and the sync-jobs queue. It knows no provider: Graph's
//! folders and Gmail's history are the adapters' business.
//!
//! Metadata first: a message the policy skips never costs a body download. An expired
//! cursor starts a bounded full resync (back to the lookback start) instead of silently
//! syncing nothing. A job does a bounded number of pages and enqueues its own
//! continuation, so a historical sync is paged, resumable and one-at-a-time per mailbox
//! (the FIFO group is the connection).
//!
//! What is stored about a thread is what its next message is judged against: the live
//! thread (its counterpart) and, once the retention sweep removed it for inactivity, its
//! tombstone, so only what came after the removal syncs. A message that breaks a rule is
//! left out alone: its thread stays. Pages come in no particular order,
//! so a thread's older message can be judged before its newest one says the thread is
//! active: when a message stores a new thread, the thread's messages skipped as
//! `thread_inactive` are fetched again and judged again.
//!
//! - [`ingestor`]: the job, from the connection to the report.
//! - [`changes`]: the page loop, cursors, continuation, deletes.
//! - [`judging`]: one message, the policy's decision, and what it does to the stores.
//! - [`revisiting`]: the inactive messages of a thread judged again once it is stored.
//! - [`reconciling`]: the weekly check of stored messages against the mailbox.
//! - [`progress`]: the connection's visible sync status.
//! - [`state`]: from what is stored about a thread to the policy's thread state.

mod changes;
mod ingestor;
mod judging;
mod progress;
mod reconciling;
mod revisiting;
mod state;

pub use ingestor::{IngestReport, Ingestor, Limits};
