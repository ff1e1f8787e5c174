//! The part of Gmail's search syntax (`messages.list`'s `q`) a sync uses, read the way
//! Gmail reads it:
//!
//! - `after:<epoch seconds>` is an instant (inclusive), `after:YYYY/MM/DD` (or
//!   `YYYY-MM-DD`) midnight UTC; `before:` likewise, exclusive.
//! - `in:<folder>` terms are OR-ed (the sync writes `{in:inbox in:sent}`); `in:anywhere`
//!   is every folder, spam and bin included; an `in:` Gmail has no folder for (`in:chats`)
//!   matches nothing.
//! - `-in:<folder>` and `-label:<label>` leave out what they match (so `-in:chats` leaves
//!   out nothing); `label:<label>` keeps only what carries the label. A label is named by
//!   its id (`INBOX`, `Label_Candidates`) or a user label by its name, any case.
//! - Spam and bin are left out unless `includeSpamTrash=true` or an `in:` term names them.
//!
//! Other terms are ignored.

use jiff::Timestamp;

use crate::mailbox::{Folder, Mail};

/// What one `in:` or `label:` term names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Folder(Folder),
    Anywhere,
    Label(String),
}

impl Scope {
    fn of_in(value: &str) -> Scope {
        if value.eq_ignore_ascii_case("anywhere") {
            Scope::Anywhere
        } else {
            Folder::parse(value).map_or_else(|| Scope::Label(value.to_owned()), Scope::Folder)
        }
    }

    fn matches(&self, m: &Mail) -> bool {
        match self {
            Scope::Folder(f) => m.folder() == *f,
            Scope::Anywhere => true,
            Scope::Label(name) => m.folder().gmail_labels().iter().any(|l| {
                l.eq_ignore_ascii_case(name)
                    || l.strip_prefix("Label_")
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            }),
        }
    }

    /// Whether the term names the spam or bin folder outright, which lists it even without
    /// `includeSpamTrash`.
    fn names_spam_or_trash(&self) -> bool {
        matches!(
            self,
            Scope::Anywhere | Scope::Folder(Folder::Junk | Folder::DeletedItems)
        )
    }
}

/// A parsed `q`, with the listing's other filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Search {
    after: Option<Timestamp>,
    before: Option<Timestamp>,
    within: Vec<Scope>,
    labelled: Vec<Scope>,
    excluded: Vec<Scope>,
    include_spam_trash: bool,
    /// `labelIds` parameters: a message must carry every one.
    label_ids: Vec<String>,
}

/// `<epoch seconds>` as that instant, `YYYY/MM/DD` or `YYYY-MM-DD` as midnight UTC.
fn instant(value: &str) -> Option<Timestamp> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<i64>()
            .ok()
            .and_then(|s| Timestamp::from_second(s).ok());
    }
    ["%Y/%m/%d", "%Y-%m-%d"]
        .iter()
        .find_map(|format| jiff::civil::Date::strptime(format, value).ok())
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

impl Search {
    pub(crate) fn parse(q: Option<&str>, include_spam_trash: bool, label_ids: &[&str]) -> Search {
        let mut search = Search {
            include_spam_trash,
            label_ids: label_ids.iter().map(|l| (*l).to_owned()).collect(),
            ..Search::default()
        };
        for term in q.unwrap_or_default().split_whitespace() {
            let term = term.trim_matches(|c| matches!(c, '{' | '}' | '(' | ')'));
            let (negated, term) = match term.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, term),
            };
            let Some((key, value)) = term.split_once(':') else {
                continue;
            };
            let scope = match key.to_ascii_lowercase().as_str() {
                "after" if !negated => {
                    search.after = instant(value);
                    continue;
                }
                "before" if !negated => {
                    search.before = instant(value);
                    continue;
                }
                "in" => Scope::of_in(value),
                "label" => Scope::Label(value.to_owned()),
                _ => continue,
            };
            match (negated, key.eq_ignore_ascii_case("in")) {
                (true, _) => search.excluded.push(scope),
                (false, true) => search.within.push(scope),
                (false, false) => search.labelled.push(scope),
            }
        }
        search
    }

    pub(crate) fn matches(&self, m: &Mail) -> bool {
        let folder = m.folder();
        if folder == Folder::Gone {
            return false;
        }
        let listed = if self.within.is_empty() {
            true
        } else {
            self.within.iter().any(|s| s.matches(m))
        };
        let spam_or_trash = matches!(folder, Folder::Junk | Folder::DeletedItems);
        let shown = !spam_or_trash
            || self.include_spam_trash
            || self
                .within
                .iter()
                .any(|s| s.names_spam_or_trash() && s.matches(m));
        let labels = folder.gmail_labels();
        listed
            && shown
            && self.labelled.iter().all(|s| s.matches(m))
            && !self.excluded.iter().any(|s| s.matches(m))
            && self.label_ids.iter().all(|l| labels.contains(l))
            && self.after.is_none_or(|a| m.at >= a)
            && self.before.is_none_or(|b| m.at < b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::Person;

    fn mail(folder: Folder, at: &str) -> Mail {
        Mail {
            id: "m".into(),
            thread_id: "t".into(),
            internet_message_id: "<m@x>".into(),
            from: Person::parse("a@x.example"),
            to: vec![],
            cc: vec![],
            bcc: vec![],
            subject: String::new(),
            at: at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
            raw_headers: vec![],
            moves: vec![(1, folder)],
            etag: 1,
        }
    }

    fn listed(q: &str, m: &Mail) -> bool {
        Search::parse(Some(q), false, &[]).matches(m)
    }

    #[test]
    fn spam_and_trash_need_asking_for() {
        let junk = mail(Folder::Junk, "2026-01-01T00:00:00Z");
        let trash = mail(Folder::DeletedItems, "2026-01-01T00:00:00Z");
        assert!(!listed("", &junk) && !listed("", &trash));
        assert!(listed("in:spam", &junk) && listed("in:anywhere", &trash));
        assert!(!listed("in:inbox", &trash));
        assert!(Search::parse(None, true, &[]).matches(&trash));
        assert!(listed("", &mail(Folder::Archive, "2026-01-01T00:00:00Z")));
    }

    #[test]
    fn after_reads_an_epoch_instant_or_a_utc_day() {
        let m = mail(Folder::Inbox, "2026-01-02T10:00:00Z");
        let at = m.at.as_second();
        assert!(listed(&format!("after:{at}"), &m), "inclusive");
        assert!(!listed(&format!("after:{}", at + 1), &m));
        assert!(listed("after:2026/01/02", &m));
        assert!(!listed("after:2026/01/03", &m));
        assert!(listed("before:2026-01-03", &m));
    }

    #[test]
    fn negated_terms_leave_out_only_what_they_match() {
        let draft = mail(Folder::Drafts, "2026-01-01T00:00:00Z");
        let filed = mail(Folder::User("Candidates".into()), "2026-01-01T00:00:00Z");
        assert!(!listed("-in:drafts", &draft));
        assert!(listed("-in:drafts -in:chats", &filed));
        assert!(!listed("-label:candidates", &filed));
        assert!(listed("label:Label_Candidates", &filed));
        assert!(!listed("{in:inbox in:sent}", &filed));
        assert!(!listed("in:chats", &filed));
        assert!(!Search::parse(None, false, &["INBOX"]).matches(&filed));
    }
}
