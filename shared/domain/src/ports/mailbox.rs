//! A seat's mailbox as the sync reads it, whatever the provider: what changed since the
//! stored cursor, page by page, and one message read again by its id.
//!
//! The sync knows nothing of folders, delta links or history ids. A provider's adapter
//! walks its own streams (Graph's folders, Gmail's history or full listing) and hands
//! back, for each step, the changes it found and the cursor positions to store once those
//! changes are stored. The sync stores them only then, so a job that fails mid-page
//! replays the page, and every write it makes is idempotent. Adding a provider means
//! implementing [`MailboxSource`] and [`MailboxChanges`], nothing in the sync.

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use thiserror::Error;

use crate::connection::Cursor;
use crate::contract::Provider;
use crate::failure::Failure;
use crate::ids::EmailAddress;
use crate::mail::Direction;
use crate::policy::MessageFacts;

use super::BoxError;

/// Opens a seat's mailbox at its provider, for one sync job.
pub trait MailboxSource: Send + Sync {
    /// The mailbox of `owner` at `provider`, read with `access` (a usable access token).
    /// Nothing is called yet: a mailbox is a reader over one job's worth of pages.
    fn open(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
    ) -> Result<Box<dyn MailboxChanges>, MailboxError>;
}

/// One job's reader of a mailbox's changes. It keeps its position within the job (the
/// stream it is on, a page token the provider does not want stored); what must survive
/// the job travels in the cursor.
#[async_trait]
pub trait MailboxChanges: Send {
    /// The next step after `cursors`: the connection's cursor as stored now, with the
    /// updates of every earlier step of this job applied. Messages are enumerated back to
    /// `lookback_start` when a stream starts (or starts again after its cursor expired),
    /// at most about `page_size` per page.
    ///
    /// Called again only while the previous step was not [`ChangePage::done`].
    async fn next_page(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError>;

    /// One message read again by its provider id, as a page would have carried it: `None`
    /// when the mailbox no longer has it.
    async fn refetch(&mut self, provider_id: &str) -> Result<Option<MailItem>, MailboxError>;
}

/// One step through a mailbox's changes: usually one page of the provider's listing.
///
/// A step may also only move cursors, reading no page: an expired cursor dropped before
/// the stream is enumerated again, or the position a full listing starts from remembered
/// before it begins. Those are stored before anything else is read, as the cursor rule
/// wants: they never move a cursor past mail that is not stored.
#[derive(Debug, Default)]
pub struct ChangePage {
    /// Whether a page of the provider's listing was read: what a job's page limit counts.
    pub read: bool,
    /// In the order to apply them. Within a page, messages come newest first where the
    /// provider allows it: a thread's latest message then decides whether it is active
    /// before its older ones are judged.
    pub changes: Vec<MailChange>,
    /// The cursor positions to store once every change above is stored (`None` removes the
    /// key), in one write.
    pub cursor: Vec<CursorUpdate>,
    /// The stored cursor could not be used; this step dropped it and the stream is being
    /// enumerated again from the lookback start.
    pub resync: Option<Resync>,
    /// Nothing more to read in this job: every stream is at its end.
    pub done: bool,
}

/// A cursor key and its new position (`None`: forget the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    pub key: String,
    pub value: Option<String>,
}

impl CursorUpdate {
    pub fn set(key: impl Into<String>, value: impl Into<String>) -> Self {
        CursorUpdate {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    pub fn remove(key: impl Into<String>) -> Self {
        CursorUpdate {
            key: key.into(),
            value: None,
        }
    }
}

/// Why a stream is enumerated again: the cursor it names and what the provider said.
#[derive(Debug)]
pub struct Resync {
    /// The cursor key of the stream (`graph_inbox`, `gmail_history`).
    pub stream: String,
    pub cause: BoxError,
}

/// What happened to one message of the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailChange {
    /// It arrived or changed: judge it.
    Message(MailItem),
    /// The mailbox deleted it (or moved it to the bin): delete it here if stored.
    Deleted { provider_id: String },
}

/// A message as the mailbox shows it, before any judgement.
// Most items are conversations: boxing them would cost an allocation each and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailItem {
    /// A message of a conversation: what the sync policy judges, and what is stored when it
    /// is kept.
    Conversation(MailMessage),
    /// A draft, spam, or a message in the bin: no one's conversation, nothing recorded.
    NotConversation,
    /// Its participants or instant cannot be read: it is skipped, never guessed at (dropping
    /// an unreadable participant could make a group thread look one-to-one). `code` says
    /// what was missing (`no_sender`, `no_date`, `unreadable_participants`).
    Unreadable { code: &'static str },
}

/// A conversation's message: its facts for the policy and the rest of what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    pub facts: MessageFacts,
    /// The RFC 5322 Message-ID: the same message in two folders is stored once.
    pub internet_message_id: Option<String>,
    pub subject: String,
    /// Sent by the mailbox's owner, or received.
    pub direction: Direction,
}

/// A provider call that failed (after the client's retries). `operation` names it in the
/// connection's sync status (`graph delta`, `gmail history`).
#[derive(Debug, Error)]
#[error("{operation} failed")]
pub struct MailboxError {
    pub operation: &'static str,
    #[source]
    pub source: BoxError,
    /// How long the provider asked to be left alone (a 429 or 503 with `Retry-After`
    /// longer than the client waits in place).
    pub retry_after: Option<std::time::Duration>,
}

impl MailboxError {
    pub fn new(
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        MailboxError {
            operation,
            source: Box::new(source),
            retry_after: None,
        }
    }

    /// The provider asked to wait `retry_after` before the next call.
    pub fn throttled(mut self, retry_after: Option<std::time::Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// The failure of the job that called: internal, named by the operation, with the
/// provider's error as its cause (behind [`Throttled`](crate::failure::Throttled) when the provider asked to wait).
impl From<MailboxError> for Failure {
    fn from(e: MailboxError) -> Self {
        let source: BoxError = match e.retry_after {
            Some(retry_after) => Box::new(crate::failure::Throttled {
                retry_after,
                source: e.source,
            }),
            None => e.source,
        };
        Failure::Internal {
            context: e.operation,
            source,
        }
    }
}
