//! The candidate directory: who is in a contract's pipeline, with which addresses, and who
//! may see their email. It is fed by the product's `candidate.upserted` / `candidate.removed`
//! events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ContractId, EmailAddress, ProfileId, SeatId};

/// How far a candidate lets their email be discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoverySetting {
    /// Anyone on the platform.
    Anyone,
    /// First- and second-degree connections.
    SecondDegree,
    /// First-degree connections only.
    FirstDegree,
    /// Nobody.
    Nobody,
}

/// How a seat's holder is related to the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Degree {
    First,
    Second,
    Third,
}

impl DiscoverySetting {
    /// Whether a seat related by `degree` (`None`: not connected at all) may see the
    /// candidate's email.
    pub fn permits(self, degree: Option<Degree>) -> bool {
        match self {
            DiscoverySetting::Anyone => true,
            DiscoverySetting::SecondDegree => {
                matches!(degree, Some(Degree::First | Degree::Second))
            }
            DiscoverySetting::FirstDegree => degree == Some(Degree::First),
            DiscoverySetting::Nobody => false,
        }
    }
}

/// A candidate as the contract knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub contract_id: ContractId,
    pub profile_id: ProfileId,
    pub emails: Vec<EmailAddress>,
    pub discovery: DiscoverySetting,
    /// Whether the candidate is in the contract's active pipeline.
    pub in_pipeline: bool,
    /// The connection degree of each seat's holder to the candidate; absent means none.
    pub degrees: BTreeMap<SeatId, Degree>,
    /// The version of the source event; an older event never overwrites a newer one.
    pub source_version: u64,
}

impl DirectoryEntry {
    pub fn degree_to(&self, seat: &SeatId) -> Option<Degree> {
        self.degrees.get(seat).copied()
    }

    /// Whether the candidate's discovery setting lets `seat` see their email.
    pub fn discoverable_by(&self, seat: &SeatId) -> bool {
        self.discovery.permits(self.degree_to(seat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_settings_against_every_degree() {
        use Degree::*;
        use DiscoverySetting::*;
        let cases = [
            (Anyone, None, true),
            (Anyone, Some(Third), true),
            (SecondDegree, Some(First), true),
            (SecondDegree, Some(Second), true),
            (SecondDegree, Some(Third), false),
            (SecondDegree, None, false),
            (FirstDegree, Some(First), true),
            (FirstDegree, Some(Second), false),
            (FirstDegree, None, false),
            (Nobody, Some(First), false),
        ];
        for (setting, degree, expected) in cases {
            assert_eq!(
                setting.permits(degree),
                expected,
                "{setting:?} / {degree:?}"
            );
        }
    }
}
