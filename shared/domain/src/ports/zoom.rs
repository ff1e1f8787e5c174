//! The contract's Zoom connection: where it is kept, and Zoom's OAuth that makes and
//! refreshes it. (The meetings themselves are [`super::ZoomMeetings`].)

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use thiserror::Error;

use crate::failure::Failure;
use crate::ids::{ContractId, EmailAddress, UserId};
use crate::zoom::{PendingZoom, StoredZoom};

use super::{AuthorizationRequest, BoxError, StoreError, Versioned};

/// The contract-level integrations (Zoom) as a contract's purge sees them.
#[async_trait]
pub trait ContractIntegrations: Send + Sync {
    /// Gives the contract's grants back to their services and forgets them; how many of
    /// our items that deleted. A grant that cannot be given back is logged, not an error:
    /// ours is deleted either way. Having none is not an error (0).
    async fn disconnect(&self, contract: &ContractId) -> Result<u64, Failure>;
}

/// The contract's Zoom connection and the sign-ins in progress, all under the contract.
#[async_trait]
pub trait ZoomStore: Send + Sync {
    /// Keeps an admin's sign-in in progress with its PKCE verifier until it expires.
    async fn begin(&self, pending: &PendingZoom, verifier: &SecretString)
        -> Result<(), StoreError>;
    /// Removes and returns the sign-in `id` of `contract` that `admin` started: a second
    /// take finds nothing, and someone else's is left as it is (`None`), so that it cannot
    /// be used up by anyone but the admin who started it.
    async fn take_pending(
        &self,
        contract: &ContractId,
        id: &str,
        admin: &UserId,
    ) -> Result<Option<(PendingZoom, SecretString)>, StoreError>;
    async fn get(&self, contract: &ContractId)
        -> Result<Option<Versioned<StoredZoom>>, StoreError>;
    /// Stores a new connection, replacing whatever the contract had.
    async fn put(&self, zoom: &StoredZoom) -> Result<Versioned<StoredZoom>, StoreError>;
    /// Writes `next` over `read`: [`StoreError::Conflict`] when the stored connection is no
    /// longer `read` (refreshed, replaced or removed meanwhile).
    async fn update(
        &self,
        read: &Versioned<StoredZoom>,
        next: &StoredZoom,
    ) -> Result<Versioned<StoredZoom>, StoreError>;
    /// Removes the connection; what was stored, if anything.
    async fn remove(&self, contract: &ContractId) -> Result<Option<StoredZoom>, StoreError>;
}

/// What a code redemption or a refresh yields: Zoom always sends a new refresh token, and
/// the one used is dead from then on.
#[derive(Debug)]
pub struct ZoomGrant {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_in: Duration,
}

/// The Zoom user a token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomUser {
    pub email: EmailAddress,
    pub account_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoomAuthErrorKind {
    /// The code or refresh token is no longer good (used, expired, revoked: the app was
    /// removed from the account): connect again.
    InvalidGrant,
    /// Zoom refused our own OAuth application (client id or secret, redirect URL).
    Misconfigured,
    /// Throttled, a 5xx, unreachable: try again later.
    Temporary,
    /// Anything else Zoom refused, or an answer we cannot read.
    Failed,
}

#[derive(Debug, Error)]
#[error("{operation} failed ({kind:?})")]
pub struct ZoomAuthError {
    pub operation: &'static str,
    pub kind: ZoomAuthErrorKind,
    #[source]
    pub source: BoxError,
}

impl ZoomAuthError {
    pub fn new(
        operation: &'static str,
        kind: ZoomAuthErrorKind,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            kind,
            source: Box::new(source),
        }
    }
}

/// Zoom's user-level OAuth for our Zoom app.
#[async_trait]
pub trait ZoomAuthorization: Send + Sync {
    /// Zoom's consent page, coming back to our redirect URL with `state`; the PKCE
    /// verifier to keep for the redemption.
    fn authorization_url(&self, state: &str) -> Result<AuthorizationRequest, ZoomAuthError>;
    async fn redeem(&self, code: &str, verifier: &SecretString)
        -> Result<ZoomGrant, ZoomAuthError>;
    async fn refresh(&self, refresh_token: &SecretString) -> Result<ZoomGrant, ZoomAuthError>;
    /// Gives the grant back (the app leaves the account's authorized apps); a token
    /// already dead is not an error.
    async fn revoke(&self, token: &SecretString) -> Result<(), ZoomAuthError>;
    /// Who the access token acts as.
    async fn me(&self, access_token: &SecretString) -> Result<ZoomUser, ZoomAuthError>;
}
