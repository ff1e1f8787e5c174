//! Where a message is, and how each provider names that place: Graph's well-known folder
//! names and folder ids, Gmail's system and user labels.
//!
//! A message's Gmail labels follow from its folder alone, so moving it is the only way its
//! labels change; that keeps Graph's folder view and Gmail's label view of one mailbox in
//! step, which is what lets one scenario run against either provider.

/// Where a message is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Folder {
    Inbox,
    SentItems,
    DeletedItems,
    Archive,
    /// Junk Email (Gmail: `SPAM`).
    Junk,
    Drafts,
    /// Well known to Graph, but nothing stays there in the sandbox: always empty, so no
    /// message can be delivered or moved to it.
    Outbox,
    /// A folder the owner made, by its display name (Graph: a folder under the root;
    /// Gmail: a user label). It exists once a message went there or it was created.
    User(String),
    /// Deleted for good.
    Gone,
}

/// The well-known folders in the order Graph lists them.
pub const WELL_KNOWN: [Folder; 7] = [
    Folder::Inbox,
    Folder::Drafts,
    Folder::SentItems,
    Folder::DeletedItems,
    Folder::Junk,
    Folder::Archive,
    Folder::Outbox,
];

/// `text` without `prefix`, the prefix compared case-insensitively.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl Folder {
    /// A folder by any of its names: the sandbox's (`inbox`, `sentitems`/`sent`,
    /// `deleteditems`/`trash`, `archive`, `junkemail`/`junk`/`spam`, `drafts`, `outbox`,
    /// `user:<name>`) or Graph's folder id (`folder-inbox`, `folder-user-<name>`, ...).
    /// Well-known names are case-insensitive; a user folder's name keeps its case.
    pub fn parse(name: &str) -> Option<Folder> {
        let name = name.trim();
        if let Some(user) =
            strip_prefix_ci(name, "user:").or_else(|| strip_prefix_ci(name, "folder-user-"))
        {
            return Folder::user(user);
        }
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("folder-").unwrap_or(&lower);
        match bare {
            "inbox" => Some(Folder::Inbox),
            "sentitems" | "sent" => Some(Folder::SentItems),
            "deleteditems" | "trash" => Some(Folder::DeletedItems),
            "archive" => Some(Folder::Archive),
            "junkemail" | "junk" | "spam" => Some(Folder::Junk),
            "drafts" => Some(Folder::Drafts),
            "outbox" => Some(Folder::Outbox),
            _ => None,
        }
    }

    /// A user folder called `name`; `None` for a name no id could carry (empty, or with a
    /// `/`, which would split the folder's URL path).
    pub fn user(name: &str) -> Option<Folder> {
        let name = name.trim();
        (!name.is_empty() && !name.contains('/')).then(|| Folder::User(name.to_owned()))
    }

    /// The sandbox's name, as [`Folder::parse`] reads it back and listings show it:
    /// `inbox`, `sentitems`, `deleteditems`, `archive`, `junkemail`, `drafts`, `outbox`,
    /// `user:<name>`, `gone`.
    pub fn name(&self) -> String {
        match self {
            Folder::User(name) => format!("user:{name}"),
            other => other.well_known_name().to_owned(),
        }
    }

    fn well_known_name(&self) -> &'static str {
        match self {
            Folder::Inbox => "inbox",
            Folder::SentItems => "sentitems",
            Folder::DeletedItems => "deleteditems",
            Folder::Archive => "archive",
            Folder::Junk => "junkemail",
            Folder::Drafts => "drafts",
            Folder::Outbox => "outbox",
            Folder::User(_) => "",
            Folder::Gone => "gone",
        }
    }

    /// Graph's folder id, as `parentFolderId` shows it (empty for `Gone`).
    pub fn graph_id(&self) -> String {
        match self {
            Folder::User(name) => format!("folder-user-{name}"),
            Folder::Gone => String::new(),
            other => format!("folder-{}", other.well_known_name()),
        }
    }

    /// The name Graph shows (`displayName`).
    pub fn display_name(&self) -> String {
        match self {
            Folder::Inbox => "Inbox".into(),
            Folder::SentItems => "Sent Items".into(),
            Folder::DeletedItems => "Deleted Items".into(),
            Folder::Archive => "Archive".into(),
            Folder::Junk => "Junk Email".into(),
            Folder::Drafts => "Drafts".into(),
            Folder::Outbox => "Outbox".into(),
            Folder::User(name) => name.clone(),
            Folder::Gone => String::new(),
        }
    }

    /// Gmail's labels for a message here. `UNREAD` goes with the Inbox (nobody reads mail
    /// in the sandbox); an archived message has no label at all, as in Gmail.
    pub fn gmail_labels(&self) -> Vec<String> {
        match self {
            Folder::Inbox => vec!["INBOX".into(), "UNREAD".into()],
            Folder::SentItems => vec!["SENT".into()],
            Folder::DeletedItems => vec!["TRASH".into()],
            Folder::Junk => vec!["SPAM".into()],
            Folder::Drafts => vec!["DRAFT".into()],
            Folder::User(name) => vec![format!("Label_{name}")],
            Folder::Archive | Folder::Outbox | Folder::Gone => vec![],
        }
    }

    /// Whether a message may be delivered or moved here: anywhere but the (always empty)
    /// Outbox and `Gone`, which only deleting reaches.
    pub fn holds_mail(&self) -> bool {
        !matches!(self, Folder::Outbox | Folder::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_graph_id_parses_back() {
        for folder in WELL_KNOWN
            .iter()
            .cloned()
            .chain([Folder::User("Candidates".into())])
        {
            assert_eq!(Folder::parse(&folder.name()), Some(folder.clone()));
            assert_eq!(Folder::parse(&folder.graph_id()), Some(folder.clone()));
        }
        assert_eq!(Folder::parse("SPAM"), Some(Folder::Junk));
        assert_eq!(Folder::parse("trash"), Some(Folder::DeletedItems));
        assert_eq!(
            Folder::parse("USER:Hiring 2026"),
            Some(Folder::User("Hiring 2026".into()))
        );
        assert_eq!(Folder::parse("Candidates"), None);
        assert_eq!(Folder::parse("user:"), None);
        assert_eq!(Folder::parse("user:a/b"), None);
        assert_eq!(Folder::parse("gone"), None);
    }

    #[test]
    fn providers_name_a_user_folder_after_it() {
        let f = Folder::User("Candidates".into());
        assert_eq!(f.graph_id(), "folder-user-Candidates");
        assert_eq!(f.display_name(), "Candidates");
        assert_eq!(f.gmail_labels(), ["Label_Candidates"]);
        assert_eq!(f.name(), "user:Candidates");
        assert_eq!(Folder::Junk.gmail_labels(), ["SPAM"]);
        assert!(Folder::Archive.gmail_labels().is_empty());
        assert!(!Folder::Outbox.holds_mail());
    }
}
