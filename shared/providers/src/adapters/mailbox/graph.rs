//! A Microsoft 365 mailbox through Graph delta: Inbox, Sent Items and Deleted Items, one
//! after the other, each with its own delta link as cursor.

use async_trait::async_trait;
use hiresync_domain::connection::Cursor;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::Direction;
use hiresync_domain::ports::{
    ChangePage, CursorUpdate, MailChange, MailItem, MailMessage, MailboxChanges, MailboxError,
    Resync,
};
use jiff::Timestamp;

use super::facts;
use crate::graph_delta::{
    message_folder_is_deleted_items, removal_is_delete, DeltaError, DeltaItem, DeltaNext,
    DeltaStart, GraphMessage, WellKnownFolder,
};
use crate::GraphClient;

/// The folders a mail sync follows, in this order. Deleted Items comes last: within a job,
/// what Inbox and Sent Items stored is then in place for a delete to find.
const FOLDERS: [WellKnownFolder; 3] = [
    WellKnownFolder::Inbox,
    WellKnownFolder::SentItems,
    WellKnownFolder::DeletedItems,
];

/// A folder's cursor key: `graph_inbox`, `graph_sentitems`, `graph_deleteditems`.
fn cursor_key(folder: WellKnownFolder) -> String {
    format!("graph_{}", folder.name())
}

pub(super) struct GraphMailbox {
    graph: GraphClient,
    owner: EmailAddress,
    /// The folder being read, an index into [`FOLDERS`].
    folder: usize,
    /// Whether this job already dropped the current folder's cursor: a second unusable
    /// cursor in the same folder is a failure, not another resync.
    restarted: bool,
    /// The mailbox's Deleted Items folder id, read at most once per job.
    bin: Option<String>,
}

impl GraphMailbox {
    pub(super) fn new(graph: GraphClient, owner: EmailAddress) -> Self {
        GraphMailbox {
            graph,
            owner,
            folder: 0,
            restarted: false,
            bin: None,
        }
    }

    async fn bin_id(&mut self) -> Result<String, MailboxError> {
        if let Some(id) = &self.bin {
            return Ok(id.clone());
        }
        let id = self
            .graph
            .deleted_items_folder_id()
            .await
            .map_err(|e| e.in_mailbox("graph folders"))?;
        self.bin = Some(id.clone());
        Ok(id)
    }

    fn item(&self, m: &GraphMessage) -> MailItem {
        if m.is_draft {
            return MailItem::NotConversation;
        }
        match facts::from_graph(m) {
            Ok(f) => {
                let direction = if f.from == self.owner {
                    Direction::Sent
                } else {
                    Direction::Received
                };
                MailItem::Conversation(MailMessage {
                    facts: f,
                    internet_message_id: m.internet_message_id.clone(),
                    subject: m.subject.clone().unwrap_or_default(),
                    direction,
                })
            }
            Err(why) => why.item(),
        }
    }

    /// A page of Inbox or Sent Items: what arrived, newest first (a thread's latest message
    /// decides whether it is active, and once stored it lets the thread's older messages
    /// through), then what left and was deleted in the mailbox (see [`removal_is_delete`]:
    /// a move to another folder is not a delete).
    async fn followed(&mut self, items: Vec<DeltaItem>) -> Result<Vec<MailChange>, MailboxError> {
        let mut arrived = Vec::new();
        let mut left = Vec::new();
        for item in items {
            match item {
                DeltaItem::Changed(m) => arrived.push(m),
                DeltaItem::Removed { id, .. } => left.push(id),
            }
        }
        arrived.sort_by_key(|m| std::cmp::Reverse(m.received_at.or(m.sent_at)));
        let mut changes: Vec<MailChange> = arrived
            .iter()
            .map(|m| MailChange::Message(self.item(m)))
            .collect();
        for id in left {
            let bin = self.bin_id().await?;
            let current = self
                .graph
                .message_metadata(&id)
                .await
                .map_err(|e| e.in_mailbox("graph message"))?;
            if removal_is_delete(current.as_ref(), &bin) {
                changes.push(MailChange::Deleted { provider_id: id });
            }
        }
        Ok(changes)
    }
}

/// A page of Deleted Items: a message that arrived there was deleted in the mailbox,
/// whichever folder it came from (a move into Deleted Items counts as a delete), so it is
/// deleted here if stored; it is never judged or stored. What left Deleted Items (restored,
/// or deleted for good) is ignored: a restored message comes back through the folder it was
/// restored to.
fn binned(items: Vec<DeltaItem>) -> Vec<MailChange> {
    items
        .into_iter()
        .filter_map(|item| match item {
            DeltaItem::Changed(m) => Some(MailChange::Deleted { provider_id: m.id }),
            DeltaItem::Removed { .. } => None,
        })
        .collect()
}

#[async_trait]
impl MailboxChanges for GraphMailbox {
    async fn next_page(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        let Some(&folder) = FOLDERS.get(self.folder) else {
            return Ok(ChangePage {
                done: true,
                ..ChangePage::default()
            });
        };
        let key = cursor_key(folder);
        // The folder's cursor moves with every stored page, so it is also where this page
        // starts; without one, the folder is enumerated back to the lookback start.
        let start = match cursors.0.get(&key) {
            Some(link) => DeltaStart::Link(link.clone()),
            None => DeltaStart::Folder {
                folder,
                received_since: Some(lookback_start),
            },
        };
        let page = match self.graph.messages_delta(start, page_size).await {
            Ok(page) => page,
            Err(DeltaError::Api(e)) => return Err(e.in_mailbox("graph delta")),
            Err(e) if !self.restarted => {
                // Expired (or unusable) cursor: drop it and enumerate again, back to the
                // lookback start; stores are idempotent, so replays are harmless.
                self.restarted = true;
                return Ok(ChangePage {
                    cursor: vec![CursorUpdate::remove(key.clone())],
                    resync: Some(Resync {
                        stream: key,
                        cause: Box::new(e),
                    }),
                    ..ChangePage::default()
                });
            }
            Err(e) => return Err(MailboxError::new("graph delta", e)),
        };
        let changes = match folder {
            WellKnownFolder::DeletedItems => binned(page.items),
            WellKnownFolder::Inbox | WellKnownFolder::SentItems => {
                self.followed(page.items).await?
            }
        };
        let cursor = vec![CursorUpdate::set(key, page.next.link())];
        if let DeltaNext::Done(_) = page.next {
            self.folder += 1;
            self.restarted = false;
        }
        Ok(ChangePage {
            read: true,
            changes,
            cursor,
            resync: None,
            done: self.folder >= FOLDERS.len(),
        })
    }

    async fn refetch(&mut self, provider_id: &str) -> Result<Option<MailItem>, MailboxError> {
        let Some(m) = self
            .graph
            .message_metadata(provider_id)
            .await
            .map_err(|e| e.in_mailbox("graph message"))?
        else {
            return Ok(None);
        };
        let bin = self.bin_id().await?;
        if message_folder_is_deleted_items(&m, &bin) {
            return Ok(Some(MailItem::NotConversation));
        }
        Ok(Some(self.item(&m)))
    }
}
