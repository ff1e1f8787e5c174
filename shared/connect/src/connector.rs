//! The connector: the connect use cases over the ports they need, and nothing concrete.
//! Each concern is its own file: `settings` (admin changes and their fan-out, a seat's
//! disconnect), `authorization` (a seat's OAuth sign-in), `tokens` (usable access tokens),
//! `subscriptions` (push channels of a connection) and `renewal` (keeping them alive).

use std::sync::Arc;

use hiresync_domain::connect_error::{classify, ConnectError, ProviderSignal, StaleReason};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::Provider;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{ProviderRegistry, PushSettings, TenancyStores, TokenSealer};
use hiresync_messages::Queues;

use crate::state::StateSigner;

/// Everything outside that the connect use cases talk to.
#[derive(Clone)]
pub struct ConnectPorts {
    pub stores: TenancyStores,
    /// Seals refresh tokens before they are stored.
    pub sealer: Arc<dyn TokenSealer>,
    pub queues: Queues,
    pub providers: Arc<dyn ProviderRegistry>,
}

/// The connect use cases. Cheap to clone: the ports are shared.
///
/// A function gives it only what its use cases need: the ports always; where providers
/// push ([`Connector::with_push`]) only where subscriptions are created or renewed
/// (authorization, renewal); the OAuth state key ([`Connector::with_signer`]) only where
/// sign-ins start and complete (the settings API). A use case that needs a piece its
/// function was not given fails with an internal failure naming it.
#[derive(Clone)]
pub struct Connector {
    pub stores: TenancyStores,
    pub sealer: Arc<dyn TokenSealer>,
    pub queues: Queues,
    pub providers: Arc<dyn ProviderRegistry>,
    push: Option<PushSettings>,
    signer: Option<StateSigner>,
}

/// A use case needed a piece of configuration its function was not built with.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not configured in this function")]
pub struct NotConfigured(pub &'static str);

impl Connector {
    pub fn new(ports: ConnectPorts) -> Self {
        let ConnectPorts {
            stores,
            sealer,
            queues,
            providers,
        } = ports;
        Self {
            stores,
            sealer,
            queues,
            providers,
            push: None,
            signer: None,
        }
    }

    /// Where providers push, and for how long subscriptions live.
    pub fn with_push(mut self, push: PushSettings) -> Self {
        self.push = Some(push);
        self
    }

    /// What signs and checks the OAuth `state`.
    pub fn with_signer(mut self, signer: StateSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    pub(crate) fn push_settings(&self) -> Result<&PushSettings, Failure> {
        self.push
            .as_ref()
            .ok_or_else(|| Failure::internal("configuration", NotConfigured("push settings")))
    }

    pub(crate) fn signer(&self) -> Result<&StateSigner, Failure> {
        self.signer
            .as_ref()
            .ok_or_else(|| Failure::internal("configuration", NotConfigured("the OAuth state key")))
    }
}

/// What a sealed refresh token is bound to: its connection.
pub(crate) fn seal_context<'a>(
    c: &'a ContractId,
    s: &'a SeatId,
    k: ConnectionKind,
) -> [(&'static str, &'a str); 3] {
    [
        ("contract", c.as_str()),
        ("seat", s.as_str()),
        ("kind", k.as_str()),
    ]
}

pub(crate) fn stale(reason: StaleReason) -> Failure {
    Failure::Refused(ConnectError::AuthorizationRequestExpired { reason })
}

/// What a provider said, as the seat's precise error.
pub(crate) fn refused(provider: Provider, kind: ConnectionKind, signal: ProviderSignal) -> Failure {
    Failure::Refused(classify(provider, kind, &signal))
}
