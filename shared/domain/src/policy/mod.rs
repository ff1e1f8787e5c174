//! The sync policy: whether one message pulled from a seat's mailbox is kept, and if not,
//! exactly why.
//!
//! [`decide`] is the single answer the ingest worker acts on. It is pure: the worker fills
//! [`MessageFacts`] from Graph or Gmail metadata, passes the stored [`ThreadState`] (if the
//! thread is stored), the seat's email [`Connection`], a pre-fetched [`DirectoryLookup`] and
//! the instant it read the clock. The answer is a [`Decision`]:
//!
//! - [`Decision::Sync`]: store the message, attached to its counterpart (and profile);
//! - [`Decision::Skip`]: leave this message out, for the [`SkipReason`] given; the thread
//!   (if stored) and its other messages stay.
//!
//! # The rules, in the order they are checked
//!
//! The first rule that fails gives the reason, so the order decides which reason a recruiter
//! reads when several apply. It goes from the most fundamental to the most incidental: first
//! whether the email is between the seat and one other person at all, then who that person
//! is, then whether the seat may see them, and only then when the email was sent.
//!
//! | # | rule | reason code | product-started exception |
//! |---|---|---|---|
//! | 0 | the connection is authorized | `not_authorized` | no |
//! | 1 | this email has at most two people on it (from, to, cc, bcc), the seat included | `too_many_participants` | no |
//! | 1 | someone besides the seat is on it | `no_counterpart` | no |
//! | 1 | a stored thread's email is with the thread's counterpart | `other_counterpart` | no |
//! | 2 | the counterpart's domain is not the seat's | `same_domain` | no |
//! | 4 | a profile of the contract has the counterpart's address | `no_profile` | yes |
//! | 3 | that profile is in the active pipeline | `not_in_pipeline` | yes |
//! | 5 | the candidate's discovery setting admits the seat | `discovery_restricted` | no |
//! | 6 | the email is not older than [`lookback_start`] | `before_lookback` | no |
//! | 7 | the thread had activity within six months before `now` | `thread_inactive` | no |
//! | 8 | a thread removed for inactivity syncs only what came after the removal | `before_reactivation` | no |
//!
//! Why this order:
//!
//! - **0** comes first: a mailbox that lost its authorization syncs nothing new, whatever the
//!   message. (A queued job can still be running when the seat deauthorizes.)
//! - **1** is structural: rules 2 to 5 are about *the* counterpart, and only an email
//!   between the seat and exactly one other person has one. The rule is about the email,
//!   not the thread: a recruiter who copies the hiring manager once in a candidate's thread
//!   loses that email, never the conversation; the thread's one-to-one emails before and
//!   after it keep syncing. A provider's thread can also hold one-to-one emails with
//!   someone else (a reply forwarded to a colleague outside the organization): the stored
//!   conversation is the one with its counterpart, and the others are left out.
//! - **2** before the directory: a colleague is not a candidate, and "internal" is the precise
//!   reason, where "no profile" would send the recruiter looking for a missing candidate.
//! - **4 before 3**: both look at the directory entry of the counterpart. No entry at all is
//!   `no_profile` (rule 4); an entry that exists but is not in the active pipeline is
//!   `not_in_pipeline` (rule 3). Asking "is there a profile?" first is the only order in
//!   which each reason states exactly what is missing. A conversation started from the
//!   product (the message, or the stored thread) is exempt from both, as the product rules
//!   say; it then syncs without a profile when no entry exists.
//! - **5** needs the candidate's entry, so it follows 3 and 4. The product rules grant the
//!   product-started exception to the pipeline and profile rules only, so a candidate's
//!   discovery setting is honoured even for conversations the recruiter started from the
//!   product. With no entry there is no setting to honour.
//! - **6, 7, 8**: when the message or thread happened. The lookback (6) bounds the historical
//!   sync and concerns the message alone; activity (7) concerns the thread; the
//!   reactivation rule (8) only matters for a thread that passes everything else.
//!
//! # What the caller must provide
//!
//! - `ThreadState` is the live thread (its counterpart and profile) merged with the
//!   tombstone the retention sweep left when it removed the thread for inactivity: the
//!   removal's instant keeps what was removed from coming back (rule 8).
//! - During a historical sync, feed a thread's messages newest first: the newest message
//!   decides whether the thread is active (rule 7), and the thread state it creates lets
//!   the older messages of an active thread through. The worker can only sort within a
//!   page, so when a message stores a new thread it judges again the thread's messages it
//!   had skipped as `thread_inactive`.
//! - The directory holds the entries of the message's addresses other than the seat's
//!   (see [`others`]); an address it does not have is a person of its own.
//!
//! # How the product rules are read
//!
//! - **Participants** are people, not addresses. Every address of the seat's mailbox is the
//!   seat ([`Connection::is_own`]: the authorized address, its aliases and send-as
//!   addresses, any of them with a `+tag`), and the seat always counts, listed or not: mail
//!   that reached it through a distribution list has the list as a second other person.
//!   Two addresses on one candidate profile are one person (a candidate writing from a
//!   second address is still the same candidate). Addresses are lower-cased when parsed.
//! - **Domain** means the exact part after the `@`. `eu.acme.com` is not `acme.com`: telling
//!   an organization's own subdomain from someone else's would need a list of public
//!   suffixes and of the organization's domains, which the product rules do not give. Only
//!   the authorized address's domain counts, not other domains the organization may own.
//! - **"After 6 February 2024"** includes that day: the floor is 2024-02-06T00:00:00Z, and
//!   the switch is the first authorization being strictly before 2025-02-05T00:00:00Z, both
//!   in UTC.
//! - **No rule removes a conversation.** An email that breaks a rule is left out alone. A
//!   candidate who leaves the pipeline or narrows their discovery setting later stops *new*
//!   messages from syncing; what to do with what was synced before is for the directory's
//!   own handling, not this function. Conversations leave for inactivity (the retention
//!   sweep) and emails when the mailbox deletes them.
//! - **Six months of activity** are calendar months counted back from `now`, and a thread
//!   whose latest activity is exactly six months old still counts as active. The retention
//!   sweep ([`crate::mail::Thread::is_expired`]) counts forward from the last activity and
//!   removes at exactly six months; at that seam a thread the sweep has just removed may
//!   look active here, and rule 8 keeps its old messages from coming back.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::directory::DirectoryEntry;
use crate::ids::{EmailAddress, ProfileId};
use crate::mail::INACTIVITY_MONTHS;
use crate::time;

mod reason;
pub use reason::SkipReason;

/// How far back before the historical anchor a message may be and still sync.
pub const LOOKBACK_YEARS: i16 = 1;

/// Connections first authorized strictly before this instant (2025-02-05T00:00:00Z) also
/// never sync anything before [`HISTORY_FLOOR`].
pub const HISTORY_FLOOR_FOR_FIRST_AUTHORIZED_BEFORE: Timestamp =
    Timestamp::constant(1_738_713_600, 0);

/// The earliest instant (2024-02-06T00:00:00Z, included) synced for connections first
/// authorized before [`HISTORY_FLOOR_FOR_FIRST_AUTHORIZED_BEFORE`].
pub const HISTORY_FLOOR: Timestamp = Timestamp::constant(1_707_177_600, 0);

/// A thread is imported only if it had activity within this many months before now; the
/// same period after which the retention sweep removes an idle thread.
pub const ACTIVITY_MONTHS: i32 = INACTIVITY_MONTHS;

/// What the ingest worker knows about one message from the provider's metadata.
/// Addresses are parsed (and so lower-cased) at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    /// The provider's stable id (Graph immutable id, Gmail message id).
    pub provider_id: String,
    /// The provider's thread or conversation id.
    pub thread_id: String,
    pub from: EmailAddress,
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub bcc: Vec<EmailAddress>,
    /// When the message was sent (for the seat's own mail) or received.
    pub at: Timestamp,
    /// The product sent this message on the seat's behalf.
    pub started_from_product: bool,
}

impl MessageFacts {
    /// Every address on the message (sender, to, cc, bcc), duplicates included.
    pub fn addresses(&self) -> impl Iterator<Item = &EmailAddress> {
        std::iter::once(&self.from)
            .chain(&self.to)
            .chain(&self.cc)
            .chain(&self.bcc)
    }
}

/// What is stored about a thread the message belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadState {
    /// The conversation was started from the product.
    pub started_from_product: bool,
    /// The latest message instant of the thread.
    pub last_activity_at: Timestamp,
    /// The other person of the stored conversation; `None` when only a tombstone is left.
    pub counterpart: Option<EmailAddress>,
    /// The profile the counterpart matched when the thread was stored.
    pub profile: Option<ProfileId>,
    /// When the retention sweep last removed the thread for inactivity, if it did.
    pub removed_for_inactivity_at: Option<Timestamp>,
}

/// The candidate directory of the connection's contract, as the worker pre-fetched it.
pub trait DirectoryLookup {
    /// The candidate whose profile lists `address`, if any.
    fn candidate(&self, address: &EmailAddress) -> Option<&DirectoryEntry>;
}

impl DirectoryLookup for BTreeMap<EmailAddress, DirectoryEntry> {
    fn candidate(&self, address: &EmailAddress) -> Option<&DirectoryEntry> {
        self.get(address)
    }
}

impl<S: std::hash::BuildHasher> DirectoryLookup for HashMap<EmailAddress, DirectoryEntry, S> {
    fn candidate(&self, address: &EmailAddress) -> Option<&DirectoryEntry> {
        self.get(address)
    }
}

/// What the ingest worker does with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Store the message in its thread with `counterpart`; `profile` is `None` only for a
    /// conversation started from the product with an address no profile has yet.
    Sync {
        counterpart: EmailAddress,
        profile: Option<ProfileId>,
    },
    /// Leave this message out; the thread (if stored) stays.
    Skip(SkipReason),
}

impl Decision {
    pub fn is_sync(&self) -> bool {
        matches!(self, Decision::Sync { .. })
    }

    /// Why the message is not synced, unless it is.
    pub fn reason(&self) -> Option<&SkipReason> {
        match self {
            Decision::Sync { .. } => None,
            Decision::Skip(reason) => Some(reason),
        }
    }
}

/// The distinct addresses on `message` that are not the seat's own
/// ([`Connection::is_own`]): whose directory entries [`decide`] needs.
pub fn others<'m>(
    message: &'m MessageFacts,
    connection: &Connection,
) -> BTreeSet<&'m EmailAddress> {
    message
        .addresses()
        .filter(|a| !connection.is_own(a))
        .collect()
}

/// Who someone on a message is: the addresses of one profile are one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Person<'a> {
    Candidate(&'a ProfileId),
    Address(&'a EmailAddress),
}

/// The other people on `message` (the seat's addresses left out), each with the addresses
/// it appears under. `directory` entries of another contract count as no entry.
fn people<'a>(
    message: &'a MessageFacts,
    connection: &Connection,
    directory: &'a dyn DirectoryLookup,
) -> BTreeMap<Person<'a>, Vec<&'a EmailAddress>> {
    let mut people: BTreeMap<Person<'a>, Vec<&'a EmailAddress>> = BTreeMap::new();
    for address in others(message, connection) {
        let person = match directory
            .candidate(address)
            .filter(|e| e.contract_id == connection.contract_id)
        {
            Some(entry) => Person::Candidate(&entry.profile_id),
            None => Person::Address(address),
        };
        people.entry(person).or_default().push(address);
    }
    people
}

/// The earliest instant synced for `connection`, included: a message at this instant syncs,
/// one a nanosecond earlier does not. The ingest worker bounds its historical queries by it.
///
/// It is one calendar year (UTC) before [`Connection::historical_anchor`], the authorization
/// that started the latest historical sync: the first authorization, or a later one that
/// started over. A year back from 29 February lands on 28 February.
///
/// For connections first authorized strictly before 2025-02-05T00:00:00Z it is also never
/// before 2024-02-06T00:00:00Z: the cutoff is `max(anchor - 1 year, 2024-02-06T00:00:00Z)`.
/// Both limits hold together; neither widens the window the other sets:
///
/// - first authorized 2024-06-01: a year back is 2023-06-01, so the floor decides:
///   2024-02-06;
/// - first authorized 2025-02-04T23:59:59Z: a year back is 2024-02-04T23:59:59Z, the floor
///   decides: 2024-02-06T00:00:00Z;
/// - first authorized 2025-02-05T00:00:00Z: the floor no longer applies, a year back is
///   2024-02-05T00:00:00Z (a day earlier than for the connection one second older: the
///   product rule has this seam and it is kept as written);
/// - first authorized 2024-06-01, new historical sync anchored 2026-03-01: a year back is
///   2025-03-01, later than the floor, so 2025-03-01. Taking the floor alone would reach
///   back two years; the one-year limit is never lifted.
///
/// Whether the floor applies depends on the *first* authorization, never on the anchor: a
/// connection keeps the rule it was first authorized under.
pub fn lookback_start(connection: &Connection) -> Timestamp {
    let one_year = time::sub_years(connection.historical_anchor, LOOKBACK_YEARS);
    if connection.first_authorized_at < HISTORY_FLOOR_FOR_FIRST_AUTHORIZED_BEFORE {
        one_year.max(HISTORY_FLOOR)
    } else {
        one_year
    }
}

/// The earliest latest-activity instant, included, for which a thread counts as active at
/// `now`: six calendar months (UTC) before `now`, clamped to the month end (six months
/// before 31 August is 28 or 29 February).
pub fn active_since(now: Timestamp) -> Timestamp {
    time::sub_months(now, ACTIVITY_MONTHS)
}

/// Decides whether `message`, pulled from the mailbox of `connection`'s seat, syncs. `thread`
/// is the stored state of its thread (`None` when the thread is not stored). `directory` is
/// the candidate directory of the connection's contract; an entry of another contract
/// counts as no entry. See the [module documentation](self) for the rules and their order.
pub fn decide(
    message: &MessageFacts,
    thread: Option<&ThreadState>,
    connection: &Connection,
    directory: &dyn DirectoryLookup,
    now: Timestamp,
) -> Decision {
    // 0. A mailbox that lost its authorization syncs nothing new.
    if !connection.is_authorized() {
        return Decision::Skip(SkipReason::NotAuthorized {
            state: connection.state,
        });
    }
    let seat = &connection.grant.address;

    // 1. This email is one-to-one. The seat counts even when it is not listed (mail that
    // reached it through a list), so such mail never looks one-to-one.
    let people = people(message, connection, directory);
    if people.len() > 1 {
        return Decision::Skip(SkipReason::TooManyParticipants {
            participants: people.len() + 1,
        });
    }
    let Some((person, addresses)) = people.into_iter().next() else {
        return Decision::Skip(SkipReason::NoCounterpart);
    };
    // The address the conversation is with: the stored thread's when this person is its
    // counterpart (under that address or another of their profile's), else the one that
    // wrote, else the first listed (in address order).
    let written = addresses
        .iter()
        .copied()
        .find(|a| **a == message.from)
        .unwrap_or(addresses[0]);
    // (A stored counterpart that has since become one of the seat's own addresses is no
    // one's: the email's other person is named.)
    let stored = thread
        .and_then(|t| t.counterpart.as_ref())
        .filter(|with| !connection.is_own(with));
    let counterpart = match stored {
        None => written,
        Some(with) => {
            let profile_of_with = thread.and_then(|t| t.profile.as_ref()).or_else(|| {
                directory
                    .candidate(with)
                    .filter(|e| e.contract_id == connection.contract_id)
                    .map(|e| &e.profile_id)
            });
            let same_person = addresses.contains(&with)
                || matches!(person, Person::Candidate(p) if profile_of_with == Some(p));
            if !same_person {
                return Decision::Skip(SkipReason::OtherCounterpart {
                    counterpart: written.clone(),
                    conversation_with: with.clone(),
                });
            }
            with
        }
    };

    // 2. Internal mail: the exact domain after the '@'. A subdomain is another domain. Any
    // of the person's addresses on the email counts, so the answer does not depend on
    // which of them wrote.
    let same_domain = |a: &EmailAddress| a.domain().eq_ignore_ascii_case(seat.domain());
    if let Some(internal) = std::iter::once(counterpart)
        .chain(addresses.iter().copied())
        .find(|a| same_domain(a))
    {
        return Decision::Skip(SkipReason::SameDomain {
            counterpart: internal.clone(),
            domain: seat.domain().to_owned(),
        });
    }

    // 4, then 3. Who the counterpart is, unless the conversation started from the product.
    let started_from_product =
        message.started_from_product || thread.is_some_and(|t| t.started_from_product);
    // The person's entry, under whichever of their addresses the email carries.
    let entry = match person {
        Person::Candidate(_) => addresses.iter().find_map(|a| {
            directory
                .candidate(a)
                .filter(|entry| entry.contract_id == connection.contract_id)
        }),
        Person::Address(_) => None,
    };
    if !started_from_product {
        match entry {
            None => {
                return Decision::Skip(SkipReason::NoProfile {
                    counterpart: counterpart.clone(),
                })
            }
            Some(entry) if !entry.in_pipeline => {
                return Decision::Skip(SkipReason::NotInPipeline {
                    counterpart: counterpart.clone(),
                    profile: entry.profile_id.clone(),
                })
            }
            Some(_) => {}
        }
    }

    // 5. The candidate's discovery setting, with no exception.
    if let Some(entry) = entry {
        if !entry.discoverable_by(&connection.seat_id) {
            return Decision::Skip(SkipReason::DiscoveryRestricted {
                counterpart: counterpart.clone(),
                profile: entry.profile_id.clone(),
                discovery: entry.discovery,
            });
        }
    }

    // 6. The lookback: the cutoff itself is included.
    let cutoff = lookback_start(connection);
    if message.at < cutoff {
        return Decision::Skip(SkipReason::BeforeLookback {
            at: message.at,
            cutoff,
        });
    }

    // 7. Activity: this message is activity too, so a recent message always passes.
    let last_activity_at = thread.map_or(message.at, |t| t.last_activity_at.max(message.at));
    let since = active_since(now);
    if last_activity_at < since {
        return Decision::Skip(SkipReason::ThreadInactive {
            last_activity_at,
            active_since: since,
        });
    }

    // 8. After a removal for inactivity, only what came later.
    if let Some(removed_at) = thread.and_then(|t| t.removed_for_inactivity_at) {
        if message.at <= removed_at {
            return Decision::Skip(SkipReason::BeforeReactivation {
                at: message.at,
                removed_at,
            });
        }
    }

    Decision::Sync {
        counterpart: counterpart.clone(),
        profile: entry.map(|entry| entry.profile_id.clone()),
    }
}
