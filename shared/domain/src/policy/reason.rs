//! Why a message is not synced: the reasons, their stable codes, and the sentence a
//! recruiter reads.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::connection::ConnectionState;
use crate::directory::DiscoverySetting;
use crate::ids::{EmailAddress, ProfileId};

/// Why a message is not synced. Serialized with its
/// [`code`](SkipReason::code) in the `code` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SkipReason {
    /// The mailbox's authorization was lost (deauthorized, or must be reconnected).
    NotAuthorized { state: ConnectionState },
    /// The email involves more than two distinct people, the seat included.
    TooManyParticipants { participants: usize },
    /// The seat wrote to itself only.
    NoCounterpart,
    /// The email is one-to-one with `counterpart`, but its thread is stored as the
    /// conversation with `conversation_with`.
    OtherCounterpart {
        counterpart: EmailAddress,
        conversation_with: EmailAddress,
    },
    /// The counterpart's domain is the domain of the seat's authorized address.
    SameDomain {
        counterpart: EmailAddress,
        domain: String,
    },
    /// No profile of the contract has the counterpart's address, and the conversation was
    /// not started from the product.
    NoProfile { counterpart: EmailAddress },
    /// The counterpart's profile is not in the contract's active pipeline, and the
    /// conversation was not started from the product.
    NotInPipeline {
        counterpart: EmailAddress,
        profile: ProfileId,
    },
    /// The candidate's discovery setting does not admit the seat.
    DiscoveryRestricted {
        counterpart: EmailAddress,
        profile: ProfileId,
        discovery: DiscoverySetting,
    },
    /// The message is older than the start of the synced history.
    BeforeLookback { at: Timestamp, cutoff: Timestamp },
    /// The thread's latest activity is before `active_since` (six months before now).
    ThreadInactive {
        last_activity_at: Timestamp,
        active_since: Timestamp,
    },
    /// The thread was removed for inactivity at `removed_at` and then became active again:
    /// only messages after the removal sync.
    BeforeReactivation {
        at: Timestamp,
        removed_at: Timestamp,
    },
}

impl SkipReason {
    /// The stable machine code, snake_case (the serialized `code`).
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::NotAuthorized { .. } => "not_authorized",
            SkipReason::TooManyParticipants { .. } => "too_many_participants",
            SkipReason::NoCounterpart => "no_counterpart",
            SkipReason::OtherCounterpart { .. } => "other_counterpart",
            SkipReason::SameDomain { .. } => "same_domain",
            SkipReason::NoProfile { .. } => "no_profile",
            SkipReason::NotInPipeline { .. } => "not_in_pipeline",
            SkipReason::DiscoveryRestricted { .. } => "discovery_restricted",
            SkipReason::BeforeLookback { .. } => "before_lookback",
            SkipReason::ThreadInactive { .. } => "thread_inactive",
            SkipReason::BeforeReactivation { .. } => "before_reactivation",
        }
    }

    /// What the recruiter reads when asking why an email did not sync.
    pub fn message(&self) -> String {
        match self {
            SkipReason::NotAuthorized { state } => match state {
                ConnectionState::NeedsReconnect { .. } => "Your mailbox has to be reconnected: \
                     no new email syncs until you authorize it again."
                    .to_owned(),
                ConnectionState::Deauthorized { .. } | ConnectionState::Authorized => {
                    "Your mailbox is not authorized: no new email syncs until you authorize \
                     it again. Emails synced before stay."
                        .to_owned()
                }
            },
            SkipReason::TooManyParticipants { participants } => format!(
                "This email involves {participants} people, you included. Only emails \
                 between you and one candidate are synced; the conversation's other emails \
                 still sync."
            ),
            SkipReason::NoCounterpart => "This email was only to and from your own address, so \
                 there is no candidate to show it for."
                .to_owned(),
            SkipReason::OtherCounterpart {
                counterpart,
                conversation_with,
            } => format!(
                "This email is between you and {counterpart}, but the conversation it belongs \
                 to is with {conversation_with}: only the emails between you and \
                 {conversation_with} are synced in it."
            ),
            SkipReason::SameDomain {
                counterpart,
                domain,
            } => format!(
                "{counterpart} has the same email domain as you ({domain}). Conversations \
                 inside your own organization are not synced."
            ),
            SkipReason::NoProfile { counterpart } => format!(
                "No candidate profile in your contract has the address {counterpart}, and the \
                 conversation was not started from the product. Add the address to the \
                 candidate's profile, or write to them from the product."
            ),
            SkipReason::NotInPipeline { counterpart, .. } => format!(
                "The candidate with the address {counterpart} is not in your contract's \
                 active pipeline, and the conversation was not started from the product. \
                 Add them to the pipeline for their new emails to sync."
            ),
            SkipReason::DiscoveryRestricted {
                counterpart,
                discovery,
                ..
            } => {
                let (who, you) = match discovery {
                    DiscoverySetting::Nobody => ("nobody", ""),
                    DiscoverySetting::FirstDegree => (
                        "only their first-degree connections",
                        ", and you are not one of them",
                    ),
                    DiscoverySetting::SecondDegree => (
                        "only their first- and second-degree connections",
                        ", and you are neither",
                    ),
                    DiscoverySetting::Anyone => {
                        ("only some people", ", and you are not among them")
                    }
                };
                format!(
                    "The candidate with the address {counterpart} lets {who} see their email \
                     address{you}, so emails with them are not synced for you."
                )
            }
            SkipReason::BeforeLookback { at, cutoff } => format!(
                "This email is from {}, before {}, where the email history synced for \
                 your mailbox begins.",
                instant(at),
                instant(cutoff)
            ),
            SkipReason::ThreadInactive {
                last_activity_at,
                active_since,
            } => format!(
                "The latest email of this conversation is from {}. Only conversations with \
                 an email sent or received since {} (the last six months) are synced; a new \
                 email brings the conversation back.",
                instant(last_activity_at),
                instant(active_since)
            ),
            SkipReason::BeforeReactivation { at, removed_at } => format!(
                "This conversation was removed on {} after six months without activity. It \
                 is active again, but only emails after that date sync, and this one is \
                 from {}.",
                instant(removed_at),
                instant(at)
            ),
        }
    }
}

/// An instant as a person reads it in an explanation: UTC, to the second (a boundary can
/// be one second away), without the fractions a clock reading carries.
fn instant(at: &Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}
