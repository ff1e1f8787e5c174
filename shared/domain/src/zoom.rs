//! The contract's Zoom account: a connection an admin makes once for the whole contract
//! (Zoom's user-level OAuth, authorization code with PKCE). While it exists, video
//! interviews are Zoom meetings hosted by each recruiter's own Zoom user (found by the
//! address of the recruiter's connected calendar), instead of the calendar provider's own
//! video (Teams, Meet). Removing it gives video back to the calendar provider.
//!
//! Zoom rotates refresh tokens on every refresh and kills the old one, so the sealed
//! tokens are kept with the account under optimistic concurrency: whoever refreshes writes
//! the new pair over the pair it read, and whoever loses the race reads the winner's.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::authorization::AUTHORIZATION_LIFETIME;
use crate::ids::{ContractId, EmailAddress, UserId};
use crate::sealed::Sealed;

/// An access token this close to its expiry is refreshed rather than used: a meeting
/// create must not start with a token that dies on the way.
pub const ACCESS_MARGIN: SignedDuration = SignedDuration::from_secs(5 * 60);

/// An admin's Zoom sign-in in progress: made when the admin starts it, taken once when
/// Zoom's redirect comes back through the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingZoom {
    /// Random and unguessable: the OAuth `state`.
    pub id: String,
    pub contract_id: ContractId,
    /// The admin who started it; only they can finish it.
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl PendingZoom {
    pub fn new(id: String, contract_id: ContractId, user_id: UserId, now: Timestamp) -> Self {
        Self {
            id,
            contract_id,
            user_id,
            created_at: now,
            expires_at: now
                .saturating_add(AUTHORIZATION_LIFETIME)
                .unwrap_or(Timestamp::MAX),
        }
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

/// Whether the connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoomState {
    Connected,
    /// Zoom refused the grant (the app was removed from the account, the refresh token
    /// expired): the admin connects again. Video interviews meanwhile get no meeting, and
    /// the recruiter is told the account could not be signed in to.
    NeedsReconnect,
}

/// The contract's Zoom account as an admin connected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoomAccount {
    pub contract_id: ContractId,
    /// Zoom's id of the account the grant reaches.
    pub account_id: String,
    /// The Zoom user who authorized (Zoom's `users/me`).
    pub authorized_as: EmailAddress,
    /// The admin of the contract who connected it.
    pub connected_by: UserId,
    pub connected_at: Timestamp,
    pub state: ZoomState,
    /// When Zoom refused the grant, while `state` is `NeedsReconnect`.
    pub refused_at: Option<Timestamp>,
}

/// The account's tokens, sealed: the refresh token, and the last access token with its
/// expiry, so concurrent callers share one access token instead of each rotating the
/// refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomTokens {
    pub refresh: Sealed,
    pub access: Sealed,
    pub access_expires_at: Timestamp,
}

impl ZoomTokens {
    /// The stored access token is still good for a call started at `now`.
    pub fn access_usable(&self, now: Timestamp) -> bool {
        now.saturating_add(ACCESS_MARGIN)
            .is_ok_and(|t| t < self.access_expires_at)
    }
}

/// The account and its tokens, stored together (one item: a refresh writes both or
/// neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredZoom {
    pub account: ZoomAccount,
    pub tokens: ZoomTokens,
}

impl StoredZoom {
    /// The same connection with the grant refused at `now`; `None` when it already was.
    pub fn refused(&self, now: Timestamp) -> Option<StoredZoom> {
        if self.account.state == ZoomState::NeedsReconnect {
            return None;
        }
        let mut next = self.clone();
        next.account.state = ZoomState::NeedsReconnect;
        next.account.refused_at = Some(now);
        Some(next)
    }
}

/// What sealing binds a Zoom token to: the contract and which token, so a sealed token
/// copied onto another contract, or the access token swapped for the refresh token, cannot
/// be opened.
pub fn seal_context<'a>(contract: &'a ContractId, which: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("contract", contract.as_str()),
        ("integration", "zoom"),
        ("token", which),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sealed() -> Sealed {
        Sealed {
            key_id: "k".into(),
            wrapped_key: vec![1],
            nonce: vec![2],
            ciphertext: vec![3],
        }
    }

    fn stored() -> StoredZoom {
        StoredZoom {
            account: ZoomAccount {
                contract_id: ContractId::parse("c").unwrap(),
                account_id: "acc".into(),
                authorized_as: EmailAddress::parse("admin@acme.example").unwrap(),
                connected_by: UserId::parse("u").unwrap(),
                connected_at: ts("2026-03-02T09:00:00Z"),
                state: ZoomState::Connected,
                refused_at: None,
            },
            tokens: ZoomTokens {
                refresh: sealed(),
                access: sealed(),
                access_expires_at: ts("2026-03-02T10:00:00Z"),
            },
        }
    }

    #[test]
    fn an_access_token_is_used_until_five_minutes_before_it_expires() {
        let t = stored().tokens;
        assert!(t.access_usable(ts("2026-03-02T09:54:59Z")));
        assert!(!t.access_usable(ts("2026-03-02T09:55:00Z")));
        assert!(!t.access_usable(ts("2026-03-02T11:00:00Z")));
    }

    #[test]
    fn a_refused_grant_is_marked_once() {
        let now = ts("2026-03-03T09:00:00Z");
        let refused = stored().refused(now).unwrap();
        assert_eq!(refused.account.state, ZoomState::NeedsReconnect);
        assert_eq!(refused.account.refused_at, Some(now));
        assert_eq!(refused.refused(now), None);
    }

    #[test]
    fn a_pending_sign_in_lasts_as_long_as_a_seats() {
        let now = ts("2026-03-02T09:00:00Z");
        let p = PendingZoom::new(
            "id".into(),
            ContractId::parse("c").unwrap(),
            UserId::parse("u").unwrap(),
            now,
        );
        assert!(!p.is_expired(ts("2026-03-02T09:14:59Z")));
        assert!(p.is_expired(ts("2026-03-02T09:15:00Z")));
    }

    #[test]
    fn the_seal_context_names_the_contract_and_the_token() {
        let c = ContractId::parse("c-1").unwrap();
        assert_ne!(seal_context(&c, "refresh"), seal_context(&c, "access"));
        assert_eq!(seal_context(&c, "refresh")[0], ("contract", "c-1"));
    }
}
