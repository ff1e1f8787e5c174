//! The sync policy, one table per rule, each with its boundary rows, then the order of the
//! rules, the reasons' codes and wording, and a property over arbitrary messages.
//!
//! The seat is recruiter@acme.com (seat-1 of contract acme). Unless a row says otherwise,
//! its mailbox was first authorized on 2026-01-15T09:00:00Z (so the history reaches back to
//! 2025-01-15T09:00:00Z) and "now" is 2026-03-10T12:00:00Z (so threads count as active
//! from 2025-09-10T12:00:00Z).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{addr, addrs, ts, Edit, InMemoryDirectory};

use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::access::{DeauthorizationReason, ReconnectReason};
use hiresync_domain::connection::{Connection, ConnectionKind, Grant, SyncStart};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::{Degree, DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::policy::{
    active_since, decide, lookback_start, others, Decision, DirectoryLookup, MessageFacts,
    SkipReason, ThreadState, HISTORY_FLOOR, HISTORY_FLOOR_FOR_FIRST_AUTHORIZED_BEFORE,
};
use hiresync_domain::Timestamp;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Fixtures

const CONTRACT: &str = "acme";
const SEAT_ID: &str = "seat-1";
const SEAT: &str = "recruiter@acme.com";

const FIRST_AUTHORIZED: &str = "2026-01-15T09:00:00Z";
const NOW: &str = "2026-03-10T12:00:00Z";
/// A recent instant: passes the lookback and the activity rules.
const RECENT: &str = "2026-03-09T08:30:00Z";

// Candidates of the standard directory.
const JANE: &str = "jane@example.org"; // in the pipeline, discoverable by anyone
const OMAR: &str = "omar@example.net"; // has a profile, not in the pipeline
const NOBODY_KNOWS: &str = "zed@unknown.io"; // no profile
const FOREIGN: &str = "max@example.com"; // a profile of another contract only
const COLLEAGUE: &str = "colleague@acme.com";
const SUBDOMAIN: &str = "lee@eu.acme.com"; // a candidate on a subdomain of the seat's
const LOOKALIKE: &str = "kim@acme.co";
const ANA: &str = "ana@example.org"; // first degree only, connected to the seat
const BEN: &str = "ben@example.org"; // first degree only, second-degree to the seat
const CAI: &str = "cai@example.org"; // first degree only, connected to another seat
const DEE: &str = "dee@example.org"; // nobody, though connected to the seat
const EVE: &str = "eve@example.org"; // second degree, second-degree to the seat
const FAY: &str = "fay@example.org"; // second degree, third-degree to the seat
const GUS: &str = "gus@example.org"; // nobody, and not in the pipeline

fn seat_id() -> SeatId {
    SeatId::parse(SEAT_ID).unwrap()
}

/// The seat's email connection, first authorized at `first`, its latest historical sync
/// anchored at `anchor`.
fn connection_at(first: &str, anchor: &str) -> Connection {
    let grant = Grant {
        provider: Provider::Microsoft365,
        address: addr(SEAT),
        scopes: BTreeSet::new(),
        organization: None,
    };
    let mut connection = Connection::first(
        ContractId::parse(CONTRACT).unwrap(),
        seat_id(),
        ConnectionKind::Email,
        grant,
        ts(first),
    );
    connection.historical_anchor = ts(anchor);
    connection
}

fn connection() -> Connection {
    connection_at(FIRST_AUTHORIZED, FIRST_AUTHORIZED)
}

fn candidate(
    email: &str,
    discovery: DiscoverySetting,
    in_pipeline: bool,
    degrees: &[(&str, Degree)],
) -> DirectoryEntry {
    let local = email.split('@').next().unwrap();
    DirectoryEntry {
        contract_id: ContractId::parse(CONTRACT).unwrap(),
        profile_id: ProfileId::parse(format!("p-{}", local.replace('+', "-"))).unwrap(),
        emails: vec![addr(email)],
        discovery,
        in_pipeline,
        degrees: degrees
            .iter()
            .map(|(seat, degree)| (SeatId::parse(*seat).unwrap(), *degree))
            .collect(),
        source_version: 1,
    }
}

fn directory() -> InMemoryDirectory {
    use Degree::*;
    use DiscoverySetting::*;
    let mut foreign = candidate(FOREIGN, Anyone, true, &[]);
    foreign.contract_id = ContractId::parse("globex").unwrap();
    InMemoryDirectory::default()
        .with(candidate(JANE, Anyone, true, &[]))
        .with(candidate(OMAR, Anyone, false, &[]))
        .with(foreign)
        .with(candidate(SUBDOMAIN, Anyone, true, &[]))
        .with(candidate(LOOKALIKE, Anyone, true, &[]))
        .with(candidate(ANA, FirstDegree, true, &[(SEAT_ID, First)]))
        .with(candidate(BEN, FirstDegree, true, &[(SEAT_ID, Second)]))
        .with(candidate(CAI, FirstDegree, true, &[("seat-2", First)]))
        .with(candidate(DEE, Nobody, true, &[(SEAT_ID, First)]))
        .with(candidate(EVE, SecondDegree, true, &[(SEAT_ID, Second)]))
        .with(candidate(FAY, SecondDegree, true, &[(SEAT_ID, Third)]))
        .with(candidate(GUS, Nobody, false, &[(SEAT_ID, First)]))
}

/// A message from `from` to `to`, sent at [`RECENT`], not from the product.
fn mail(from: &str, to: &[&str]) -> MessageFacts {
    MessageFacts {
        provider_id: "AAMkAGI2-message".into(),
        thread_id: "AAQkAGI2-thread".into(),
        from: addr(from),
        to: addrs(to),
        cc: vec![],
        bcc: vec![],
        at: ts(RECENT),
        started_from_product: false,
    }
}

/// A stored conversation with `counterpart`, last active at `last`, with the profile the
/// standard directory has for it (as the worker stored it).
fn stored(counterpart: &str, last: &str) -> ThreadState {
    let counterpart = addr(counterpart);
    let profile = directory()
        .candidate(&counterpart)
        .filter(|entry| entry.contract_id.as_str() == CONTRACT)
        .map(|entry| entry.profile_id.clone());
    ThreadState {
        started_from_product: false,
        last_activity_at: ts(last),
        counterpart: Some(counterpart),
        profile,
        removed_for_inactivity_at: None,
    }
}

/// What is left of a thread when only its tombstone is stored: no counterpart, no profile.
fn tombstone(last: &str) -> ThreadState {
    ThreadState {
        counterpart: None,
        profile: None,
        ..stored(JANE, last)
    }
}

fn sync(counterpart: &str, profile: Option<&str>) -> Decision {
    Decision::Sync {
        counterpart: addr(counterpart),
        profile: profile.map(|p| ProfileId::parse(p).unwrap()),
    }
}

fn skip(reason: SkipReason) -> Decision {
    Decision::Skip(reason)
}

fn too_many(participants: usize) -> SkipReason {
    SkipReason::TooManyParticipants { participants }
}

fn run(
    case: &str,
    message: &MessageFacts,
    thread: Option<&ThreadState>,
    connection: &Connection,
    now: &str,
    expected: &Decision,
) {
    let decision = decide(message, thread, connection, &directory(), ts(now));
    assert_eq!(&decision, expected, "{case}");
}

// ---------------------------------------------------------------------------------------
// Rule 1: one-to-one only

#[test]
fn only_conversations_between_the_seat_and_one_other_person_sync() {
    let table: Vec<(&str, MessageFacts, Decision)> = vec![
        (
            "the seat writes to a candidate",
            mail(SEAT, &[JANE]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "a candidate writes to the seat",
            mail(JANE, &[SEAT]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "a third person in cc",
            mail(SEAT, &[JANE]).cc(&[OMAR]),
            skip(too_many(3)),
        ),
        (
            "a third person in bcc",
            mail(SEAT, &[JANE]).bcc(&[OMAR]),
            skip(too_many(3)),
        ),
        (
            "the seat in bcc of mail between two others",
            mail(JANE, &[OMAR]).bcc(&[SEAT]),
            skip(too_many(3)),
        ),
        (
            "the seat in bcc of its own mail to a candidate counts once",
            mail(SEAT, &[JANE]).bcc(&[SEAT]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "mail to a list the seat is on: the seat counts though it is not listed",
            mail(JANE, &["hiring@acme.com"]),
            skip(too_many(3)),
        ),
        (
            "four people",
            mail(SEAT, &[JANE, OMAR]).cc(&[LOOKALIKE]),
            skip(too_many(4)),
        ),
        (
            "the same address in to and cc counts once",
            mail(JANE, &[SEAT]).cc(&[SEAT, JANE]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the same address written in another case counts once",
            mail("Jane@Example.ORG", &["RECRUITER@acme.com"]).cc(&["jane@example.org"]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the seat talking to itself",
            mail(SEAT, &[SEAT]),
            skip(SkipReason::NoCounterpart),
        ),
        (
            "the seat talking to itself in to, cc and bcc",
            mail(SEAT, &[SEAT]).cc(&[SEAT]).bcc(&["Recruiter@ACME.com"]),
            skip(SkipReason::NoCounterpart),
        ),
        (
            "the seat writing to nobody at all",
            mail(SEAT, &[]),
            skip(SkipReason::NoCounterpart),
        ),
    ];
    for (case, message, expected) in table {
        run(case, &message, None, &connection(), NOW, &expected);
    }
}

#[test]
fn a_third_person_on_one_email_of_a_stored_thread_leaves_out_that_email_alone() {
    // A conversation as the worker lives it: every message is judged against the thread
    // as stored so far, and only a synced message stores or advances the thread.
    let table: Vec<(&str, MessageFacts, Decision)> = vec![
        (
            "the candidate's first email stores the thread",
            mail(JANE, &[SEAT]).at("2026-02-20T09:00:00Z"),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the seat's reply copying the hiring manager is left out",
            mail(SEAT, &[JANE])
                .cc(&[COLLEAGUE])
                .at("2026-02-21T09:00:00Z"),
            skip(too_many(3)),
        ),
        (
            "the candidate's reply to all is left out",
            mail(JANE, &[SEAT])
                .cc(&[COLLEAGUE])
                .at("2026-02-22T09:00:00Z"),
            skip(too_many(3)),
        ),
        (
            "the seat's next email to the candidate alone syncs",
            mail(SEAT, &[JANE]).at("2026-02-23T09:00:00Z"),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the hiring manager in bcc of the next one: left out",
            mail(SEAT, &[JANE])
                .bcc(&[COLLEAGUE])
                .at("2026-02-24T09:00:00Z"),
            skip(too_many(3)),
        ),
        (
            "the candidate's answer to the seat alone syncs",
            mail(JANE, &[SEAT]).at("2026-02-25T09:00:00Z"),
            sync(JANE, Some("p-jane")),
        ),
    ];
    let mut thread: Option<ThreadState> = None;
    for (case, message, expected) in table {
        let decision = decide(
            &message,
            thread.as_ref(),
            &connection(),
            &directory(),
            ts(NOW),
        );
        assert_eq!(decision, expected, "{case}");
        if let Decision::Sync { counterpart, .. } = &decision {
            thread = Some(match thread {
                None => stored(counterpart.as_str(), &message.at.to_string()),
                Some(t) => ThreadState {
                    last_activity_at: t.last_activity_at.max(message.at),
                    ..t
                },
            });
        }
    }
    // The thread stayed, and the left-out emails are not part of its activity.
    assert_eq!(thread, Some(stored(JANE, "2026-02-25T09:00:00Z")));
}

#[test]
fn in_a_stored_thread_an_email_with_a_third_person_is_skipped_and_the_thread_stays() {
    let one_to_one = stored(JANE, "2026-03-01T10:00:00Z");
    let from_product = ThreadState {
        started_from_product: true,
        ..stored(OMAR, "2026-03-01T10:00:00Z")
    };
    let table: Vec<(&str, MessageFacts, Option<ThreadState>, Decision)> = vec![
        (
            "GIVEN a stored 1:1 thread WHEN a reply adds someone in cc THEN only it is skipped",
            mail(SEAT, &[JANE]).cc(&[OMAR]),
            Some(one_to_one.clone()),
            skip(too_many(3)),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN a reply adds someone in bcc THEN only it is skipped",
            mail(JANE, &[SEAT]).bcc(&[NOBODY_KNOWS]),
            Some(one_to_one.clone()),
            skip(too_many(3)),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN a reply adds two people THEN it counts four",
            mail(SEAT, &[JANE, OMAR]).cc(&[COLLEAGUE]),
            Some(one_to_one.clone()),
            skip(too_many(4)),
        ),
        (
            "GIVEN a thread started from the product WHEN a reply adds someone THEN no exception",
            mail(SEAT, &[OMAR]).cc(&[COLLEAGUE]).via_product(),
            Some(from_product.clone()),
            skip(too_many(3)),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN someone else writes in it alone THEN it is not this conversation",
            mail(OMAR, &[SEAT]),
            Some(one_to_one.clone()),
            skip(SkipReason::OtherCounterpart {
                counterpart: addr(OMAR),
                conversation_with: addr(JANE),
            }),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN the candidate replies THEN it syncs",
            mail(JANE, &[SEAT]),
            Some(one_to_one.clone()),
            sync(JANE, Some("p-jane")),
        ),
        (
            "GIVEN a thread started from the product WHEN the candidate replies alone THEN it syncs",
            mail(OMAR, &[SEAT]),
            Some(from_product),
            sync(OMAR, Some("p-omar")),
        ),
        (
            "GIVEN no stored thread WHEN a message has three people THEN it is skipped the same way",
            mail(SEAT, &[JANE]).cc(&[OMAR]),
            None,
            skip(too_many(3)),
        ),
        (
            "GIVEN only a tombstone (no counterpart) WHEN a 1:1 email comes THEN it syncs",
            mail(ANA, &[SEAT]),
            Some(tombstone("2026-03-01T10:00:00Z")),
            sync(ANA, Some("p-ana")),
        ),
    ];
    for (case, message, thread, expected) in table {
        run(
            case,
            &message,
            thread.as_ref(),
            &connection(),
            NOW,
            &expected,
        );
    }
}

#[test]
fn others_are_the_distinct_addresses_that_are_not_the_seats() {
    let mut connection = connection();
    connection.aliases = [addr("talent@acme.com")].into();
    let table: Vec<(&str, MessageFacts, &[&str])> = vec![
        ("sent", mail(SEAT, &[JANE]), &[JANE]),
        ("received", mail(JANE, &[SEAT]), &[JANE]),
        (
            "duplicates",
            mail(JANE, &[SEAT, JANE]).bcc(&[JANE]),
            &[JANE],
        ),
        ("seat not listed", mail(JANE, &[]), &[JANE]),
        ("to itself", mail(SEAT, &[SEAT]), &[]),
        ("two others", mail(SEAT, &[JANE]).cc(&[OMAR]), &[JANE, OMAR]),
        (
            "the seat with a +tag is the seat",
            mail(JANE, &["recruiter+jobs@acme.com"]),
            &[JANE],
        ),
        (
            "an alias of the seat is the seat",
            mail("talent@acme.com", &[JANE]).cc(&[SEAT]),
            &[JANE],
        ),
        (
            "an alias with a +tag is the seat",
            mail(JANE, &["talent+eng@acme.com"]),
            &[JANE],
        ),
        (
            "a colleague on the seat's domain is someone else",
            mail(SEAT, &[COLLEAGUE]),
            &[COLLEAGUE],
        ),
        (
            "a local part that only starts like the seat's is someone else",
            mail(SEAT, &["recruiters@acme.com"]),
            &["recruiters@acme.com"],
        ),
        (
            "the seat's local part on another domain is someone else",
            mail(SEAT, &["recruiter@acme.co"]),
            &["recruiter@acme.co"],
        ),
    ];
    for (case, message, expected) in table {
        let got: BTreeSet<EmailAddress> =
            others(&message, &connection).into_iter().cloned().collect();
        let expected: BTreeSet<EmailAddress> = addrs(expected).into_iter().collect();
        assert_eq!(got, expected, "{case}");
    }
}

// ---------------------------------------------------------------------------------------
// Rule 2: not within the seat's own domain

#[test]
fn mail_within_the_seats_exact_domain_is_internal() {
    let same_domain = |counterpart: &str| {
        skip(SkipReason::SameDomain {
            counterpart: addr(counterpart),
            domain: "acme.com".into(),
        })
    };
    let table: Vec<(&str, MessageFacts, Decision)> = vec![
        (
            "a colleague",
            mail(SEAT, &[COLLEAGUE]),
            same_domain(COLLEAGUE),
        ),
        (
            "a colleague, domain written in upper case",
            mail("Colleague@ACME.COM", &[SEAT]),
            same_domain(COLLEAGUE),
        ),
        (
            "a colleague, even from the product",
            mail(SEAT, &[COLLEAGUE]).via_product(),
            same_domain(COLLEAGUE),
        ),
        (
            "a subdomain is another domain",
            mail(SUBDOMAIN, &[SEAT]),
            sync(SUBDOMAIN, Some("p-lee")),
        ),
        (
            "a look-alike domain is another domain",
            mail("KIM@ACME.CO", &[SEAT]),
            sync(LOOKALIKE, Some("p-kim")),
        ),
        (
            "another domain",
            mail(SEAT, &[JANE]),
            sync(JANE, Some("p-jane")),
        ),
    ];
    for (case, message, expected) in table {
        run(case, &message, None, &connection(), NOW, &expected);
    }

    // A seat on a subdomain and a candidate on the parent domain are not internal either.
    let mut on_subdomain = connection();
    on_subdomain.grant.address = addr("recruiter@talent.acme.com");
    let directory = directory().with(candidate(
        "pat@acme.com",
        DiscoverySetting::Anyone,
        true,
        &[],
    ));
    assert_eq!(
        decide(
            &mail("pat@acme.com", &["recruiter@talent.acme.com"]),
            None,
            &on_subdomain,
            &directory,
            ts(NOW)
        ),
        sync("pat@acme.com", Some("p-pat"))
    );
}

// ---------------------------------------------------------------------------------------
// Rules 3 and 4: a profile, in the pipeline, unless started from the product

#[test]
fn the_counterpart_needs_a_profile_in_the_pipeline_unless_the_product_started_it() {
    let no_profile = |c: &str| {
        skip(SkipReason::NoProfile {
            counterpart: addr(c),
        })
    };
    let thread_from_product = |c: &str| ThreadState {
        started_from_product: true,
        ..stored(c, "2026-03-01T10:00:00Z")
    };
    let table: Vec<(&str, MessageFacts, Option<ThreadState>, Decision)> = vec![
        (
            "in the pipeline",
            mail(JANE, &[SEAT]),
            None,
            sync(JANE, Some("p-jane")),
        ),
        (
            "a profile, out of the pipeline",
            mail(OMAR, &[SEAT]),
            None,
            skip(SkipReason::NotInPipeline {
                counterpart: addr(OMAR),
                profile: ProfileId::parse("p-omar").unwrap(),
            }),
        ),
        (
            "no profile",
            mail(NOBODY_KNOWS, &[SEAT]),
            None,
            no_profile(NOBODY_KNOWS),
        ),
        (
            "a profile of another contract only is no profile",
            mail(FOREIGN, &[SEAT]),
            None,
            no_profile(FOREIGN),
        ),
        (
            "out of the pipeline, this message sent from the product",
            mail(SEAT, &[OMAR]).via_product(),
            None,
            sync(OMAR, Some("p-omar")),
        ),
        (
            "no profile, this message sent from the product",
            mail(SEAT, &[NOBODY_KNOWS]).via_product(),
            None,
            sync(NOBODY_KNOWS, None),
        ),
        (
            "out of the pipeline, replying in a thread started from the product",
            mail(OMAR, &[SEAT]),
            Some(thread_from_product(OMAR)),
            sync(OMAR, Some("p-omar")),
        ),
        (
            "no profile, replying in a thread started from the product",
            mail(NOBODY_KNOWS, &[SEAT]),
            Some(thread_from_product(NOBODY_KNOWS)),
            sync(NOBODY_KNOWS, None),
        ),
        (
            "another contract's profile, sent from the product: synced without a profile",
            mail(SEAT, &[FOREIGN]).via_product(),
            None,
            sync(FOREIGN, None),
        ),
    ];
    for (case, message, thread, expected) in table {
        run(
            case,
            &message,
            thread.as_ref(),
            &connection(),
            NOW,
            &expected,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Rule 5: the candidate's discovery setting

#[test]
fn the_candidates_discovery_setting_must_admit_the_seat() {
    let restricted = |c: &str, discovery: DiscoverySetting| {
        let local = c.split('@').next().unwrap();
        skip(SkipReason::DiscoveryRestricted {
            counterpart: addr(c),
            profile: ProfileId::parse(format!("p-{local}")).unwrap(),
            discovery,
        })
    };
    use DiscoverySetting::*;
    let table: Vec<(&str, MessageFacts, Decision)> = vec![
        (
            "anyone, not connected",
            mail(JANE, &[SEAT]),
            sync(JANE, Some("p-jane")),
        ),
        (
            "first degree, connected",
            mail(ANA, &[SEAT]),
            sync(ANA, Some("p-ana")),
        ),
        (
            "first degree, only a second-degree connection",
            mail(BEN, &[SEAT]),
            restricted(BEN, FirstDegree),
        ),
        (
            "first degree, not connected (connected to another seat)",
            mail(CAI, &[SEAT]),
            restricted(CAI, FirstDegree),
        ),
        (
            "second degree, second-degree connection",
            mail(EVE, &[SEAT]),
            sync(EVE, Some("p-eve")),
        ),
        (
            "second degree, third-degree connection",
            mail(FAY, &[SEAT]),
            restricted(FAY, SecondDegree),
        ),
        (
            "nobody, though connected",
            mail(DEE, &[SEAT]),
            restricted(DEE, Nobody),
        ),
        (
            "nobody, sent from the product: the exception does not reach this rule",
            mail(SEAT, &[GUS]).via_product(),
            restricted(GUS, Nobody),
        ),
        (
            "first degree, sent from the product: the exception does not reach this rule",
            mail(SEAT, &[CAI]).via_product(),
            restricted(CAI, FirstDegree),
        ),
    ];
    for (case, message, expected) in table {
        run(case, &message, None, &connection(), NOW, &expected);
    }
}

// ---------------------------------------------------------------------------------------
// Rule 6: the lookback

#[test]
fn the_lookback_starts_one_year_before_the_anchor_and_never_before_the_floor_for_early_connections()
{
    // (case, first authorized, historical anchor, expected start)
    let table = [
        (
            "one calendar year before the first authorization",
            "2026-01-15T09:00:00Z",
            "2026-01-15T09:00:00Z",
            "2025-01-15T09:00:00Z",
        ),
        (
            "early connection: the floor decides",
            "2024-06-01T10:00:00Z",
            "2024-06-01T10:00:00Z",
            "2024-02-06T00:00:00Z",
        ),
        (
            "first authorized one second before the switch: the floor decides",
            "2025-02-04T23:59:59Z",
            "2025-02-04T23:59:59Z",
            "2024-02-06T00:00:00Z",
        ),
        (
            "first authorized at the switch: one year back, a day before the floor",
            "2025-02-05T00:00:00Z",
            "2025-02-05T00:00:00Z",
            "2024-02-05T00:00:00Z",
        ),
        (
            "early connection, new historical sync in 2026: the year decides",
            "2024-06-01T10:00:00Z",
            "2026-03-01T10:00:00Z",
            "2025-03-01T10:00:00Z",
        ),
        (
            "early connection, new historical sync in January 2025: still the floor",
            "2024-06-01T10:00:00Z",
            "2025-01-20T00:00:00Z",
            "2024-02-06T00:00:00Z",
        ),
        (
            "later connection, new historical sync in 2026",
            "2025-06-01T08:00:00Z",
            "2026-04-01T00:00:00Z",
            "2025-04-01T00:00:00Z",
        ),
        (
            "a year back from a leap day",
            "2028-02-29T12:00:00Z",
            "2028-02-29T12:00:00Z",
            "2027-02-28T12:00:00Z",
        ),
    ];
    for (case, first, anchor, expected) in table {
        assert_eq!(
            lookback_start(&connection_at(first, anchor)),
            ts(expected),
            "{case}"
        );
    }
    assert_eq!(HISTORY_FLOOR, ts("2024-02-06T00:00:00Z"));
    assert_eq!(
        HISTORY_FLOOR_FOR_FIRST_AUTHORIZED_BEFORE,
        ts("2025-02-05T00:00:00Z")
    );
}

#[test]
fn a_new_historical_sync_moves_the_window_but_keeps_the_first_authorizations_floor_rule() {
    let mut connection = connection_at("2024-06-01T10:00:00Z", "2024-06-01T10:00:00Z");
    let other_mailbox = Grant {
        address: addr("recruiter@acme.io"),
        ..connection.grant.clone()
    };
    let start = connection.reauthorize(other_mailbox, ts("2026-03-01T10:00:00Z"));
    assert_eq!(start, SyncStart::Historical);
    assert_eq!(lookback_start(&connection), ts("2025-03-01T10:00:00Z"));
}

#[test]
fn messages_before_the_lookback_start_are_skipped_and_the_start_itself_is_kept() {
    // (case, first authorized, anchor, message instant, Some(cutoff) if skipped)
    let table = [
        (
            "exactly one year before the anchor",
            "2026-01-15T09:00:00Z",
            "2026-01-15T09:00:00Z",
            "2025-01-15T09:00:00Z",
            None,
        ),
        (
            "one second more than a year before the anchor",
            "2026-01-15T09:00:00Z",
            "2026-01-15T09:00:00Z",
            "2025-01-15T08:59:59Z",
            Some("2025-01-15T09:00:00Z"),
        ),
        (
            "first authorized 2025-02-04T23:59:59Z, mail of 2024-02-05T23:59:59Z",
            "2025-02-04T23:59:59Z",
            "2025-02-04T23:59:59Z",
            "2024-02-05T23:59:59Z",
            Some("2024-02-06T00:00:00Z"),
        ),
        (
            "first authorized 2025-02-04T23:59:59Z, mail of 2024-02-06T00:00:00Z",
            "2025-02-04T23:59:59Z",
            "2025-02-04T23:59:59Z",
            "2024-02-06T00:00:00Z",
            None,
        ),
        (
            "first authorized 2025-02-05T00:00:00Z, mail of 2024-02-05T23:59:59Z",
            "2025-02-05T00:00:00Z",
            "2025-02-05T00:00:00Z",
            "2024-02-05T23:59:59Z",
            None,
        ),
        (
            "first authorized 2025-02-05T00:00:00Z, mail of 2024-02-06T00:00:00Z",
            "2025-02-05T00:00:00Z",
            "2025-02-05T00:00:00Z",
            "2024-02-06T00:00:00Z",
            None,
        ),
        (
            "first authorized 2025-02-05T00:00:00Z, mail of 2024-02-04T23:59:59Z",
            "2025-02-05T00:00:00Z",
            "2025-02-05T00:00:00Z",
            "2024-02-04T23:59:59Z",
            Some("2024-02-05T00:00:00Z"),
        ),
        (
            "early connection re-anchored in 2026: exactly a year back",
            "2024-06-01T10:00:00Z",
            "2026-03-01T10:00:00Z",
            "2025-03-01T10:00:00Z",
            None,
        ),
        (
            "early connection re-anchored in 2026: a second more than a year back",
            "2024-06-01T10:00:00Z",
            "2026-03-01T10:00:00Z",
            "2025-03-01T09:59:59Z",
            Some("2025-03-01T10:00:00Z"),
        ),
        (
            "early connection re-anchored in 2026: the floor itself is now too old",
            "2024-06-01T10:00:00Z",
            "2026-03-01T10:00:00Z",
            "2024-02-06T00:00:00Z",
            Some("2025-03-01T10:00:00Z"),
        ),
    ];
    for (case, first, anchor, at, cutoff) in table {
        let connection = connection_at(first, anchor);
        // The thread's newest message, already synced, keeps it active (rule 7).
        let anchor = ts(anchor);
        let now = anchor
            .checked_add(jiff::SignedDuration::from_hours(24))
            .unwrap();
        let thread = ThreadState {
            last_activity_at: anchor,
            ..stored(JANE, "2000-01-01T00:00:00Z")
        };
        let message = mail(JANE, &[SEAT]).at(at);
        let expected = match cutoff {
            None => sync(JANE, Some("p-jane")),
            Some(cutoff) => skip(SkipReason::BeforeLookback {
                at: ts(at),
                cutoff: ts(cutoff),
            }),
        };
        let decision = decide(&message, Some(&thread), &connection, &directory(), now);
        assert_eq!(decision, expected, "{case}");
    }
}

// ---------------------------------------------------------------------------------------
// Rule 7: activity within six months

#[test]
fn only_threads_active_in_the_last_six_months_are_imported() {
    let since = ts("2025-09-10T12:00:00Z");
    assert_eq!(active_since(ts(NOW)), since);
    let inactive = |last: &str| {
        skip(SkipReason::ThreadInactive {
            last_activity_at: ts(last),
            active_since: since,
        })
    };
    let table: Vec<(&str, MessageFacts, Option<ThreadState>, Decision)> = vec![
        (
            "thread last active exactly six months before now",
            mail(JANE, &[SEAT]).at("2025-08-01T10:00:00Z"),
            Some(stored(JANE, "2025-09-10T12:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
        (
            "thread last active six months and one second before now",
            mail(JANE, &[SEAT]).at("2025-08-01T10:00:00Z"),
            Some(stored(JANE, "2025-09-10T11:59:59Z")),
            inactive("2025-09-10T11:59:59Z"),
        ),
        (
            "unstored thread, message exactly six months before now",
            mail(JANE, &[SEAT]).at("2025-09-10T12:00:00Z"),
            None,
            sync(JANE, Some("p-jane")),
        ),
        (
            "unstored thread, message six months and one second before now",
            mail(JANE, &[SEAT]).at("2025-09-10T11:59:59Z"),
            None,
            inactive("2025-09-10T11:59:59Z"),
        ),
        (
            "an old thread receiving a new message comes back",
            mail(JANE, &[SEAT]).at("2026-03-10T11:00:00Z"),
            Some(stored(JANE, "2025-04-01T10:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the message is newer than the stored activity: it counts",
            mail(SEAT, &[JANE]).at("2025-09-10T12:00:00Z"),
            Some(stored(JANE, "2025-05-01T10:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
    ];
    for (case, message, thread, expected) in table {
        run(
            case,
            &message,
            thread.as_ref(),
            &connection(),
            NOW,
            &expected,
        );
    }
}

#[test]
fn six_months_back_is_counted_in_calendar_months() {
    assert_eq!(
        active_since(ts("2026-08-31T00:00:00Z")),
        ts("2026-02-28T00:00:00Z")
    );
    assert_eq!(
        active_since(ts("2028-08-31T00:00:00Z")),
        ts("2028-02-29T00:00:00Z")
    );
}

// ---------------------------------------------------------------------------------------
// Rule 8: a thread reactivated after removal syncs only new mail

#[test]
fn a_reactivated_thread_syncs_only_what_came_after_its_removal() {
    let removed_at = "2025-12-01T00:00:00Z";
    let reactivated = ThreadState {
        removed_for_inactivity_at: Some(ts(removed_at)),
        ..stored(JANE, "2026-03-01T09:00:00Z")
    };
    // Only the sweep's tombstone is left: no counterpart to hold a new email to.
    let removed = ThreadState {
        removed_for_inactivity_at: Some(ts(removed_at)),
        ..tombstone("2025-05-31T00:00:00Z")
    };
    let before = |at: &str| {
        skip(SkipReason::BeforeReactivation {
            at: ts(at),
            removed_at: ts(removed_at),
        })
    };
    let table: Vec<(&str, MessageFacts, ThreadState, Decision)> = vec![
        (
            "a message before the removal",
            mail(JANE, &[SEAT]).at("2025-11-30T23:59:59Z"),
            reactivated.clone(),
            before("2025-11-30T23:59:59Z"),
        ),
        (
            "a message at the removal instant",
            mail(JANE, &[SEAT]).at(removed_at),
            reactivated.clone(),
            before(removed_at),
        ),
        (
            "a message after the removal",
            mail(JANE, &[SEAT]).at("2025-12-01T00:00:01Z"),
            reactivated.clone(),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the new message that reactivates a removed thread",
            mail(JANE, &[SEAT]).at("2026-03-10T11:00:00Z"),
            removed.clone(),
            sync(JANE, Some("p-jane")),
        ),
        (
            "an old message of a removed, still idle thread: idle comes first",
            mail(JANE, &[SEAT]).at("2025-05-31T00:00:00Z"),
            removed.clone(),
            skip(SkipReason::ThreadInactive {
                last_activity_at: ts("2025-05-31T00:00:00Z"),
                active_since: ts("2025-09-10T12:00:00Z"),
            }),
        ),
    ];
    for (case, message, thread, expected) in table {
        run(case, &message, Some(&thread), &connection(), NOW, &expected);
    }
}

// ---------------------------------------------------------------------------------------
// The order of the rules

#[test]
fn the_first_failing_rule_gives_the_reason() {
    let old = "2024-01-01T00:00:00Z";
    let cutoff = ts("2025-01-15T09:00:00Z");
    let table: Vec<(&str, MessageFacts, Option<ThreadState>, Decision)> = vec![
        (
            "three people, a colleague among them, and old",
            mail(SEAT, &[COLLEAGUE]).cc(&[NOBODY_KNOWS]).at(old),
            None,
            skip(too_many(3)),
        ),
        (
            "a stored thread's old email with a third person: too many, not the lookback",
            mail(SEAT, &[JANE]).cc(&[OMAR]).at(old),
            Some(stored(JANE, "2026-03-01T10:00:00Z")),
            skip(too_many(3)),
        ),
        (
            "a stored thread's old email with someone else alone, a colleague: the other counterpart, not the domain",
            mail(COLLEAGUE, &[SEAT]).at(old),
            Some(stored(JANE, "2026-03-01T10:00:00Z")),
            skip(SkipReason::OtherCounterpart {
                counterpart: addr(COLLEAGUE),
                conversation_with: addr(JANE),
            }),
        ),
        (
            "a stored thread's email to the seat alone, from the seat: no counterpart, not the other counterpart",
            mail(SEAT, &["recruiter+notes@acme.com"]),
            Some(stored(JANE, "2026-03-01T10:00:00Z")),
            skip(SkipReason::NoCounterpart),
        ),
        (
            "a colleague without a profile, old",
            mail(COLLEAGUE, &[SEAT]).at(old),
            None,
            skip(SkipReason::SameDomain {
                counterpart: addr(COLLEAGUE),
                domain: "acme.com".into(),
            }),
        ),
        (
            "no profile, old",
            mail(NOBODY_KNOWS, &[SEAT]).at(old),
            None,
            skip(SkipReason::NoProfile {
                counterpart: addr(NOBODY_KNOWS),
            }),
        ),
        (
            "discovery restricted and out of the pipeline: the pipeline first",
            mail(GUS, &[SEAT]),
            None,
            skip(SkipReason::NotInPipeline {
                counterpart: addr(GUS),
                profile: ProfileId::parse("p-gus").unwrap(),
            }),
        ),
        (
            "discovery restricted, old",
            mail(DEE, &[SEAT]).at(old),
            None,
            skip(SkipReason::DiscoveryRestricted {
                counterpart: addr(DEE),
                profile: ProfileId::parse("p-dee").unwrap(),
                discovery: DiscoverySetting::Nobody,
            }),
        ),
        (
            "before the lookback, in an idle thread",
            mail(JANE, &[SEAT]).at(old),
            None,
            skip(SkipReason::BeforeLookback {
                at: ts(old),
                cutoff,
            }),
        ),
    ];
    for (case, message, thread, expected) in table {
        run(
            case,
            &message,
            thread.as_ref(),
            &connection(),
            NOW,
            &expected,
        );
    }
}

#[test]
fn a_mailbox_without_authorization_syncs_nothing_new() {
    let message = mail(SEAT, &[JANE]).cc(&[OMAR]);
    let mut deauthorized = connection();
    deauthorized.deauthorize(
        DeauthorizationReason::SeatRequested,
        ts("2026-03-05T00:00:00Z"),
    );
    let mut needs_reconnect = connection();
    needs_reconnect.require_reconnect(ReconnectReason::GrantRevoked, ts("2026-03-05T00:00:00Z"));
    for lost in [deauthorized, needs_reconnect] {
        let decision = decide(&message, None, &lost, &directory(), ts(NOW));
        assert_eq!(
            decision,
            skip(SkipReason::NotAuthorized { state: lost.state }),
            "{:?}",
            lost.state
        );
        assert!(decision
            .reason()
            .unwrap()
            .message()
            .contains("authorize it again"));
    }
}

// ---------------------------------------------------------------------------------------
// Reasons: codes, JSON, what the recruiter reads

fn every_reason() -> Vec<SkipReason> {
    vec![
        SkipReason::NotAuthorized {
            state: hiresync_domain::connection::ConnectionState::Deauthorized {
                reason: DeauthorizationReason::AccessLowered,
            },
        },
        too_many(3),
        SkipReason::NoCounterpart,
        SkipReason::OtherCounterpart {
            counterpart: addr(OMAR),
            conversation_with: addr(JANE),
        },
        SkipReason::SameDomain {
            counterpart: addr(COLLEAGUE),
            domain: "acme.com".into(),
        },
        SkipReason::NoProfile {
            counterpart: addr(NOBODY_KNOWS),
        },
        SkipReason::NotInPipeline {
            counterpart: addr(OMAR),
            profile: ProfileId::parse("p-omar").unwrap(),
        },
        SkipReason::DiscoveryRestricted {
            counterpart: addr(CAI),
            profile: ProfileId::parse("p-cai").unwrap(),
            discovery: DiscoverySetting::FirstDegree,
        },
        SkipReason::BeforeLookback {
            at: ts("2024-02-05T23:59:59Z"),
            cutoff: ts("2024-02-06T00:00:00Z"),
        },
        SkipReason::ThreadInactive {
            last_activity_at: ts("2025-09-10T11:59:59Z"),
            active_since: ts("2025-09-10T12:00:00Z"),
        },
        SkipReason::BeforeReactivation {
            at: ts("2025-11-30T23:59:59Z"),
            removed_at: ts("2025-12-01T00:00:00Z"),
        },
    ]
}

#[test]
fn every_reason_serializes_with_its_code_and_comes_back_unchanged() {
    let reasons = every_reason();
    let codes: BTreeSet<&str> = reasons.iter().map(SkipReason::code).collect();
    assert_eq!(codes.len(), reasons.len(), "codes are distinct");
    for reason in reasons {
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json["code"], reason.code(), "{json}");
        assert_eq!(serde_json::from_value::<SkipReason>(json).unwrap(), reason);
        let decision = Decision::Skip(reason.clone());
        let json = serde_json::to_value(&decision).unwrap();
        assert_eq!(json["decision"], "skip", "{json}");
        assert_eq!(json["code"], reason.code(), "{json}");
        assert_eq!(decision.reason(), Some(&reason));
        assert!(!decision.is_sync());
        assert_eq!(
            serde_json::from_value::<Decision>(json.clone()).unwrap(),
            decision,
            "{json}"
        );
    }
    // Every code there is, each once: a new reason is listed here too.
    assert_eq!(
        codes,
        BTreeSet::from([
            "not_authorized",
            "too_many_participants",
            "no_counterpart",
            "other_counterpart",
            "same_domain",
            "no_profile",
            "not_in_pipeline",
            "discovery_restricted",
            "before_lookback",
            "thread_inactive",
            "before_reactivation",
        ])
    );
    // The thread-wide decision of earlier versions is not one any more.
    let removal = serde_json::json!({
        "decision": "remove_thread",
        "code": "too_many_participants",
        "participants": 3
    });
    assert!(serde_json::from_value::<Decision>(removal).is_err());
}

#[test]
fn decisions_serialize_flat_in_snake_case() {
    let skipped = Decision::Skip(SkipReason::SameDomain {
        counterpart: addr(COLLEAGUE),
        domain: "acme.com".into(),
    });
    assert_eq!(
        serde_json::to_value(&skipped).unwrap(),
        serde_json::json!({
            "decision": "skip",
            "code": "same_domain",
            "counterpart": "colleague@acme.com",
            "domain": "acme.com"
        })
    );
    assert_eq!(
        serde_json::to_value(skip(too_many(3))).unwrap(),
        serde_json::json!({ "decision": "skip", "code": "too_many_participants", "participants": 3 })
    );
    assert_eq!(
        serde_json::to_value(skip(SkipReason::OtherCounterpart {
            counterpart: addr(OMAR),
            conversation_with: addr(JANE),
        }))
        .unwrap(),
        serde_json::json!({
            "decision": "skip",
            "code": "other_counterpart",
            "counterpart": OMAR,
            "conversation_with": JANE
        })
    );
    assert_eq!(
        serde_json::to_value(sync(JANE, Some("p-jane"))).unwrap(),
        serde_json::json!({ "decision": "sync", "counterpart": JANE, "profile": "p-jane" })
    );
    assert_eq!(
        serde_json::to_value(skip(SkipReason::BeforeLookback {
            at: ts("2024-02-05T23:59:59Z"),
            cutoff: ts("2024-02-06T00:00:00Z"),
        }))
        .unwrap(),
        serde_json::json!({
            "decision": "skip",
            "code": "before_lookback",
            "at": "2024-02-05T23:59:59Z",
            "cutoff": "2024-02-06T00:00:00Z"
        })
    );
}

#[test]
fn every_message_names_the_data_a_recruiter_needs() {
    let expectations: [(SkipReason, &[&str]); 8] = [
        (
            too_many(4),
            &[
                "This email involves 4 people, you included",
                "the conversation's other emails still sync",
            ],
        ),
        (
            SkipReason::OtherCounterpart {
                counterpart: addr(OMAR),
                conversation_with: addr(JANE),
            },
            &[
                "This email is between you and omar@example.net",
                "the conversation it belongs to is with jane@example.org",
            ],
        ),
        (
            SkipReason::SameDomain {
                counterpart: addr(COLLEAGUE),
                domain: "acme.com".into(),
            },
            &[COLLEAGUE, "acme.com"],
        ),
        (
            SkipReason::NoProfile {
                counterpart: addr(NOBODY_KNOWS),
            },
            &[NOBODY_KNOWS, "profile"],
        ),
        (
            SkipReason::NotInPipeline {
                counterpart: addr(OMAR),
                profile: ProfileId::parse("p-omar").unwrap(),
            },
            &[OMAR, "pipeline"],
        ),
        (
            SkipReason::DiscoveryRestricted {
                counterpart: addr(CAI),
                profile: ProfileId::parse("p-cai").unwrap(),
                discovery: DiscoverySetting::FirstDegree,
            },
            &[
                CAI,
                "only their first-degree connections see their email address, and you are not one",
            ],
        ),
        (
            SkipReason::BeforeLookback {
                at: ts("2024-02-05T23:59:59Z"),
                cutoff: ts("2024-02-06T00:00:00Z"),
            },
            &["2024-02-05T23:59:59Z", "2024-02-06T00:00:00Z"],
        ),
        (
            SkipReason::BeforeReactivation {
                at: ts("2025-11-30T23:59:59Z"),
                removed_at: ts("2025-12-01T00:00:00Z"),
            },
            &["2025-12-01T00:00:00Z", "2025-11-30T23:59:59Z"],
        ),
    ];
    for (reason, needles) in expectations {
        let message = reason.message();
        assert_eq!(reason.to_string(), message);
        for needle in needles {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
    for reason in every_reason() {
        assert!(reason.message().ends_with('.'), "{reason:?}");
    }
    // A clock reading's fractions are not part of what a recruiter reads.
    let read_off_a_clock = SkipReason::ThreadInactive {
        last_activity_at: ts("2026-03-18T12:02:27.473161211Z"),
        active_since: ts("2026-05-23T12:02:27.878916657Z"),
    };
    let message = read_off_a_clock.message();
    assert!(
        message.contains("2026-03-18T12:02:27Z") && message.contains("2026-05-23T12:02:27Z"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// Properties

/// Addresses the property draws from: the two seats it tries, colleagues, a subdomain, a
/// look-alike domain, candidates (one with a second address the directory may put on the
/// same profile), a tagged address of the first seat and one it may have as an alias.
const POOL: [&str; 11] = [
    "recruiter@acme.com",
    "lee@eu.acme.com",
    "colleague@acme.com",
    "boss@eu.acme.com",
    JANE,
    JANE_AT_HOME,
    OMAR,
    NOBODY_KNOWS,
    LOOKALIKE,
    "recruiter+jobs@acme.com",
    "talent@acme.com",
];

/// Jane's second address: on her profile when the drawn directory says so.
const JANE_AT_HOME: &str = "jane@home.example";

const DAY: i64 = 86_400;

/// Everything `decide` takes, drawn so that every rule, and syncing, happen often: instants
/// are drawn backwards from `now`, group mail and lost authorizations are the minority.
#[derive(Debug)]
struct Scenario {
    message: MessageFacts,
    thread: Option<ThreadState>,
    connection: Connection,
    directory: BTreeMap<EmailAddress, DirectoryEntry>,
    now: Timestamp,
}

fn back(now: Timestamp, seconds: i64) -> Timestamp {
    now.checked_sub(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

fn pool_address() -> impl Strategy<Value = EmailAddress> {
    (0..POOL.len()).prop_map(|i| addr(POOL[i]))
}

/// Mostly nobody, sometimes a few addresses of the pool.
fn extra_addresses() -> impl Strategy<Value = Vec<EmailAddress>> {
    prop_oneof![
        10 => Just(vec![]),
        1 => prop::collection::vec(pool_address(), 1..=2),
    ]
}

/// How the message writes the seat's address.
#[derive(Debug, Clone, Copy)]
enum SeatAs {
    /// The authorized address.
    Authorized,
    /// The authorized address with a `+tag`.
    Tagged,
    /// An alias of the connection (the authorized address if it has none).
    Alias,
}

/// A message between the seat and `other` (sent or received), with now and then more
/// people on it; `age` places it before `now`.
#[derive(Debug, Clone)]
struct MessageDraft {
    other: EmailAddress,
    sent: bool,
    seat_as: SeatAs,
    to: Vec<EmailAddress>,
    cc: Vec<EmailAddress>,
    bcc: Vec<EmailAddress>,
    /// When `other` is one of Jane's addresses, her other one is in cc too.
    second_address: bool,
    age: i64,
    started_from_product: bool,
}

/// Any address of the pool, Jane's two more often.
fn other_address() -> impl Strategy<Value = EmailAddress> {
    prop_oneof![
        3 => pool_address(),
        1 => Just(addr(JANE)),
        1 => Just(addr(JANE_AT_HOME)),
    ]
}

fn message_strategy() -> impl Strategy<Value = MessageDraft> {
    (
        other_address(),
        any::<bool>(),
        prop_oneof![
            3 => Just(SeatAs::Authorized),
            1 => Just(SeatAs::Tagged),
            1 => Just(SeatAs::Alias),
        ],
        (extra_addresses(), extra_addresses(), extra_addresses()),
        prop::bool::weighted(0.3),
        0..(2 * 365 * DAY),
        any::<bool>(),
    )
        .prop_map(
            |(other, sent, seat_as, (to, cc, bcc), second_address, age, started_from_product)| {
                MessageDraft {
                    other,
                    sent,
                    seat_as,
                    to,
                    cc,
                    bcc,
                    second_address,
                    age,
                    started_from_product,
                }
            },
        )
}

/// Who a stored thread is the conversation with.
#[derive(Debug, Clone)]
enum ThreadCounterpart {
    /// The message's other person, as drawn.
    SameAsMessage,
    /// Nobody: only the tombstone of the thread is left.
    TombstoneOnly,
    /// Anyone.
    Drawn(EmailAddress),
}

#[derive(Debug, Clone)]
struct ThreadDraft {
    started_from_product: bool,
    idle: i64,
    counterpart: ThreadCounterpart,
    /// The counterpart had no profile (of the contract) when the thread was stored.
    stored_without_profile: bool,
    removed: Option<i64>,
}

fn thread_strategy() -> impl Strategy<Value = Option<ThreadDraft>> {
    prop::option::of(
        (
            any::<bool>(),
            0..(365 * DAY),
            prop_oneof![
                3 => Just(ThreadCounterpart::SameAsMessage),
                1 => Just(ThreadCounterpart::TombstoneOnly),
                2 => other_address().prop_map(ThreadCounterpart::Drawn),
            ],
            prop::bool::weighted(0.1),
            prop::option::of(0..(400 * DAY)),
        )
            .prop_map(
                |(started_from_product, idle, counterpart, stored_without_profile, removed)| {
                    ThreadDraft {
                        started_from_product,
                        idle,
                        counterpart,
                        stored_without_profile,
                        removed,
                    }
                },
            ),
    )
}

fn discovery_strategy() -> impl Strategy<Value = DiscoverySetting> {
    prop_oneof![
        3 => Just(DiscoverySetting::Anyone),
        1 => Just(DiscoverySetting::SecondDegree),
        1 => Just(DiscoverySetting::FirstDegree),
        1 => Just(DiscoverySetting::Nobody),
    ]
}

fn degree_strategy() -> impl Strategy<Value = Option<Degree>> {
    prop::option::of(prop_oneof![
        Just(Degree::First),
        Just(Degree::Second),
        Just(Degree::Third)
    ])
}

/// An entry for most addresses of the pool, now and then of another contract; half the
/// time Jane's two addresses are one profile (the entry Jane has, under both addresses).
fn directory_strategy() -> impl Strategy<Value = BTreeMap<EmailAddress, DirectoryEntry>> {
    (
        prop::collection::vec(
            prop::option::weighted(
                0.8,
                (
                    discovery_strategy(),
                    prop::bool::weighted(0.7),
                    degree_strategy(),
                    prop::bool::weighted(0.9),
                ),
            ),
            POOL.len(),
        ),
        any::<bool>(),
    )
        .prop_map(|(entries, jane_has_two_addresses)| {
            let mut directory: BTreeMap<EmailAddress, DirectoryEntry> = entries
                .into_iter()
                .zip(POOL)
                .filter_map(|(entry, email)| {
                    let (discovery, in_pipeline, degree, same_contract) = entry?;
                    let degrees: Vec<(&str, Degree)> =
                        degree.map(|d| (SEAT_ID, d)).into_iter().collect();
                    let mut entry = candidate(email, discovery, in_pipeline, &degrees);
                    if !same_contract {
                        entry.contract_id = ContractId::parse("globex").unwrap();
                    }
                    Some((addr(email), entry))
                })
                .collect();
            if let Some(jane) = directory
                .get(&addr(JANE))
                .filter(|_| jane_has_two_addresses)
            {
                let mut jane = jane.clone();
                jane.emails.push(addr(JANE_AT_HOME));
                directory.insert(addr(JANE), jane.clone());
                directory.insert(addr(JANE_AT_HOME), jane);
            }
            directory
        })
}

fn aliases_strategy() -> impl Strategy<Value = BTreeSet<EmailAddress>> {
    prop_oneof![
        3 => Just(BTreeSet::new()),
        1 => prop::collection::btree_set(pool_address(), 1..=2),
    ]
}

/// `address` with `+sync` added to its local part.
fn tagged(address: &EmailAddress) -> EmailAddress {
    let (local, domain) = address.as_str().rsplit_once('@').unwrap();
    addr(&format!("{local}+sync@{domain}"))
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        // 2024-01-01 to 2028-01-01, around the floor and the switch.
        (1_704_067_200..1_830_297_600i64).prop_map(|s| Timestamp::from_second(s).unwrap()),
        message_strategy(),
        thread_strategy(),
        (0..2usize, 0..(4 * 365 * DAY), 0..=100i64, 0..20u8),
        aliases_strategy(),
        directory_strategy(),
    )
        .prop_map(|(now, draft, thread, seat, aliases, directory)| {
            let (seat, authorized_for, anchor_percent, state) = seat;
            let seat = addr(POOL[seat]);
            let mut connection = connection();
            connection.grant.address = seat.clone();
            connection.aliases = aliases;
            connection.first_authorized_at = back(now, authorized_for);
            connection.last_authorized_at = connection.first_authorized_at;
            connection.historical_anchor = back(now, authorized_for * anchor_percent / 100);
            match state {
                0 => {
                    connection.deauthorize(DeauthorizationReason::SeatRequested, now);
                }
                1 => {
                    connection.require_reconnect(ReconnectReason::GrantRevoked, now);
                }
                _ => {}
            }
            let written = match draft.seat_as {
                SeatAs::Authorized => seat.clone(),
                SeatAs::Tagged => tagged(&seat),
                SeatAs::Alias => connection.aliases.first().unwrap_or(&seat).clone(),
            };
            let (from, mut to) = if draft.sent {
                (written, vec![draft.other.clone()])
            } else {
                (draft.other.clone(), vec![written])
            };
            to.extend(draft.to);
            let mut cc = draft.cc;
            if draft.second_address {
                match draft.other.as_str() {
                    JANE => cc.push(addr(JANE_AT_HOME)),
                    JANE_AT_HOME => cc.push(addr(JANE)),
                    _ => {}
                }
            }
            let message = MessageFacts {
                provider_id: "m".into(),
                thread_id: "t".into(),
                from,
                to,
                cc,
                bcc: draft.bcc,
                at: back(now, draft.age),
                started_from_product: draft.started_from_product,
            };
            let thread = thread.map(|t| {
                let counterpart = match t.counterpart {
                    ThreadCounterpart::SameAsMessage => Some(draft.other.clone()),
                    ThreadCounterpart::TombstoneOnly => None,
                    ThreadCounterpart::Drawn(address) => Some(address),
                };
                let profile = counterpart
                    .as_ref()
                    .and_then(|c| entry_of(&directory, &connection, c))
                    .filter(|_| !t.stored_without_profile)
                    .map(|entry| entry.profile_id.clone());
                ThreadState {
                    started_from_product: t.started_from_product,
                    last_activity_at: back(now, t.idle),
                    counterpart,
                    profile,
                    removed_for_inactivity_at: t.removed.map(|r| back(now, r)),
                }
            });
            Scenario {
                message,
                thread,
                connection,
                directory,
                now,
            }
        })
}

/// The directory entry of `address` that counts for `connection`: one of its contract.
fn entry_of<'d>(
    directory: &'d BTreeMap<EmailAddress, DirectoryEntry>,
    connection: &Connection,
    address: &EmailAddress,
) -> Option<&'d DirectoryEntry> {
    directory
        .get(address)
        .filter(|entry| entry.contract_id == connection.contract_id)
}

/// The people on the message besides the seat, as the product rules count them: a profile
/// of the contract is one person whatever its addresses, any other address is one.
fn people_besides_the_seat(s: &Scenario) -> BTreeSet<String> {
    others(&s.message, &s.connection)
        .into_iter()
        .map(
            |address| match entry_of(&s.directory, &s.connection, address) {
                Some(entry) => format!("profile {}", entry.profile_id),
                None => format!("address {address}"),
            },
        )
        .collect()
}

fn decide_in(s: &Scenario) -> Decision {
    decide(
        &s.message,
        s.thread.as_ref(),
        &s.connection,
        &s.directory,
        s.now,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_sync_always_has_a_counterpart_outside_the_seats_domain(s in scenario()) {
        let Scenario { message, thread, connection, directory, now } = &s;
        let seat = &connection.grant.address;
        let decision = decide_in(&s);
        prop_assert_eq!(&decide_in(&s), &decision, "deterministic");
        let others = others(message, connection);
        let people = people_besides_the_seat(&s);
        let started_from_product =
            message.started_from_product || thread.as_ref().is_some_and(|t| t.started_from_product);
        let stored = thread.as_ref().and_then(|t| t.counterpart.as_ref());
        // Rules 0 and 1 look at the connection and the email alone, never at the thread.
        prop_assert_eq!(
            matches!(decision, Decision::Skip(SkipReason::NotAuthorized { .. })),
            !connection.is_authorized()
        );
        prop_assert_eq!(
            matches!(decision, Decision::Skip(SkipReason::TooManyParticipants { .. })),
            connection.is_authorized() && people.len() > 1
        );
        match &decision {
            Decision::Sync { counterpart: other, profile } => {
                prop_assert!(!connection.is_own(other), "never the seat's own address");
                // On the email, or the stored conversation's address of the same person.
                prop_assert!(others.contains(other) || stored == Some(other));
                prop_assert_ne!(other.domain(), seat.domain());
                prop_assert_eq!(people.len(), 1, "one person besides the seat");
                prop_assert!(message.at >= lookback_start(connection));
                let last = thread
                    .as_ref()
                    .map_or(message.at, |t| t.last_activity_at.max(message.at));
                prop_assert!(last >= active_since(*now));
                if let Some(removed) = thread.as_ref().and_then(|t| t.removed_for_inactivity_at) {
                    prop_assert!(message.at > removed);
                }
                // The address named: the stored one, else the sender, else the smallest.
                let fallback = if others.contains(&message.from) {
                    &message.from
                } else {
                    others.first().copied().unwrap()
                };
                // (The stored address is named even when the person wrote from another
                // address of the profile, unless it has become the seat's own.)
                match stored.filter(|s| !connection.is_own(s)) {
                    Some(stored) => prop_assert_eq!(other, stored),
                    None => prop_assert_eq!(other, fallback),
                }
                // In a stored conversation, with its counterpart or the profile it matched.
                if let Some(stored) = stored.filter(|s| !connection.is_own(s)) {
                    let stored_profile = thread.as_ref().and_then(|t| t.profile.as_ref());
                    let same_profile = entry_of(directory, connection, other)
                        .is_some_and(|entry| Some(&entry.profile_id) == stored_profile);
                    prop_assert!(other == stored || same_profile);
                }
                // The person's entry, under whichever of their addresses the email carries.
                let person = others.iter().find_map(|a| entry_of(directory, connection, a));
                match person {
                    Some(entry) => {
                        prop_assert_eq!(Some(&entry.profile_id), profile.as_ref());
                        prop_assert!(entry.discoverable_by(&connection.seat_id));
                        prop_assert!(entry.in_pipeline || started_from_product);
                    }
                    None => {
                        prop_assert_eq!(profile, &None);
                        prop_assert!(started_from_product);
                    }
                }
            }
            Decision::Skip(reason) => {
                let text = reason.message();
                prop_assert!(!text.is_empty() && text.ends_with('.'), "{}", text);
                match reason {
                    SkipReason::NotAuthorized { state } => {
                        prop_assert_eq!(state, &connection.state);
                    }
                    SkipReason::TooManyParticipants { participants } => {
                        prop_assert!(*participants > 2);
                        prop_assert_eq!(*participants, people.len() + 1);
                    }
                    SkipReason::NoCounterpart => prop_assert!(others.is_empty()),
                    SkipReason::OtherCounterpart { counterpart, conversation_with } => {
                        prop_assert_eq!(Some(conversation_with), stored);
                        prop_assert_ne!(counterpart, conversation_with);
                        prop_assert!(others.contains(counterpart));
                        prop_assert_eq!(people.len(), 1);
                    }
                    SkipReason::SameDomain { counterpart, domain } => {
                        prop_assert_eq!(domain.as_str(), seat.domain());
                        prop_assert_eq!(counterpart.domain(), seat.domain());
                        prop_assert!(others.contains(counterpart));
                    }
                    _ => prop_assert_eq!(people.len(), 1),
                }
            }
        }
        let json = serde_json::to_string(&decision).unwrap();
        prop_assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), decision);
    }

    #[test]
    fn copying_the_seats_own_addresses_changes_nothing(
        s in scenario(),
        copies in prop::collection::vec((0..3u8, any::<bool>()), 1..=3),
    ) {
        let before = decide_in(&s);
        let mut copied = s;
        let seat = copied.connection.grant.address.clone();
        for (which, in_bcc) in copies {
            let own = match which {
                0 => seat.clone(),
                1 => tagged(&seat),
                _ => copied.connection.aliases.last().unwrap_or(&seat).clone(),
            };
            if in_bcc {
                copied.message.bcc.push(own);
            } else {
                copied.message.cc.push(own);
            }
        }
        prop_assert_eq!(decide_in(&copied), before);
    }
}
