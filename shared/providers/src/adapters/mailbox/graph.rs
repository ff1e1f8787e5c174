//! A Microsoft 365 mailbox through Graph delta: every mail folder but those that hold no
//! conversation (Deleted Items, Junk Email, Drafts, ...: [`SKIPPED_WELL_KNOWN`]), one after
//! the other, each with its own delta link as cursor.
//!
//! Inbox and Sent Items come first and keep the cursor keys they always had
//! (`graph_inbox`, `graph_sentitems`); any other folder's key is `graph_folder_<id>`. The
//! ids of the well-known folders are read once per connection and kept in the cursor
//! ([`WELL_KNOWN`]); the folder list is read at the start of every job, so a folder the
//! user creates is followed from the next job on (enumerated back to the lookback start,
//! which finds what was moved into it already stored), and the cursor of one that is gone
//! is dropped.

use std::collections::{BTreeMap, BTreeSet};

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
    removal_is_delete, DeltaError, DeltaItem, DeltaNext, DeltaStart, GraphMessage,
};
use crate::graph_folders::SKIPPED_WELL_KNOWN;
use crate::GraphClient;

/// The cursor key holding the well-known folders' ids, `name=id` separated by spaces.
const WELL_KNOWN: &str = "graph_well_known";
/// Followed first, by name, under the cursor keys `graph_<name>`.
const BY_NAME: [&str; 2] = ["inbox", "sentitems"];
/// The prefix of every other folder's cursor key.
const FOLDER_KEY: &str = "graph_folder_";
/// The cursor of the Deleted Items stream earlier versions followed.
const RETIRED_KEYS: [&str; 1] = ["graph_deleteditems"];

/// One followed folder: its cursor key and where its first round starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stream {
    key: String,
    /// A well-known name or a folder id, as the delta path takes either.
    folder: String,
    by_name: bool,
}

/// What the job learned of the mailbox's folders at its start.
struct Folders {
    streams: Vec<Stream>,
    /// The ids of the folders left out: a message now in one of them was deleted here.
    skipped: BTreeSet<String>,
    /// Cursor keys of folders no longer followed, dropped with the first page.
    stale: Vec<CursorUpdate>,
    /// Sent Items' id: what is there was sent by the mailbox, from whichever of its
    /// addresses.
    sent: Option<String>,
}

pub(super) struct GraphMailbox {
    graph: GraphClient,
    owner: EmailAddress,
    /// Read at the job's first step.
    folders: Option<Folders>,
    /// The stream being read, an index into `folders.streams`.
    folder: usize,
    /// Whether this job already dropped the current folder's cursor: a second unusable
    /// cursor in the same folder is a failure, not another resync.
    restarted: bool,
    /// The left-out folders' ids, for a message read again outside the page loop.
    skipped: Option<BTreeSet<String>>,
}

fn parse_well_known(value: &str) -> BTreeMap<&str, &str> {
    value
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

/// The ids of the well-known folders the sync leaves out, of those `known`.
fn skipped_ids(known: &BTreeMap<&str, &str>) -> BTreeSet<String> {
    SKIPPED_WELL_KNOWN
        .iter()
        .filter_map(|name| known.get(name).map(|id| (*id).to_owned()))
        .collect()
}

impl GraphMailbox {
    pub(super) fn new(graph: GraphClient, owner: EmailAddress) -> Self {
        GraphMailbox {
            graph,
            owner,
            folders: None,
            folder: 0,
            restarted: false,
            skipped: None,
        }
    }

    /// The ids of the well-known folders the sync needs to tell apart, read by name.
    async fn well_known(&self) -> Result<String, MailboxError> {
        let names: Vec<&'static str> = BY_NAME.into_iter().chain(SKIPPED_WELL_KNOWN).collect();
        let reads = names
            .iter()
            .map(|name| self.graph.well_known_folder_id(name));
        let found = futures::future::try_join_all(reads)
            .await
            .map_err(|e| e.in_mailbox("graph folders"))?;
        let ids = names.into_iter().zip(found);
        Ok(ids
            .into_iter()
            .filter_map(|(name, id)| id.map(|id| format!("{name}={id}")))
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// The folders to follow in this job, from the well-known ids in the cursor and the
    /// mailbox's folder list.
    async fn read_folders(&self, cursors: &Cursor, known: &str) -> Result<Folders, MailboxError> {
        let known = parse_well_known(known);
        let skipped = skipped_ids(&known);
        let listed = self
            .graph
            .mail_folders(&skipped)
            .await
            .map_err(|e| e.in_mailbox("graph folders"))?;
        let named: BTreeSet<&str> = BY_NAME
            .iter()
            .filter_map(|n| known.get(n).copied())
            .collect();
        let mut streams: Vec<Stream> = BY_NAME
            .iter()
            .map(|name| Stream {
                key: format!("graph_{name}"),
                folder: (*name).to_owned(),
                by_name: true,
            })
            .collect();
        let mut others: Vec<Stream> = listed
            .into_iter()
            .filter(|f| !named.contains(f.id.as_str()))
            .map(|f| Stream {
                key: format!("{FOLDER_KEY}{}", f.id),
                folder: f.id,
                by_name: false,
            })
            .collect();
        others.sort_by(|a, b| a.key.cmp(&b.key));
        others.dedup();
        streams.extend(others);
        let followed: BTreeSet<&str> = streams.iter().map(|s| s.key.as_str()).collect();
        let stale = cursors
            .0
            .keys()
            .filter(|key| {
                (key.starts_with(FOLDER_KEY) && !followed.contains(key.as_str()))
                    || RETIRED_KEYS.contains(&key.as_str())
            })
            .map(|key| CursorUpdate::remove(key.clone()))
            .collect();
        Ok(Folders {
            streams,
            skipped,
            stale,
            sent: known.get("sentitems").map(|id| (*id).to_owned()),
        })
    }

    fn item(&self, m: &GraphMessage) -> MailItem {
        if m.is_draft {
            return MailItem::NotConversation;
        }
        match facts::from_graph(m) {
            Ok(f) => {
                let in_sent_items = self
                    .folders
                    .as_ref()
                    .and_then(|f| f.sent.as_deref())
                    .is_some_and(|sent| m.parent_folder_id.as_deref() == Some(sent));
                let direction = if f.from == self.owner || in_sent_items {
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

    /// A page of a followed folder: what arrived, newest first (a thread's latest message
    /// decides whether it is active, and once stored it lets the thread's older messages
    /// through), then what left and was deleted in the mailbox (see [`removal_is_delete`]:
    /// a move to another followed folder is not a delete).
    async fn followed(
        &self,
        items: Vec<DeltaItem>,
        skipped: &BTreeSet<String>,
    ) -> Result<Vec<MailChange>, MailboxError> {
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
            let current = self
                .graph
                .message_metadata(&id)
                .await
                .map_err(|e| e.in_mailbox("graph message"))?;
            if removal_is_delete(current.as_ref(), skipped) {
                changes.push(MailChange::Deleted { provider_id: id });
            }
        }
        Ok(changes)
    }
}

#[async_trait]
impl MailboxChanges for GraphMailbox {
    async fn next_page(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        let Some(known) = cursors.0.get(WELL_KNOWN) else {
            // Once per connection, stored before anything is read.
            let known = self.well_known().await?;
            return Ok(ChangePage {
                cursor: vec![CursorUpdate::set(WELL_KNOWN, known)],
                ..ChangePage::default()
            });
        };
        if self.folders.is_none() {
            self.folders = Some(self.read_folders(cursors, known).await?);
        }
        let Some(folders) = self.folders.as_mut() else {
            return Ok(ChangePage::default());
        };
        let Some(stream) = folders.streams.get(self.folder).cloned() else {
            return Ok(ChangePage {
                done: true,
                cursor: std::mem::take(&mut folders.stale),
                ..ChangePage::default()
            });
        };
        let key = stream.key.clone();
        // The folder's cursor moves with every stored page, so it is also where this page
        // starts; without one, the folder is enumerated back to the lookback start.
        let received_since = Some(lookback_start);
        let start = match cursors.0.get(&key) {
            Some(link) => DeltaStart::Link(link.clone()),
            None if stream.by_name => DeltaStart::FolderName {
                name: stream.folder.clone(),
                received_since,
            },
            None => DeltaStart::FolderId {
                id: stream.folder.clone(),
                received_since,
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
        let skipped = self
            .folders
            .as_ref()
            .map(|f| f.skipped.clone())
            .unwrap_or_default();
        let changes = self.followed(page.items, &skipped).await?;
        let mut cursor = vec![CursorUpdate::set(key, page.next.link())];
        let mut done = false;
        if let Some(folders) = self.folders.as_mut() {
            cursor.append(&mut folders.stale);
            if let DeltaNext::Done(_) = page.next {
                self.folder += 1;
                self.restarted = false;
            }
            done = self.folder >= folders.streams.len();
        }
        Ok(ChangePage {
            read: true,
            changes,
            cursor,
            resync: None,
            done,
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
        let skipped = match &self.folders {
            Some(folders) => folders.skipped.clone(),
            // Outside a page loop (a reconciliation): the well-known ids, read once.
            None => match &self.skipped {
                Some(skipped) => skipped.clone(),
                None => {
                    let known = self.well_known().await?;
                    let skipped = skipped_ids(&parse_well_known(&known));
                    self.skipped = Some(skipped.clone());
                    skipped
                }
            },
        };
        let in_skipped_folder = removal_is_delete(Some(&m), &skipped);
        if in_skipped_folder {
            return Ok(Some(MailItem::NotConversation));
        }
        Ok(Some(self.item(&m)))
    }
}
