//! A seat's authorization in progress: issued when the seat starts the OAuth flow, consumed
//! exactly once when the provider redirects back.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::connection::ConnectionKind;
use crate::contract::{EmailAccess, Provider};
use crate::ids::{ContractId, SeatId, UserId};

/// How long a seat has to complete the provider's consent screens. Microsoft's
/// authorization codes live about ten minutes; the flow as a whole gets a little more.
pub const AUTHORIZATION_LIFETIME: SignedDuration = SignedDuration::from_secs(15 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// Random, unguessable; also the id the signed `state` parameter carries.
    pub id: String,
    pub contract_id: ContractId,
    pub seat_id: SeatId,
    /// Who started the flow; the connection is made for the seat they hold.
    pub user_id: UserId,
    pub kind: ConnectionKind,
    /// The provider and level the scopes were requested for. If the admin changes either
    /// before the seat comes back, the grant no longer fits and is refused.
    pub provider: Provider,
    pub email_access: EmailAccess,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl PendingAuthorization {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        contract_id: ContractId,
        seat_id: SeatId,
        user_id: UserId,
        kind: ConnectionKind,
        provider: Provider,
        email_access: EmailAccess,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            contract_id,
            seat_id,
            user_id,
            kind,
            provider,
            email_access,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_authorization_expires_after_its_lifetime() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let p = PendingAuthorization::new(
            "abc".into(),
            ContractId::parse("c").unwrap(),
            SeatId::parse("s").unwrap(),
            UserId::parse("u").unwrap(),
            ConnectionKind::Email,
            Provider::Microsoft365,
            EmailAccess::ViewOnly,
            now,
        );
        assert!(!p.is_expired("2026-03-02T09:14:59Z".parse().unwrap()));
        assert!(p.is_expired("2026-03-02T09:15:00Z".parse().unwrap()));
    }
}
