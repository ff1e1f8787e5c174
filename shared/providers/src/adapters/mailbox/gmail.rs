//! A Google Workspace mailbox through Gmail: the history from the stored history id, or,
//! without one (a new connection, or an expired id), a full listing since the lookback
//! start, resumable through its own two cursor keys.

use async_trait::async_trait;
use futures::{stream, StreamExt, TryStreamExt};
use hiresync_domain::connection::Cursor;
use hiresync_domain::mail::Direction;
use hiresync_domain::ports::{
    ChangePage, CursorUpdate, MailChange, MailItem, MailMessage, MailboxChanges, MailboxError,
    Resync,
};
use jiff::Timestamp;

use super::facts;
use crate::gmail_sync::{GmailMessage, HistoryChange, HistoryError};

/// Metadata reads in flight at once, in the order they were listed. Gmail's per-user quota
/// is 250 units a second and a read costs 5: five at a time stays under it at any latency
/// above 100 ms, and the client honours a 429's `Retry-After` when it does not.
pub const METADATA_CONCURRENCY: usize = 5;
use crate::GmailClient;

/// Where incremental sync reads the history from.
const HISTORY: &str = "gmail_history";
/// The next page of a full listing under way.
const FULL_PAGE: &str = "gmail_full_page";
/// The history id read before a full listing began: the incremental cursor once it ends,
/// so nothing that changed meanwhile is missed.
const FULL_HISTORY: &str = "gmail_full_history";

/// Which stream the job is reading.
enum Stream {
    /// Not decided yet: the stored cursor says.
    Unknown,
    /// History from `start`; `page_token` is where this job is within it (Gmail's page
    /// tokens are not kept: a continuation replays from `start`, idempotently).
    History {
        start: String,
        page_token: Option<String>,
    },
    /// The full listing, its position in the cursor.
    Full,
}

pub(super) struct GmailMailbox {
    gmail: GmailClient,
    stream: Stream,
}

impl GmailMailbox {
    pub(super) fn new(gmail: GmailClient) -> Self {
        GmailMailbox {
            gmail,
            stream: Stream::Unknown,
        }
    }

    async fn metadata(&self, id: &str) -> Result<Option<GmailMessage>, MailboxError> {
        self.gmail
            .message_metadata(id)
            .await
            .map_err(|e| e.in_mailbox("gmail message"))
    }

    async fn history(
        &mut self,
        start: String,
        page_token: Option<String>,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        let page = match self
            .gmail
            .history(&start, page_token.as_deref(), page_size)
            .await
        {
            Ok(page) => page,
            Err(e @ HistoryError::Expired { .. }) => {
                self.stream = Stream::Full;
                return Ok(ChangePage {
                    cursor: vec![CursorUpdate::remove(HISTORY)],
                    resync: Some(Resync {
                        stream: HISTORY.to_owned(),
                        cause: Box::new(e),
                    }),
                    ..ChangePage::default()
                });
            }
            Err(HistoryError::Api(e)) => return Err(e.in_mailbox("gmail history")),
        };
        // Owned ids: the reads run concurrently, in the order the page listed them.
        let listed: Vec<(String, Follow)> = page
            .changes
            .iter()
            .map(|change| (change.id().to_owned(), follow(change)))
            .filter(|(_, follow)| *follow != Follow::Nothing)
            .collect();
        let this = &*self;
        let changes: Vec<MailChange> = stream::iter(listed)
            .map(|(id, follow)| async move {
                if follow == Follow::Delete {
                    return Ok(deleted(&id));
                }
                Ok(match this.metadata(&id).await? {
                    Some(m) if binned(&m) => deleted(&id),
                    Some(m) => MailChange::Message(item(&m)),
                    None => deleted(&id),
                })
            })
            .buffered(METADATA_CONCURRENCY)
            .try_collect()
            .await?;
        let (cursor, done) = match page.next_page_token {
            Some(next) => {
                self.stream = Stream::History {
                    start,
                    page_token: Some(next),
                };
                (Vec::new(), false)
            }
            None => (vec![CursorUpdate::set(HISTORY, page.history_id)], true),
        };
        Ok(ChangePage {
            read: true,
            changes,
            cursor,
            resync: None,
            done,
        })
    }

    /// The historical (or resync) enumeration: every message since the lookback start, in
    /// pages, resumable through the cursor. Its first step remembers the mailbox's history
    /// id before anything is listed.
    async fn full(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        let Some(history) = cursors.0.get(FULL_HISTORY) else {
            let profile = self
                .gmail
                .profile()
                .await
                .map_err(|e| e.in_mailbox("gmail profile"))?;
            return Ok(ChangePage {
                cursor: vec![CursorUpdate::set(FULL_HISTORY, profile.history_id)],
                ..ChangePage::default()
            });
        };
        // Every label but spam and the bin (which `messages.list` leaves out by default),
        // drafts and chats; `after:` in epoch seconds, since a date would be read as
        // midnight in Pacific time. One second earlier, as `after:` is exclusive.
        let since = lookback_start.as_second().saturating_sub(1);
        let query = format!("after:{since} -in:drafts -in:chats");
        let list = self
            .gmail
            .list_messages(
                Some(&query),
                &[],
                cursors.0.get(FULL_PAGE).map(String::as_str),
                page_size,
            )
            .await
            .map_err(|e| e.in_mailbox("gmail list"))?;
        let this = &*self;
        let ids: Vec<String> = list.messages.iter().map(|r| r.id.clone()).collect();
        let changes: Vec<MailChange> = stream::iter(ids)
            .map(|id| async move { this.metadata(&id).await })
            .buffered(METADATA_CONCURRENCY)
            .try_filter_map(|m| async move { Ok(m.map(|m| MailChange::Message(item(&m)))) })
            .try_collect()
            .await?;
        let (cursor, done) = match list.next_page_token {
            Some(next) => (vec![CursorUpdate::set(FULL_PAGE, next)], false),
            None => (
                vec![
                    CursorUpdate::remove(FULL_PAGE),
                    CursorUpdate::remove(FULL_HISTORY),
                    CursorUpdate::set(HISTORY, history.clone()),
                ],
                true,
            ),
        };
        Ok(ChangePage {
            read: true,
            changes,
            cursor,
            resync: None,
            done,
        })
    }
}

/// What one history change asks of the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// Gone for good, or moved to the bin or spam (and not back within the page).
    Delete,
    /// New, or back from the bin or spam: read it and judge it by its current labels.
    Read,
    /// A label change that changes nothing here (archived, read, starred, filed under a
    /// label): the message was and stays followed.
    Nothing,
}

/// The labels whose coming or going makes a message leave or come back.
const LEAVING: [&str; 2] = ["TRASH", "SPAM"];

fn follow(change: &HistoryChange) -> Follow {
    let touches = |labels: &[String]| labels.iter().any(|l| LEAVING.contains(&l.as_str()));
    match change {
        HistoryChange::Deleted { .. } => Follow::Delete,
        HistoryChange::Added { .. } => Follow::Read,
        HistoryChange::Labels { added, removed, .. } => match (touches(added), touches(removed)) {
            (true, false) => Follow::Delete,
            (_, true) => Follow::Read,
            (false, false) => Follow::Nothing,
        },
    }
}

/// In the bin or in spam: deleted here, if it was stored.
fn binned(m: &GmailMessage) -> bool {
    m.label_ids.iter().any(|l| LEAVING.contains(&l.as_str()))
}

fn deleted(id: &str) -> MailChange {
    MailChange::Deleted {
        provider_id: id.to_owned(),
    }
}

/// A message as the sync judges it. Drafts, spam and what the user already binned are not
/// conversations.
fn item(m: &GmailMessage) -> MailItem {
    if m.label_ids
        .iter()
        .any(|l| l == "DRAFT" || l == "SPAM" || l == "TRASH")
    {
        return MailItem::NotConversation;
    }
    match facts::from_gmail(m) {
        Ok(f) => MailItem::Conversation(MailMessage {
            facts: f,
            internet_message_id: facts::gmail_message_id(m),
            subject: facts::gmail_subject(m),
            direction: if m.label_ids.iter().any(|l| l == "SENT") {
                Direction::Sent
            } else {
                Direction::Received
            },
        }),
        Err(why) => why.item(),
    }
}

#[async_trait]
impl MailboxChanges for GmailMailbox {
    async fn next_page(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        if let Stream::Unknown = self.stream {
            self.stream = match cursors.0.get(HISTORY) {
                Some(start) => Stream::History {
                    start: start.clone(),
                    page_token: None,
                },
                None => Stream::Full,
            };
        }
        match &self.stream {
            Stream::History { start, page_token } => {
                let (start, page_token) = (start.clone(), page_token.clone());
                self.history(start, page_token, page_size).await
            }
            Stream::Unknown | Stream::Full => self.full(cursors, lookback_start, page_size).await,
        }
    }

    async fn refetch(&mut self, provider_id: &str) -> Result<Option<MailItem>, MailboxError> {
        Ok(self.metadata(provider_id).await?.map(|m| item(&m)))
    }
}
