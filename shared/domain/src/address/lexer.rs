//! Lexing: quoted strings, comments and domain literals resolved; whitespace and comments
//! kept only as the gap before the next token.

use std::iter::Peekable;
use std::str::CharIndices;

use super::AddressError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gap {
    None,
    Space,
    /// At least one comment (and maybe whitespace).
    Comment,
}

#[derive(Debug)]
pub(super) enum Kind {
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
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) gap: Gap,
}

#[derive(Debug)]
pub(super) struct Comment {
    pub(super) start: usize,
    pub(super) text: String,
}

/// RFC 5322 `atext`, widened to every non-ASCII character (RFC 6532).
pub(super) fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

pub(super) fn lex(src: &str) -> Result<(Vec<Token>, Vec<Comment>), AddressError> {
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
