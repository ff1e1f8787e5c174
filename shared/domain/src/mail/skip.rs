//! Why a message was not synced: the answer to "why is this not in the product?".

use jiff::{SignedDuration, Timestamp};

use crate::ids::{ContractId, EmailAddress, SeatId};

/// How long a skip decision is kept after it was made.
pub const SKIP_RETENTION_DAYS: i64 = 30;

/// One recorded decision not to sync a message, filed under one of its participants (the
/// counterpart a recruiter asks about).
///
/// The reason is kept as a code and an explanation, so what is stored does not depend on
/// the sync policy's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipRecord {
    pub contract: ContractId,
    pub seat: SeatId,
    pub counterpart: EmailAddress,
    pub provider_id: String,
    /// The message's instant.
    pub at: Timestamp,
    pub code: String,
    pub explanation: String,
    pub decided_at: Timestamp,
}

impl SkipRecord {
    /// From when the decision may be forgotten.
    pub fn forget_after(&self) -> Timestamp {
        self.decided_at
            .checked_add(SignedDuration::from_hours(SKIP_RETENTION_DAYS * 24))
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_decision_is_kept_thirty_days() {
        let skip = SkipRecord {
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("s1").unwrap(),
            counterpart: EmailAddress::parse("jane@cand.example").unwrap(),
            provider_id: "m1".into(),
            at: "2026-01-01T00:00:00Z".parse().unwrap(),
            code: "no_profile".into(),
            explanation: "...".into(),
            decided_at: "2026-03-01T10:00:00Z".parse().unwrap(),
        };
        assert_eq!(
            skip.forget_after(),
            "2026-03-31T10:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
