//! A seat's authorization of its mailbox or calendar, and what happens to it over time.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::access::{DeauthorizationReason, Effect, ReconnectReason};
use crate::contract::Provider;
use crate::ids::{ContractId, EmailAddress, SeatId, UserId};
use crate::time;

/// A seat authorizes its email and its calendar separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    Email,
    Calendar,
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 2] = [ConnectionKind::Email, ConnectionKind::Calendar];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Email => "email",
            ConnectionKind::Calendar => "calendar",
        }
    }

    /// The kind [`ConnectionKind::as_str`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectionKind::Email => "mailbox",
            ConnectionKind::Calendar => "calendar",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Authorized,
    Deauthorized { reason: DeauthorizationReason },
    NeedsReconnect { reason: ReconnectReason },
}

/// Where incremental sync resumes, per stream (a Graph folder's delta link, a Gmail history
/// id, a Calendar sync token). The values are opaque provider tokens: never compared, only
/// replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub BTreeMap<String, String>);

/// Where the next reconciliation slice starts (a store page token); absent: at the first
/// stored message.
pub const RECONCILE_AFTER: &str = "reconcile_after";
/// When the last reconciliation slice was checked (RFC 3339).
pub const RECONCILED_AT: &str = "reconciled_at";
/// How often a connection's stored messages are reconciled with the mailbox.
pub const RECONCILE_EVERY_DAYS: i64 = 7;

impl Cursor {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the connection's stored messages are due to be checked against the mailbox
    /// at `now`: [`RECONCILE_EVERY_DAYS`] after the last check, or never checked while its
    /// sync is under way (a cursor exists).
    pub fn reconcile_due(&self, now: Timestamp) -> bool {
        if self.is_empty() {
            return false;
        }
        let every = RECONCILE_EVERY_DAYS * 24 * 3600;
        match self
            .0
            .get(RECONCILED_AT)
            .and_then(|at| at.parse::<Timestamp>().ok())
        {
            Some(at) => at.as_second().saturating_add(every) <= now.as_second(),
            None => true,
        }
    }
}

/// What a grant looked like when the provider confirmed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub provider: Provider,
    /// The mailbox or calendar address the provider reported for the grant.
    pub address: EmailAddress,
    pub scopes: BTreeSet<String>,
    /// The account's organization as its ID token names it (a Microsoft tenant id, a
    /// Google Workspace domain); `None` for a personal account.
    pub organization: Option<String>,
}

/// How syncing starts after an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStart {
    /// Pick up from the stored cursor.
    Resume,
    /// Run a historical sync anchored at this authorization.
    Historical,
}

/// How long after a deauthorization a reauthorization still resumes from the cursor.
pub const RESUME_WINDOW_MONTHS: i32 = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    pub kind: ConnectionKind,
    pub grant: Grant,
    pub state: ConnectionState,
    pub first_authorized_at: Timestamp,
    pub last_authorized_at: Timestamp,
    pub deauthorized_at: Option<Timestamp>,
    /// The authorization that started the latest historical sync; the lookback is counted
    /// from here.
    pub historical_anchor: Timestamp,
    pub cursor: Cursor,
    /// The person who authorized it (the bearer token's `sub`); what it syncs is theirs.
    /// `None` on connections stored before it was recorded.
    #[serde(default)]
    pub authorized_by: Option<UserId>,
    /// The mailbox's other addresses (Graph proxy addresses, Gmail send-as addresses), as
    /// the provider listed them when the seat connected or its push was last renewed. Mail
    /// from or to one of them is the seat's own, like mail to its authorized address.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub aliases: BTreeSet<EmailAddress>,
}

impl Connection {
    /// The first authorization of this kind for this seat: a historical sync follows.
    pub fn first(
        contract_id: ContractId,
        seat_id: SeatId,
        kind: ConnectionKind,
        grant: Grant,
        now: Timestamp,
    ) -> Self {
        Self {
            contract_id,
            seat_id,
            kind,
            grant,
            state: ConnectionState::Authorized,
            first_authorized_at: now,
            last_authorized_at: now,
            deauthorized_at: None,
            historical_anchor: now,
            cursor: Cursor::default(),
            authorized_by: None,
            aliases: BTreeSet::new(),
        }
    }

    /// Whether `address` is the seat's own: its authorized address or one of its
    /// [`aliases`](Connection::aliases), with or without a `+tag` (`rita+jobs@acme.example`
    /// is `rita@acme.example`; both providers deliver subaddressed mail to the mailbox).
    pub fn is_own(&self, address: &EmailAddress) -> bool {
        let untagged = address.untagged();
        std::iter::once(&self.grant.address)
            .chain(&self.aliases)
            .any(|own| own == address || own.untagged() == untagged)
    }

    /// Records who authorized it.
    pub fn by(mut self, user: UserId) -> Self {
        self.authorized_by = Some(user);
        self
    }

    pub fn is_authorized(&self) -> bool {
        self.state == ConnectionState::Authorized
    }

    /// Decides how syncing starts if the seat authorizes again at `now` with `grant`.
    ///
    /// Syncing resumes from the stored cursor when the grant is for the same mailbox with the
    /// same provider, a cursor exists, and the seat comes back within six months (inclusive)
    /// of losing authorization. Anything else starts a new historical sync: a different
    /// mailbox's cursor means nothing, and a cursor older than six months would skip what the
    /// retention sweep has removed in between.
    pub fn sync_start_on_reauthorization(&self, grant: &Grant, now: Timestamp) -> SyncStart {
        let same_mailbox =
            grant.provider == self.grant.provider && grant.address == self.grant.address;
        if !same_mailbox || self.cursor.is_empty() {
            return SyncStart::Historical;
        }
        match self.deauthorized_at {
            // Still authorized (a re-consent, e.g. to add the send scope): nothing was missed.
            None => SyncStart::Resume,
            Some(lost) if now <= time::add_months(lost, RESUME_WINDOW_MONTHS) => SyncStart::Resume,
            Some(_) => SyncStart::Historical,
        }
    }

    /// Records a new authorization and returns how syncing starts.
    pub fn reauthorize(&mut self, grant: Grant, now: Timestamp) -> SyncStart {
        let start = self.sync_start_on_reauthorization(&grant, now);
        self.reauthorize_with(grant, start, now)
    }

    /// Authorized again by `user`. Another person than the one who authorized it before (the
    /// seat changed hands) starts a new historical sync, like another mailbox would: what
    /// was synced before was synced for them.
    pub fn reauthorize_by(&mut self, grant: Grant, user: UserId, now: Timestamp) -> SyncStart {
        let same_person = self.authorized_by.as_ref().is_none_or(|u| *u == user);
        let start = if same_person {
            self.sync_start_on_reauthorization(&grant, now)
        } else {
            SyncStart::Historical
        };
        self.authorized_by = Some(user);
        self.reauthorize_with(grant, start, now)
    }

    fn reauthorize_with(&mut self, grant: Grant, start: SyncStart, now: Timestamp) -> SyncStart {
        if start == SyncStart::Historical {
            self.cursor = Cursor::default();
            self.historical_anchor = now;
        }
        self.grant = grant;
        self.state = ConnectionState::Authorized;
        self.last_authorized_at = now;
        self.deauthorized_at = None;
        start
    }

    /// The seat (or a seat change) removes the authorization. Returns whether it lost its
    /// authorization by this; a connection that is not authorized stays as it is.
    pub fn deauthorize(&mut self, reason: DeauthorizationReason, now: Timestamp) -> bool {
        if !self.is_authorized() {
            return false;
        }
        self.state = ConnectionState::Deauthorized { reason };
        self.deauthorized_at = Some(now);
        true
    }

    /// Loses its authorization if its account is not of one of `allowed` (a personal account
    /// is of none), when an admin pinned the contract to them; an empty list pins nothing.
    /// Like [`Connection::apply`], an authorization newer than the change stands.
    pub fn enforce_organizations(
        &mut self,
        allowed: &BTreeSet<String>,
        issued_at: Timestamp,
        now: Timestamp,
    ) -> bool {
        let outside = !allowed.is_empty()
            && self
                .grant
                .organization
                .as_ref()
                .is_none_or(|org| !allowed.contains(org));
        if !outside || self.last_authorized_at > issued_at {
            return false;
        }
        self.deauthorize(DeauthorizationReason::OrganizationNotAllowed, now)
    }

    /// The connection cannot be used until the seat authorizes again. Returns whether it
    /// lost its authorization by this (a deauthorized connection changes state but had
    /// nothing left to lose).
    pub fn require_reconnect(&mut self, reason: ReconnectReason, now: Timestamp) -> bool {
        let was_authorized = self.is_authorized();
        if was_authorized {
            self.deauthorized_at = Some(now);
        }
        self.state = ConnectionState::NeedsReconnect { reason };
        was_authorized
    }

    /// Applies one effect of a settings or seat change. Returns whether this connection lost
    /// its authorization by it, and so whether its tokens must be revoked and its push
    /// subscriptions stopped. The caller persists the connection whenever it differs.
    ///
    /// `issued_at` is when the change was made: an authorization granted after it (the seat
    /// reconnected while the change was still being carried out) is left alone, so a late
    /// or redelivered effect never undoes a newer grant.
    pub fn apply(&mut self, effect: &Effect, issued_at: Timestamp, now: Timestamp) -> bool {
        if self.last_authorized_at > issued_at {
            return false;
        }
        match *effect {
            Effect::Deauthorize { kind, reason } if kind == self.kind => {
                self.deauthorize(reason, now)
            }
            Effect::RequireReconnect { reason } => self.require_reconnect(reason, now),
            // Needs the organizations: see `enforce_organizations`.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_reconciliation_is_due_weekly_once_the_sync_has_started() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let cursor = |pairs: &[(&str, &str)]| {
            Cursor(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        let now = at("2026-06-10T12:00:00Z");
        assert!(!Cursor::default().reconcile_due(now), "nothing synced yet");
        assert!(cursor(&[("graph_inbox", "x")]).reconcile_due(now));
        let last = |t: &str| cursor(&[("graph_inbox", "x"), (RECONCILED_AT, t)]);
        assert!(!last("2026-06-03T12:00:01Z").reconcile_due(now));
        assert!(last("2026-06-03T12:00:00Z").reconcile_due(now));
        assert!(last("not a time").reconcile_due(now));
    }

    #[test]
    fn the_seats_own_addresses_are_its_address_its_aliases_and_their_tags() {
        let addr = |s: &str| EmailAddress::parse(s).unwrap();
        let mut conn = Connection::first(
            ContractId::parse("acme").unwrap(),
            SeatId::parse("s1").unwrap(),
            ConnectionKind::Email,
            Grant {
                provider: Provider::Microsoft365,
                address: addr("rita@acme.example"),
                scopes: BTreeSet::new(),
                organization: None,
            },
            "2026-01-01T00:00:00Z".parse().unwrap(),
        );
        conn.aliases.insert(addr("recruiting@acme.example"));
        for own in [
            "rita@acme.example",
            "RITA@acme.example",
            "rita+jobs@acme.example",
            "recruiting@acme.example",
            "recruiting+eng@acme.example",
        ] {
            assert!(conn.is_own(&addr(own)), "{own}");
        }
        for other in [
            "rita@acme.example.org",
            "rita.m@acme.example",
            "ritas@acme.example",
            "hr@acme.example",
            "+rita@acme.example",
        ] {
            assert!(!conn.is_own(&addr(other)), "{other}");
        }
    }
}
