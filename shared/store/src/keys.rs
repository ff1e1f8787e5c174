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
}
