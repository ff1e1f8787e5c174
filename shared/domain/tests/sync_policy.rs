//! The sync policy, one table per rule, each with its boundary rows, then the order of the
//! rules, the reasons' codes and wording, and a property over arbitrary messages.
//!
//! The seat is recruiter@acme.com (seat-1 of contract acme). Unless a row says otherwise,
//! its mailbox was first authorized on 2026-01-15T09:00:00Z (so the history reaches back to
//! 2025-01-15T09:00:00Z) and "now" is 2026-03-10T12:00:00Z (so threads count as active
//! from 2025-09-10T12:00:00Z).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::access::{DeauthorizationReason, ReconnectReason};
use hiresync_domain::connection::{Connection, ConnectionKind, Grant, SyncStart};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::{Degree, DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::policy::{
    active_since, counterpart, decide, lookback_start, Decision, DirectoryLookup, MessageFacts,
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

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn addrs(list: &[&str]) -> Vec<EmailAddress> {
    list.iter().map(|a| addr(a)).collect()
}

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

/// The test fake of the directory port: every entry under each of its addresses.
#[derive(Default)]
struct InMemoryDirectory(BTreeMap<EmailAddress, DirectoryEntry>);

impl InMemoryDirectory {
    fn with(mut self, entry: DirectoryEntry) -> Self {
        for email in &entry.emails {
            self.0.insert(email.clone(), entry.clone());
        }
        self
    }
}

impl DirectoryLookup for InMemoryDirectory {
    fn candidate(&self, address: &EmailAddress) -> Option<&DirectoryEntry> {
        self.0.get(address)
    }
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
        profile_id: ProfileId::parse(format!("p-{local}")).unwrap(),
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

trait Edit {
    fn cc(self, cc: &[&str]) -> Self;
    fn bcc(self, bcc: &[&str]) -> Self;
    fn at(self, at: &str) -> Self;
    fn via_product(self) -> Self;
}

impl Edit for MessageFacts {
    fn cc(mut self, cc: &[&str]) -> Self {
        self.cc = addrs(cc);
        self
    }
    fn bcc(mut self, bcc: &[&str]) -> Self {
        self.bcc = addrs(bcc);
        self
    }
    fn at(mut self, at: &str) -> Self {
        self.at = ts(at);
        self
    }
    fn via_product(mut self) -> Self {
        self.started_from_product = true;
        self
    }
}

/// A stored thread between `participants`, last active at `last`.
fn stored(participants: &[&str], last: &str) -> ThreadState {
    ThreadState {
        started_from_product: false,
        last_activity_at: ts(last),
        participants: addrs(participants).into_iter().collect(),
        removed_for_inactivity_at: None,
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
fn a_stored_thread_that_gains_a_third_participant_leaves_whole() {
    let one_to_one = stored(&[SEAT, JANE], "2026-03-01T10:00:00Z");
    let table: Vec<(&str, MessageFacts, Option<ThreadState>, Decision)> = vec![
        (
            "GIVEN a stored 1:1 thread WHEN a reply adds someone in cc THEN the thread leaves",
            mail(SEAT, &[JANE]).cc(&[OMAR]),
            Some(one_to_one.clone()),
            Decision::RemoveThread(too_many(3)),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN someone else writes in it THEN the thread leaves",
            mail(OMAR, &[SEAT]),
            Some(one_to_one.clone()),
            Decision::RemoveThread(too_many(3)),
        ),
        (
            "GIVEN a stored 1:1 thread WHEN the candidate replies THEN it syncs",
            mail(JANE, &[SEAT]),
            Some(one_to_one.clone()),
            sync(JANE, Some("p-jane")),
        ),
        (
            "GIVEN a stored thread listing only the candidate THEN the seat is still counted once",
            mail(JANE, &[SEAT]),
            Some(stored(&[JANE], "2026-03-01T10:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
        (
            "GIVEN no stored thread WHEN a message has three people THEN only it is skipped",
            mail(SEAT, &[JANE]).cc(&[OMAR]),
            None,
            skip(too_many(3)),
        ),
        (
            "GIVEN the tombstone of a removed group thread WHEN a 1:1 reply comes THEN it stays out",
            mail(JANE, &[SEAT]),
            Some(stored(&[SEAT, JANE, OMAR], "2026-03-01T10:00:00Z")),
            Decision::RemoveThread(too_many(3)),
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
fn the_counterpart_is_the_one_other_distinct_address() {
    let seat = addr(SEAT);
    let table: Vec<(&str, MessageFacts, Option<&str>)> = vec![
        ("sent", mail(SEAT, &[JANE]), Some(JANE)),
        ("received", mail(JANE, &[SEAT]), Some(JANE)),
        (
            "duplicates",
            mail(JANE, &[SEAT, JANE]).bcc(&[JANE]),
            Some(JANE),
        ),
        ("seat not listed", mail(JANE, &[]), Some(JANE)),
        ("to itself", mail(SEAT, &[SEAT]), None),
        ("two others", mail(SEAT, &[JANE]).cc(&[OMAR]), None),
    ];
    for (case, message, expected) in table {
        assert_eq!(counterpart(&message, &seat), expected.map(addr), "{case}");
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
        ..stored(&[SEAT, c], "2026-03-01T10:00:00Z")
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
            ..stored(&[SEAT, JANE], "2000-01-01T00:00:00Z")
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
            Some(stored(&[SEAT, JANE], "2025-09-10T12:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
        (
            "thread last active six months and one second before now",
            mail(JANE, &[SEAT]).at("2025-08-01T10:00:00Z"),
            Some(stored(&[SEAT, JANE], "2025-09-10T11:59:59Z")),
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
            Some(stored(&[SEAT, JANE], "2025-04-01T10:00:00Z")),
            sync(JANE, Some("p-jane")),
        ),
        (
            "the message is newer than the stored activity: it counts",
            mail(SEAT, &[JANE]).at("2025-09-10T12:00:00Z"),
            Some(stored(&[SEAT, JANE], "2025-05-01T10:00:00Z")),
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
        ..stored(&[SEAT, JANE], "2026-03-01T09:00:00Z")
    };
    let tombstone = ThreadState {
        removed_for_inactivity_at: Some(ts(removed_at)),
        ..stored(&[SEAT, JANE], "2025-05-31T00:00:00Z")
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
            tombstone.clone(),
            sync(JANE, Some("p-jane")),
        ),
        (
            "an old message of a removed, still idle thread: idle comes first",
            mail(JANE, &[SEAT]).at("2025-05-31T00:00:00Z"),
            tombstone.clone(),
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
            "a stored thread gains a third person on an old message: it still leaves",
            mail(SEAT, &[JANE]).cc(&[OMAR]).at(old),
            Some(stored(&[SEAT, JANE], "2026-03-01T10:00:00Z")),
            Decision::RemoveThread(too_many(3)),
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
        for decision in [
            Decision::Skip(reason.clone()),
            Decision::RemoveThread(reason),
        ] {
            let json = serde_json::to_string(&decision).unwrap();
            assert_eq!(
                serde_json::from_str::<Decision>(&json).unwrap(),
                decision,
                "{json}"
            );
        }
    }
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
        serde_json::to_value(Decision::RemoveThread(too_many(3))).unwrap(),
        serde_json::json!({ "decision": "remove_thread", "code": "too_many_participants", "participants": 3 })
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
    let expectations: [(SkipReason, &[&str]); 7] = [
        (too_many(4), &["4 people", "one-to-one"]),
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
/// look-alike domain and candidates.
const POOL: [&str; 8] = [
    "recruiter@acme.com",
    "lee@eu.acme.com",
    "colleague@acme.com",
    "boss@eu.acme.com",
    JANE,
    OMAR,
    NOBODY_KNOWS,
    LOOKALIKE,
];

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
        6 => Just(vec![]),
        1 => prop::collection::vec(pool_address(), 1..=2),
    ]
}

/// A message between the seat and `other` (sent or received), with now and then more
/// people on it; `age` places it before `now`.
#[derive(Debug, Clone)]
struct MessageDraft {
    other: EmailAddress,
    sent: bool,
    to: Vec<EmailAddress>,
    cc: Vec<EmailAddress>,
    bcc: Vec<EmailAddress>,
    age: i64,
    started_from_product: bool,
}

fn message_strategy() -> impl Strategy<Value = MessageDraft> {
    (
        pool_address(),
        any::<bool>(),
        extra_addresses(),
        extra_addresses(),
        extra_addresses(),
        0..(2 * 365 * DAY),
        any::<bool>(),
    )
        .prop_map(
            |(other, sent, to, cc, bcc, age, started_from_product)| MessageDraft {
                other,
                sent,
                to,
                cc,
                bcc,
                age,
                started_from_product,
            },
        )
}

/// Who a stored thread has seen so far.
#[derive(Debug, Clone)]
enum ThreadPeople {
    /// The same two people as the message.
    SameAsMessage,
    /// Only the message's other person (the seat left out).
    OtherOnly,
    /// Anyone.
    Drawn(Vec<EmailAddress>),
}

#[derive(Debug, Clone)]
struct ThreadDraft {
    started_from_product: bool,
    idle: i64,
    people: ThreadPeople,
    removed: Option<i64>,
}

fn thread_strategy() -> impl Strategy<Value = Option<ThreadDraft>> {
    prop::option::of(
        (
            any::<bool>(),
            0..(365 * DAY),
            prop_oneof![
                3 => Just(ThreadPeople::SameAsMessage),
                1 => Just(ThreadPeople::OtherOnly),
                1 => prop::collection::vec(pool_address(), 0..=3).prop_map(ThreadPeople::Drawn),
            ],
            prop::option::of(0..(400 * DAY)),
        )
            .prop_map(
                |(started_from_product, idle, people, removed)| ThreadDraft {
                    started_from_product,
                    idle,
                    people,
                    removed,
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

fn directory_strategy() -> impl Strategy<Value = BTreeMap<EmailAddress, DirectoryEntry>> {
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
    )
    .prop_map(|entries| {
        entries
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
            .collect()
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        // 2024-01-01 to 2028-01-01, around the floor and the switch.
        (1_704_067_200..1_830_297_600i64).prop_map(|s| Timestamp::from_second(s).unwrap()),
        message_strategy(),
        thread_strategy(),
        (0..2usize, 0..(4 * 365 * DAY), 0..=100i64, 0..20u8),
        directory_strategy(),
    )
        .prop_map(|(now, draft, thread, seat, directory)| {
            let (seat, authorized_for, anchor_percent, state) = seat;
            let seat = addr(POOL[seat]);
            let (from, mut to) = if draft.sent {
                (seat.clone(), vec![draft.other.clone()])
            } else {
                (draft.other.clone(), vec![seat.clone()])
            };
            to.extend(draft.to);
            let message = MessageFacts {
                provider_id: "m".into(),
                thread_id: "t".into(),
                from,
                to,
                cc: draft.cc,
                bcc: draft.bcc,
                at: back(now, draft.age),
                started_from_product: draft.started_from_product,
            };
            let thread = thread.map(|t| ThreadState {
                started_from_product: t.started_from_product,
                last_activity_at: back(now, t.idle),
                participants: match t.people {
                    ThreadPeople::SameAsMessage => [seat.clone(), draft.other.clone()].into(),
                    ThreadPeople::OtherOnly => [draft.other.clone()].into(),
                    ThreadPeople::Drawn(people) => people.into_iter().collect(),
                },
                removed_for_inactivity_at: t.removed.map(|r| back(now, r)),
            });
            let mut connection = connection();
            connection.grant.address = seat;
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
            Scenario {
                message,
                thread,
                connection,
                directory,
                now,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_sync_always_has_a_counterpart_outside_the_seats_domain(s in scenario()) {
        let Scenario { message, thread, connection, directory, now } = &s;
        let seat = &connection.grant.address;
        let decision = decide(message, thread.as_ref(), connection, directory, *now);
        prop_assert_eq!(
            &decide(message, thread.as_ref(), connection, directory, *now),
            &decision,
            "deterministic"
        );
        match &decision {
            Decision::Sync { counterpart: other, profile } => {
                prop_assert!(other != seat);
                prop_assert_ne!(other.domain(), seat.domain());
                prop_assert_eq!(counterpart(message, seat), Some(other.clone()));
                prop_assert!(connection.is_authorized());
                prop_assert!(message.at >= lookback_start(connection));
                if let Some(profile) = profile {
                    let entry = directory.candidate(other).unwrap();
                    prop_assert_eq!(&entry.profile_id, profile);
                    prop_assert!(entry.discoverable_by(&connection.seat_id));
                }
            }
            Decision::RemoveThread(reason) => {
                prop_assert!(thread.is_some());
                let is_too_many = matches!(reason, SkipReason::TooManyParticipants { .. });
                prop_assert!(is_too_many);
            }
            Decision::Skip(reason) => {
                prop_assert!(!reason.message().is_empty());
            }
        }
        let json = serde_json::to_string(&decision).unwrap();
        prop_assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), decision);
    }
}
