//! What a seat may do, given the contract's settings and the seat's connections.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::Feature;
use crate::connection::{Connection, ConnectionKind, ConnectionState};
use crate::contract::{Contract, EmailAccess, Provider};
use crate::scopes;

/// Why a seat may not do something. Each variant names what would have to change.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Denial {
    #[error("the contract is suspended")]
    ContractSuspended,
    #[error("an admin must select the contract's email and calendar provider first")]
    NoProvider,
    #[error("an admin has turned {feature} off for the contract")]
    FeatureOff { feature: Feature },
    #[error("the seat has not authorized its {kind}")]
    NotAuthorized { kind: ConnectionKind },
    #[error("the seat's {kind} authorization is no longer valid and must be renewed")]
    NeedsReconnect { kind: ConnectionKind },
    #[error("the {kind} was authorized with another provider than the contract's")]
    ProviderMismatch { kind: ConnectionKind },
    #[error("the authorization lacks the {scope} permission")]
    MissingScope { scope: String },
    #[error("sending from the product is not offered for this provider")]
    SendingUnavailable,
}

/// The seat's three abilities, each allowed or denied with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub view_email: Result<(), Denial>,
    pub send_email: Result<(), Denial>,
    pub calendar: Result<(), Denial>,
}

/// Whether a seat of `contract` may start authorizing a connection of `kind`, and with
/// which provider.
pub fn may_authorize(contract: &Contract, kind: ConnectionKind) -> Result<Provider, Denial> {
    if !contract.is_active() {
        return Err(Denial::ContractSuspended);
    }
    let provider = contract.settings.provider.ok_or(Denial::NoProvider)?;
    match kind {
        ConnectionKind::Email if contract.settings.email_access == EmailAccess::Off => {
            Err(Denial::FeatureOff {
                feature: Feature::EmailView,
            })
        }
        ConnectionKind::Calendar if !contract.settings.calendar_enabled => {
            Err(Denial::FeatureOff {
                feature: Feature::Calendar,
            })
        }
        _ => Ok(provider),
    }
}

fn usable<'c>(
    contract: &Contract,
    kind: ConnectionKind,
    connection: Option<&'c Connection>,
) -> Result<&'c Connection, Denial> {
    let provider = may_authorize(contract, kind)?;
    let connection = connection.ok_or(Denial::NotAuthorized { kind })?;
    match connection.state {
        ConnectionState::Authorized => {}
        ConnectionState::Deauthorized { .. } => return Err(Denial::NotAuthorized { kind }),
        ConnectionState::NeedsReconnect { .. } => return Err(Denial::NeedsReconnect { kind }),
    }
    if connection.grant.provider != provider {
        return Err(Denial::ProviderMismatch { kind });
    }
    let wanted = scopes::feature_scopes(provider, kind, EmailAccess::ViewOnly);
    match scopes::missing_scopes(provider, &wanted, &connection.grant.scopes)
        .into_iter()
        .next()
    {
        Some(scope) => Err(Denial::MissingScope { scope }),
        None => Ok(connection),
    }
}

/// What the seat may do. At View only nothing is sent, even when the seat's grant includes
/// the send permission.
pub fn capabilities(
    contract: &Contract,
    email: Option<&Connection>,
    calendar: Option<&Connection>,
) -> Capabilities {
    let view_email = usable(contract, ConnectionKind::Email, email).map(|_| ());
    let send_email = usable(contract, ConnectionKind::Email, email).and_then(|connection| {
        if contract.settings.email_access != EmailAccess::SendAndView {
            return Err(Denial::FeatureOff {
                feature: Feature::EmailSend,
            });
        }
        let scope =
            scopes::send_scope(connection.grant.provider).ok_or(Denial::SendingUnavailable)?;
        if scopes::has_scope(connection.grant.provider, &connection.grant.scopes, scope) {
            Ok(())
        } else {
            Err(Denial::MissingScope {
                scope: scope.to_owned(),
            })
        }
    });
    let calendar = usable(contract, ConnectionKind::Calendar, calendar).map(|_| ());
    Capabilities {
        view_email,
        send_email,
        calendar,
    }
}
