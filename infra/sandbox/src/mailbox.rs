//! A seeded mailbox and its change log, read through two lenses: Graph's per-folder delta
//! (protocols.md §1.8, §1.10) and Gmail's history (§2.6, §2.7).
//!
//! Every change (a message arriving, moving, being deleted) takes the next sequence number.
//! A Graph delta token is a position in that sequence, so a delta round returns exactly the
//! messages whose folder membership changed after it; a Gmail history id is the same number
//! offset by [`HISTORY_BASE`]. Tokens carry the mailbox's generation: expiring the cursors
//! bumps it, and older tokens are answered as the providers answer a forgotten cursor.

use jiff::Timestamp;

/// Gmail history ids start here, so they look like the real (large) numbers.
pub const HISTORY_BASE: u64 = 1000;

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Inbox,
    SentItems,
    DeletedItems,
    Archive,
    /// Deleted for good.
    Gone,
}

impl Folder {
    pub fn parse(name: &str) -> Option<Folder> {
        match name.to_ascii_lowercase().as_str() {
            "inbox" => Some(Folder::Inbox),
            "sentitems" | "sent" => Some(Folder::SentItems),
            "deleteditems" | "trash" => Some(Folder::DeletedItems),
            "archive" => Some(Folder::Archive),
            _ => None,
        }
    }

    /// Graph's folder id, as `parentFolderId` shows it.
    pub fn graph_id(self) -> &'static str {
        match self {
            Folder::Inbox => "folder-inbox",
            Folder::SentItems => "folder-sentitems",
            Folder::DeletedItems => "folder-deleteditems",
            Folder::Archive => "folder-archive",
            Folder::Gone => "",
        }
    }

    /// Gmail's system labels for a message here.
    pub fn gmail_labels(self) -> Vec<String> {
        match self {
            Folder::Inbox => vec!["INBOX".into(), "UNREAD".into()],
            Folder::SentItems => vec!["SENT".into()],
            Folder::DeletedItems => vec!["TRASH".into()],
            Folder::Archive | Folder::Gone => vec![],
        }
    }
}

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
        self.moves.last().map(|m| m.1).unwrap_or(Folder::Gone)
    }

    /// Where the message was once change `seq` had happened (`Gone` before it existed).
    pub fn folder_at(&self, seq: u64) -> Folder {
        self.moves
            .iter()
            .take_while(|(at, _)| *at <= seq)
            .last()
            .map(|m| m.1)
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

/// A Gmail history record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryEvent {
    Added {
        id: String,
        thread_id: String,
        labels: Vec<String>,
    },
    LabelsAdded {
        id: String,
        labels: Vec<String>,
    },
    Deleted {
        id: String,
    },
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

    /// Adds a message in `folder`.
    pub fn add(&mut self, mut mail: Mail, folder: Folder) -> Change {
        self.seq += 1;
        mail.moves = vec![(self.seq, folder)];
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

    /// Moves a message (to `Gone` deletes it for good). `None` for an unknown or gone one.
    pub fn relocate(&mut self, id: &str, to: Folder) -> Option<Change> {
        let seq = self.seq + 1;
        let mail = self.mails.iter_mut().find(|m| m.id == id)?;
        let before = mail.folder();
        if before == Folder::Gone || before == to {
            return None;
        }
        mail.moves.push((seq, to));
        mail.etag = seq;
        self.seq = seq;
        let event = match to {
            Folder::Gone => HistoryEvent::Deleted { id: id.to_owned() },
            other => HistoryEvent::LabelsAdded {
                id: id.to_owned(),
                labels: other.gmail_labels(),
            },
        };
        self.history.push((seq, event));
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
mod tests {
    use super::*;

    fn mail(id: &str, at: &str) -> Mail {
        Mail {
            id: id.into(),
            thread_id: "t".into(),
            internet_message_id: format!("<{id}@x>"),
            from: Person::parse("a@x.example"),
            to: vec![Person::parse("Ana <ana@y.example>")],
            cc: vec![],
            bcc: vec![],
            subject: "s".into(),
            at: at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
            raw_headers: vec![],
            moves: vec![],
            etag: 0,
        }
    }

    #[test]
    fn a_delta_round_sees_what_moved_in_and_out_of_the_folder_since_its_token() {
        let mut b = Mailbox::default();
        b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::Inbox);
        let first = DeltaToken {
            generation: 0,
            after: 0,
            upto: b.seq,
            offset: 0,
            since: None,
        };
        assert_eq!(
            b.delta(Folder::Inbox, &first),
            vec![DeltaEntry::Changed("m1".into())]
        );
        b.add(mail("m2", "2026-01-02T00:00:00Z"), Folder::Inbox);
        b.relocate("m1", Folder::DeletedItems);
        let next = DeltaToken {
            generation: 0,
            after: first.upto,
            upto: b.seq,
            offset: 0,
            since: None,
        };
        assert_eq!(
            b.delta(Folder::Inbox, &next),
            vec![
                DeltaEntry::Changed("m2".into()),
                DeltaEntry::Removed {
                    id: "m1".into(),
                    reason: "changed"
                }
            ]
        );
        b.relocate("m2", Folder::Gone);
        let last = DeltaToken {
            generation: 0,
            after: next.upto,
            upto: b.seq,
            offset: 0,
            since: None,
        };
        assert_eq!(
            b.delta(Folder::Inbox, &last),
            vec![DeltaEntry::Removed {
                id: "m2".into(),
                reason: "deleted"
            }]
        );
        assert!(b.delta(Folder::SentItems, &last).is_empty());
    }

    #[test]
    fn the_first_round_honours_the_received_filter() {
        let mut b = Mailbox::default();
        b.add(mail("old", "2024-01-01T00:00:00Z"), Folder::Inbox);
        b.add(mail("new", "2026-01-01T00:00:00Z"), Folder::Inbox);
        let since = "2025-01-01T00:00:00Z"
            .parse::<Timestamp>()
            .map(|t| t.as_second())
            .ok();
        let token = DeltaToken {
            generation: 0,
            after: 0,
            upto: b.seq,
            offset: 0,
            since,
        };
        assert_eq!(
            b.delta(Folder::Inbox, &token),
            vec![DeltaEntry::Changed("new".into())]
        );
    }

    #[test]
    fn tokens_round_trip_and_history_forgets_on_expiry() {
        let t = DeltaToken {
            generation: 2,
            after: 5,
            upto: 9,
            offset: 50,
            since: Some(-3),
        };
        assert_eq!(DeltaToken::decode(&t.encode()), Some(t));
        assert_eq!(DeltaToken::decode("nonsense"), None);
        let mut b = Mailbox::default();
        b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::SentItems);
        assert_eq!(b.history_after(HISTORY_BASE).map(|h| h.len()), Some(1));
        b.expire_cursors();
        assert_eq!(b.history_after(HISTORY_BASE), None);
        assert_eq!(b.history_after(b.history_id()).map(|h| h.len()), Some(0));
    }

    #[test]
    fn people_parse_with_and_without_display_names() {
        assert_eq!(
            Person::parse("\"Doe, Jane\" <jane@x.example>"),
            Person {
                name: Some("Doe, Jane".into()),
                address: "jane@x.example".into()
            }
        );
        assert_eq!(Person::parse("jane@x.example").name, None);
    }
}
