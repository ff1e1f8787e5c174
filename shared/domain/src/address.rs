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

use std::collections::HashSet;
use std::iter::Peekable;
use std::str::CharIndices;

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
    let (tokens, comments) = lex(header)?;
    Parser {
        src: header,
        tokens,
        comments,
        i: 0,
    }
    .address_list()
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

// ---------------------------------------------------------------------------------------
// Lexing: quoted strings, comments and domain literals resolved; whitespace and comments
// kept only as the gap before the next token.

/// What separates a token from the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    None,
    Space,
    /// At least one comment (and maybe whitespace).
    Comment,
}

#[derive(Debug)]
enum Kind {
    /// A run of `atext`; its text is the source span.
    Atom,
    /// A quoted string's content, quoted-pairs resolved and line breaks removed.
    Quoted(String),
    /// `[...]`; its text is the source span.
    DomainLiteral,
    /// One of `< > @ , ; : .`
    Special(char),
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    gap: Gap,
}

#[derive(Debug)]
struct Comment {
    start: usize,
    text: String,
}

/// RFC 5322 `atext`, widened to every non-ASCII character (RFC 6532).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn lex(src: &str) -> Result<(Vec<Token>, Vec<Comment>), AddressError> {
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut chars = src.char_indices().peekable();
    let mut gap = Gap::None;
    while let Some(&(start, c)) = chars.peek() {
        let kind = match c {
            // Folding is CRLF + WSP; a bare CR or LF is read as whitespace too.
            ' ' | '\t' | '\r' | '\n' => {
                chars.next();
                if gap == Gap::None {
                    gap = Gap::Space;
                }
                continue;
            }
            '(' => {
                let text = delimited(&mut chars, '(', ')', true)
                    .ok_or(AddressError::UnterminatedComment { position: start })?;
                comments.push(Comment { start, text });
                gap = Gap::Comment;
                continue;
            }
            '"' => Kind::Quoted(
                delimited(&mut chars, '"', '"', false)
                    .ok_or(AddressError::UnterminatedQuotedString { position: start })?,
            ),
            '[' => {
                delimited(&mut chars, '[', ']', false)
                    .ok_or(AddressError::UnterminatedDomainLiteral { position: start })?;
                Kind::DomainLiteral
            }
            '<' | '>' | '@' | ',' | ';' | ':' | '.' => {
                chars.next();
                Kind::Special(c)
            }
            c if is_atext(c) => {
                while chars.next_if(|&(_, c)| is_atext(c)).is_some() {}
                Kind::Atom
            }
            found => {
                return Err(AddressError::UnexpectedCharacter {
                    found,
                    position: start,
                })
            }
        };
        let end = chars.peek().map_or(src.len(), |&(i, _)| i);
        tokens.push(Token {
            kind,
            start,
            end,
            gap,
        });
        gap = Gap::None;
    }
    Ok((tokens, comments))
}

/// Consumes a quoted string, comment or domain literal whose opening character is next, and
/// returns its content with quoted-pairs resolved and line breaks (folding) removed; nested
/// comments are kept with their parentheses. `None` when the input ends first.
fn delimited(
    chars: &mut Peekable<CharIndices<'_>>,
    open: char,
    close: char,
    nests: bool,
) -> Option<String> {
    chars.next();
    let mut depth = 0usize;
    let mut content = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, escaped) = chars.next()?;
                content.push(escaped);
            }
            '\r' | '\n' => {}
            c if c == close && depth == 0 => return Some(content),
            c if c == close => {
                depth -= 1;
                content.push(c);
            }
            c if nests && c == open => {
                depth += 1;
                content.push(c);
            }
            c => content.push(c),
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Parsing.

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    comments: Vec<Comment>,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn peek_special(&self) -> Option<char> {
        match self.peek()?.kind {
            Kind::Special(c) => Some(c),
            _ => None,
        }
    }

    fn text(&self, t: &Token) -> &str {
        self.src.get(t.start..t.end).unwrap_or_default()
    }

    fn start_of(&self, index: usize) -> usize {
        self.tokens.get(index).map_or(self.src.len(), |t| t.start)
    }

    fn address_list(mut self) -> Result<Vec<Mailbox>, AddressError> {
        let mut out = Vec::new();
        while self.peek().is_some() {
            // Empty elements and a trailing comma are obsolete but common. A ';' outside a
            // group is read as a separator, as some clients write lists.
            if matches!(self.peek_special(), Some(',' | ';')) {
                self.i += 1;
                continue;
            }
            self.address(&mut out, None)?;
            match self.peek() {
                None => {}
                Some(t) if matches!(t.kind, Kind::Special(',' | ';')) => self.i += 1,
                Some(t) => return Err(self.separator_error(t)),
            }
        }
        Ok(out)
    }

    /// One list element: a mailbox or (outside a group) a group. `group` is the position of
    /// the enclosing group's `:`.
    fn address(
        &mut self,
        out: &mut Vec<Mailbox>,
        group: Option<usize>,
    ) -> Result<(), AddressError> {
        let first = self.i;
        let mut saw_at = false;
        let mut j = self.i;
        while let Some(t) = self.tokens.get(j) {
            match t.kind {
                Kind::Special('<') => {
                    let mailbox = self.name_addr(j)?;
                    out.push(mailbox);
                    return Ok(());
                }
                Kind::Special(':') => {
                    return match group {
                        Some(position) => Err(AddressError::GroupNotTerminated { position }),
                        None => self.group(j, out),
                    }
                }
                Kind::Special('>') => {
                    return Err(AddressError::UnbalancedAngleBracket { position: t.start })
                }
                Kind::Special(',' | ';') => break,
                Kind::Special('@') => saw_at = true,
                _ => {}
            }
            j += 1;
        }
        if !saw_at {
            let position = self.start_of(first);
            let end = j
                .checked_sub(1)
                .and_then(|last| self.tokens.get(last))
                .map_or(position, |t| t.end);
            return Err(AddressError::MissingAt {
                address: self.src.get(position..end).unwrap_or_default().to_owned(),
                position,
            });
        }
        let address = self.addr_spec()?;
        let display_name = self.trailing_comment();
        out.push(Mailbox {
            display_name,
            address,
        });
        Ok(())
    }

    /// `[display-name] "<" [route ":"] addr-spec ">"`, with the `<` at token `open`.
    fn name_addr(&mut self, open: usize) -> Result<Mailbox, AddressError> {
        let display_name = self.phrase(self.i, open);
        let open_at = self.start_of(open);
        self.i = open + 1;
        match self.peek_special() {
            Some('>') => return Err(AddressError::EmptyAngleAddr { position: open_at }),
            Some(',' | ';') => {
                return Err(AddressError::UnbalancedAngleBracket { position: open_at })
            }
            _ if self.peek().is_none() => {
                return Err(AddressError::UnbalancedAngleBracket { position: open_at })
            }
            Some('@') => {
                // Obsolete source route: <@relay.example,@other.example:jane@x.com>.
                let route = self
                    .tokens
                    .get(self.i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|t| !matches!(t.kind, Kind::Special('>')))
                    .position(|t| matches!(t.kind, Kind::Special(':')));
                if let Some(colon) = route {
                    self.i += colon + 1;
                }
            }
            _ => {}
        }
        let address = self.addr_spec()?;
        match self.peek() {
            Some(t) if matches!(t.kind, Kind::Special('>')) => {
                self.i += 1;
                Ok(Mailbox {
                    display_name,
                    address,
                })
            }
            None => Err(AddressError::UnbalancedAngleBracket { position: open_at }),
            Some(t) if matches!(t.kind, Kind::Special(',' | ';')) => {
                Err(AddressError::UnbalancedAngleBracket { position: open_at })
            }
            Some(t) => Err(AddressError::UnexpectedToken {
                found: self.text(t).to_owned(),
                position: t.start,
                expected: "'>'",
            }),
        }
    }

    /// `display-name ":" [group-list] ";"`, with the `:` at token `colon`.
    fn group(&mut self, colon: usize, out: &mut Vec<Mailbox>) -> Result<(), AddressError> {
        let position = self.start_of(colon);
        self.i = colon + 1;
        loop {
            match self.peek_special() {
                _ if self.peek().is_none() => {
                    return Err(AddressError::GroupNotTerminated { position })
                }
                Some(';') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(',') => self.i += 1,
                _ => {
                    self.address(out, Some(position))?;
                    match self.peek() {
                        None => return Err(AddressError::GroupNotTerminated { position }),
                        Some(t) if matches!(t.kind, Kind::Special(',')) => self.i += 1,
                        Some(t) if matches!(t.kind, Kind::Special(';')) => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(t) => return Err(self.separator_error(t)),
                    }
                }
            }
        }
    }

    /// `local-part "@" domain`, starting at the current token. Whitespace and comments
    /// around the dots are allowed (obsolete forms).
    fn addr_spec(&mut self) -> Result<EmailAddress, AddressError> {
        let position = self.start_of(self.i);
        let mut local = String::new();
        let mut quoted = false;
        let mut after_word = false;
        let at = loop {
            let Some(t) = self.peek() else {
                return Err(self.missing_at(position));
            };
            match &t.kind {
                Kind::Special('@') => break t.start,
                Kind::Special('.') => {
                    local.push('.');
                    after_word = false;
                }
                Kind::Special(',' | ';' | '>') => return Err(self.missing_at(position)),
                Kind::Atom | Kind::Quoted(_) if after_word => {
                    return Err(AddressError::UnexpectedToken {
                        found: self.text(t).to_owned(),
                        position: t.start,
                        expected: "'.' or '@'",
                    })
                }
                Kind::Atom => {
                    local.push_str(self.text(t));
                    after_word = true;
                }
                Kind::Quoted(content) => {
                    if is_dot_atom(content) {
                        local.push_str(content);
                    } else {
                        quoted = true;
                        local.push_str(&quote(content));
                    }
                    after_word = true;
                }
                Kind::Special(_) | Kind::DomainLiteral => {
                    return Err(AddressError::UnexpectedToken {
                        found: self.text(t).to_owned(),
                        position: t.start,
                        expected: "a local part",
                    })
                }
            }
            self.i += 1;
        };
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart { position: at });
        }
        self.i += 1;

        let mut domain = String::new();
        let mut literal = false;
        let mut after_label = false;
        while let Some(t) = self.peek() {
            match t.kind {
                Kind::Special('.') => {
                    domain.push('.');
                    after_label = false;
                }
                Kind::Atom if !after_label => {
                    domain.push_str(self.text(t));
                    after_label = true;
                }
                Kind::DomainLiteral if !after_label => {
                    domain.push_str(self.text(t));
                    literal = true;
                    after_label = true;
                }
                _ => break,
            }
            self.i += 1;
        }
        if domain.is_empty() {
            return Err(AddressError::EmptyDomain { position: at });
        }
        if let Some(t) = self.peek() {
            if matches!(t.kind, Kind::Special('@')) {
                return Err(AddressError::UnexpectedToken {
                    found: "@".to_owned(),
                    position: t.start,
                    expected: "a single '@' per address",
                });
            }
        }

        let address = format!("{local}@{domain}");
        if quoted {
            return Err(AddressError::QuotedLocalPart { address, position });
        }
        if literal {
            return Err(AddressError::DomainLiteral { address, position });
        }
        EmailAddress::parse(&address).map_err(|source| AddressError::InvalidAddress {
            address,
            position,
            source,
        })
    }

    fn missing_at(&self, position: usize) -> AddressError {
        let end = self
            .i
            .checked_sub(1)
            .and_then(|last| self.tokens.get(last))
            .map_or(position, |t| t.end.max(position));
        AddressError::MissingAt {
            address: self.src.get(position..end).unwrap_or_default().to_owned(),
            position,
        }
    }

    /// What to report when a mailbox is followed by `t` instead of a separator.
    fn separator_error(&self, t: &Token) -> AddressError {
        match t.kind {
            Kind::Special('>') => AddressError::UnbalancedAngleBracket { position: t.start },
            Kind::Special(':' | '@' | '.') => AddressError::UnexpectedToken {
                found: self.text(t).to_owned(),
                position: t.start,
                expected: "',' between addresses",
            },
            _ => AddressError::MissingComma {
                found: self.text(t).to_owned(),
                position: t.start,
            },
        }
    }

    /// The comments between the address just read and the next token, as a display name.
    fn trailing_comment(&self) -> Option<String> {
        let from = self
            .i
            .checked_sub(1)
            .and_then(|last| self.tokens.get(last))
            .map_or(0, |t| t.end);
        let to = self.start_of(self.i);
        let first = self.comments.partition_point(|c| c.start < from);
        let texts: Vec<String> = self
            .comments
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.start < to)
            .map(|c| decode_text(&c.text))
            .filter(|t| !t.trim().is_empty())
            .collect();
        non_blank(texts.join(" "))
    }

    /// The display name made of tokens `from..to`: words joined by one space where the
    /// source had whitespace or comments, encoded words decoded.
    fn phrase(&self, from: usize, to: usize) -> Option<String> {
        let tokens = self.tokens.get(from..to)?;
        let mut pieces = Vec::new();
        let mut k = 0;
        while let Some(head) = tokens.get(k) {
            let mut m = k + 1;
            while tokens.get(m).is_some_and(|t| t.gap == Gap::None) {
                m += 1;
            }
            let chunk = tokens.get(k..m).unwrap_or_default();
            let joinable = head.gap != Gap::Comment;
            if chunk.iter().any(|t| matches!(t.kind, Kind::Quoted(_))) {
                let text: String = chunk
                    .iter()
                    .map(|t| match &t.kind {
                        Kind::Quoted(content) => content.as_str(),
                        _ => self.text(t),
                    })
                    .collect();
                pieces.extend(quoted_pieces(&text, joinable));
            } else {
                let end = chunk.last().map_or(head.end, |t| t.end);
                let raw = self.src.get(head.start..end).unwrap_or_default();
                pieces.push(Piece::word(raw, joinable));
            }
            k = m;
        }
        non_blank(render(&pieces))
    }
}

fn non_blank(text: String) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A quoted string's content that is a dot-atom, and so names the same mailbox unquoted.
fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(is_atext))
}

fn quote(content: &str) -> String {
    let mut out = String::with_capacity(content.len() + 2);
    out.push('"');
    for c in content.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// RFC 2047 encoded words.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

impl Charset {
    fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Charset::Ascii => bytes
                .is_ascii()
                .then(|| bytes.iter().map(|&b| char::from(b)).collect()),
            // Latin-1 bytes are the first 256 code points.
            Charset::Latin1 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        }
    }
}

/// A word of a display name: plain text, or an encoded word's charset and bytes.
#[derive(Debug)]
struct Piece {
    raw: String,
    encoded: Option<(Charset, Vec<u8>)>,
    /// Separated from the previous piece by whitespace only (not by a comment).
    joinable: bool,
}

impl Piece {
    fn word(raw: &str, joinable: bool) -> Self {
        Self {
            raw: raw.to_owned(),
            encoded: encoded_word(raw),
            joinable,
        }
    }
}

/// A quoted string's content. RFC 2047 forbids encoded words inside quotes, but some
/// senders put them there, and every mail client decodes them: so when the content holds
/// one, its words are decoded; otherwise it is kept exactly as written.
fn quoted_pieces(text: &str, joinable: bool) -> Vec<Piece> {
    if !text.split_whitespace().any(|w| encoded_word(w).is_some()) {
        return vec![Piece {
            raw: text.to_owned(),
            encoded: None,
            joinable,
        }];
    }
    text.split_whitespace()
        .enumerate()
        .map(|(n, w)| Piece::word(w, n > 0 || joinable))
        .collect()
}

/// A comment's text, encoded words decoded (RFC 2047 allows them in comments).
fn decode_text(text: &str) -> String {
    let pieces = quoted_pieces(text, true);
    render(&pieces)
}

/// Joins pieces with one space, except between encoded words separated only by whitespace,
/// which are joined without it (RFC 2047, 6.2). Adjacent encoded words of one charset are
/// decoded together, so a character split across two words by a careless encoder survives.
fn render(pieces: &[Piece]) -> String {
    let mut out = String::new();
    let mut k = 0;
    while let Some(piece) = pieces.get(k) {
        if k > 0 {
            out.push(' ');
        }
        if piece.encoded.is_some() {
            let mut m = k + 1;
            while pieces
                .get(m)
                .is_some_and(|p| p.encoded.is_some() && p.joinable)
            {
                m += 1;
            }
            out.push_str(&decode_run(pieces.get(k..m).unwrap_or_default()));
            k = m;
        } else {
            out.push_str(&piece.raw);
            k += 1;
        }
    }
    out
}

fn decode_run(run: &[Piece]) -> String {
    let mut out = String::new();
    let mut k = 0;
    while let Some(Piece {
        encoded: Some((charset, _)),
        ..
    }) = run.get(k)
    {
        let mut m = k + 1;
        while run
            .get(m)
            .is_some_and(|p| matches!(p.encoded, Some((c, _)) if c == *charset))
        {
            m += 1;
        }
        let group = run.get(k..m).unwrap_or_default();
        let bytes: Vec<u8> = group
            .iter()
            .flat_map(|p| p.encoded.iter().flat_map(|(_, b)| b.iter().copied()))
            .collect();
        match charset.decode(&bytes) {
            Some(text) => out.push_str(&text),
            None => {
                // Not decodable together: each word on its own, or as written.
                let words: Vec<String> = group
                    .iter()
                    .map(|p| match &p.encoded {
                        Some((c, b)) => c.decode(b).unwrap_or_else(|| p.raw.clone()),
                        None => p.raw.clone(),
                    })
                    .collect();
                out.push_str(&words.join(" "));
            }
        }
        k = m;
    }
    out
}

/// `=?charset?encoding?text?=` with a charset we decode, and its bytes; `None` for
/// anything else, which then stays as written.
fn encoded_word(word: &str) -> Option<(Charset, Vec<u8>)> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next()?;
    let encoding = parts.next()?;
    let text = parts.next()?;
    if text.contains('?') {
        return None;
    }
    // RFC 2231 adds a language: =?US-ASCII*EN?Q?...?=
    let charset = charset.split('*').next().unwrap_or_default();
    let charset = match charset.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Charset::Utf8,
        "us-ascii" | "ascii" => Charset::Ascii,
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" => Charset::Latin1,
        _ => return None,
    };
    let bytes = match encoding {
        "B" | "b" => base64(text)?,
        "Q" | "q" => q_decode(text)?,
        _ => return None,
    };
    Some((charset, bytes))
}

fn base64(text: &str) -> Option<Vec<u8>> {
    let data = text.trim_end_matches('=');
    if text.len() - data.len() > 2 || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in data.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let high = hex(bytes.next()?)?;
                let low = hex(bytes.next()?)?;
                out.push(high << 4 | low);
            }
            b'!'..=b'~' => out.push(b),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_or_without_padding_and_refuses_other_alphabets() {
        assert_eq!(base64("SGk=").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(base64("SGk").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(base64("").as_deref(), Some(&b""[..]));
        assert_eq!(base64("S"), None);
        assert_eq!(base64("SG-k"), None);
        assert_eq!(base64("SGk==="), None);
    }

    #[test]
    fn q_decodes_underscores_and_hex_escapes() {
        assert_eq!(q_decode("a_b=3D").as_deref(), Some(&b"a b="[..]));
        assert_eq!(q_decode("a=4"), None);
        assert_eq!(q_decode("a=ZZ"), None);
    }
}
