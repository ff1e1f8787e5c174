//! From provider metadata to the policy's `MessageFacts`.

use hiresync_domain::address::participants;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::policy::MessageFacts;
use hiresync_domain::ports::MailItem;

use crate::gmail_sync::GmailMessage;
use crate::graph_delta::{GraphMessage, Recipient};

/// Why a message's metadata cannot be judged; such a message is skipped, never guessed at
/// (dropping an unreadable participant could make a group thread look 1:1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unreadable {
    NoSender,
    NoInstant,
    Address,
}

impl Unreadable {
    pub(super) fn code(&self) -> &'static str {
        match self {
            Unreadable::NoSender => "no_sender",
            Unreadable::NoInstant => "no_date",
            Unreadable::Address => "unreadable_participants",
        }
    }

    pub(super) fn item(&self) -> MailItem {
        MailItem::Unreadable { code: self.code() }
    }
}

fn address(r: &Recipient) -> Result<EmailAddress, Unreadable> {
    EmailAddress::parse(&r.address).map_err(|_| Unreadable::Address)
}

fn list(rs: &[Recipient]) -> Result<Vec<EmailAddress>, Unreadable> {
    rs.iter().map(address).collect()
}

pub(super) fn from_graph(m: &GraphMessage) -> Result<MessageFacts, Unreadable> {
    let from = m
        .from
        .as_ref()
        .or(m.sender.as_ref())
        .ok_or(Unreadable::NoSender)?;
    Ok(MessageFacts {
        provider_id: m.id.clone(),
        thread_id: m.conversation_id.clone(),
        from: address(from)?,
        to: list(&m.to)?,
        cc: list(&m.cc)?,
        bcc: list(&m.bcc)?,
        at: m.received_at.or(m.sent_at).ok_or(Unreadable::NoInstant)?,
        started_from_product: false,
    })
}

pub(super) fn from_gmail(m: &GmailMessage) -> Result<MessageFacts, Unreadable> {
    let parse = |name: &str| participants(m.header(name)).map_err(|_| Unreadable::Address);
    let from = parse("From")?
        .into_iter()
        .next()
        .ok_or(Unreadable::NoSender)?;
    Ok(MessageFacts {
        provider_id: m.id.clone(),
        thread_id: m.thread_id.clone(),
        from,
        to: parse("To")?,
        cc: parse("Cc")?,
        bcc: parse("Bcc")?,
        at: m.internal_date,
        started_from_product: false,
    })
}

/// The RFC 5322 Message-ID of a Gmail message, without surrounding whitespace.
pub(super) fn gmail_message_id(m: &GmailMessage) -> Option<String> {
    m.header("Message-ID").first().map(|v| v.trim().to_owned())
}

pub(super) fn gmail_subject(m: &GmailMessage) -> String {
    m.header("Subject")
        .first()
        .map(|s| (*s).to_owned())
        .unwrap_or_default()
}
