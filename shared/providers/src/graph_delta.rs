//! Microsoft Graph mail delta: the pull side of mail sync, one mail folder at a time
//! (protocols.md §1.8, §1.10; the folders are [`crate::graph_folders`]'s).
//!
//! Metadata first: every read selects only [`MESSAGE_SELECT`] (addresses, dates, folder,
//! subject; never the body), so a message the sync policy skips costs no body download.
//!
//! A round starts from a folder ([`DeltaStart::Folder`], `FolderName`, `FolderId`) and follows [`DeltaNext::More`] links until
//! [`DeltaNext::Done`] hands over the delta link to store for the next round. Links are
//! opaque: they are sent as Graph wrote them, never rebuilt, and only to the configured
//! Graph origin, since the bearer token goes with them.
//!
//! Each request carries one `Prefer` header with both preferences, comma-separated as
//! RFC 7240 allows: `IdType="ImmutableId"` (ids survive moves, so a `@removed` id can
//! still be looked up, §1.10) and `odata.maxpagesize=N` (Graph's page size for delta;
//! `$top` is not honoured there). Headers do not travel inside links, so every page,
//! next links and delta links included, sends them again.
//!
//! Graph replays: the same id may come twice in one round or again in later rounds. The
//! page keeps every item as Graph sent it; the worker merges by id.

use jiff::Timestamp;
use reqwest::{RequestBuilder, Url};
use serde::{Deserialize, Deserializer};
use thiserror::Error;

use crate::graph::{GraphClient, PREFER_IMMUTABLE_ID};
use crate::http::{ApiError, Repeat};

/// The fields a delta page and a single-message read return: what the sync policy needs
/// to decide, and nothing heavier.
pub const MESSAGE_SELECT: &str = "id,conversationId,internetMessageId,from,sender,\
toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,parentFolderId,\
subject,isDraft";

/// A page size that keeps a page well inside the request timeout.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// `@removed.reason` for an item that left the folder; see [`removal_is_delete`].
pub const REMOVED_DELETED: &str = "deleted";
/// `@removed.reason` for an item that left the folder; see [`removal_is_delete`].
pub const REMOVED_CHANGED: &str = "changed";

/// Three well-known folders by name (§1.8); any folder can also be named by its
/// well-known name or its id ([`DeltaStart::FolderName`], [`DeltaStart::FolderId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WellKnownFolder {
    Inbox,
    SentItems,
    /// Never read by the sync: a message here was deleted in the mailbox.
    DeletedItems,
}

impl WellKnownFolder {
    /// Graph's well-known folder name, as a path segment.
    pub fn name(self) -> &'static str {
        match self {
            WellKnownFolder::Inbox => "inbox",
            WellKnownFolder::SentItems => "sentitems",
            WellKnownFolder::DeletedItems => "deleteditems",
        }
    }
}

/// Where a delta request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaStart {
    /// The first round of a folder (or a new one after [`DeltaError::Expired`]). With
    /// `received_since`, only messages received at or after it are enumerated; Graph
    /// then returns at most 5,000 messages in the round (§1.8).
    Folder {
        folder: WellKnownFolder,
        received_since: Option<Timestamp>,
    },
    /// The first round of a folder named by its well-known name (`inbox`, `archive`).
    FolderName {
        name: String,
        received_since: Option<Timestamp>,
    },
    /// The first round of a folder named by its id (any folder of the mailbox).
    FolderId {
        id: String,
        received_since: Option<Timestamp>,
    },
    /// An `@odata.nextLink` or a stored `@odata.deltaLink`, called as is.
    Link(String),
}

/// One page of a delta round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaPage {
    /// In Graph's order, replays included.
    pub items: Vec<DeltaItem>,
    pub next: DeltaNext,
}

// Most items are `Changed`: boxing them would add an allocation each and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaItem {
    /// A message created or updated in the folder (or moved into it).
    Changed(GraphMessage),
    /// A message that left the folder: `@removed` with `reason` [`REMOVED_DELETED`] or
    /// [`REMOVED_CHANGED`]. Neither reason alone says whether it was deleted or moved:
    /// see [`removal_is_delete`].
    Removed { id: String, reason: String },
}

/// How the round goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaNext {
    /// More pages in this round: call this `@odata.nextLink` next (after committing the
    /// page's items).
    More(String),
    /// The round is complete: store this `@odata.deltaLink` as the folder's cursor.
    Done(String),
}

impl DeltaNext {
    pub fn link(&self) -> &str {
        match self {
            DeltaNext::More(link) | DeltaNext::Done(link) => link,
        }
    }
}

/// A message's metadata, as selected by [`MESSAGE_SELECT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphMessage {
    /// Immutable id: stays the same when the message moves between folders.
    pub id: String,
    pub conversation_id: String,
    /// The RFC 5322 `Message-ID`: the dedupe key across mailboxes and systems.
    pub internet_message_id: Option<String>,
    pub from: Option<Recipient>,
    /// Who actually sent it (differs from `from` when a delegate sends on someone's behalf).
    pub sender: Option<Recipient>,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    /// Generally present only on messages the user sent or drafted.
    pub bcc: Vec<Recipient>,
    pub received_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub parent_folder_id: Option<String>,
    pub subject: Option<String>,
    pub is_draft: bool,
}

/// Graph's `{ "emailAddress": { "name", "address" } }`. An entry without an address
/// (Graph sends some, e.g. for undeliverable or malformed headers) is left out of the
/// lists and makes `from` / `sender` `None`: nothing can be matched against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: Option<String>,
    pub address: String,
}

/// A failed delta call.
#[derive(Debug, Error)]
pub enum DeltaError {
    /// The cursor is gone (410 Gone, or a 4xx with code `syncStateNotFound` or
    /// `resyncRequired`, §1.8): drop the stored link and start a new round from
    /// [`DeltaStart::Folder`], merging what it returns with what is stored.
    #[error("the delta cursor has expired; a full enumeration is needed")]
    Expired {
        #[source]
        source: ApiError,
    },
    /// The link is not a URL on the configured Graph origin, so the token was not sent.
    /// A stored link from another environment or a corrupted one: drop it and start
    /// over, as for [`DeltaError::Expired`]. The link is not quoted, to keep logs clean.
    #[error("delta link refused: not a URL on the configured Graph origin")]
    ForeignLink,
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// What a [`DeltaItem::Removed`] means, once the worker has read the message again with
/// [`GraphClient::message_metadata`] (its id is immutable, so it can).
///
/// The item left a followed folder. Graph reports a move to Deleted Items as `changed`,
/// and §1.8 lists both reasons for items that moved out, so the reason is not trusted
/// either way:
/// - the message is gone (`None`, a 404): it was deleted;
/// - it now lives in a folder the sync leaves out (`skipped`: Deleted Items, Junk Email,
///   see [`crate::graph_folders::SKIPPED_WELL_KNOWN`]): the user deleted it or marked it
///   as junk, so it is a delete here;
/// - it lives in any other folder (an archive, a folder of the user's): a move between
///   followed folders, which changes nothing; that folder's delta shows it again.
///
/// The look-up is a metadata read, so it costs no body download.
pub fn removal_is_delete(
    current: Option<&GraphMessage>,
    skipped: &std::collections::BTreeSet<String>,
) -> bool {
    current.is_none_or(|m| {
        m.parent_folder_id
            .as_ref()
            .is_some_and(|folder| skipped.contains(folder))
    })
}

impl GraphClient {
    /// One page of a folder's message delta.
    ///
    /// `page_size` is sent as `Prefer: odata.maxpagesize` (at least 1); Graph may still
    /// return fewer items. Throttling (429 with `Retry-After`) is retried per the
    /// client's policy, like every safe call.
    pub async fn messages_delta(
        &self,
        start: DeltaStart,
        page_size: u32,
    ) -> Result<DeltaPage, DeltaError> {
        const OPERATION: &str = "graph.messages_delta";
        let url = match &start {
            DeltaStart::Folder {
                folder,
                received_since,
            } => self.base.join(
                &["me", "mailFolders", folder.name(), "messages", "delta"],
                Some(&first_round_query(*received_since)),
            ),
            DeltaStart::FolderName {
                name: id,
                received_since,
            }
            | DeltaStart::FolderId { id, received_since } => self.base.join(
                &["me", "mailFolders", id, "messages", "delta"],
                Some(&first_round_query(*received_since)),
            ),
            DeltaStart::Link(link) => self.same_origin(link)?,
        };
        let prefer = format!(
            "{PREFER_IMMUTABLE_ID}, odata.maxpagesize={}",
            page_size.max(1)
        );
        let page: PageWire = self
            .api
            .send(OPERATION, Repeat::Safe, |h| {
                h.get(url.clone()).header("Prefer", &prefer)
            })
            .await
            .map_err(expired_or_api)?
            .json(OPERATION)?;
        Ok(page.into_page(OPERATION)?)
    }

    /// One message's metadata by (immutable) id; `None` when it no longer exists.
    pub async fn message_metadata(&self, id: &str) -> Result<Option<GraphMessage>, ApiError> {
        const OPERATION: &str = "graph.message_metadata";
        let url = self
            .base
            .join(&["me", "messages", id], Some(&select_query()));
        let answer = match self
            .api
            .send(OPERATION, Repeat::Safe, |h| self.immutable_get(h, &url))
            .await
        {
            Ok(answer) => answer,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let wire: ItemWire = answer.json(OPERATION)?;
        wire.into_message(OPERATION).map(Some)
    }

    fn immutable_get(&self, http: &reqwest::Client, url: &Url) -> RequestBuilder {
        http.get(url.clone()).header("Prefer", PREFER_IMMUTABLE_ID)
    }

    /// Parses a link only to check where it points; the parsed URL is what HTTP would
    /// send for the link anyway, so the query Graph wrote goes out unchanged.
    fn same_origin(&self, link: &str) -> Result<Url, DeltaError> {
        match Url::parse(link) {
            Ok(url) if url.origin() == self.base.0.origin() => Ok(url),
            _ => Err(DeltaError::ForeignLink),
        }
    }
}

fn select_query() -> String {
    format!("$select={MESSAGE_SELECT}")
}

fn first_round_query(received_since: Option<Timestamp>) -> String {
    let mut query = select_query();
    if let Some(since) = received_since {
        // Whole seconds: .NET parses at most 7 fractional digits, and rounding down
        // never leaves out a message.
        let since = Timestamp::from_second(since.as_second()).unwrap_or(since);
        query.push_str(&format!("&$filter=receivedDateTime%20ge%20{since}"));
    }
    query
}

/// The codes Graph uses for a delta token it no longer knows (§1.8).
const EXPIRED_CODES: [&str; 2] = ["syncStateNotFound", "resyncRequired"];

fn expired_or_api(err: ApiError) -> DeltaError {
    let expired = match &err {
        ApiError::Status { status: 410, .. } => true,
        ApiError::Status {
            status: 400..=499,
            code,
            reason,
            ..
        } => [code, reason].into_iter().flatten().any(|c| {
            EXPIRED_CODES
                .iter()
                .any(|expired| c.eq_ignore_ascii_case(expired))
        }),
        _ => false,
    };
    if expired {
        DeltaError::Expired { source: err }
    } else {
        DeltaError::Api(err)
    }
}

fn decode_error(operation: &'static str, what: &str) -> ApiError {
    ApiError::Decode {
        operation,
        source: <serde_json::Error as serde::de::Error>::custom(what),
    }
}

#[derive(Deserialize)]
struct PageWire {
    #[serde(default)]
    value: Vec<ItemWire>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl PageWire {
    fn into_page(self, operation: &'static str) -> Result<DeltaPage, ApiError> {
        let next = match (self.next_link, self.delta_link) {
            (Some(link), _) => DeltaNext::More(link),
            (None, Some(link)) => DeltaNext::Done(link),
            (None, None) => return Err(decode_error(operation, "neither nextLink nor deltaLink")),
        };
        let items = self
            .value
            .into_iter()
            .map(|item| item.into_item(operation))
            .collect::<Result<_, _>>()?;
        Ok(DeltaPage { items, next })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemWire {
    id: String,
    #[serde(rename = "@removed")]
    removed: Option<RemovedWire>,
    conversation_id: Option<String>,
    internet_message_id: Option<String>,
    from: Option<RecipientWire>,
    sender: Option<RecipientWire>,
    #[serde(default, deserialize_with = "null_as_empty")]
    to_recipients: Vec<RecipientWire>,
    #[serde(default, deserialize_with = "null_as_empty")]
    cc_recipients: Vec<RecipientWire>,
    #[serde(default, deserialize_with = "null_as_empty")]
    bcc_recipients: Vec<RecipientWire>,
    received_date_time: Option<Timestamp>,
    sent_date_time: Option<Timestamp>,
    parent_folder_id: Option<String>,
    subject: Option<String>,
    is_draft: Option<bool>,
}

#[derive(Deserialize)]
struct RemovedWire {
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecipientWire {
    email_address: Option<EmailAddressWire>,
}

#[derive(Deserialize)]
struct EmailAddressWire {
    name: Option<String>,
    address: Option<String>,
}

impl RecipientWire {
    fn into_recipient(self) -> Option<Recipient> {
        let email = self.email_address?;
        let address = email.address.filter(|a| !a.trim().is_empty())?;
        Some(Recipient {
            name: email.name.filter(|n| !n.is_empty()),
            address,
        })
    }
}

fn recipients(list: Vec<RecipientWire>) -> Vec<Recipient> {
    list.into_iter()
        .filter_map(RecipientWire::into_recipient)
        .collect()
}

impl ItemWire {
    fn into_item(self, operation: &'static str) -> Result<DeltaItem, ApiError> {
        match self.removed {
            Some(removed) => Ok(DeltaItem::Removed {
                id: self.id,
                // Graph always names one; an absent reason is treated like any other.
                reason: removed.reason.unwrap_or_default(),
            }),
            None => self.into_message(operation).map(DeltaItem::Changed),
        }
    }

    fn into_message(self, operation: &'static str) -> Result<GraphMessage, ApiError> {
        let conversation_id = self
            .conversation_id
            .ok_or_else(|| decode_error(operation, "a message without conversationId"))?;
        Ok(GraphMessage {
            id: self.id,
            conversation_id,
            internet_message_id: self.internet_message_id,
            from: self.from.and_then(RecipientWire::into_recipient),
            sender: self.sender.and_then(RecipientWire::into_recipient),
            to: recipients(self.to_recipients),
            cc: recipients(self.cc_recipients),
            bcc: recipients(self.bcc_recipients),
            received_at: self.received_date_time,
            sent_at: self.sent_date_time,
            parent_folder_id: self.parent_folder_id,
            subject: self.subject,
            is_draft: self.is_draft.unwrap_or(false),
        })
    }
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: Option<&str>, reason: Option<&str>) -> ApiError {
        ApiError::Status {
            status,
            code: code.map(str::to_owned),
            message: None,
            reason: reason.map(str::to_owned),
            retry_after: None,
        }
    }

    #[test]
    fn expired_cursor_codes_in_either_place_and_any_case() {
        for err in [
            status(410, None, None),
            status(410, Some("Gone"), None),
            status(400, Some("syncStateNotFound"), None),
            status(400, Some("SyncStateNotFound"), None),
            status(404, None, Some("syncStateNotFound")),
            status(400, Some("resyncRequired"), None),
        ] {
            assert!(
                matches!(expired_or_api(err), DeltaError::Expired { .. }),
                "expected Expired"
            );
        }
        for err in [
            status(400, Some("BadRequest"), None),
            status(404, Some("ErrorItemNotFound"), None),
            status(500, Some("syncStateNotFound"), None),
            status(429, None, None),
        ] {
            assert!(matches!(expired_or_api(err), DeltaError::Api(_)));
        }
    }

    #[test]
    fn the_filter_is_encoded_in_whole_seconds() {
        let since: Timestamp = "2025-03-02T08:30:00.999Z".parse().unwrap();
        assert_eq!(
            first_round_query(Some(since)),
            format!(
                "$select={MESSAGE_SELECT}&$filter=receivedDateTime%20ge%202025-03-02T08:30:00Z"
            )
        );
        assert_eq!(first_round_query(None), format!("$select={MESSAGE_SELECT}"));
    }

    #[test]
    fn a_removal_is_a_delete_only_when_gone_or_in_a_skipped_folder() {
        let message = |folder: &str| GraphMessage {
            id: "m1".into(),
            conversation_id: "c1".into(),
            internet_message_id: None,
            from: None,
            sender: None,
            to: vec![],
            cc: vec![],
            bcc: vec![],
            received_at: None,
            sent_at: None,
            parent_folder_id: Some(folder.into()),
            subject: None,
            is_draft: false,
        };
        let skipped = std::collections::BTreeSet::from(["DELETED".to_owned(), "JUNK".to_owned()]);
        assert!(removal_is_delete(None, &skipped));
        assert!(removal_is_delete(Some(&message("DELETED")), &skipped));
        assert!(removal_is_delete(Some(&message("JUNK")), &skipped));
        assert!(!removal_is_delete(Some(&message("ARCHIVE")), &skipped));
        assert!(!removal_is_delete(Some(&message("USER-FOLDER")), &skipped));
    }
}
