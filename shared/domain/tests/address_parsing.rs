//! Address headers as real mail writes them: RFC 5322's forms and examples, the obsolete
//! forms still seen, RFC 2047 encoded words, and every error with its position.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_domain::address::{parse_address_list, participants, AddressError, Mailbox};
use hiresync_domain::ids::EmailAddress;
use proptest::prelude::*;

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn mb(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox {
        display_name: name.map(str::to_owned),
        address: addr(address),
    }
}

fn named(name: &str, address: &str) -> Mailbox {
    mb(Some(name), address)
}

fn bare(address: &str) -> Mailbox {
    mb(None, address)
}

/// Parses each header and compares it with its expected mailboxes.
fn check(table: &[(&str, Vec<Mailbox>)]) {
    for (header, expected) in table {
        match parse_address_list(header) {
            Ok(got) => assert_eq!(&got, expected, "header {header:?}"),
            Err(e) => panic!("header {header:?} failed: {e}"),
        }
    }
}

#[test]
fn bare_addresses_have_no_display_name() {
    check(&[
        ("jane@x.com", vec![bare("jane@x.com")]),
        ("  jane@x.com  ", vec![bare("jane@x.com")]),
        ("jane+jobs@x.com", vec![bare("jane+jobs@x.com")]),
        ("o'brien@x.ie", vec![bare("o'brien@x.ie")]),
        (
            "a@x.com, b@y.com,c@z.com",
            vec![bare("a@x.com"), bare("b@y.com"), bare("c@z.com")],
        ),
        ("", vec![]),
        ("   ", vec![]),
    ]);
}

#[test]
fn name_addrs_keep_their_display_names() {
    check(&[
        // Outlook quotes "Last, First" and keeps the address's case.
        (
            r#""Doe, Jane" <Jane.Doe@Contoso.com>"#,
            vec![named("Doe, Jane", "jane.doe@contoso.com")],
        ),
        (
            "Jane Doe <jane@x.com>",
            vec![named("Jane Doe", "jane@x.com")],
        ),
        (
            "Jane   Doe<jane@x.com>",
            vec![named("Jane Doe", "jane@x.com")],
        ),
        (
            r#""Doe, Jane \"JD\"" <jane@x.com>"#,
            vec![named(r#"Doe, Jane "JD""#, "jane@x.com")],
        ),
        (
            r#""a\\b <c@d>; e:f" <x@y.com>"#,
            vec![named(r"a\b <c@d>; e:f", "x@y.com")],
        ),
        ("J. Doe <j@x.com>", vec![named("J. Doe", "j@x.com")]),
        (
            "Joe Q. Public <john.q.public@example.com>",
            vec![named("Joe Q. Public", "john.q.public@example.com")],
        ),
        ("Who? <one@y.test>", vec![named("Who?", "one@y.test")]),
        (
            r#""Jane" Doe <jane@x.com>"#,
            vec![named("Jane Doe", "jane@x.com")],
        ),
        // The address as name, unquoted: common in generated mail.
        (
            "jane@x.com <jane@x.com>",
            vec![named("jane@x.com", "jane@x.com")],
        ),
        (
            "[EXT] Jane <jane@x.com>",
            vec![named("[EXT] Jane", "jane@x.com")],
        ),
        (r#""" <jane@x.com>"#, vec![bare("jane@x.com")]),
        (r#""  " <jane@x.com>"#, vec![bare("jane@x.com")]),
        ("<jane@x.com>", vec![bare("jane@x.com")]),
        (
            "Zoë Ångström <zoe@x.se>",
            vec![named("Zoë Ångström", "zoe@x.se")],
        ),
    ]);
}

#[test]
fn rfc_5322_appendix_a_examples() {
    check(&[
        (
            r#""Joe Q. Public" <john.q.public@example.com>"#,
            vec![named("Joe Q. Public", "john.q.public@example.com")],
        ),
        (
            "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
            vec![
                named("Mary Smith", "mary@x.test"),
                bare("jdoe@example.org"),
                named("Who?", "one@y.test"),
            ],
        ),
        (
            r#"<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>"#,
            vec![
                bare("boss@nil.test"),
                named(r#"Giant; "Big" Box"#, "sysservices@example.net"),
            ],
        ),
        (
            "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
            vec![
                named("Ed Jones", "c@a.test"),
                bare("joe@where.test"),
                named("John", "jdoe@one.test"),
            ],
        ),
        ("Undisclosed recipients:;", vec![]),
        // A.5: white space, comments, and other oddities.
        (
            r"Pete(A nice \) chap) <pete(his account)@silly.test(his host)>",
            vec![named("Pete", "pete@silly.test")],
        ),
        (
            "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
            vec![
                named("Chris Jones", "c@public.example"),
                bare("joe@example.org"),
                named("John", "jdoe@one.test"),
            ],
        ),
        // A.6.1 and A.6.3: obsolete addressing and white space.
        (
            "Joe Q. Public <john.q.public@example.com>",
            vec![named("Joe Q. Public", "john.q.public@example.com")],
        ),
        (
            "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
            vec![
                named("Mary Smith", "mary@example.net"),
                bare("jdoe@test.example"),
            ],
        ),
        (
            "John Doe <jdoe@machine(comment).  example>",
            vec![named("John Doe", "jdoe@machine.example")],
        ),
        (
            "Mary Smith\r\n     \r\n <mary@example.net>",
            vec![named("Mary Smith", "mary@example.net")],
        ),
    ]);
}

#[test]
fn quoted_local_parts_are_unquoted_when_they_are_plain_dot_atoms() {
    check(&[
        (r#""jane"@x.com"#, vec![bare("jane@x.com")]),
        (
            r#"Jane <"Jane.Doe"@X.com>"#,
            vec![named("Jane", "jane.doe@x.com")],
        ),
        (r#""jane".doe@x.com"#, vec![bare("jane.doe@x.com")]),
    ]);
}

#[test]
fn quoted_local_parts_that_need_their_quotes_are_reported_not_dropped() {
    // GIVEN an address EmailAddress::parse cannot hold (whitespace, '@', quotes)
    for (header, address, position) in [
        (r#""jane doe"@x.com"#, r#""jane doe"@x.com"#, 0),
        (
            r#"a@x.com, Jane <"jane@home"@x.com>"#,
            r#""jane@home"@x.com"#,
            15,
        ),
        (r#""a\"b"@x.com"#, r#""a\"b"@x.com"#, 0),
    ] {
        // WHEN the list is parsed
        // THEN the whole list fails, naming the address and where it is
        assert_eq!(
            parse_address_list(header),
            Err(AddressError::QuotedLocalPart {
                address: address.to_owned(),
                position
            }),
            "{header:?}"
        );
    }
}

#[test]
fn comments_are_allowed_wherever_whitespace_is() {
    check(&[
        // RFC 822's habit: the name as a comment after a bare address.
        (
            "jane@x.com (Jane (work))",
            vec![named("Jane (work)", "jane@x.com")],
        ),
        (
            "jane@x.com (Jane Doe), bob@y.com",
            vec![named("Jane Doe", "jane@x.com"), bare("bob@y.com")],
        ),
        ("jane@x.com ()", vec![bare("jane@x.com")]),
        (
            "(lead) Jane (the boss) Doe <jane@x.com> (recruiter)",
            vec![named("Jane Doe", "jane@x.com")],
        ),
        ("jane(home)@(primary)x.com", vec![bare("jane@x.com")]),
        (
            r"Jane <jane@x.com (a \( quoted paren, (nested (twice))) >",
            vec![named("Jane", "jane@x.com")],
        ),
        ("(only a comment)", vec![]),
        (
            r#"Team (all of us): a@x.com (A), b@y.com;"#,
            vec![named("A", "a@x.com"), bare("b@y.com")],
        ),
    ]);
}

#[test]
fn folding_whitespace_is_whitespace() {
    check(&[
        (
            "\"Doe,\r\n Jane\" <jane@x.com>,\r\n\tbob@y.com",
            vec![named("Doe, Jane", "jane@x.com"), bare("bob@y.com")],
        ),
        (
            "Jane\r\n Doe\r\n <jane@x.com>",
            vec![named("Jane Doe", "jane@x.com")],
        ),
        (
            "a@x.com,\r\n b@x.com,\r\n c@x.com,\r\n d@x.com",
            vec![
                bare("a@x.com"),
                bare("b@x.com"),
                bare("c@x.com"),
                bare("d@x.com"),
            ],
        ),
        // Bare line feeds (headers read from mbox files) are read the same way.
        (
            "Jane\n Doe <jane@x.com>",
            vec![named("Jane Doe", "jane@x.com")],
        ),
    ]);
}

#[test]
fn groups_yield_their_members_and_empty_groups_nothing() {
    check(&[
        (
            "Recruiters: a@x.com, b@y.com;",
            vec![bare("a@x.com"), bare("b@y.com")],
        ),
        ("undisclosed-recipients:;", vec![]),
        ("undisclosed-recipients: ;", vec![]),
        (
            "undisclosed-recipients:;, jane@x.com",
            vec![bare("jane@x.com")],
        ),
        (
            r#"Hiring "Team": Jane <j@x.com>,, ;, bob@y.com"#,
            vec![named("Jane", "j@x.com"), bare("bob@y.com")],
        ),
        (
            "A: a@x.com;, B: b@y.com;",
            vec![bare("a@x.com"), bare("b@y.com")],
        ),
        (
            "=?UTF-8?Q?=C3=89quipe?=: Jane <j@x.com>;",
            vec![named("Jane", "j@x.com")],
        ),
    ]);
}

#[test]
fn encoded_words_in_display_names_are_decoded() {
    check(&[
        // Gmail, B encoding.
        (
            "=?UTF-8?B?w4lsb2TDqWE=?= <e@x.com>",
            vec![named("Élodéa", "e@x.com")],
        ),
        (
            "=?utf-8?b?w4lsb2TDqWE?= <e@x.com>",
            vec![named("Élodéa", "e@x.com")],
        ),
        // RFC 2047, section 8.
        (
            "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>",
            vec![named("Keith Moore", "moore@cs.utk.edu")],
        ),
        (
            "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>",
            vec![named("Keld Jørn Simonsen", "keld@dkuug.dk")],
        ),
        (
            "=?ISO-8859-1?Q?Andr=E9_Pirard?= <PIRARD@vm1.ulg.ac.be>",
            vec![named("André Pirard", "pirard@vm1.ulg.ac.be")],
        ),
        (
            "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
            vec![named("André Pirard", "pirard@vm1.ulg.ac.be")],
        ),
        (
            "=?iso-8859-1?q?this=20is=20some=20text?= <t@x.com>",
            vec![named("this is some text", "t@x.com")],
        ),
        // RFC 2231 language tag.
        (
            "=?US-ASCII*EN?Q?Keith_Moore?= <moore@cs.utk.edu>",
            vec![named("Keith Moore", "moore@cs.utk.edu")],
        ),
        // Latin-1 bytes 0x80-0xFF are U+0080-U+00FF.
        (
            "=?latin1?Q?=A9=FF?= <c@x.com>",
            vec![named("\u{a9}\u{ff}", "c@x.com")],
        ),
    ]);
}

#[test]
fn adjacent_encoded_words_join_without_the_whitespace_between_them() {
    check(&[
        ("=?ISO-8859-1?Q?a?= <a@x.com>", vec![named("a", "a@x.com")]),
        (
            "=?ISO-8859-1?Q?a?= b <a@x.com>",
            vec![named("a b", "a@x.com")],
        ),
        (
            "=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?= <a@x.com>",
            vec![named("ab", "a@x.com")],
        ),
        (
            "=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?= <a@x.com>",
            vec![named("ab", "a@x.com")],
        ),
        (
            "=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?= <a@x.com>",
            vec![named("ab", "a@x.com")],
        ),
        (
            "=?ISO-8859-1?Q?a_b?= <a@x.com>",
            vec![named("a b", "a@x.com")],
        ),
        // Different charsets still join.
        (
            "=?UTF-8?Q?=C3=89?= =?ISO-8859-1?Q?l=E9?= <a@x.com>",
            vec![named("Élé", "a@x.com")],
        ),
        // A comment between them keeps them apart.
        (
            "=?ISO-8859-1?Q?a?= (c) =?ISO-8859-1?Q?b?= <a@x.com>",
            vec![named("a b", "a@x.com")],
        ),
        // A careless encoder splits "é" (C3 A9) across two words.
        (
            "=?UTF-8?B?w4lsb2TD?= =?UTF-8?B?qWE=?= <e@x.com>",
            vec![named("Élodéa", "e@x.com")],
        ),
    ]);
}

#[test]
fn encoded_words_elsewhere_and_malformed_ones() {
    check(&[
        // In a comment (RFC 2047 section 8's examples are comments).
        (
            "a@x.com (=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)",
            vec![named("ab", "a@x.com")],
        ),
        (
            "a@x.com (=?ISO-8859-1?Q?a?= b)",
            vec![named("a b", "a@x.com")],
        ),
        // Inside quotes (forbidden, yet sent, and decoded by every client).
        (
            r#""=?UTF-8?B?w4lsb2TDqWE=?= Martin" <e@x.com>"#,
            vec![named("Élodéa Martin", "e@x.com")],
        ),
        // Unknown charsets are kept as written.
        (
            "=?ISO-8859-2?Q?Pawe=B3?= <p@x.pl>",
            vec![named("=?ISO-8859-2?Q?Pawe=B3?=", "p@x.pl")],
        ),
        (
            "=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?= <a@x.com>",
            vec![named("a =?ISO-8859-2?Q?_b?=", "a@x.com")],
        ),
        // Malformed ones are kept as written: bad Base64, bad escape, bad UTF-8, unknown
        // encoding, a word glued to text.
        (
            "=?UTF-8?B?w4l-?= <a@x.com>",
            vec![named("=?UTF-8?B?w4l-?=", "a@x.com")],
        ),
        (
            "=?UTF-8?Q?a=G1?= <a@x.com>",
            vec![named("=?UTF-8?Q?a=G1?=", "a@x.com")],
        ),
        (
            "=?UTF-8?Q?=FF?= <a@x.com>",
            vec![named("=?UTF-8?Q?=FF?=", "a@x.com")],
        ),
        (
            "=?US-ASCII?Q?=E9?= <a@x.com>",
            vec![named("=?US-ASCII?Q?=E9?=", "a@x.com")],
        ),
        (
            "=?UTF-8?X?abc?= <a@x.com>",
            vec![named("=?UTF-8?X?abc?=", "a@x.com")],
        ),
        (
            "=?UTF-8?Q?Andr=C3=A9?=-Pierre <a@x.com>",
            vec![named("=?UTF-8?Q?Andr=C3=A9?=-Pierre", "a@x.com")],
        ),
        (
            "=?UTF-8?Q?a? <a@x.com>",
            vec![named("=?UTF-8?Q?a?", "a@x.com")],
        ),
        // An encoded word in a quoted string next to plain words stays plain when invalid.
        (
            r#""=?x?= Jane" <a@x.com>"#,
            vec![named("=?x?= Jane", "a@x.com")],
        ),
    ]);
}

#[test]
fn obsolete_forms_seen_in_real_mail() {
    check(&[
        ("a@x.com,", vec![bare("a@x.com")]),
        ("a@x.com, ", vec![bare("a@x.com")]),
        (", a@x.com", vec![bare("a@x.com")]),
        ("a@x.com,,b@y.com", vec![bare("a@x.com"), bare("b@y.com")]),
        (
            "a@x.com, ,\r\n ,b@y.com",
            vec![bare("a@x.com"), bare("b@y.com")],
        ),
        // Semicolons as separators outside a group.
        ("a@x.com; b@y.com;", vec![bare("a@x.com"), bare("b@y.com")]),
        (
            "Mr. J. R. R. Doe <j@x.com>",
            vec![named("Mr. J. R. R. Doe", "j@x.com")],
        ),
        (
            "<@relay1.test,@relay2.test:jane@x.com>",
            vec![bare("jane@x.com")],
        ),
        ("jane . doe @ x . com", vec![bare("jane.doe@x.com")]),
        // Japanese carriers' addresses with leading, trailing and doubled dots.
        (
            "taro..yamada.@docomo.ne.jp",
            vec![bare("taro..yamada.@docomo.ne.jp")],
        ),
    ]);
}

#[test]
fn addresses_compare_case_insensitively_and_keep_idn_domains_as_given() {
    check(&[
        (
            "Jane.Doe+Jobs@Contoso.COM",
            vec![bare("jane.doe+jobs@contoso.com")],
        ),
        ("jane@Bücher.Example", vec![bare("jane@bücher.example")]),
        (
            "jane@XN--BCHER-KVA.example",
            vec![bare("jane@xn--bcher-kva.example")],
        ),
        ("用户@例子.广告", vec![bare("用户@例子.广告")]),
    ]);
    let list = parse_address_list("JANE@X.COM, jane@x.com").unwrap();
    assert_eq!(list[0].address, list[1].address);
}

#[test]
fn each_malformed_list_fails_with_its_error_and_position() {
    use AddressError::*;
    let table: Vec<(&str, AddressError)> = vec![
        (
            r#""Doe, Jane <jane@x.com>"#,
            UnterminatedQuotedString { position: 0 },
        ),
        (
            r#"a@x.com, "Jane\"#,
            UnterminatedQuotedString { position: 9 },
        ),
        (
            "jane@x.com (Jane (work)",
            UnterminatedComment { position: 11 },
        ),
        ("jane@[192.0.2.1", UnterminatedDomainLiteral { position: 5 }),
        ("Jane <jane@x.com", UnbalancedAngleBracket { position: 5 }),
        (
            "Jane <jane@x.com, b@y.com>",
            UnbalancedAngleBracket { position: 5 },
        ),
        ("jane@x.com>", UnbalancedAngleBracket { position: 10 }),
        ("<a@x.com>>", UnbalancedAngleBracket { position: 9 }),
        ("Jane <", UnbalancedAngleBracket { position: 5 }),
        (
            "jane@x.com)",
            UnexpectedCharacter {
                found: ')',
                position: 10,
            },
        ),
        (
            r"ja\ne@x.com",
            UnexpectedCharacter {
                found: '\\',
                position: 2,
            },
        ),
        (
            "jane@x.com]",
            UnexpectedCharacter {
                found: ']',
                position: 10,
            },
        ),
        (
            "ja\u{0}ne@x.com",
            UnexpectedCharacter {
                found: '\u{0}',
                position: 2,
            },
        ),
        (
            "jane doe@x.com",
            UnexpectedToken {
                found: "doe".to_owned(),
                position: 5,
                expected: "'.' or '@'",
            },
        ),
        (
            "<jane@x.com bob>",
            UnexpectedToken {
                found: "bob".to_owned(),
                position: 12,
                expected: "'>'",
            },
        ),
        (
            "jane@x.com@y.com",
            UnexpectedToken {
                found: "@".to_owned(),
                position: 10,
                expected: "a single '@' per address",
            },
        ),
        (
            "jane@x.com bob@y.com",
            MissingComma {
                found: "bob".to_owned(),
                position: 11,
            },
        ),
        (
            "<a@x.com> <b@y.com>",
            MissingComma {
                found: "<".to_owned(),
                position: 10,
            },
        ),
        (
            "Jane Doe",
            MissingAt {
                address: "Jane Doe".to_owned(),
                position: 0,
            },
        ),
        (
            "a@x.com, jane, b@y.com",
            MissingAt {
                address: "jane".to_owned(),
                position: 9,
            },
        ),
        (
            "Jane <jane>",
            MissingAt {
                address: "jane".to_owned(),
                position: 6,
            },
        ),
        ("<>", EmptyAngleAddr { position: 0 }),
        ("Mail Delivery <>", EmptyAngleAddr { position: 14 }),
        ("@x.com", EmptyLocalPart { position: 0 }),
        ("Jane <@x.com>", EmptyLocalPart { position: 6 }),
        ("jane@", EmptyDomain { position: 4 }),
        ("jane@, b@y.com", EmptyDomain { position: 4 }),
        ("Jane <jane@>", EmptyDomain { position: 10 }),
        (
            "Recruiters: a@x.com, b@y.com",
            GroupNotTerminated { position: 10 },
        ),
        (
            "undisclosed-recipients:",
            GroupNotTerminated { position: 22 },
        ),
        (
            "A: a@x.com, B: b@y.com;;",
            GroupNotTerminated { position: 1 },
        ),
        (
            "jane@[192.0.2.1]",
            DomainLiteral {
                address: "jane@[192.0.2.1]".to_owned(),
                position: 0,
            },
        ),
    ];
    for (header, expected) in table {
        assert_eq!(parse_address_list(header), Err(expected), "{header:?}");
    }
}

#[test]
fn addresses_refused_by_email_address_parse_keep_its_reason() {
    for (header, address, position) in [
        ("jane@x..com", "jane@x..com", 0),
        ("b@y.com, jane@.x.com", "jane@.x.com", 9),
        ("Jane <jane@x.com.>", "jane@x.com.", 6),
        ("jane\u{a0}doe@x.com", "jane\u{a0}doe@x.com", 0),
    ] {
        match parse_address_list(header) {
            Err(AddressError::InvalidAddress {
                address: a,
                position: p,
                source,
            }) => {
                assert_eq!((a.as_str(), p), (address, position), "{header:?}");
                assert!(source.to_string().contains("not an email address"));
            }
            other => panic!("{header:?} gave {other:?}"),
        }
    }
    let long = format!("{}@x.com", "a".repeat(250));
    assert!(matches!(
        parse_address_list(&long),
        Err(AddressError::InvalidAddress { position: 0, .. })
    ));
}

#[test]
fn error_messages_name_the_position() {
    let e = parse_address_list("a@x.com, Jane <j@x.com").unwrap_err();
    assert_eq!(e.to_string(), "the angle bracket at byte 14 has no partner");
    let e = parse_address_list(r#""jane doe"@x.com"#).unwrap_err();
    assert!(e.to_string().contains("byte 0"), "{e}");
}

#[test]
fn participants_are_distinct_across_headers_in_first_seen_order() {
    // GIVEN From, To, Cc and Bcc of one message, with the same people in different case
    let from = r#""Doe, Jane" <Jane.Doe@Contoso.com>"#;
    let to = "Recruiters: bob@y.com, JANE.DOE@contoso.com;, carol@z.com";
    let cc = "undisclosed-recipients:;";
    let bcc = "Bob <BOB@Y.COM>, dave@w.com, jane.doe@CONTOSO.com";

    // WHEN the participants are gathered
    let got = participants([from, to, cc, bcc]).unwrap();

    // THEN each address appears once, where first seen, in lower case
    assert_eq!(
        got,
        vec![
            addr("jane.doe@contoso.com"),
            addr("bob@y.com"),
            addr("carol@z.com"),
            addr("dave@w.com"),
        ]
    );
    assert_eq!(participants(Vec::<&str>::new()).unwrap(), vec![]);
    assert_eq!(participants(["", " , "]).unwrap(), vec![]);
    // Sub-addresses are other addresses.
    assert_eq!(
        participants(["jane@x.com", "jane+jobs@x.com"]).unwrap(),
        vec![addr("jane@x.com"), addr("jane+jobs@x.com")]
    );
}

#[test]
fn participants_name_the_header_that_failed() {
    let err = participants(["a@x.com", "b@y.com", "Jane <j@x.com"]).unwrap_err();
    assert_eq!(
        err,
        AddressError::InHeader {
            index: 2,
            source: Box::new(AddressError::UnbalancedAngleBracket { position: 5 }),
        }
    );
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(
        source.to_string(),
        "the angle bracket at byte 5 has no partner"
    );
}

/// Printable ASCII names without '?' or '=', so no name is accidentally an encoded word.
fn name() -> impl Strategy<Value = String> {
    r#"[A-Za-z0-9 ,.;:<>@()\[\]"\\'!#-]{0,24}"#
}

fn address() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9+_-]{1,10}(\\.[A-Za-z0-9+_-]{1,10}){0,2}",
        "[A-Za-z0-9-]{1,10}(\\.[A-Za-z]{2,6}){1,2}",
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

fn quoted(name: &str) -> String {
    let mut out = String::from('"');
    for c in name.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

proptest! {
    #[test]
    fn the_parser_never_panics_on_arbitrary_text(header in ".{0,200}") {
        let _ = parse_address_list(&header);
        let _ = participants([header.as_str(), "a@x.com"]);
    }

    #[test]
    fn the_parser_never_panics_on_text_dense_in_specials(
        header in r#"[a-c@<>"()\[\],;:. \\\r\n\t=?_BQé]{0,80}"#
    ) {
        let _ = parse_address_list(&header);
    }

    #[test]
    fn formatted_mailboxes_parse_back_to_the_same_addresses(
        list in proptest::collection::vec((name(), address()), 0..8)
    ) {
        // GIVEN mailboxes written as "Name" <local@domain>, joined by ", "
        let header = list
            .iter()
            .map(|(n, a)| format!("{} <{a}>", quoted(n)))
            .collect::<Vec<_>>()
            .join(", ");

        // WHEN parsed
        let parsed = parse_address_list(&header).unwrap();

        // THEN the same addresses come back, in order, with their names
        let expected: Vec<Mailbox> = list
            .iter()
            .map(|(n, a)| Mailbox {
                display_name: Some(n.trim().to_owned()).filter(|n| !n.is_empty()),
                address: addr(a),
            })
            .collect();
        prop_assert_eq!(parsed, expected);
    }
}
