//! Parsing an address list: list elements, groups, `name <addr>` and display names. What
//! an address itself may be is `addr_spec`'s business.

use super::encoded_words::{decode_text, quoted_pieces, render, Piece};
use super::lexer::{lex, Comment, Gap, Kind, Token};
use super::{AddressError, Mailbox};

/// The mailboxes of the header value `src` (see [`super::parse_address_list`]).
pub(super) fn address_list(src: &str) -> Result<Vec<Mailbox>, AddressError> {
    let (tokens, comments) = lex(src)?;
    Parser {
        src,
        tokens,
        comments,
        i: 0,
    }
    .address_list()
}

/// The tokens of one header value and the position reached in them.
pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) comments: Vec<Comment>,
    pub(super) i: usize,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    pub(super) fn peek_special(&self) -> Option<char> {
        match self.peek()?.kind {
            Kind::Special(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn text(&self, t: &Token) -> &str {
        self.src.get(t.start..t.end).unwrap_or_default()
    }

    pub(super) fn start_of(&self, index: usize) -> usize {
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
