//! `local-part "@" domain`: which addresses hiresync can store, and how each refusal is
//! reported (a quoted local part that is not a dot-atom, a domain literal, anything
//! [`EmailAddress::parse`] refuses).

use super::lexer::{is_atext, Kind};
use super::parser::Parser;
use super::AddressError;
use crate::ids::EmailAddress;

impl Parser<'_> {
    /// `local-part "@" domain`, starting at the current token. Whitespace and comments
    /// around the dots are allowed (obsolete forms).
    pub(super) fn addr_spec(&mut self) -> Result<EmailAddress, AddressError> {
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

    pub(super) fn missing_at(&self, position: usize) -> AddressError {
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
