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
use hiresync_domain::ports::{
    AuthorizationStore, ConnectionStore, ContractStore, ProviderRegistry, PushSettings, SeatStore,
    SubscriptionStore, SyncStatusStore, TokenSealer, TokenStore,
};
use hiresync_messages::{FanOutQueue, NoticeQueue, SyncJobQueue};

use crate::state::StateSigner;

/// The tenancy stores the connect use cases read and write.
#[derive(Clone)]
pub struct Stores {
    pub contracts: Arc<dyn ContractStore>,
    pub seats: Arc<dyn SeatStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub authorizations: Arc<dyn AuthorizationStore>,
    pub sync_status: Arc<dyn SyncStatusStore>,
}

/// The queues the connect use cases send to.
#[derive(Clone)]
pub struct Queues {
    pub sync_jobs: Arc<dyn SyncJobQueue>,
    pub fan_out: Arc<dyn FanOutQueue>,
    pub notices: Arc<dyn NoticeQueue>,
}

impl Queues {
    /// All three queues behind one sender (the SQS outbox, or the in-memory fake).
    pub fn all<Q>(queues: Arc<Q>) -> Self
    where
        Q: SyncJobQueue + FanOutQueue + NoticeQueue + 'static,
    {
        Self {
            sync_jobs: queues.clone(),
            fan_out: queues.clone(),
            notices: queues,
        }
    }
}

/// Everything outside that the connect use cases talk to.
#[derive(Clone)]
pub struct ConnectPorts {
    pub stores: Stores,
    /// Seals refresh tokens before they are stored.
    pub sealer: Arc<dyn TokenSealer>,
    pub queues: Queues,
    pub providers: Arc<dyn ProviderRegistry>,
}

/// The connect use cases. Cheap to clone: the ports are shared.
#[derive(Clone)]
pub struct Connector {
    pub stores: Stores,
    pub sealer: Arc<dyn TokenSealer>,
    pub queues: Queues,
    pub providers: Arc<dyn ProviderRegistry>,
    pub push: PushSettings,
    pub(crate) signer: StateSigner,
}

impl Connector {
    /// `push` says where providers push and for how long; `signer` signs the OAuth state.
    pub fn new(ports: ConnectPorts, push: PushSettings, signer: StateSigner) -> Self {
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
            push,
            signer,
        }
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
