//! The contract's Zoom connection: an admin connects the organization's Zoom account (Zoom's
//! OAuth with PKCE, finished through the product with the same admin's token), sees it,
//! removes it; booking confirmations get its access token.
//!
//! While a connection exists (usable or not), video interviews are Zoom meetings; once it
//! is removed, they are the calendar provider's own again (Teams, Meet). A connection whose
//! grant Zoom refused stays, marked, until the admin connects again or removes it: the
//! interviews meanwhile get no meeting and each recruiter is told why (the error table's
//! first row), rather than quietly getting another provider's link.
//!
//! Zoom rotates the refresh token on every refresh and kills the old one. The access token
//! is kept (sealed) with the refresh token and shared until shortly before it expires, so
//! refreshes are rare; when two callers refresh at once, only one can succeed: the other
//! waits a moment and reads what the first stored before it believes the grant refused,
//! and a caller whose refresh succeeded overwrites a refusal another wrote meanwhile for
//! the same grant (its success proves the grant alive).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::connect_error::sanitize;
use hiresync_domain::contract::Contract;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, UserId};
use hiresync_domain::ports::{
    ContractIntegrations, ContractStore, StoreError, TokenSealer, Versioned, ZoomAuthError,
    ZoomAuthErrorKind, ZoomAuthorization, ZoomGrant, ZoomStore, RACE_ATTEMPTS,
};
use hiresync_domain::zoom::{
    seal_context, PendingZoom, StoredZoom, ZoomAccount, ZoomState, ZoomTokens,
};
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use thiserror::Error;
use tracing::{info, warn};

use crate::confirm::Wait;

/// How long a caller whose refresh was refused waits before reading the connection again:
/// a concurrent refresh that rotated the token writes it within this.
pub const REFUSAL_RECHECK: Duration = Duration::from_secs(2);

/// Why a Zoom connection could not be made, removed or used, in the words the API answers
/// with.
#[derive(Debug, Error)]
pub enum ZoomError {
    #[error("the contract is suspended or unknown")]
    ContractInactive,
    /// The sign-in is unknown, used, expired, or was started by someone else.
    #[error("this Zoom sign-in is unknown, was already used or has expired; start again")]
    SignInStale,
    /// The admin declined Zoom's consent screen (or Zoom refused it).
    #[error("Zoom's consent was not given ({0}); start again and allow the app")]
    Declined(String),
    /// Zoom refused the code (expired, used) or our application.
    #[error("Zoom refused the sign-in; start again")]
    Refused(#[source] ZoomAuthError),
    /// Our own Zoom application's configuration was refused.
    #[error("the Zoom integration is misconfigured on our side")]
    Misconfigured(#[source] ZoomAuthError),
    #[error("Zoom is unavailable; try again shortly")]
    Unavailable(#[source] ZoomAuthError),
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl From<StoreError> for ZoomError {
    fn from(e: StoreError) -> Self {
        ZoomError::Failed(e.into())
    }
}

fn auth_error(e: ZoomAuthError) -> ZoomError {
    match e.kind {
        ZoomAuthErrorKind::InvalidGrant | ZoomAuthErrorKind::Failed => ZoomError::Refused(e),
        ZoomAuthErrorKind::Misconfigured => ZoomError::Misconfigured(e),
        ZoomAuthErrorKind::Temporary => ZoomError::Unavailable(e),
    }
}

/// Zoom's redirect as it reached the product's front end, passed on as it came.
#[derive(Debug, Clone, Default)]
pub struct ZoomCallback {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomSignIn {
    pub url: String,
    pub expires_at: Timestamp,
}

/// An access token for the contract's Zoom account, or why there is none.
pub enum ZoomAccess {
    /// The contract has no Zoom connection: video is the calendar provider's.
    NotConnected,
    /// Zoom refused the grant: the admin must connect again.
    Refused,
    Ready(SecretString),
}

/// What the confirmation asks of the contract's Zoom connection.
#[async_trait]
pub trait ZoomAccessTokens: Send + Sync {
    /// Whether the contract has a Zoom connection (in any state): its video interviews are
    /// then Zoom's.
    async fn connected(&self, contract: &ContractId) -> Result<bool, Failure>;
    /// A usable access token at `now`, refreshing when needed. A temporary failure is an
    /// error (the job tries again later).
    async fn zoom_access(
        &self,
        contract: &ContractId,
        now: Timestamp,
    ) -> Result<ZoomAccess, Failure>;
}

#[derive(Clone)]
pub struct ZoomPorts {
    pub contracts: Arc<dyn ContractStore>,
    pub store: Arc<dyn ZoomStore>,
    pub sealer: Arc<dyn TokenSealer>,
    pub oauth: Arc<dyn ZoomAuthorization>,
    pub wait: Arc<dyn Wait>,
}

pub struct ZoomConnections {
    ports: ZoomPorts,
}

/// A new OAuth `state`: 24 random bytes in hex.
fn new_state() -> String {
    let mut bytes = [0u8; 24];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No entropy source means no unguessable state: stop rather than hand out a weak one.
        std::process::abort();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn expires_at(now: Timestamp, grant: &ZoomGrant) -> Timestamp {
    let lifetime = SignedDuration::try_from(grant.expires_in).unwrap_or(SignedDuration::ZERO);
    now.saturating_add(lifetime).unwrap_or(Timestamp::MAX)
}

impl ZoomConnections {
    pub fn new(ports: ZoomPorts) -> Self {
        Self { ports }
    }

    async fn active(&self, contract: &ContractId) -> Result<Contract, ZoomError> {
        self.ports
            .contracts
            .get(contract)
            .await?
            .map(|v| v.value)
            .filter(Contract::is_active)
            .ok_or(ZoomError::ContractInactive)
    }

    /// The contract's Zoom account as connected, if any.
    pub async fn account(&self, contract: &ContractId) -> Result<Option<ZoomAccount>, ZoomError> {
        Ok(self
            .ports
            .store
            .get(contract)
            .await?
            .map(|v| v.value.account))
    }

    /// Starts an admin's connection: Zoom's consent page, valid until `expires_at`.
    pub async fn start(
        &self,
        contract: &ContractId,
        admin: &UserId,
        now: Timestamp,
    ) -> Result<ZoomSignIn, ZoomError> {
        self.active(contract).await?;
        let pending = PendingZoom::new(new_state(), contract.clone(), admin.clone(), now);
        let request = self
            .ports
            .oauth
            .authorization_url(&pending.id)
            .map_err(auth_error)?;
        self.ports.store.begin(&pending, &request.verifier).await?;
        info!(contract = %contract, "Zoom sign-in started");
        Ok(ZoomSignIn {
            url: request.url,
            expires_at: pending.expires_at,
        })
    }

    /// Finishes the connection the same admin started (anyone else's attempt is refused
    /// without using the sign-in up): redeems the code, asks Zoom who signed in, seals both tokens and stores the connection (replacing one the contract
    /// had; its grant is given back to Zoom).
    pub async fn complete(
        &self,
        contract: &ContractId,
        admin: &UserId,
        callback: &ZoomCallback,
        now: Timestamp,
    ) -> Result<ZoomAccount, ZoomError> {
        let (pending, verifier) = self
            .ports
            .store
            .take_pending(contract, &callback.state, admin)
            .await?
            .ok_or(ZoomError::SignInStale)?;
        if pending.is_expired(now) {
            return Err(ZoomError::SignInStale);
        }
        if let Some(error) = &callback.error {
            return Err(ZoomError::Declined(sanitize(error)));
        }
        let code = callback.code.as_deref().ok_or(ZoomError::SignInStale)?;
        self.active(contract).await?;
        let oauth = &self.ports.oauth;
        let grant = oauth.redeem(code, &verifier).await.map_err(auth_error)?;
        let me = oauth.me(&grant.access_token).await.map_err(auth_error)?;
        let tokens = self.seal(contract, &grant, now).await?;
        let account = ZoomAccount {
            contract_id: contract.clone(),
            account_id: me.account_id,
            authorized_as: me.email,
            connected_by: admin.clone(),
            connected_at: now,
            state: ZoomState::Connected,
            refused_at: None,
        };
        let previous = self.ports.store.get(contract).await?;
        self.ports
            .store
            .put(&StoredZoom {
                account: account.clone(),
                tokens,
            })
            .await?;
        if let Some(previous) = previous {
            self.give_back(contract, &previous.value).await;
        }
        info!(contract = %contract, account = %account.account_id, "Zoom connected");
        Ok(account)
    }

    /// Removes the connection (video goes back to the calendar provider) and gives its
    /// grant back to Zoom. Removing none is not an error: `false`.
    pub async fn remove(&self, contract: &ContractId) -> Result<bool, ZoomError> {
        let Some(removed) = self.ports.store.remove(contract).await? else {
            return Ok(false);
        };
        self.give_back(contract, &removed).await;
        info!(contract = %contract, "Zoom removed");
        Ok(true)
    }

    /// Revokes a connection's grant at Zoom. Our copy is already gone, so a failure here
    /// only leaves the app in the account's list until the admin removes it there: logged.
    async fn give_back(&self, contract: &ContractId, stored: &StoredZoom) {
        let opened = self
            .ports
            .sealer
            .open(&stored.tokens.refresh, &seal_context(contract, "refresh"))
            .await;
        let result = match opened {
            Ok(refresh) => self
                .ports
                .oauth
                .revoke(&refresh)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            warn!(contract = %contract, error = %e, "the former Zoom grant could not be revoked");
        }
    }

    async fn seal(
        &self,
        contract: &ContractId,
        grant: &ZoomGrant,
        now: Timestamp,
    ) -> Result<ZoomTokens, Failure> {
        let sealer = &self.ports.sealer;
        Ok(ZoomTokens {
            refresh: sealer
                .seal(&grant.refresh_token, &seal_context(contract, "refresh"))
                .await?,
            access: sealer
                .seal(&grant.access_token, &seal_context(contract, "access"))
                .await?,
            access_expires_at: expires_at(now, grant),
        })
    }

    /// Writes the refreshed tokens over `read`; after a lost race, over whatever the same
    /// grant became (a refusal written meanwhile included: this refresh proves it alive).
    /// `false` when the connection was replaced or removed meanwhile.
    async fn keep_refreshed(
        &self,
        contract: &ContractId,
        mut read: Versioned<StoredZoom>,
        tokens: ZoomTokens,
    ) -> Result<bool, Failure> {
        let connected_at = read.value.account.connected_at;
        for _ in 0..RACE_ATTEMPTS {
            let mut next = read.value.clone();
            next.tokens = tokens.clone();
            next.account.state = ZoomState::Connected;
            next.account.refused_at = None;
            match self.ports.store.update(&read, &next).await {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            match self.ports.store.get(contract).await? {
                Some(fresh) if fresh.value.account.connected_at == connected_at => read = fresh,
                _ => return Ok(false),
            }
        }
        Err(Failure::gave_up(
            "Zoom token update",
            "the Zoom connection kept changing concurrently",
        ))
    }

    /// Marks the grant refused, unless the connection changed since `read`.
    async fn mark_refused(
        &self,
        contract: &ContractId,
        read: &Versioned<StoredZoom>,
        now: Timestamp,
    ) -> Result<(), Failure> {
        if let Some(next) = read.value.refused(now) {
            match self.ports.store.update(read, &next).await {
                Ok(_) => {
                    warn!(contract = %contract, "Zoom refused the contract's grant; an admin must connect again")
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// A contract's purge gives its Zoom grant back.
#[async_trait]
impl ContractIntegrations for ZoomConnections {
    async fn disconnect(&self, contract: &ContractId) -> Result<u64, Failure> {
        match self.remove(contract).await {
            Ok(removed) => Ok(u64::from(removed)),
            Err(ZoomError::Failed(f)) => Err(f),
            Err(other) => Err(Failure::internal("Zoom disconnect", other)),
        }
    }
}

#[async_trait]
impl ZoomAccessTokens for ZoomConnections {
    async fn connected(&self, contract: &ContractId) -> Result<bool, Failure> {
        Ok(self.ports.store.get(contract).await?.is_some())
    }

    async fn zoom_access(
        &self,
        contract: &ContractId,
        now: Timestamp,
    ) -> Result<ZoomAccess, Failure> {
        let mut rechecked = false;
        for _ in 0..RACE_ATTEMPTS {
            let Some(read) = self.ports.store.get(contract).await? else {
                return Ok(ZoomAccess::NotConnected);
            };
            let stored = &read.value;
            if stored.account.state == ZoomState::NeedsReconnect {
                return Ok(ZoomAccess::Refused);
            }
            let sealer = &self.ports.sealer;
            if stored.tokens.access_usable(now) {
                let access = sealer
                    .open(&stored.tokens.access, &seal_context(contract, "access"))
                    .await?;
                return Ok(ZoomAccess::Ready(access));
            }
            let refresh = sealer
                .open(&stored.tokens.refresh, &seal_context(contract, "refresh"))
                .await?;
            match self.ports.oauth.refresh(&refresh).await {
                Ok(grant) => {
                    let tokens = self.seal(contract, &grant, now).await?;
                    if self.keep_refreshed(contract, read, tokens).await? {
                        info!(contract = %contract, "Zoom access token refreshed");
                        return Ok(ZoomAccess::Ready(grant.access_token));
                    }
                    // Replaced or removed meanwhile: read what is there now.
                }
                Err(e) if e.kind == ZoomAuthErrorKind::InvalidGrant => {
                    if rechecked {
                        self.mark_refused(contract, &read, now).await?;
                        return Ok(ZoomAccess::Refused);
                    }
                    // Perhaps another caller rotated it a moment ago: read again after
                    // the time its write takes.
                    rechecked = true;
                    self.ports.wait.wait(REFUSAL_RECHECK).await;
                    match self.ports.store.get(contract).await? {
                        Some(fresh) if fresh.version != read.version => continue,
                        _ => {
                            self.mark_refused(contract, &read, now).await?;
                            return Ok(ZoomAccess::Refused);
                        }
                    }
                }
                Err(e) => return Err(Failure::internal("Zoom token refresh", e)),
            }
        }
        Err(Failure::gave_up(
            "Zoom access token",
            "the Zoom connection kept changing concurrently",
        ))
    }
}
