//! A seeded mailbox and its change log, read through two lenses: Graph's per-folder delta
//! (protocols.md §1.8, §1.10) and Gmail's history (§2.6, §2.7).
//!
//! Every change (a message arriving, moving, being deleted) takes the next sequence number
//! (a move Gmail records as labels removed and labels added takes one for each record).
//! A Graph delta token is a position in that sequence, so a delta round returns exactly the
//! messages whose folder membership changed after it; a Gmail history id is the same number
//! offset by [`HISTORY_BASE`]. A message's Gmail labels follow from its folder
//! ([`Folder::gmail_labels`]), and user folders exist per mailbox once mail went there or
//! a test made them. Tokens carry the mailbox's generation: expiring the cursors
//! bumps it, and older tokens are answered as the providers answer a forgotten cursor.

use jiff::Timestamp;

/// Gmail history ids start here, so they look like the real (large) numbers.
pub const HISTORY_BASE: u64 = 1000;

pub use crate::folder::{Folder, WELL_KNOWN};

/// A person on a message: the display name (if any) and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub address: String,
}

impl Person {
    /// `"Jane Doe <jane@example.org>"` or `"jane@example.org"`.
    pub fn parse(text: &str) -> Person {
        let text = text.trim();
        match (text.rfind('<'), text.ends_with('>')) {
            (Some(open), true) => {
                let name = text[..open].trim().trim_matches('"').trim();
                Person {
                    name: (!name.is_empty()).then(|| name.to_owned()),
                    address: text[open + 1..text.len() - 1].trim().to_owned(),
                }
            }
            _ => Person {
                name: None,
                address: text.to_owned(),
            },
        }
    }

    /// As a header value: `"Jane Doe" <jane@example.org>`.
    pub fn header(&self) -> String {
        match &self.name {
            Some(name) => format!("\"{}\" <{}>", name.replace('"', ""), self.address),
            None => self.address.clone(),
        }
    }
}

/// One message of the mailbox.
#[derive(Debug, Clone)]
pub struct Mail {
    pub id: String,
    pub thread_id: String,
    pub internet_message_id: String,
    pub from: Person,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub bcc: Vec<Person>,
    pub subject: String,
    pub at: Timestamp,
    /// Header values to send instead of the ones built from the people above (Gmail only:
    /// Graph hands out parsed addresses), to show how odd real headers are read.
    pub raw_headers: Vec<(String, String)>,
    /// `(sequence, folder)`: where the message was from each change on, oldest first.
    pub moves: Vec<(u64, Folder)>,
    /// The message's last change, as an etag.
    pub etag: u64,
}

impl Mail {
    pub fn folder(&self) -> Folder {
        self.moves
            .last()
            .map(|m| m.1.clone())
            .unwrap_or(Folder::Gone)
    }

    /// Where the message was once change `seq` had happened (`Gone` before it existed).
    pub fn folder_at(&self, seq: u64) -> Folder {
        self.moves
            .iter()
            .take_while(|(at, _)| *at <= seq)
            .last()
            .map(|m| m.1.clone())
            .unwrap_or(Folder::Gone)
    }

    fn last_change(&self) -> u64 {
        self.moves.last().map(|m| m.0).unwrap_or(0)
    }

    /// The headers a Gmail metadata read returns.
    pub fn gmail_headers(&self) -> Vec<(String, String)> {
        let list = |people: &[Person]| {
            people
                .iter()
                .map(Person::header)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut headers = vec![
            ("From".to_owned(), self.from.header()),
            ("To".to_owned(), list(&self.to)),
            ("Subject".to_owned(), self.subject.clone()),
            (
                "Date".to_owned(),
                self.at.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string(),
            ),
            ("Message-ID".to_owned(), self.internet_message_id.clone()),
        ];
        if !self.cc.is_empty() {
            headers.push(("Cc".to_owned(), list(&self.cc)));
        }
        if !self.bcc.is_empty() {
            headers.push(("Bcc".to_owned(), list(&self.bcc)));
        }
        for (name, value) in &self.raw_headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        headers
    }
}

/// A Gmail history record. A move is one record for the labels the message lost and one
/// for those it gained, as Gmail writes them; deleting for good is `messagesDeleted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryEvent {
    Added {
        id: String,
        thread_id: String,
        labels: Vec<String>,
    },
    /// `labels` were added; `now` is every label the message has after the change.
    LabelsAdded {
        id: String,
        thread_id: String,
        labels: Vec<String>,
        now: Vec<String>,
    },
    /// `labels` were removed; `now` is every label the message has after the change.
    LabelsRemoved {
        id: String,
        thread_id: String,
        labels: Vec<String>,
        now: Vec<String>,
    },
    Deleted {
        id: String,
        thread_id: String,
    },
}

impl HistoryEvent {
    /// The record's type as `history.list`'s `historyTypes` names it.
    pub fn history_type(&self) -> &'static str {
        match self {
            HistoryEvent::Added { .. } => "messageAdded",
            HistoryEvent::LabelsAdded { .. } => "labelAdded",
            HistoryEvent::LabelsRemoved { .. } => "labelRemoved",
            HistoryEvent::Deleted { .. } => "messageDeleted",
        }
    }
}

/// What one change did, for the pushes it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub before: Folder,
    pub after: Folder,
    pub seq: u64,
    pub etag: u64,
}

impl Change {
    /// Graph's `changeType` for a subscription on `folder`.
    pub fn graph_change_type(&self, folder: Folder) -> Option<&'static str> {
        match (self.before == folder, self.after == folder) {
            (false, true) => Some("created"),
            (true, false) => Some("deleted"),
            (true, true) => Some("updated"),
            (false, false) => None,
        }
    }

    /// Graph's `changeType` for a subscription on the whole mailbox (`me/messages`): a move
    /// between folders only updates the message (its `parentFolderId`), so it is
    /// `updated`; only arriving and being deleted for good create or delete it.
    pub fn mailbox_change_type(&self) -> &'static str {
        match (&self.before, &self.after) {
            (Folder::Gone, _) => "created",
            (_, Folder::Gone) => "deleted",
            _ => "updated",
        }
    }

    /// Whether the message had or now has one of `labels` (Gmail label ids).
    pub fn touches_labels(&self, labels: &[String]) -> bool {
        let mut touched = self.before.gmail_labels();
        touched.extend(self.after.gmail_labels());
        touched.iter().any(|l| labels.contains(l))
    }
}

/// A delta round's position: which generation, after which change, since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaToken {
    pub generation: u64,
    pub after: u64,
    pub upto: u64,
    pub offset: usize,
    pub since: Option<i64>,
}

impl DeltaToken {
    pub fn encode(&self) -> String {
        format!(
            "g{}.{}.{}.{}.{}",
            self.generation,
            self.after,
            self.upto,
            self.offset,
            self.since.map(|s| s.to_string()).unwrap_or_default()
        )
    }

    pub fn decode(text: &str) -> Option<DeltaToken> {
        let mut parts = text.strip_prefix('g')?.split('.');
        let mut number = || parts.next().map(str::to_owned);
        let generation = number()?.parse().ok()?;
        let after = number()?.parse().ok()?;
        let upto = number()?.parse().ok()?;
        let offset = number()?.parse().ok()?;
        let since = match number()?.as_str() {
            "" => None,
            s => Some(s.parse().ok()?),
        };
        Some(DeltaToken {
            generation,
            after,
            upto,
            offset,
            since,
        })
    }
}

/// An item of a delta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaEntry {
    Changed(String),
    Removed { id: String, reason: &'static str },
}

#[derive(Debug, Clone, Default)]
pub struct Mailbox {
    pub mails: Vec<Mail>,
    /// The last change's sequence number.
    pub seq: u64,
    pub generation: u64,
    /// Gmail history older than this was forgotten (cursor expiry).
    pub history_floor: u64,
    pub history: Vec<(u64, HistoryEvent)>,
    /// thread key -> thread id
    pub threads: Vec<(String, String)>,
    /// The user folders' names, in the order they came to exist.
    pub user_folders: Vec<String>,
}

impl Mailbox {
    pub fn thread_id(&mut self, key: &str) -> String {
        if let Some((_, id)) = self.threads.iter().find(|(k, _)| k == key) {
            return id.clone();
        }
        let id = format!("thread-{:x}", 0x1000 + self.threads.len());
        self.threads.push((key.to_owned(), id.clone()));
        id
    }

    pub fn find(&self, id: &str) -> Option<&Mail> {
        self.mails.iter().find(|m| m.id == id)
    }

    /// Makes the user folder `name` exist (it may already); `None` for a name no folder
    /// can have.
    pub fn create_folder(&mut self, name: &str) -> Option<Folder> {
        let folder = Folder::user(name)?;
        self.register(&folder);
        Some(folder)
    }

    /// Notes a user folder as existing: a message delivered or moved to one creates it,
    /// as a Gmail filter or a person filing mail would have.
    fn register(&mut self, folder: &Folder) {
        if let Folder::User(name) = folder {
            if !self.user_folders.contains(name) {
                self.user_folders.push(name.clone());
            }
        }
    }

    /// Whether the folder exists: every well-known one does, a user folder once made.
    pub fn has_folder(&self, folder: &Folder) -> bool {
        match folder {
            Folder::User(name) => self.user_folders.contains(name),
            Folder::Gone => false,
            _ => true,
        }
    }

    /// Every folder, as Graph lists them: the well-known ones, then the user folders.
    pub fn folders(&self) -> Vec<Folder> {
        WELL_KNOWN
            .iter()
            .cloned()
            .chain(self.user_folders.iter().cloned().map(Folder::User))
            .collect()
    }

    /// How many messages are in `folder` now.
    pub fn count(&self, folder: &Folder) -> usize {
        self.mails.iter().filter(|m| m.folder() == *folder).count()
    }

    /// Adds a message in `folder`.
    pub fn add(&mut self, mut mail: Mail, folder: Folder) -> Change {
        self.register(&folder);
        self.seq += 1;
        mail.moves = vec![(self.seq, folder.clone())];
        mail.etag = self.seq;
        self.history.push((
            self.seq,
            HistoryEvent::Added {
                id: mail.id.clone(),
                thread_id: mail.thread_id.clone(),
                labels: folder.gmail_labels(),
            },
        ));
        let change = Change {
            id: mail.id.clone(),
            before: Folder::Gone,
            after: folder,
            seq: self.seq,
            etag: self.seq,
        };
        self.mails.push(mail);
        change
    }

    /// Moves a message (to `Gone` deletes it for good). `None` for an unknown or gone one,
    /// or one already there.
    ///
    /// Gmail history gets a `labelsRemoved` record for the labels the message lost and a
    /// `labelsAdded` record for those it gained (each only when not empty), each with its
    /// own history id; the move itself takes the last of those sequence numbers, so a
    /// Graph delta token taken in between sees the move as a whole.
    pub fn relocate(&mut self, id: &str, to: Folder) -> Option<Change> {
        let mail = self.mails.iter().find(|m| m.id == id)?;
        let before = mail.folder();
        if before == Folder::Gone || before == to {
            return None;
        }
        let thread_id = mail.thread_id.clone();
        let events = if to == Folder::Gone {
            vec![HistoryEvent::Deleted {
                id: id.to_owned(),
                thread_id,
            }]
        } else {
            let (had, now) = (before.gmail_labels(), to.gmail_labels());
            let lost: Vec<String> = had.iter().filter(|l| !now.contains(l)).cloned().collect();
            let gained: Vec<String> = now.iter().filter(|l| !had.contains(l)).cloned().collect();
            let mut events = Vec::new();
            if !lost.is_empty() {
                events.push(HistoryEvent::LabelsRemoved {
                    id: id.to_owned(),
                    thread_id: thread_id.clone(),
                    labels: lost,
                    now: now.clone(),
                });
            }
            if !gained.is_empty() {
                events.push(HistoryEvent::LabelsAdded {
                    id: id.to_owned(),
                    thread_id,
                    labels: gained,
                    now,
                });
            }
            events
        };
        if events.is_empty() {
            // A move Gmail cannot see (no label changes); Graph still can.
            self.seq += 1;
        }
        for event in events {
            self.seq += 1;
            self.history.push((self.seq, event));
        }
        let seq = self.seq;
        self.register(&to);
        let mail = self.mails.iter_mut().find(|m| m.id == id)?;
        mail.moves.push((seq, to.clone()));
        mail.etag = seq;
        Some(Change {
            id: id.to_owned(),
            before,
            after: to,
            seq,
            etag: seq,
        })
    }

    /// Forgets every cursor handed out so far.
    pub fn expire_cursors(&mut self) {
        self.generation += 1;
        self.history_floor = self.seq;
    }

    /// The items of a delta round for `folder` in the token's window, in a stable order.
    pub fn delta(&self, folder: Folder, token: &DeltaToken) -> Vec<DeltaEntry> {
        let since = token
            .since
            .and_then(|s| Timestamp::from_second(s).ok())
            .unwrap_or(Timestamp::MIN);
        let mut touched: Vec<&Mail> = self
            .mails
            .iter()
            .filter(|m| {
                m.moves
                    .iter()
                    .any(|(s, _)| *s > token.after && *s <= token.upto)
            })
            .collect();
        touched.sort_by_key(|m| m.last_change());
        touched
            .into_iter()
            .filter_map(|m| {
                let then = m.folder_at(token.after) == folder;
                let now = m.folder_at(token.upto);
                if now == folder {
                    (m.at >= since).then(|| DeltaEntry::Changed(m.id.clone()))
                } else if then {
                    Some(DeltaEntry::Removed {
                        id: m.id.clone(),
                        reason: if now == Folder::Gone {
                            "deleted"
                        } else {
                            "changed"
                        },
                    })
                } else {
                    None
                }
            })
            .collect()
    }

    /// The history records after `start`, or `None` when `start` was forgotten.
    pub fn history_after(&self, start: u64) -> Option<Vec<&(u64, HistoryEvent)>> {
        let start = start.checked_sub(HISTORY_BASE)?;
        if start < self.history_floor {
            return None;
        }
        Some(self.history.iter().filter(|(s, _)| *s > start).collect())
    }

    pub fn history_id(&self) -> u64 {
        HISTORY_BASE + self.seq
    }
}

#[cfg(test)]
mod tests;
