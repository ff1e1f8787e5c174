//! Key builders. Every partition and sort key of the tenancy table is made here.
//!
//! Ids never contain `#` (the domain refuses it), so `#` separates the parts unambiguously.

use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};

pub const CONTRACT_SK: &str = "CONTRACT";
pub const SEAT_PREFIX: &str = "SEAT#";
pub const CONNECTION_PREFIX: &str = "CONN#";
pub const CANDIDATE_PREFIX: &str = "CAND#";
pub const CANDIDATE_EMAIL_PREFIX: &str = "EMAIL#";

/// The partition of everything a contract owns in the tenancy table.
pub fn contract_pk(contract: &ContractId) -> String {
    format!("CONTRACT#{contract}")
}

pub fn seat_sk(seat: &SeatId) -> String {
    format!("{SEAT_PREFIX}{seat}")
}

pub fn connection_sk(seat: &SeatId, kind: ConnectionKind) -> String {
    format!("{CONNECTION_PREFIX}{seat}#{}", kind.as_str())
}

/// The connections of one seat share this prefix.
pub fn seat_connections_prefix(seat: &SeatId) -> String {
    format!("{CONNECTION_PREFIX}{seat}#")
}

/// The candidate directory of a contract lives in its own partition, apart from the
/// contract's seats, so directory traffic never heats the contract's partition.
pub fn directory_pk(contract: &ContractId) -> String {
    format!("DIR#{contract}")
}

pub fn candidate_sk(profile: &ProfileId) -> String {
    format!("{CANDIDATE_PREFIX}{profile}")
}

pub fn candidate_email_sk(address: &EmailAddress) -> String {
    format!("{CANDIDATE_EMAIL_PREFIX}{address}")
}

pub const LEARNED_GRAPH_SK: &str = "LEARNED#graph";
pub const AUTH_SK: &str = "AUTH";
pub const SUBSCRIPTION_SK: &str = "SUB";
pub const SUBSCRIPTION_REF_PREFIX: &str = "SUBREF#";
/// Renewal index partitions: spreads a fleet's subscriptions over this many keys.
pub const RENEWAL_SHARDS: u32 = 16;

/// A seat's sealed refresh token for one connection, apart from the connection item so that
/// listing connections never reads a secret and rotating a token never bumps the
/// connection's version.
pub fn token_sk(seat: &SeatId, kind: ConnectionKind) -> String {
    format!("TOKEN#{seat}#{}", kind.as_str())
}

/// A connection's sync status (stage, progress, last success and error).
pub fn sync_status_sk(seat: &SeatId, kind: ConnectionKind) -> String {
    format!("SYNC#{seat}#{}", kind.as_str())
}

/// A pending authorization, looked up by the id its signed `state` carries.
pub fn authorization_pk(id: &str) -> String {
    format!("AUTH#{id}")
}

/// A push subscription or channel, looked up by the id the provider's notification carries.
pub fn subscription_pk(id: &str) -> String {
    format!("SUB#{id}")
}

/// The pointer from a connection to one of its subscriptions.
pub fn subscription_ref_sk(seat: &SeatId, kind: ConnectionKind, id: &str) -> String {
    format!("{SUBSCRIPTION_REF_PREFIX}{seat}#{}#{id}", kind.as_str())
}

pub fn subscription_refs_prefix(seat: &SeatId, kind: ConnectionKind) -> String {
    format!("{SUBSCRIPTION_REF_PREFIX}{seat}#{}#", kind.as_str())
}

/// FNV-1a: a stable hash (unlike std's), so an id always lands in the same shard.
pub fn shard(value: &str, shards: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in value.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % shards.max(1)
}

/// Who holds an account's mailbox or calendar: one item per provider, kind and address,
/// outside any contract's partition, since the rule spans contracts.
pub fn mailbox_pk(
    provider: hiresync_domain::contract::Provider,
    kind: ConnectionKind,
    address: &EmailAddress,
) -> String {
    let provider = match provider {
        hiresync_domain::contract::Provider::Microsoft365 => "microsoft365",
        hiresync_domain::contract::Provider::GoogleWorkspace => "google_workspace",
    };
    format!(
        "MAILBOX#{provider}#{}#{}",
        kind.as_str(),
        escape_part(address.as_str())
    )
}
pub const MAILBOX_SK: &str = "MAILBOX";

/// The `by-renewal` partitions of subscriptions (`RENEW#<n>`).
pub const RENEWAL_PARTITION: &str = "RENEW";
/// The `by-renewal` partitions of retirements (`RETIRE#<n>`), apart from subscriptions'.
pub const RETIREMENT_PARTITION: &str = "RETIRE";

pub fn renewal_pk(subscription_id: &str) -> String {
    format!(
        "{RENEWAL_PARTITION}#{}",
        shard(subscription_id, RENEWAL_SHARDS)
    )
}

/// The provider work a connection's deauthorization left, one per connection version
/// (zero-padded, so a seat's retirements sort in order).
pub fn retirement_sk(seat: &SeatId, kind: ConnectionKind, version: u64) -> String {
    format!(
        "{RETIREMENT_PARTITION}#{seat}#{}#{version:020}",
        kind.as_str()
    )
}

/// A retirement's place in the `by-renewal` index: its own shards, due at `at`.
pub fn retirement_due_keys(
    contract: &ContractId,
    seat: &SeatId,
    kind: ConnectionKind,
    version: u64,
    at: hiresync_domain::Timestamp,
) -> (String, String) {
    let name = format!("{contract}#{seat}#{}#{version}", kind.as_str());
    (
        format!("{RETIREMENT_PARTITION}#{}", shard(&name, RENEWAL_SHARDS)),
        renewal_sk(at, &name),
    )
}

/// Fixed-width UTC seconds, so that string order is time order.
pub fn sortable_instant(at: hiresync_domain::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn renewal_sk(renew_at: hiresync_domain::Timestamp, subscription_id: &str) -> String {
    format!("{}#{subscription_id}", sortable_instant(renew_at))
}

/// The `by-renewal` partitions of sync statuses (`QUIET#<n>`), by the instant of their last
/// success: the catch-up run finds the connections quiet for too long.
pub const QUIET_PARTITION: &str = "QUIET";

/// A sync status's place in the `by-renewal` index: its shard and
/// `<quiet since>#<contract>#<seat>#<kind>`.
pub fn quiet_keys(
    contract: &ContractId,
    seat: &SeatId,
    kind: ConnectionKind,
    since: hiresync_domain::Timestamp,
) -> (String, String) {
    let name = format!("{contract}#{seat}#{}", kind.as_str());
    (
        format!("{QUIET_PARTITION}#{}", shard(&name, RENEWAL_SHARDS)),
        renewal_sk(since, &name),
    )
}

/// A purge run's receipt, named by the suspension it follows.
pub const PURGE_RUN_PREFIX: &str = "PURGE#";

pub fn purge_run_sk(suspended_at: hiresync_domain::Timestamp) -> String {
    format!("{PURGE_RUN_PREFIX}{}", sortable_instant(suspended_at))
}

/// One seat's part of a purge run; apart from the runs' prefix, so the latest run is the
/// first of a reverse query of `PURGE#`.
pub fn purge_seat_sk(suspended_at: hiresync_domain::Timestamp, seat: &SeatId) -> String {
    format!("{}{seat}", purge_seats_prefix(suspended_at))
}

pub fn purge_seats_prefix(suspended_at: hiresync_domain::Timestamp) -> String {
    format!("PURGESEAT#{}#", sortable_instant(suspended_at))
}

/// The prefixes of the contract partition's items that hold a seat's third-party data;
/// each is followed by the seat.
pub const SEAT_THIRD_PARTY_PREFIXES: [&str; 5] = ["CONN#", "TOKEN#", "SYNC#", "SUBREF#", "RETIRE#"];

/// The prefixes of the contract partition's items that hold the contract's own third-party
/// data: what its providers told us (`LEARNED#`) and its Zoom items ([`ZOOM_PREFIX`]).
pub const CONTRACT_THIRD_PARTY_PREFIXES: [&str; 2] = ["LEARNED#", ZOOM_PREFIX];

/// The seat prefixes narrowed to one seat.
pub fn seat_third_party_prefixes(seat: &SeatId) -> Vec<String> {
    SEAT_THIRD_PARTY_PREFIXES
        .iter()
        .map(|p| format!("{p}{seat}#"))
        .collect()
}

/// The seat a contract-partition sort key names after one of the seat prefixes, if it
/// names one (the contract's own items name none).
pub fn seat_of_sk(sk: &str) -> Option<&str> {
    SEAT_THIRD_PARTY_PREFIXES
        .iter()
        .find_map(|p| sk.strip_prefix(p))?
        .split('#')
        .next()
        .filter(|s| !s.is_empty())
}

/// The contract's Zoom connection: the account and its sealed tokens, one versioned item.
pub const ZOOM_SK: &str = "ZOOM";
/// An admin's Zoom sign-in in progress, by the id its OAuth `state` carries.
pub const ZOOM_PENDING_PREFIX: &str = "ZOOMAUTH#";
/// Every Zoom item of a contract: the connection ([`ZOOM_SK`]) and the sign-ins in
/// progress ([`ZOOM_PENDING_PREFIX`]). Nothing else in the partition may start with it.
pub const ZOOM_PREFIX: &str = "ZOOM";

/// The id is escaped: it comes back through Zoom's redirect, and is not ours until taken.
pub fn zoom_pending_sk(id: &str) -> String {
    format!("{ZOOM_PENDING_PREFIX}{}", escape_part(id))
}

// ---------------------------------------------------------------- MailTable

/// The thread items of a seat's partition start with this (their messages too: a thread's
/// messages sort right after it).
pub const THREAD_PREFIX: &str = "T#";
/// The retention sweep's mark (the first day that may still hold expired threads): the
/// mail table's one item that belongs to no seat.
pub const SWEEP_PK: &str = "SWEEP";
pub const SWEEP_SK: &str = "MARK";

/// Expiry index partitions per day: one day's bucket is split over this many keys.
pub const EXPIRY_SHARDS: u32 = 32;

/// Makes a provider's string safe as one part of a key: `%` and `#` are percent-encoded
/// (`%25`, `%23`), so `#` keeps separating key parts even when a provider's id or an
/// address contains one. Provider ids are not ours to validate: Graph's immutable ids are
/// base64-like, a Message-ID and an address's local part may contain `#`.
pub fn escape_part(part: &str) -> std::borrow::Cow<'_, str> {
    if part.contains(['%', '#']) {
        std::borrow::Cow::Owned(part.replace('%', "%25").replace('#', "%23"))
    } else {
        std::borrow::Cow::Borrowed(part)
    }
}

/// The inverse of [`escape_part`]. Anything it would not have produced is kept as is.
pub fn unescape_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("%23") {
            out.push('#');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("%25") {
            out.push('%');
            rest = after;
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The partition of everything synced for one seat (threads, messages, guards, skips).
/// It carries the contract: seat ids are unique only within their contract.
pub fn mail_pk(contract: &ContractId, seat: &SeatId) -> String {
    format!("{SEAT_PREFIX}{contract}#{seat}")
}

/// The contract and seat of a mail partition key, if it is one.
pub fn seat_of_mail_pk(pk: &str) -> Option<(&str, &str)> {
    pk.strip_prefix(SEAT_PREFIX)?.split_once('#')
}

pub fn thread_sk(thread_id: &str) -> String {
    format!("{THREAD_PREFIX}{}", escape_part(thread_id))
}

/// The messages of one thread, and nothing else: the trailing `#M#` keeps thread `t1`
/// from matching thread `t10`, and the thread item itself (`T#t1`) from matching.
pub fn thread_messages_prefix(thread_id: &str) -> String {
    format!("{THREAD_PREFIX}{}#M#", escape_part(thread_id))
}

pub fn message_sk(thread_id: &str, provider_id: &str) -> String {
    format!(
        "{}{}",
        thread_messages_prefix(thread_id),
        escape_part(provider_id)
    )
}

/// The thread id in a thread item's sort key, if it is one.
pub fn thread_id_of_sk(sk: &str) -> Option<String> {
    let escaped = sk.strip_prefix(THREAD_PREFIX)?;
    (!escaped.contains('#')).then(|| unescape_part(escaped))
}

/// The guard that makes one RFC 5322 Message-ID stored once per seat.
/// Where a provider id points at its thread, so a delete notified by id alone (Graph
/// `@removed`, Gmail `messageDeleted`) finds the message.
pub fn provider_pointer_sk(provider_id: &str) -> String {
    format!("PID#{}", escape_part(provider_id))
}

pub fn message_id_guard_sk(internet_message_id: &str) -> String {
    format!("MID#{}", escape_part(internet_message_id))
}

/// The `by-counterpart` partition of a contract's threads matched to a candidate profile
/// (an address never starts with `P#`: `#` is escaped in it).
pub fn profile_threads_pk(contract: &ContractId, profile: &ProfileId) -> String {
    format!("CP#{contract}#P#{profile}")
}

/// The `by-counterpart` partition of a contract's threads with an address that matched no
/// profile.
pub fn counterpart_pk(contract: &ContractId, counterpart: &EmailAddress) -> String {
    format!("CP#{contract}#{}", escape_part(counterpart.as_str()))
}

pub fn counterpart_sk(seat: &SeatId, thread_id: &str) -> String {
    format!("{seat}#{}", escape_part(thread_id))
}

/// The instant an expiry key is written with: the expiry rounded up to a whole second, so
/// that comparing whole seconds with `now` never finds a thread before it has expired.
pub fn expiry_key_instant(expires_at: hiresync_domain::Timestamp) -> hiresync_domain::Timestamp {
    if expires_at.subsec_nanosecond() > 0 {
        hiresync_domain::Timestamp::from_second(expires_at.as_second().saturating_add(1))
            .unwrap_or(expires_at)
    } else {
        expires_at
    }
}

/// One shard of one day's expiry bucket.
pub fn expiry_bucket_pk(day: jiff::civil::Date, shard: u32) -> String {
    format!("EXP#{}#{shard}", day.strftime("%Y-%m-%d"))
}

/// The expiry bucket of a thread: the UTC day of its (rounded) expiry, and a shard from a
/// stable hash of contract, seat and thread.
pub fn expiry_pk(
    contract: &ContractId,
    seat: &SeatId,
    thread_id: &str,
    expires_at: hiresync_domain::Timestamp,
) -> String {
    let day = expiry_key_instant(expires_at)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    expiry_bucket_pk(
        day,
        shard(&format!("{contract}#{seat}#{thread_id}"), EXPIRY_SHARDS),
    )
}

pub fn expiry_sk(
    expires_at: hiresync_domain::Timestamp,
    contract: &ContractId,
    seat: &SeatId,
    thread_id: &str,
) -> String {
    format!(
        "{}#{contract}#{seat}#{}",
        sortable_instant(expiry_key_instant(expires_at)),
        escape_part(thread_id)
    )
}

/// What is left of a thread removed for a rule or for inactivity: apart from the thread's
/// own key (`T#`), so listing a seat's threads never meets it and a new thread of the same
/// id can live beside it.
pub fn tombstone_sk(thread_id: &str) -> String {
    format!("GONE#{}", escape_part(thread_id))
}

/// The skip decisions of one counterpart: the trailing `#` keeps `a@x.org` from matching
/// `a@x.org.uk`.
/// Every skip decision of a seat, whoever the counterpart.
pub const SKIPS_PREFIX: &str = "SKIP#";

pub fn skips_prefix(counterpart: &EmailAddress) -> String {
    format!("SKIP#{}#", escape_part(counterpart.as_str()))
}

pub fn skip_sk(
    counterpart: &EmailAddress,
    at: hiresync_domain::Timestamp,
    provider_id: &str,
) -> String {
    format!(
        "{}{}#{}",
        skips_prefix(counterpart),
        sortable_instant(at),
        escape_part(provider_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_and_unambiguous() {
        let c = ContractId::parse("acme").unwrap();
        let s = SeatId::parse("seat-1").unwrap();
        assert_eq!(contract_pk(&c), "CONTRACT#acme");
        assert_eq!(seat_sk(&s), "SEAT#seat-1");
        assert_eq!(
            connection_sk(&s, ConnectionKind::Email),
            "CONN#seat-1#email"
        );
        assert!(
            connection_sk(&s, ConnectionKind::Calendar).starts_with(&seat_connections_prefix(&s))
        );
        // seat-1's prefix must not match seat-10's connections.
        let s10 = SeatId::parse("seat-10").unwrap();
        assert!(
            !connection_sk(&s10, ConnectionKind::Email).starts_with(&seat_connections_prefix(&s))
        );
        assert_eq!(directory_pk(&c), "DIR#acme");
        assert_eq!(
            candidate_email_sk(&EmailAddress::parse("Jane@X.org").unwrap()),
            "EMAIL#jane@x.org"
        );
        assert_eq!(candidate_sk(&ProfileId::parse("p-9").unwrap()), "CAND#p-9");
    }

    #[test]
    fn zoom_keys_stay_in_the_contract_and_under_one_prefix() {
        let c = ContractId::parse("acme").unwrap();
        assert_eq!(contract_pk(&c), "CONTRACT#acme");
        assert_eq!(ZOOM_SK, "ZOOM");
        assert_eq!(zoom_pending_sk("st-1"), "ZOOMAUTH#st-1");
        // An id with the separator stays one key part.
        assert_eq!(zoom_pending_sk("a#b"), "ZOOMAUTH#a%23b");
        assert!(ZOOM_SK.starts_with(ZOOM_PREFIX));
        assert!(zoom_pending_sk("st-1").starts_with(ZOOM_PREFIX));
        // The contract's own items name no seat, whatever follows their prefix.
        assert_eq!(seat_of_sk(&zoom_pending_sk("s1")), None);
        assert_eq!(seat_of_sk(ZOOM_SK), None);
        assert_eq!(seat_of_sk("LEARNED#graph"), None);
        assert_eq!(seat_of_sk("CONN#s1#email"), Some("s1"));
        let s = SeatId::parse("s1").unwrap();
        assert!(seat_third_party_prefixes(&s)
            .iter()
            .all(|p| !ZOOM_SK.starts_with(p.as_str())));
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard("abc", 16), shard("abc", 16));
        let used: std::collections::BTreeSet<u32> =
            (0..200).map(|n| shard(&format!("sub-{n}"), 16)).collect();
        assert_eq!(used.len(), 16, "200 ids reach every shard");
        // A known value pins the algorithm: changing it would orphan stored items.
        assert_eq!(shard("", 16), 0x811c_9dc5 % 16);
    }

    #[test]
    fn renewal_keys_sort_in_time_order_even_with_fractions() {
        let a: hiresync_domain::Timestamp = "2026-03-02T09:00:00.900Z".parse().unwrap();
        let b: hiresync_domain::Timestamp = "2026-03-02T09:00:01Z".parse().unwrap();
        assert!(renewal_sk(a, "x") < renewal_sk(b, "x"));
        assert_eq!(sortable_instant(b), "2026-03-02T09:00:01Z");
    }
    #[test]
    fn key_parts_with_the_separator_are_escaped_and_round_trip() {
        for raw in [
            "AAMkAGI2=",
            "a/b+c-d_e",
            "18f3a9c0b7d2e4f1",
            "a#b",
            "100%",
            "%23",
            "#%#",
            "",
        ] {
            let escaped = escape_part(raw);
            assert!(!escaped.contains('#'), "{raw:?} -> {escaped:?}");
            assert_eq!(unescape_part(&escaped), raw);
        }
        assert_eq!(escape_part("a#b%c"), "a%23b%25c");
        assert!(matches!(
            escape_part("AAMkAGI2/x+y="),
            std::borrow::Cow::Borrowed(_)
        ));
        // Two ids that differ only by an escaped character never share a key.
        assert_ne!(thread_sk("a#b"), thread_sk("a%23b"));
        assert_eq!(message_sk("conv#1", "msg#9"), "T#conv%231#M#msg%239");
        assert_eq!(
            thread_id_of_sk(&thread_sk("conv#1")).as_deref(),
            Some("conv#1")
        );
        assert_eq!(thread_id_of_sk(&message_sk("conv#1", "m")), None);
        assert_eq!(message_id_guard_sk("<a#b@x.org>"), "MID#<a%23b@x.org>");
    }

    #[test]
    fn mail_keys_follow_the_data_model() {
        let c = ContractId::parse("acme").unwrap();
        let s = SeatId::parse("seat-1").unwrap();
        let a = EmailAddress::parse("Jane#1@X.org").unwrap();
        assert_eq!(mail_pk(&c, &s), "SEAT#acme#seat-1");
        assert_eq!(
            seat_of_mail_pk("SEAT#acme#seat-1"),
            Some(("acme", "seat-1"))
        );
        // The same seat id in another contract is another partition.
        let other = ContractId::parse("globex").unwrap();
        assert_ne!(mail_pk(&c, &s), mail_pk(&other, &s));
        assert_eq!(thread_sk("t1"), "T#t1");
        assert_eq!(message_sk("t1", "m1"), "T#t1#M#m1");
        // The messages of t1 are not those of t10, nor the thread item itself.
        assert!(message_sk("t1", "m1").starts_with(&thread_messages_prefix("t1")));
        assert!(!message_sk("t10", "m1").starts_with(&thread_messages_prefix("t1")));
        assert!(!thread_sk("t1").starts_with(&thread_messages_prefix("t1")));
        assert_eq!(counterpart_pk(&c, &a), "CP#acme#jane%231@x.org");
        assert_eq!(counterpart_sk(&s, "t#1"), "seat-1#t%231");
        let at: hiresync_domain::Timestamp = "2026-03-02T09:00:00.250Z".parse().unwrap();
        assert_eq!(
            skip_sk(&a, at, "m1"),
            "SKIP#jane%231@x.org#2026-03-02T09:00:00Z#m1"
        );
        assert!(skip_sk(&a, at, "m1").starts_with(&skips_prefix(&a)));
        let longer = EmailAddress::parse("jane#1@x.org.uk").unwrap();
        assert!(!skip_sk(&longer, at, "m1").starts_with(&skips_prefix(&a)));
        assert_eq!(tombstone_sk("conv#1"), "GONE#conv%231");
        assert!(!tombstone_sk("t1").starts_with(THREAD_PREFIX));
    }

    #[test]
    fn expiry_keys_round_up_to_the_second_and_bucket_by_that_day() {
        let c = ContractId::parse("acme").unwrap();
        let s = SeatId::parse("seat-1").unwrap();
        let exact: hiresync_domain::Timestamp = "2026-09-30T09:00:00Z".parse().unwrap();
        assert_eq!(
            expiry_sk(exact, &c, &s, "t1"),
            "2026-09-30T09:00:00Z#acme#seat-1#t1"
        );
        let n = shard("acme#seat-1#t1", EXPIRY_SHARDS);
        assert_eq!(
            expiry_pk(&c, &s, "t1", exact),
            format!("EXP#2026-09-30#{n}")
        );
        // A fraction rounds up, possibly into the next day.
        let late: hiresync_domain::Timestamp = "2026-09-30T23:59:59.5Z".parse().unwrap();
        assert_eq!(
            expiry_sk(late, &c, &s, "t1"),
            "2026-10-01T00:00:00Z#acme#seat-1#t1"
        );
        assert_eq!(expiry_pk(&c, &s, "t1", late), format!("EXP#2026-10-01#{n}"));
        assert_eq!(
            expiry_bucket_pk(jiff::civil::date(2026, 9, 3), 7),
            "EXP#2026-09-03#7"
        );
        assert_eq!(
            expiry_key_instant(hiresync_domain::Timestamp::MAX),
            hiresync_domain::Timestamp::MAX
        );
    }
}
