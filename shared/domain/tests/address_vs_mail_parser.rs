//! Our address-list parser against a maintained one: `mail-parser` (Stalwart Labs), fed the
//! same header inside a message.
//!
//! Generated lists mix bare addresses, `<addr>`, display names in atoms and in quotes (with
//! commas inside), trailing comments, groups (empty ones too), RFC 2047 encoded words in B
//! and Q encodings, and folding. On every such list both parsers find the same addresses in
//! the same order, and the same display names wherever both decode one.
//!
//! Deliberate differences, kept out of the generated lists and pinned by the tests at the
//! end instead:
//!
//! - we refuse a quoted local part that is not a dot-atom (`"jane doe"@x.com`) and a domain
//!   literal (`jane@[192.0.2.1]`): an [`EmailAddress`] cannot hold them. `mail-parser`
//!   returns them as written (and, outside angle brackets, reads `"jane doe"` as a name).
//! - a list with one element we cannot read fails as a whole, so the sync policy never
//!   decides on part of the participants; `mail-parser` returns what it could read.
//! - a comment inside `Name (comment) <addr>` is dropped from our display name;
//!   `mail-parser` appends it in parentheses. Only the address is compared there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::address::{parse_address_list, AddressError};
use hiresync_domain::ids::EmailAddress;
use mail_parser::MessageParser;
use proptest::prelude::*;

/// What `mail-parser` reads from `header` as the value of `To:`: `(display name, address)`
/// of every mailbox, group members included.
fn theirs(header: &str) -> Vec<(Option<String>, Option<String>)> {
    let message = format!("From: a@example.com\r\nTo: {header}\r\nSubject: s\r\n\r\nbody\r\n");
    let parsed = MessageParser::default()
        .parse(message.as_bytes())
        .expect("mail-parser reads the message");
    parsed
        .to()
        .map(|to| {
            to.iter()
                .map(|a| {
                    (
                        a.name().map(|n| n.trim().to_owned()),
                        a.address().map(str::to_lowercase),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Generating address lists

/// A display name, and how it is written.
#[derive(Debug, Clone)]
enum Name {
    /// `Jane Q Doe`
    Atoms(Vec<String>),
    /// `"Doe, Jane"`: any printable text, commas included.
    Quoted(String),
    /// Words, each plain or an encoded word (B or Q, UTF-8 or Latin-1).
    Encoded(Vec<Word>),
}

#[derive(Debug, Clone)]
enum Word {
    Plain(String),
    B { charset: &'static str, text: String },
    Q { charset: &'static str, text: String },
}

impl Word {
    fn render(&self) -> String {
        match self {
            Word::Plain(w) => w.clone(),
            Word::B { charset, text } => {
                format!("=?{charset}?B?{}?=", B64.encode(encode(charset, text)))
            }
            Word::Q { charset, text } => {
                let mut q = String::new();
                for b in encode(charset, text) {
                    match b {
                        b' ' => q.push('_'),
                        b if b.is_ascii_alphanumeric() => q.push(char::from(b)),
                        b => q.push_str(&format!("={b:02X}")),
                    }
                }
                format!("=?{charset}?Q?{q}?=")
            }
        }
    }

    fn decoded(&self) -> &str {
        match self {
            Word::Plain(w) | Word::B { text: w, .. } | Word::Q { text: w, .. } => w,
        }
    }

    fn is_encoded(&self) -> bool {
        !matches!(self, Word::Plain(_))
    }
}

/// The bytes of `text` in `charset` (every generated character is in Latin-1).
fn encode(charset: &str, text: &str) -> Vec<u8> {
    if charset == "UTF-8" {
        text.as_bytes().to_vec()
    } else {
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect()
    }
}

impl Name {
    fn render(&self) -> String {
        match self {
            Name::Atoms(words) => words.join(" "),
            Name::Quoted(text) => format!("\"{text}\""),
            Name::Encoded(words) => words.iter().map(Word::render).collect::<Vec<_>>().join(" "),
        }
    }

    /// The name as a reader sees it: encoded words decoded, and the space between two
    /// adjacent encoded words dropped (RFC 2047, 6.2).
    fn decoded(&self) -> String {
        match self {
            Name::Atoms(words) => words.join(" "),
            Name::Quoted(text) => text.clone(),
            Name::Encoded(words) => {
                let mut out = String::new();
                for (k, w) in words.iter().enumerate() {
                    let joined = k > 0 && w.is_encoded() && words[k - 1].is_encoded();
                    if k > 0 && !joined {
                        out.push(' ');
                    }
                    out.push_str(w.decoded());
                }
                out
            }
        }
    }
}

/// One mailbox, and whether both parsers are expected to agree on its display name.
#[derive(Debug, Clone)]
enum Element {
    /// `jane@x.com`
    Bare(String),
    /// `<jane@x.com>`
    Angle(String),
    /// `Name <jane@x.com>`
    Named(Name, String),
    /// `jane@x.com (Jane Doe)`: the comment is the display name.
    Commented(String, String),
    /// `Name (comment) <jane@x.com>`: the names differ by design; addresses only.
    NamedWithComment(Name, String, String),
}

impl Element {
    fn render(&self) -> String {
        match self {
            Element::Bare(a) => a.clone(),
            Element::Angle(a) => format!("<{a}>"),
            Element::Named(n, a) => format!("{} <{a}>", n.render()),
            Element::Commented(a, c) => format!("{a} ({c})"),
            Element::NamedWithComment(n, c, a) => format!("{} ({c}) <{a}>", n.render()),
        }
    }

    fn address(&self) -> &str {
        match self {
            Element::Bare(a)
            | Element::Angle(a)
            | Element::Named(_, a)
            | Element::Commented(a, _)
            | Element::NamedWithComment(_, _, a) => a,
        }
    }

    /// The display name both parsers must give, when they must agree on one.
    fn expected_name(&self) -> Option<Option<String>> {
        match self {
            Element::Bare(_) | Element::Angle(_) => Some(None),
            Element::Named(n, _) => Some(Some(n.decoded())),
            Element::Commented(_, c) => Some(Some(c.clone())),
            Element::NamedWithComment(..) => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Item {
    Mailbox(Element),
    /// `Team: a@x.com, b@y.com;`, possibly empty (`undisclosed-recipients:;`).
    Group(String, Vec<Element>),
}

impl Item {
    fn render(&self) -> String {
        match self {
            Item::Mailbox(e) => e.render(),
            Item::Group(name, members) => format!(
                "{name}: {};",
                members
                    .iter()
                    .map(Element::render)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn elements(&self) -> Vec<&Element> {
        match self {
            Item::Mailbox(e) => vec![e],
            Item::Group(_, members) => members.iter().collect(),
        }
    }
}

fn address() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9_+-]{0,7}(\\.[a-z0-9]{1,5}){0,2}",
        "[a-z][a-z0-9-]{0,7}(\\.[a-z][a-z0-9]{0,5})?\\.(com|org|example|ie)",
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

fn atom() -> impl Strategy<Value = String> {
    "[A-Z][a-z]{0,7}"
}

/// Words of Latin-1 letters, so both charsets can carry them.
fn foreign_text() -> impl Strategy<Value = String> {
    "[A-Za-zéñüçøÅ]{1,6}( [A-Za-zéñüçøÅ]{1,6}){0,2}"
}

fn word() -> impl Strategy<Value = Word> {
    let charset = prop_oneof![Just("UTF-8"), Just("ISO-8859-1")];
    prop_oneof![
        atom().prop_map(Word::Plain),
        (charset.clone(), foreign_text()).prop_map(|(charset, text)| Word::B { charset, text }),
        (charset, foreign_text()).prop_map(|(charset, text)| Word::Q { charset, text }),
    ]
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        proptest::collection::vec(atom(), 1..4).prop_map(Name::Atoms),
        // Printable text with commas, no leading, trailing or doubled spaces.
        "[A-Za-z0-9.,;:@'!#-]{1,8}( [A-Za-z0-9.,;:@'!#-]{1,8}){0,3}".prop_map(Name::Quoted),
        proptest::collection::vec(word(), 1..4).prop_map(Name::Encoded),
    ]
}

fn comment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.,'-]{1,8}( [A-Za-z0-9.,'-]{1,8}){0,2}"
}

fn element() -> impl Strategy<Value = Element> {
    prop_oneof![
        1 => address().prop_map(Element::Bare),
        1 => address().prop_map(Element::Angle),
        3 => (name(), address()).prop_map(|(n, a)| Element::Named(n, a)),
        1 => (address(), comment()).prop_map(|(a, c)| Element::Commented(a, c)),
        1 => (name(), comment(), address()).prop_map(|(n, c, a)| Element::NamedWithComment(n, c, a)),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => element().prop_map(Item::Mailbox),
        1 => (
            "[A-Z][a-z]{0,7}( [A-Z][a-z]{0,7})?",
            proptest::collection::vec(element(), 0..4)
        )
            .prop_map(|(name, members)| Item::Group(name, members)),
    ]
}

/// Items joined by commas, some with folding whitespace after the comma.
fn list() -> impl Strategy<Value = (Vec<Item>, String)> {
    proptest::collection::vec(
        (item(), prop_oneof![Just(", "), Just(","), Just(",\r\n ")]),
        1..6,
    )
    .prop_map(|items| {
        let mut header = String::new();
        for (k, (item, separator)) in items.iter().enumerate() {
            if k > 0 {
                header.push_str(separator);
            }
            header.push_str(&item.render());
        }
        (items.into_iter().map(|(item, _)| item).collect(), header)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn both_parsers_find_the_same_mailboxes((items, header) in list()) {
        // GIVEN a well-formed address list of every form the two parsers share
        let elements: Vec<&Element> = items.iter().flat_map(Item::elements).collect();

        // WHEN each parser reads it
        let ours = parse_address_list(&header)
            .unwrap_or_else(|e| panic!("we refused {header:?}: {e}"));
        let theirs = theirs(&header);

        // THEN the same addresses come out, in order (ours are lower case, as stored)
        let our_addresses: Vec<Option<String>> =
            ours.iter().map(|m| Some(m.address.as_str().to_owned())).collect();
        let their_addresses: Vec<Option<String>> =
            theirs.iter().map(|(_, a)| a.clone()).collect();
        prop_assert_eq!(&our_addresses, &their_addresses, "header {:?}", header);
        let generated: Vec<Option<String>> =
            elements.iter().map(|e| Some(e.address().to_owned())).collect();
        prop_assert_eq!(&our_addresses, &generated, "header {:?}", header);

        // AND the same display names wherever both decode one
        for ((element, mine), (their_name, _)) in elements.iter().zip(&ours).zip(&theirs) {
            if let Some(expected) = element.expected_name() {
                prop_assert_eq!(&mine.display_name, &expected, "ours, header {:?}", header);
                prop_assert_eq!(their_name, &expected, "theirs, header {:?}", header);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The deliberate differences

#[test]
fn we_refuse_what_an_email_address_cannot_hold_where_mail_parser_returns_it() {
    for (header, held) in [
        (r#"Jane <"jane doe"@x.com>"#, r#""jane doe"@x.com"#),
        ("Jane <jane@[192.0.2.1]>", "jane@[192.0.2.1]"),
    ] {
        let error = parse_address_list(header).unwrap_err();
        assert!(
            matches!(
                error,
                AddressError::QuotedLocalPart { .. } | AddressError::DomainLiteral { .. }
            ),
            "{header:?}: {error:?}"
        );
        assert_eq!(
            theirs(header),
            [(Some("Jane".to_owned()), Some(held.to_owned()))],
            "{header:?}"
        );
    }
}

#[test]
fn one_unreadable_element_fails_our_whole_list_where_mail_parser_keeps_the_rest() {
    let header = "a@x.com, Jane Doe, b@y.com";
    assert!(matches!(
        parse_address_list(header),
        Err(AddressError::MissingAt { .. })
    ));
    let theirs: Vec<String> = theirs(header).into_iter().filter_map(|(_, a)| a).collect();
    assert!(theirs.contains(&"a@x.com".to_owned()) && theirs.contains(&"b@y.com".to_owned()));
}

#[test]
fn a_comment_inside_a_name_addr_is_not_part_of_our_display_name() {
    let header = "Jane Doe (Recruiting) <jane@x.com>";
    let ours = parse_address_list(header).unwrap();
    assert_eq!(ours[0].display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(ours[0].address, EmailAddress::parse("jane@x.com").unwrap());
    let theirs = theirs(header);
    assert_eq!(theirs[0].1.as_deref(), Some("jane@x.com"));
    assert_ne!(theirs[0].0.as_deref(), Some("Jane Doe"), "{theirs:?}");
}
