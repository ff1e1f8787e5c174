//! Identifiers and addresses, parsed once at the edge and trusted afterwards.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a string is not a valid identifier or address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidId {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains {found:?}; allowed are letters, digits, '-', '_', '.', ':' and '@'")]
    BadCharacter { kind: &'static str, found: char },
    #[error("{0:?} is not an email address (expected local-part@domain)")]
    NotAnAddress(String),
}

const MAX_ID_LEN: usize = 128;

fn check_id(kind: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId::Empty { kind });
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(InvalidId::TooLong {
            kind,
            max: MAX_ID_LEN,
        });
    }
    // '#' separates the parts of storage keys, so it can never be part of an id.
    match value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@')))
    {
        Some(found) => Err(InvalidId::BadCharacter { kind, found }),
        None => Ok(()),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check_id($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A customer's contract with the recruiting product.
    ContractId,
    "contract id"
);
id_type!(
    /// A licensed seat of a contract; data belongs to the seat, not to its holder.
    SeatId,
    "seat id"
);
id_type!(
    /// A person in the product's identity system who can hold a seat.
    UserId,
    "user id"
);
id_type!(
    /// A candidate's profile in the product.
    ProfileId,
    "profile id"
);
id_type!(
    /// A scheduled interview.
    BookingId,
    "booking id"
);

/// A mailbox address, normalised for comparison.
///
/// Addresses are compared case-insensitively (providers treat them so), so the whole address
/// is kept in lower case. Sub-addressing (`jane+jobs@x.com`) is kept as written: it is a
/// different address as far as a profile match is concerned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidId> {
        let raw = value.as_ref().trim();
        let bad = || InvalidId::NotAnAddress(raw.to_owned());
        if raw.len() > 254
            || raw
                .chars()
                .any(|c| c.is_whitespace() || "<>,;\"()[]\\".contains(c))
        {
            return Err(bad());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.contains('@')
            || domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`, in lower case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// The address without a subaddress: the local part up to its first `+`, and the
    /// domain (`rita+jobs@acme.example` gives `("rita", "acme.example")`). A local part
    /// that starts with `+` is kept whole.
    pub fn untagged(&self) -> (&str, &str) {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        match local.split_once('+') {
            Some((base, _)) if !base.is_empty() => (base, domain),
            _ => (local, domain),
        }
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_the_key_separator_and_empty_values() {
        assert!(ContractId::parse("acme-42").is_ok());
        assert_eq!(
            ContractId::parse("a#b"),
            Err(InvalidId::BadCharacter {
                kind: "contract id",
                found: '#'
            })
        );
        assert_eq!(SeatId::parse(""), Err(InvalidId::Empty { kind: "seat id" }));
        assert!(matches!(
            ProfileId::parse("x".repeat(129)),
            Err(InvalidId::TooLong { .. })
        ));
    }

    #[test]
    fn ids_deserialize_through_validation() {
        let ok: ContractId = serde_json::from_str("\"c-1\"").unwrap();
        assert_eq!(ok.as_str(), "c-1");
        assert!(serde_json::from_str::<ContractId>("\"c 1\"").is_err());
    }

    #[test]
    fn addresses_are_case_insensitive_and_keep_sub_addressing() {
        let a = EmailAddress::parse(" Jane.Doe+Jobs@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "jane.doe+jobs@example.com");
        assert_eq!(a.domain(), "example.com");
        assert_ne!(a, EmailAddress::parse("jane.doe@example.com").unwrap());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "jane",
            "@x.com",
            "jane@",
            "jane@@x.com",
            "jane doe@x.com",
            "<jane@x.com>",
            "jane@x..com",
            "jane@.x.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
