//! Who a message is from and to: the mailboxes of address header values (From, To, Cc,
//! Bcc, Reply-To).
//!
//! [`parse_address_list`] reads an RFC 5322 `address-list` with the obsolete forms real
//! mail still carries (empty list elements, a trailing comma, unquoted dots in display
//! names, source routes, spaces around the dots of an address), comments and folding
//! whitespace wherever whitespace may be, groups, and RFC 2047 encoded words in display
//! names. [`participants`] gathers the distinct addresses of several headers.
//!
//! The input is a header *value*: what follows `To:`, folded (CRLF followed by a space or a
//! tab) or not. Every position in an [`AddressError`] is a byte offset into that value.
//!
//! Nothing is silently dropped: an address that cannot be represented as an
//! [`EmailAddress`] fails the whole list with an error that says which one and why, so the
//! sync policy never decides on a partial list of participants.
//!
//! The work is split by layer: `lexer` resolves quoted strings, comments and domain
//! literals; `parser` reads lists, groups and display names; `addr_spec` decides which
//! addresses can be stored; `encoded_words` decodes RFC 2047 words in display names.

mod addr_spec;
mod encoded_words;
mod lexer;
mod parser;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{EmailAddress, InvalidId};

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mailbox {
    /// The display name, with quoting and comments removed and encoded words decoded;
    /// `None` when absent or blank. For a bare address followed by a comment
    /// (`jane@x.com (Jane Doe)`, the RFC 822 habit), the comment's text.
    pub display_name: Option<String>,
    pub address: EmailAddress,
}

/// Why a header value is not an address list hiresync can work with.
///
/// Positions are byte offsets into the header value. An encoded word that cannot be
/// decoded (unknown charset, bad Base64, bytes that are not valid in their charset) is not
/// an error: it stays in the display name as written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    #[error("the quoted string opened at byte {position} is not closed")]
    UnterminatedQuotedString { position: usize },
    #[error("the comment opened at byte {position} is not closed")]
    UnterminatedComment { position: usize },
    #[error("the domain literal opened at byte {position} is not closed")]
    UnterminatedDomainLiteral { position: usize },
    /// A `<` without its `>`, or a `>` without its `<`.
    #[error("the angle bracket at byte {position} has no partner")]
    UnbalancedAngleBracket { position: usize },
    /// A character that cannot appear outside a quoted string or comment: a stray `)`,
    /// `]` or `\`, or a control character.
    #[error("{found:?} at byte {position} cannot appear in an address list")]
    UnexpectedCharacter { found: char, position: usize },
    #[error("{found:?} at byte {position} where {expected} was expected")]
    UnexpectedToken {
        found: String,
        position: usize,
        expected: &'static str,
    },
    /// Two addresses follow each other without a `,` between them.
    #[error("{found:?} at byte {position} starts another address without a ',' before it")]
    MissingComma { found: String, position: usize },
    /// A list element that is neither an address nor a group, such as `Jane Doe` or `<jane>`.
    #[error("{address:?} at byte {position} has no '@'")]
    MissingAt { address: String, position: usize },
    /// `<>`, the null path of bounces, names nobody.
    #[error("the angle brackets at byte {position} hold no address")]
    EmptyAngleAddr { position: usize },
    /// Nothing before the `@` at `position`.
    #[error("the '@' at byte {position} has no local part before it")]
    EmptyLocalPart { position: usize },
    /// Nothing after the `@` at `position`.
    #[error("the '@' at byte {position} has no domain after it")]
    EmptyDomain { position: usize },
    /// The group whose `:` is at `position` does not end with `;` before the list ends or
    /// another group starts (groups do not nest).
    #[error("the group opened at byte {position} does not end with ';'")]
    GroupNotTerminated { position: usize },
    /// A quoted local part that is not just a quoted dot-atom, such as
    /// `"jane doe"@x.com` or `"jane@home"@x.com`.
    ///
    /// RFC 5322 allows any text there, but [`EmailAddress::parse`] refuses whitespace,
    /// quotes and the specials `<>,;()[]\` anywhere in an address, so such an address cannot
    /// be stored or compared. It is reported rather than dropped, because a message whose
    /// participants are only partly known must not be classified as if they were all known.
    /// A quoted local part that is a plain dot-atom (`"jane.doe"@x.com`) is the same
    /// mailbox as the unquoted form (RFC 5321, 4.1.2) and is accepted without its quotes.
    #[error("{address:?} at byte {position} has a quoted local part that cannot be stored")]
    QuotedLocalPart { address: String, position: usize },
    /// An address whose domain is a literal such as `[192.0.2.1]`: RFC 5322 allows it,
    /// [`EmailAddress::parse`] refuses the brackets.
    #[error("{address:?} at byte {position} has a domain literal, which cannot be stored")]
    DomainLiteral { address: String, position: usize },
    /// Well-formed as far as RFC 5322 goes, but refused by [`EmailAddress::parse`]: a
    /// domain with an empty label (`x..com`, `.x.com`, `x.com.`), whitespace other than
    /// folding inside the address, or more than 254 bytes.
    #[error("{address:?} at byte {position} is not a usable address")]
    InvalidAddress {
        address: String,
        position: usize,
        #[source]
        source: InvalidId,
    },
    /// From [`participants`] only: the header at `index` (counting from 0 in the order
    /// given) failed; positions in `source` are relative to that header.
    #[error("header {index} is not a valid address list")]
    InHeader {
        index: usize,
        #[source]
        source: Box<AddressError>,
    },
}

/// The mailboxes of an address header value, in order, group members included (the group
/// names are dropped; an empty group such as `undisclosed-recipients:;` yields nothing).
///
/// An empty or blank value is an empty list. Duplicates are kept; see [`participants`].
pub fn parse_address_list(header: &str) -> Result<Vec<Mailbox>, AddressError> {
    parser::address_list(header)
}

/// The distinct addresses of several address headers (typically From, To, Cc and Bcc), in
/// the order first seen; the same address in another case counts once.
///
/// The first header that is not a valid address list fails the whole call, as
/// [`AddressError::InHeader`] naming it.
pub fn participants<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EmailAddress>, AddressError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, header) in headers.into_iter().enumerate() {
        let mailboxes = parse_address_list(header).map_err(|source| AddressError::InHeader {
            index,
            source: Box::new(source),
        })?;
        for mailbox in mailboxes {
            if seen.insert(mailbox.address.clone()) {
                out.push(mailbox.address);
            }
        }
    }
    Ok(out)
}
