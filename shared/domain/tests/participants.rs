//! The participant rule, email by email: who counts as a person on an email (the seat under
//! any of its addresses, a candidate under any address of their profile, anyone else under
//! each address), what a third person costs (that email, never the conversation), which
//! conversation a stored thread is, and where the rule sits in the order.
//!
//! The seat is rita@acme.example (seat-1 of contract acme), with the aliases
//! rita.jones@acme.example and recruiting@acme-talent.example unless a table says otherwise.
//! Its mailbox was first authorized on 2026-05-01T09:00:00Z and "now" is
//! 2026-06-01T12:00:00Z; the messages are from 2026-05-31T08:30:00Z, so the lookback and the
//! activity rules never get in the way unless a row says so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{addr, addrs, ts, Edit, InMemoryDirectory};

use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::{DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, ProfileId, SeatId};
use hiresync_domain::policy::{decide, Decision, MessageFacts, SkipReason, ThreadState};

// ---------------------------------------------------------------------------------------
// Fixtures

const CONTRACT: &str = "acme";
const SEAT_ID: &str = "seat-1";

const NOW: &str = "2026-06-01T12:00:00Z";
const FIRST_AUTHORIZED: &str = "2026-05-01T09:00:00Z";
/// When the messages are sent: recent enough for every time rule.
const RECENT: &str = "2026-05-31T08:30:00Z";
/// The latest activity of the stored threads.
const STORED_LAST: &str = "2026-05-20T10:00:00Z";
/// Before the lookback (2025-05-01T09:00:00Z).
const OLD: &str = "2025-01-01T00:00:00Z";

// The seat's own addresses.
const SEAT: &str = "rita@acme.example";
const ALIAS: &str = "rita.jones@acme.example";
const ALIAS_ELSEWHERE: &str = "recruiting@acme-talent.example";

// People.
const JANE_HOME: &str = "jane@home.example"; // p-jane, in the pipeline
const JANE_WORK: &str = "jane@work.example"; // p-jane too: the same person
const JANE_OTHER: &str = "jane@other.example"; // p-jane-2: another profile
const JANE_OLD: &str = "jane@old.example"; // "p-jane" of another contract
const BOB: &str = "bob@else.example"; // p-bob, in the pipeline
const SAM: &str = "sam@acme-talent.example"; // p-sam: a candidate on the alias's domain
const NED: &str = "ned@new.example"; // no profile
const HM_INSIDE: &str = "hm@acme.example"; // the hiring manager, the seat's colleague
const HM_OUTSIDE: &str = "hm@partner.example"; // a hiring manager at a client, no profile
const OPS: &str = "ops@acme.example"; // another colleague
const LIST: &str = "hiring@acme.example"; // a distribution list the seat is on
const LIST_OUTSIDE: &str = "talent@lists.example"; // an outside mailing list
const KIM_HOME: &str = "kim@home.example"; // p-kim: a candidate who also works at the seat's
const KIM_INSIDE: &str = "kim@acme.example"; // organization, under both addresses

fn profile(id: &str) -> ProfileId {
    ProfileId::parse(id).unwrap()
}

/// The seat's email connection, with `aliases`.
fn connection_with(aliases: &[&str]) -> Connection {
    let grant = Grant {
        provider: Provider::GoogleWorkspace,
        address: addr(SEAT),
        scopes: BTreeSet::new(),
        organization: None,
    };
    let mut connection = Connection::first(
        ContractId::parse(CONTRACT).unwrap(),
        SeatId::parse(SEAT_ID).unwrap(),
        ConnectionKind::Email,
        grant,
        ts(FIRST_AUTHORIZED),
    );
    connection.aliases = addrs(aliases).into_iter().collect();
    connection
}

/// The seat's connection with its two aliases.
fn connection() -> Connection {
    connection_with(&[ALIAS, ALIAS_ELSEWHERE])
}

/// A candidate of `contract` in the pipeline, discoverable by anyone.
fn candidate(contract: &str, profile_id: &str, emails: &[&str]) -> DirectoryEntry {
    DirectoryEntry {
        contract_id: ContractId::parse(contract).unwrap(),
        profile_id: profile(profile_id),
        emails: addrs(emails),
        discovery: DiscoverySetting::Anyone,
        in_pipeline: true,
        degrees: BTreeMap::new(),
        source_version: 1,
    }
}

fn directory() -> InMemoryDirectory {
    InMemoryDirectory::default()
        .with(candidate(CONTRACT, "p-jane", &[JANE_HOME, JANE_WORK]))
        .with(candidate(CONTRACT, "p-jane-2", &[JANE_OTHER]))
        .with(candidate("globex", "p-jane", &[JANE_OLD]))
        .with(candidate(CONTRACT, "p-bob", &[BOB]))
        .with(candidate(CONTRACT, "p-sam", &[SAM]))
        .with(candidate(CONTRACT, "p-kim", &[KIM_HOME, KIM_INSIDE]))
}

/// A message from `from` to `to`, sent at [`RECENT`], not from the product.
fn mail(from: &str, to: &[&str]) -> MessageFacts {
    MessageFacts {
        provider_id: "18f2a9c0d4e5b6a7".into(),
        thread_id: "18f2a9c0d4e5b000".into(),
        from: addr(from),
        to: addrs(to),
        cc: vec![],
        bcc: vec![],
        at: ts(RECENT),
        started_from_product: false,
    }
}

/// A stored conversation with `counterpart`, matched to `profile`, last active at
/// [`STORED_LAST`].
fn stored(counterpart: &str, profile_id: Option<&str>) -> ThreadState {
    ThreadState {
        started_from_product: false,
        last_activity_at: ts(STORED_LAST),
        counterpart: Some(addr(counterpart)),
        profile: profile_id.map(profile),
        removed_for_inactivity_at: None,
    }
}

/// The stored conversation with Jane, under her home address.
fn with_jane() -> ThreadState {
    stored(JANE_HOME, Some("p-jane"))
}

fn sync(counterpart: &str, profile_id: Option<&str>) -> Decision {
    Decision::Sync {
        counterpart: addr(counterpart),
        profile: profile_id.map(profile),
    }
}

fn skip(reason: SkipReason) -> Decision {
    Decision::Skip(reason)
}

fn too_many(participants: usize) -> Decision {
    skip(SkipReason::TooManyParticipants { participants })
}

fn other_counterpart(counterpart: &str, conversation_with: &str) -> Decision {
    skip(SkipReason::OtherCounterpart {
        counterpart: addr(counterpart),
        conversation_with: addr(conversation_with),
    })
}

fn same_domain(counterpart: &str) -> Decision {
    skip(SkipReason::SameDomain {
        counterpart: addr(counterpart),
        domain: "acme.example".into(),
    })
}

/// One row of a table: a named message, the thread it belongs to, the expected decision.
struct Case {
    name: &'static str,
    message: MessageFacts,
    thread: Option<ThreadState>,
    expected: Decision,
}

fn case(
    name: &'static str,
    message: MessageFacts,
    thread: Option<ThreadState>,
    expected: Decision,
) -> Case {
    Case {
        name,
        message,
        thread,
        expected,
    }
}

/// Decides every row against `connection`, at [`NOW`], and names the rows that fail.
fn check(table: Vec<Case>, connection: &Connection) {
    let directory = directory();
    for Case {
        name,
        message,
        thread,
        expected,
    } in table
    {
        let decision = decide(&message, thread.as_ref(), connection, &directory, ts(NOW));
        assert_eq!(decision, expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// (a) The rule is about the email, not the thread

#[test]
fn a_third_person_costs_that_email_and_the_threads_one_to_one_emails_still_sync() {
    let table = vec![
        case(
            "the seat copies the hiring manager on its own domain",
            mail(SEAT, &[JANE_HOME]).cc(&[HM_INSIDE]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the seat copies a hiring manager on another domain",
            mail(SEAT, &[JANE_HOME]).cc(&[HM_OUTSIDE]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the candidate replies to all",
            mail(JANE_HOME, &[SEAT]).cc(&[HM_INSIDE]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the hiring manager in bcc counts",
            mail(SEAT, &[JANE_HOME]).bcc(&[HM_OUTSIDE]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the seat in bcc of the candidate's email to the hiring manager",
            mail(JANE_HOME, &[HM_OUTSIDE]).bcc(&[SEAT]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the candidate writes to a list the seat is on: the list is a person",
            mail(JANE_HOME, &[LIST]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "the candidate writes to the seat and an outside list",
            mail(JANE_HOME, &[SEAT, LIST_OUTSIDE]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "a list and the hiring manager: four people",
            mail(JANE_HOME, &[SEAT, LIST]).cc(&[HM_INSIDE]),
            Some(with_jane()),
            too_many(4),
        ),
        case(
            "a thread started from the product: no exception to this rule",
            mail(SEAT, &[JANE_HOME]).cc(&[HM_INSIDE]).via_product(),
            Some(ThreadState {
                started_from_product: true,
                ..with_jane()
            }),
            too_many(3),
        ),
        case(
            "no stored thread: the email is skipped just the same",
            mail(SEAT, &[JANE_HOME]).cc(&[HM_OUTSIDE]),
            None,
            too_many(3),
        ),
        case(
            "the thread's next one-to-one email from the candidate syncs",
            mail(JANE_HOME, &[SEAT]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the thread's next one-to-one email from the seat syncs",
            mail(SEAT, &[JANE_HOME]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
    ];
    check(table, &connection());
}

#[test]
fn the_email_before_and_after_a_copied_one_sync_in_the_same_conversation() {
    // In the order the worker meets them: only a synced email advances the stored thread.
    let table = vec![
        case(
            "1. the candidate writes: the thread is stored",
            mail(JANE_HOME, &[SEAT]).at("2026-05-28T09:00:00Z"),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "2. the seat answers, cc the hiring manager: left out",
            mail(SEAT, &[JANE_HOME])
                .cc(&[HM_INSIDE])
                .at("2026-05-29T09:00:00Z"),
            None,
            too_many(3),
        ),
        case(
            "3. the seat writes to the candidate alone: syncs",
            mail(SEAT, &[JANE_HOME]).at("2026-05-30T09:00:00Z"),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
    ];
    let connection = connection();
    let directory = directory();
    let mut thread: Option<ThreadState> = None;
    for Case {
        name,
        message,
        expected,
        ..
    } in table
    {
        let decision = decide(&message, thread.as_ref(), &connection, &directory, ts(NOW));
        assert_eq!(decision, expected, "{name}");
        if let Decision::Sync {
            counterpart,
            profile,
        } = decision
        {
            let last = thread
                .as_ref()
                .map_or(message.at, |t| t.last_activity_at.max(message.at));
            thread = Some(ThreadState {
                started_from_product: false,
                last_activity_at: last,
                counterpart: Some(counterpart),
                profile,
                removed_for_inactivity_at: None,
            });
        }
    }
    assert_eq!(
        thread,
        Some(ThreadState {
            last_activity_at: ts("2026-05-30T09:00:00Z"),
            ..with_jane()
        }),
        "the conversation is still with Jane, and the copied email is not its activity"
    );
}

// ---------------------------------------------------------------------------------------
// (b) The seat under its aliases and subaddresses

#[test]
fn every_address_of_the_seats_mailbox_is_the_seat() {
    let table = vec![
        case(
            "to an alias",
            mail(JANE_HOME, &[ALIAS]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "from an alias",
            mail(ALIAS, &[JANE_HOME]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "from the alias on another domain",
            mail(ALIAS_ELSEWHERE, &[JANE_HOME]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "to rita+jobs@",
            mail(JANE_HOME, &["rita+jobs@acme.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "to RITA+Jobs@ written in upper case",
            mail(JANE_HOME, &["RITA+Jobs@ACME.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "to an alias with a +tag",
            mail(JANE_HOME, &["rita.jones+eng@acme.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "to the other domain's alias with a +tag",
            mail(JANE_HOME, &["recruiting+emea@acme-talent.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the seat cc'ing its own alias",
            mail(SEAT, &[JANE_HOME]).cc(&[ALIAS]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the seat, its aliases and a subaddress all on one email",
            mail(ALIAS, &[JANE_HOME])
                .cc(&[SEAT, ALIAS_ELSEWHERE])
                .bcc(&["rita+sent@acme.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "in a stored thread, the candidate writes to the alias",
            mail(JANE_HOME, &[ALIAS]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "only the seat's addresses: no counterpart",
            mail(SEAT, &[ALIAS]).cc(&["rita+notes@acme.example"]),
            None,
            skip(SkipReason::NoCounterpart),
        ),
        case(
            "an old address of the seat that is no alias is a stranger",
            mail(JANE_HOME, &[SEAT]).cc(&["rita.old@acme.example"]),
            None,
            too_many(3),
        ),
        case(
            "a local part that only starts like the seat's is a stranger",
            mail(JANE_HOME, &[SEAT]).cc(&["ritaj@acme.example"]),
            None,
            too_many(3),
        ),
        case(
            "the seat's local part on the alias's domain is a stranger",
            mail(JANE_HOME, &[SEAT]).cc(&["rita@acme-talent.example"]),
            None,
            too_many(3),
        ),
        case(
            "a local part starting with '+' is no subaddress of the seat",
            mail(JANE_HOME, &[SEAT]).cc(&["+rita@acme.example"]),
            None,
            too_many(3),
        ),
        case(
            "another person's subaddress is theirs, not the seat's",
            mail(JANE_HOME, &[SEAT]).cc(&["hm+rita@acme.example"]),
            None,
            too_many(3),
        ),
    ];
    check(table, &connection());
}

#[test]
fn an_address_the_connection_does_not_list_is_someone_else() {
    let table = vec![
        case(
            "the candidate writes to an alias the connection does not have: the seat got it another way",
            mail(JANE_HOME, &[ALIAS]),
            None,
            too_many(3),
        ),
        case(
            "the seat cc'ing an address it does not list",
            mail(SEAT, &[JANE_HOME]).cc(&[ALIAS]),
            None,
            too_many(3),
        ),
        case(
            "a subaddress of the authorized address is the seat without any alias",
            mail(JANE_HOME, &["rita+jobs@acme.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
    ];
    check(table, &connection_with(&[]));
}

#[test]
fn an_alias_listed_with_a_tag_is_the_seat_with_any_tag_or_none() {
    let table = vec![
        case(
            "the alias as listed",
            mail(JANE_HOME, &["talent+eu@acme-talent.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the alias without its tag",
            mail(JANE_HOME, &["talent@acme-talent.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the alias with another tag",
            mail(JANE_HOME, &["talent+us@acme-talent.example"]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the alias's local part on the authorized domain is someone else",
            mail(JANE_HOME, &[SEAT]).cc(&["talent@acme.example"]),
            None,
            too_many(3),
        ),
    ];
    check(table, &connection_with(&["talent+eu@acme-talent.example"]));
}

#[test]
fn the_domain_rule_is_about_the_authorized_address_not_the_aliases() {
    let table = vec![
        case(
            "a colleague writes to the alias on another domain: internal, on the authorized domain",
            mail(HM_INSIDE, &[ALIAS_ELSEWHERE]),
            None,
            same_domain(HM_INSIDE),
        ),
        case(
            "the seat writes from its alias domain to a colleague",
            mail(ALIAS_ELSEWHERE, &[HM_INSIDE]),
            None,
            same_domain(HM_INSIDE),
        ),
        case(
            "a candidate on the alias's domain is not internal",
            mail(SAM, &[ALIAS_ELSEWHERE]),
            None,
            sync(SAM, Some("p-sam")),
        ),
        case(
            "someone on the alias's domain without a profile: no profile, not internal",
            mail("lee@acme-talent.example", &[ALIAS_ELSEWHERE]),
            None,
            skip(SkipReason::NoProfile {
                counterpart: addr("lee@acme-talent.example"),
            }),
        ),
    ];
    check(table, &connection());
}

// ---------------------------------------------------------------------------------------
// (c) People, not addresses

#[test]
fn the_addresses_of_one_profile_are_one_person() {
    let table = vec![
        case(
            "she writes from home, cc her work address: the sender is named",
            mail(JANE_HOME, &[SEAT]).cc(&[JANE_WORK]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "she writes from work, cc her home address: the sender is named",
            mail(JANE_WORK, &[SEAT]).cc(&[JANE_HOME]),
            None,
            sync(JANE_WORK, Some("p-jane")),
        ),
        case(
            "the seat writes to both her addresses: the smallest is named",
            mail(SEAT, &[JANE_WORK, JANE_HOME]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "in a thread stored with her work address: that address is named",
            mail(JANE_HOME, &[SEAT]).cc(&[JANE_WORK]),
            Some(stored(JANE_WORK, Some("p-jane"))),
            sync(JANE_WORK, Some("p-jane")),
        ),
        case(
            "both her addresses and the seat's alias",
            mail(JANE_HOME, &[ALIAS]).bcc(&[JANE_WORK, SEAT]),
            None,
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "both her addresses and a hiring manager: three people, not four",
            mail(SEAT, &[JANE_HOME, JANE_WORK]).cc(&[HM_OUTSIDE]),
            None,
            too_many(3),
        ),
        case(
            "two addresses on two profiles are two people",
            mail(JANE_HOME, &[SEAT]).cc(&[JANE_OTHER]),
            None,
            too_many(3),
        ),
        case(
            "another contract's profile, though its id is the same, does not merge",
            mail(JANE_HOME, &[SEAT]).cc(&[JANE_OLD]),
            None,
            too_many(3),
        ),
        case(
            "her address and one no profile has are two people",
            mail(JANE_HOME, &[SEAT]).cc(&[NED]),
            None,
            too_many(3),
        ),
        case(
            "two addresses no profile has are two people",
            mail(NED, &[SEAT]).cc(&[HM_OUTSIDE]),
            None,
            too_many(3),
        ),
        case(
            "one of her addresses in the seat's domain: internal, written from home",
            mail(KIM_HOME, &[SEAT]).cc(&[KIM_INSIDE]),
            None,
            same_domain(KIM_INSIDE),
        ),
        case(
            "one of her addresses in the seat's domain: internal, written from work",
            mail(KIM_INSIDE, &[SEAT]).cc(&[KIM_HOME]),
            None,
            same_domain(KIM_INSIDE),
        ),
        case(
            "her outside address alone: not internal",
            mail(KIM_HOME, &[SEAT]),
            None,
            sync(KIM_HOME, Some("p-kim")),
        ),
    ];
    check(table, &connection());
}

// ---------------------------------------------------------------------------------------
// (d) A stored thread is the conversation with its counterpart

#[test]
fn a_stored_threads_one_to_one_email_with_someone_else_is_left_out() {
    let table = vec![
        case(
            "another candidate writes in Jane's thread",
            mail(BOB, &[SEAT]),
            Some(with_jane()),
            other_counterpart(BOB, JANE_HOME),
        ),
        case(
            "the seat forwards Jane's thread to another candidate alone",
            mail(SEAT, &[BOB]),
            Some(with_jane()),
            other_counterpart(BOB, JANE_HOME),
        ),
        case(
            "the seat forwards it to an outside hiring manager alone",
            mail(SEAT, &[HM_OUTSIDE]),
            Some(with_jane()),
            other_counterpart(HM_OUTSIDE, JANE_HOME),
        ),
        case(
            "an address of another of her profiles is someone else",
            mail(JANE_OTHER, &[SEAT]),
            Some(with_jane()),
            other_counterpart(JANE_OTHER, JANE_HOME),
        ),
        case(
            "an address of another contract's profile with the same id is someone else",
            mail(JANE_OLD, &[SEAT]),
            Some(with_jane()),
            other_counterpart(JANE_OLD, JANE_HOME),
        ),
        case(
            "from the product: no exception to this rule",
            mail(SEAT, &[BOB]).via_product(),
            Some(with_jane()),
            other_counterpart(BOB, JANE_HOME),
        ),
        case(
            "a thread stored without a profile: another address is someone else",
            mail(JANE_WORK, &[SEAT]),
            Some(ThreadState {
                started_from_product: true,
                ..stored(NED, None)
            }),
            other_counterpart(JANE_WORK, NED),
        ),
        case(
            "Jane replies from the stored address",
            mail(JANE_HOME, &[SEAT]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "Jane writes from work and copies her home address",
            mail(JANE_WORK, &[SEAT]).cc(&[JANE_HOME]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "Bob and Jane together: too many, not the other counterpart",
            mail(BOB, &[SEAT]).cc(&[JANE_HOME]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "only a tombstone is left (no counterpart): Bob's email syncs",
            mail(BOB, &[SEAT]),
            Some(ThreadState {
                counterpart: None,
                profile: None,
                removed_for_inactivity_at: Some(ts("2026-05-01T00:00:00Z")),
                ..with_jane()
            }),
            sync(BOB, Some("p-bob")),
        ),
    ];
    check(table, &connection());
}

/// Jane writes alone from her second address in the conversation stored with her first.
fn jane_alone_from_her_second_address() -> Vec<Case> {
    vec![
        case(
            "from her work address",
            mail(JANE_WORK, &[SEAT]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
        case(
            "the seat writes to her work address",
            mail(SEAT, &[JANE_WORK]),
            Some(with_jane()),
            sync(JANE_HOME, Some("p-jane")),
        ),
    ]
}

#[test]
fn jane_writing_alone_from_her_second_address_is_still_her_conversation() {
    // Same person: it syncs with her profile, never as another counterpart. Which of her
    // addresses it names is pinned by the ignored test below.
    let directory = directory();
    for Case {
        name,
        message,
        thread,
        ..
    } in jane_alone_from_her_second_address()
    {
        let decision = decide(
            &message,
            thread.as_ref(),
            &connection(),
            &directory,
            ts(NOW),
        );
        let Decision::Sync {
            counterpart,
            profile,
        } = &decision
        else {
            panic!("{name}: {decision:?}");
        };
        assert_eq!(
            profile,
            &Some(ProfileId::parse("p-jane").unwrap()),
            "{name}"
        );
        assert!(
            [addr(JANE_HOME), addr(JANE_WORK)].contains(counterpart),
            "{name}: {decision:?}"
        );
    }
}

#[test]
fn jane_writing_alone_from_her_second_address_is_named_by_her_stored_address() {
    check(jane_alone_from_her_second_address(), &connection());
}

// ---------------------------------------------------------------------------------------
// (e) Where the rule sits in the order

#[test]
fn too_many_participants_is_reported_before_what_else_fails() {
    let table = vec![
        case(
            "three people, one a colleague: not the domain rule",
            mail(SEAT, &[HM_INSIDE]).cc(&[JANE_HOME]),
            None,
            too_many(3),
        ),
        case(
            "three people, both others colleagues",
            mail(HM_INSIDE, &[SEAT]).cc(&[OPS]),
            None,
            too_many(3),
        ),
        case(
            "the same colleague alone: the domain rule",
            mail(HM_INSIDE, &[SEAT]),
            None,
            same_domain(HM_INSIDE),
        ),
        case(
            "three people without profiles: not the profile rule",
            mail(NED, &[SEAT]).cc(&[HM_OUTSIDE]),
            None,
            too_many(3),
        ),
        case(
            "three people on an email before the lookback: not the lookback",
            mail(SEAT, &[JANE_HOME]).cc(&[HM_INSIDE]).at(OLD),
            None,
            too_many(3),
        ),
        case(
            "three people in a stored thread, a colleague among them: not the other counterpart",
            mail(HM_INSIDE, &[SEAT]).cc(&[BOB]),
            Some(with_jane()),
            too_many(3),
        ),
        case(
            "a colleague alone in a stored thread: the other counterpart before the domain",
            mail(HM_INSIDE, &[SEAT]),
            Some(with_jane()),
            other_counterpart(HM_INSIDE, JANE_HOME),
        ),
    ];
    check(table, &connection());

    // A mailbox without authorization comes first of all.
    let mut deauthorized = connection();
    deauthorized.deauthorize(
        DeauthorizationReason::SeatRequested,
        ts("2026-05-15T00:00:00Z"),
    );
    let state = deauthorized.state;
    check(
        vec![case(
            "three people, one a colleague, old, on a deauthorized mailbox",
            mail(SEAT, &[HM_INSIDE]).cc(&[JANE_HOME]).at(OLD),
            None,
            skip(SkipReason::NotAuthorized { state }),
        )],
        &deauthorized,
    );
}
