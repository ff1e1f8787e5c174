//! Gmail: the pull side of mail sync (protocols.md §2.6, §2.7).
//!
//! Incremental sync reads `users.history.list` from the stored history id; when Gmail no
//! longer has that id ([`HistoryError::Expired`]) the worker runs a full sync:
//! [`GmailClient::list_messages`] then [`GmailClient::message_metadata`] per id, and stores
//! the history id read from `users.getProfile` before listing.
//!
//! Metadata first: a message is read with `format=metadata` and only
//! [`METADATA_HEADERS`], so a message the sync policy skips costs no body download, and
//! history changes carry label ids, so drafts or spam can be skipped before any read.

use std::collections::HashMap;

use jiff::Timestamp;
use reqwest::Url;
use serde::Deserialize;
use thiserror::Error;

use crate::gmail::GmailClient;
use crate::http::{google_json, ApiError, Repeat};

/// The history record types incremental sync asks for. Label changes are there because
/// moving a message to the bin (or to spam) adds the `TRASH` (`SPAM`) label, with no
/// `messageDeleted` until it is purged, and restoring it removes the label again.
pub const HISTORY_TYPES: [&str; 4] = [
    "messageAdded",
    "messageDeleted",
    "labelAdded",
    "labelRemoved",
];

/// The headers a metadata read asks for: what the sync policy needs to decide.
pub const METADATA_HEADERS: [&str; 7] =
    ["From", "To", "Cc", "Bcc", "Date", "Message-ID", "Subject"];

/// Gmail's ceiling for `maxResults` on `history.list` and `messages.list`.
pub const MAX_RESULTS: u32 = 500;

/// One page of `history.list`, collapsed per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// One change per message id, in the order each id first appears on the page; see
    /// [`HistoryChange`] for how several records of one message collapse.
    pub changes: Vec<HistoryChange>,
    /// More pages follow: call again with it (and the same start id).
    pub next_page_token: Option<String>,
    /// The mailbox's current history id. Store it as the cursor once the last page (no
    /// `next_page_token`) is committed.
    pub history_id: String,
}

/// What happened to one message within a page.
///
/// Records are collapsed per message id in page order, keeping the last meaningful
/// change:
/// - `Deleted` is final: it replaces whatever came before (added then deleted, as a
///   draft's revisions are, comes out as `Deleted`), and nothing after it counts, since
///   Gmail never reuses a message id.
/// - `Added` absorbs label changes before or after it: the worker reads the message's
///   metadata anyway, which has its current labels; the label ids are the union, in order
///   of appearance.
/// - Label changes merge into one `Labels` with the union of the labels added and the
///   union of the labels removed (a label both added and removed in one page is in both:
///   the message's current labels tell which came last).
///
/// Collapsing is per page: the same id can appear again on the next page, so the worker's
/// writes stay idempotent by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryChange {
    /// A new message (received, sent, imported or a draft revision). `label_ids` lets the
    /// worker skip drafts (`DRAFT`) or spam (`SPAM`) without reading the message.
    Added {
        id: String,
        thread_id: String,
        label_ids: Vec<String>,
    },
    /// The message is gone for good (purged from the bin or deleted outright).
    Deleted { id: String },
    /// Labels added to or removed from an existing message. `TRASH` or `SPAM` added means
    /// the user deleted it or marked it as spam; removed, that it was restored.
    Labels {
        id: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
}

impl HistoryChange {
    pub fn id(&self) -> &str {
        match self {
            HistoryChange::Added { id, .. }
            | HistoryChange::Deleted { id }
            | HistoryChange::Labels { id, .. } => id,
        }
    }
}

/// A failed `history.list` call.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// 404: the start history id is invalid or older than Gmail keeps (usually a week,
    /// sometimes only hours). Run a full sync and store a fresh history id.
    #[error("the Gmail history id has expired; a full sync is needed")]
    Expired {
        #[source]
        source: ApiError,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// One page of `messages.list`: ids only, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageList {
    pub messages: Vec<MessageRef>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub id: String,
    pub thread_id: String,
}

/// A message read with `format=metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GmailMessage {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    /// When Gmail received the message (`internalDate`); better than parsing `Date`.
    pub internal_date: Timestamp,
    /// The message's last change, to compare before overwriting a stored copy (§5 rule 4).
    pub history_id: Option<String>,
    /// `(name, value)` in the message's order; names as the message spelled them, and a
    /// header may repeat. Use [`GmailMessage::header`].
    pub headers: Vec<(String, String)>,
}

impl GmailMessage {
    /// Every value of a header, matching the name case-insensitively, in order.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl GmailClient {
    /// One page of the mailbox's history after `start_history_id`, asking for
    /// [`HISTORY_TYPES`]. `max_results` is clamped to 1..=500.
    pub async fn history(
        &self,
        start_history_id: &str,
        page_token: Option<&str>,
        max_results: u32,
    ) -> Result<HistoryPage, HistoryError> {
        const OPERATION: &str = "gmail.history";
        let mut url = self.messages_url(&["history"]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("startHistoryId", start_history_id);
            for history_type in HISTORY_TYPES {
                query.append_pair("historyTypes", history_type);
            }
            query.append_pair("maxResults", &clamp_results(max_results));
            if let Some(token) = page_token {
                query.append_pair("pageToken", token);
            }
        }
        let wire: HistoryWire = self
            .api
            .send(OPERATION, Repeat::Safe, |h| h.get(url.clone()))
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    HistoryError::Expired { source: e }
                } else {
                    HistoryError::Api(e)
                }
            })?
            .json(OPERATION)?;
        Ok(HistoryPage {
            changes: collapse(wire.history),
            next_page_token: wire.next_page_token,
            history_id: wire.history_id,
        })
    }

    /// One page of message ids for a full or historical sync, e.g. `query`
    /// `"after:2025/03/02"` with `label_ids` `["INBOX"]` (a message must carry every
    /// label given). `max_results` is clamped to 1..=500. `q` needs a scope above
    /// `gmail.metadata` (`gmail.readonly` has it).
    pub async fn list_messages(
        &self,
        query: Option<&str>,
        label_ids: &[&str],
        page_token: Option<&str>,
        max_results: u32,
    ) -> Result<MessageList, ApiError> {
        const OPERATION: &str = "gmail.list_messages";
        let mut url = self.messages_url(&["messages"]);
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(q) = query {
                pairs.append_pair("q", q);
            }
            for label in label_ids {
                pairs.append_pair("labelIds", label);
            }
            pairs.append_pair("maxResults", &clamp_results(max_results));
            if let Some(token) = page_token {
                pairs.append_pair("pageToken", token);
            }
        }
        let wire: ListWire = self
            .api
            .send(OPERATION, Repeat::Safe, |h| h.get(url.clone()))
            .await?
            .json(OPERATION)?;
        Ok(MessageList {
            messages: wire.messages,
            next_page_token: wire.next_page_token,
        })
    }

    /// A message's labels, date and [`METADATA_HEADERS`]; `None` when it no longer
    /// exists (404).
    pub async fn message_metadata(&self, id: &str) -> Result<Option<GmailMessage>, ApiError> {
        const OPERATION: &str = "gmail.message_metadata";
        let mut url = self.messages_url(&["messages", id]);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("format", "metadata");
            for header in METADATA_HEADERS {
                pairs.append_pair("metadataHeaders", header);
            }
        }
        let answer = match self
            .api
            .send(OPERATION, Repeat::Safe, |h| h.get(url.clone()))
            .await
        {
            Ok(answer) => answer,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let wire: MessageWire = answer.json(OPERATION)?;
        Ok(Some(GmailMessage {
            id: wire.id,
            thread_id: wire.thread_id,
            label_ids: wire.label_ids,
            internal_date: wire.internal_date,
            history_id: wire.history_id,
            headers: wire
                .payload
                .map(|p| p.headers.into_iter().map(|h| (h.name, h.value)).collect())
                .unwrap_or_default(),
        }))
    }

    fn messages_url(&self, rest: &[&str]) -> Url {
        let mut segments = vec!["users", "me"];
        segments.extend_from_slice(rest);
        self.base.join(&segments, None)
    }
}

fn clamp_results(max_results: u32) -> String {
    max_results.clamp(1, MAX_RESULTS).to_string()
}

/// Flattens the records into changes, one per message id (rules on [`HistoryChange`]).
/// Within a record, additions come before label changes and deletions last.
fn collapse(records: Vec<RecordWire>) -> Vec<HistoryChange> {
    let mut changes: Vec<HistoryChange> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut push = |change: HistoryChange| match index.get(change.id()) {
        Some(&at) => merge(&mut changes[at], change),
        None => {
            index.insert(change.id().to_owned(), changes.len());
            changes.push(change);
        }
    };
    for record in records {
        for added in record.messages_added {
            push(HistoryChange::Added {
                id: added.message.id,
                thread_id: added.message.thread_id,
                label_ids: added.message.label_ids,
            });
        }
        for labels in record.labels_added {
            push(HistoryChange::Labels {
                id: labels.message.id,
                added: labels.label_ids,
                removed: Vec::new(),
            });
        }
        for labels in record.labels_removed {
            push(HistoryChange::Labels {
                id: labels.message.id,
                added: Vec::new(),
                removed: labels.label_ids,
            });
        }
        for deleted in record.messages_deleted {
            push(HistoryChange::Deleted {
                id: deleted.message.id,
            });
        }
    }
    changes
}

fn merge(existing: &mut HistoryChange, later: HistoryChange) {
    use HistoryChange::{Added, Deleted, Labels};
    match (&mut *existing, later) {
        (Deleted { .. }, _) => {}
        (_, later @ Deleted { .. }) => *existing = later,
        (
            Added { label_ids, .. },
            Added {
                label_ids: more, ..
            }
            | Labels { added: more, .. },
        ) => union(label_ids, more),
        (
            Labels { added, removed, .. },
            Labels {
                added: more_added,
                removed: more_removed,
                ..
            },
        ) => {
            union(added, more_added);
            union(removed, more_removed);
        }
        (
            Labels { added, .. },
            Added {
                id,
                thread_id,
                mut label_ids,
            },
        ) => {
            union(&mut label_ids, std::mem::take(added));
            *existing = Added {
                id,
                thread_id,
                label_ids,
            };
        }
    }
}

fn union(into: &mut Vec<String>, more: Vec<String>) {
    for label in more {
        if !into.contains(&label) {
            into.push(label);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryWire {
    #[serde(default)]
    history: Vec<RecordWire>,
    next_page_token: Option<String>,
    #[serde(deserialize_with = "google_json::id_text")]
    history_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordWire {
    #[serde(default)]
    messages_added: Vec<AddedWire>,
    #[serde(default)]
    messages_deleted: Vec<TouchedWire>,
    #[serde(default)]
    labels_added: Vec<LabelsWire>,
    #[serde(default)]
    labels_removed: Vec<LabelsWire>,
}

#[derive(Deserialize)]
struct AddedWire {
    message: AddedMessageWire,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddedMessageWire {
    id: String,
    thread_id: String,
    #[serde(default)]
    label_ids: Vec<String>,
}

#[derive(Deserialize)]
struct TouchedWire {
    message: IdWire,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelsWire {
    message: IdWire,
    #[serde(default)]
    label_ids: Vec<String>,
}

#[derive(Deserialize)]
struct IdWire {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListWire {
    #[serde(default)]
    messages: Vec<MessageRef>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageWire {
    id: String,
    thread_id: String,
    #[serde(default)]
    label_ids: Vec<String>,
    #[serde(deserialize_with = "google_json::epoch_ms")]
    internal_date: Timestamp,
    #[serde(default, deserialize_with = "opt_id_text")]
    history_id: Option<String>,
    payload: Option<PayloadWire>,
}

#[derive(Deserialize)]
struct PayloadWire {
    #[serde(default)]
    headers: Vec<HeaderWire>,
}

#[derive(Deserialize)]
struct HeaderWire {
    name: String,
    #[serde(default)]
    value: String,
}

fn opt_id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    google_json::id_text(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(id: &str, labels: &[&str]) -> HistoryChange {
        HistoryChange::Added {
            id: id.into(),
            thread_id: format!("t-{id}"),
            label_ids: labels.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    fn labels(id: &str, labels: &[&str]) -> HistoryChange {
        unlabels(id, labels, &[])
    }

    fn unlabels(id: &str, added: &[&str], removed: &[&str]) -> HistoryChange {
        let list = |l: &[&str]| l.iter().map(|l| (*l).to_owned()).collect();
        HistoryChange::Labels {
            id: id.into(),
            added: list(added),
            removed: list(removed),
        }
    }

    fn deleted(id: &str) -> HistoryChange {
        HistoryChange::Deleted { id: id.into() }
    }

    fn merged(first: HistoryChange, later: HistoryChange) -> HistoryChange {
        let mut first = first;
        merge(&mut first, later);
        first
    }

    #[test]
    fn collapsing_rules() {
        // Deleted wins and is final.
        assert_eq!(merged(added("a", &["INBOX"]), deleted("a")), deleted("a"));
        assert_eq!(merged(labels("a", &["TRASH"]), deleted("a")), deleted("a"));
        assert_eq!(merged(deleted("a"), added("a", &["INBOX"])), deleted("a"));
        assert_eq!(merged(deleted("a"), labels("a", &["INBOX"])), deleted("a"));
        // Added absorbs label changes on either side.
        assert_eq!(
            merged(
                added("a", &["UNREAD", "INBOX"]),
                labels("a", &["STARRED", "INBOX"])
            ),
            added("a", &["UNREAD", "INBOX", "STARRED"])
        );
        assert_eq!(
            merged(labels("a", &["STARRED"]), added("a", &["INBOX"])),
            added("a", &["INBOX", "STARRED"])
        );
        // A replayed addition changes nothing.
        assert_eq!(
            merged(added("a", &["INBOX"]), added("a", &["INBOX"])),
            added("a", &["INBOX"])
        );
        // Label additions merge.
        assert_eq!(
            merged(
                labels("a", &["STARRED"]),
                labels("a", &["TRASH", "STARRED"])
            ),
            labels("a", &["STARRED", "TRASH"])
        );
        // Removals merge with additions, each in its own list.
        assert_eq!(
            merged(labels("a", &["TRASH"]), unlabels("a", &[], &["TRASH"])),
            unlabels("a", &["TRASH"], &["TRASH"])
        );
        assert_eq!(
            merged(unlabels("a", &[], &["INBOX"]), added("a", &["SENT"])),
            added("a", &["SENT"])
        );
    }

    #[test]
    fn headers_match_case_insensitively_and_keep_duplicates() {
        let message = GmailMessage {
            id: "m".into(),
            thread_id: "t".into(),
            label_ids: vec![],
            internal_date: Timestamp::UNIX_EPOCH,
            history_id: None,
            headers: vec![
                ("To".into(), "a@x.example".into()),
                ("SUBJECT".into(), "Hi".into()),
                ("to".into(), "b@x.example".into()),
            ],
        };
        assert_eq!(message.header("TO"), ["a@x.example", "b@x.example"]);
        assert_eq!(message.header("subject"), ["Hi"]);
        assert!(message.header("Cc").is_empty());
    }
}
