//! What follows from an admin's change of settings.
//!
//! Each function compares a setting before and after and returns the effects to carry out.
//! The effects are data: the settings use case applies them to every connection of the
//! contract (see [`crate::connection::Connection::apply`]) and starts or stops features.

use serde::{Deserialize, Serialize};

use crate::connection::ConnectionKind;
use crate::contract::{EmailAccess, Provider};

/// A product feature a seat can use when the contract's settings allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Synced email shown in the product.
    EmailView,
    /// Sending email from the product (Email Connect).
    EmailSend,
    /// Scheduling against the seat's calendar.
    Calendar,
}

/// Why a connection lost its authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeauthorizationReason {
    /// The seat holder chose to deauthorize.
    SeatRequested,
    /// The admin lowered the email access level.
    AccessLowered,
    /// The seat moved to another person; the grant was the previous holder's.
    SeatTransferred,
    /// The seat was parked; nobody holds it.
    SeatParked,
    /// The admin pinned the contract to organizations the account is not of.
    OrganizationNotAllowed,
    /// The contract was suspended: every authorization ends and its data is purged.
    ContractSuspended,
}

/// Why a connection must be authorized again before it can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconnectReason {
    /// The admin switched the contract to another provider.
    ProviderChanged { from: Provider, to: Provider },
    /// The provider refused the stored grant (revoked, expired, password changed).
    GrantRevoked,
}

/// One thing to carry out after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    StartFeature {
        feature: Feature,
    },
    StopFeature {
        feature: Feature,
    },
    /// Every authorized connection of this kind loses its authorization: its tokens are
    /// revoked where the provider allows it and its push subscriptions stopped. Synced data
    /// stays.
    Deauthorize {
        kind: ConnectionKind,
        reason: DeauthorizationReason,
    },
    /// Every connection, of both kinds, must be authorized again with the new provider.
    RequireReconnect {
        reason: ReconnectReason,
    },
    /// The admin pinned the contract to its organizations: every connection whose account is
    /// of none of them (a personal account included) loses its authorization.
    EnforceOrganizations,
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Feature::EmailView => "email viewing",
            Feature::EmailSend => "email sending",
            Feature::Calendar => "the calendar",
        })
    }
}

fn email_features(level: EmailAccess) -> &'static [Feature] {
    match level {
        EmailAccess::Off => &[],
        EmailAccess::ViewOnly => &[Feature::EmailView],
        EmailAccess::SendAndView => &[Feature::EmailView, Feature::EmailSend],
    }
}

/// Effects of moving the email access level from `from` to `to`.
///
/// Raising a level starts the features it adds and touches no connection (seats that
/// authorized at View only must reauthorize to grant the send permission). Lowering a level
/// stops the features it removes and deauthorizes every email connection of the contract.
pub fn email_access_change(from: EmailAccess, to: EmailAccess) -> Vec<Effect> {
    let (before, after) = (email_features(from), email_features(to));
    let mut effects: Vec<Effect> = before
        .iter()
        .rev()
        .filter(|f| !after.contains(f))
        .map(|&feature| Effect::StopFeature { feature })
        .collect();
    effects.extend(
        after
            .iter()
            .filter(|f| !before.contains(f))
            .map(|&feature| Effect::StartFeature { feature }),
    );
    if to < from {
        effects.push(Effect::Deauthorize {
            kind: ConnectionKind::Email,
            reason: DeauthorizationReason::AccessLowered,
        });
    }
    effects
}

/// Effects of turning the calendar on or off. Turning it off stops the feature and
/// deauthorizes nothing.
pub fn calendar_change(from: bool, to: bool) -> Vec<Effect> {
    match (from, to) {
        (false, true) => vec![Effect::StartFeature {
            feature: Feature::Calendar,
        }],
        (true, false) => vec![Effect::StopFeature {
            feature: Feature::Calendar,
        }],
        _ => vec![],
    }
}

/// Effects of choosing or changing the provider. The first choice only makes authorization
/// possible; switching to another provider makes every connection need reconnecting.
pub fn provider_change(from: Option<Provider>, to: Option<Provider>) -> Vec<Effect> {
    match (from, to) {
        (Some(from), Some(to)) if from != to => vec![Effect::RequireReconnect {
            reason: ReconnectReason::ProviderChanged { from, to },
        }],
        _ => vec![],
    }
}
