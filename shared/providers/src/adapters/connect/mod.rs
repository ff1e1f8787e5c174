//! The connect ports over the providers' HTTP APIs: Microsoft 365 through the Microsoft
//! identity platform and Graph, Google Workspace through Google's OAuth, Gmail and
//! Calendar. What one provider does differently from the other lives here, so the connect
//! use cases never ask which provider they talk to.

mod google;
mod microsoft;

use std::sync::Arc;

use hiresync_domain::connect_error::{AccountClaims, ProviderSignal};
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    Accounts, AuthorizationRequest, Identity, ProviderError, ProviderRegistry, PushChannels, Tokens,
};
use hiresync_domain::subscription::SubscriptionKind;
use secrecy::SecretString;

use crate::oauth::{new_pkce, OAuthApp, OAuthError, TokenSet};
use crate::{ApiError, ProviderClients};

pub use google::Google;
pub use microsoft::Microsoft;

/// Both providers, as the connect use cases find them.
pub struct ConnectProviders {
    microsoft: Microsoft,
    google: Google,
}

impl ConnectProviders {
    pub fn new(clients: ProviderClients) -> Self {
        let clients = Arc::new(clients);
        Self {
            microsoft: Microsoft(clients.clone()),
            google: Google(clients),
        }
    }
}

impl ProviderRegistry for ConnectProviders {
    fn identity(&self, provider: Provider) -> &dyn Identity {
        match provider {
            Provider::Microsoft365 => &self.microsoft,
            Provider::GoogleWorkspace => &self.google,
        }
    }

    fn accounts(&self, provider: Provider) -> &dyn Accounts {
        match provider {
            Provider::Microsoft365 => &self.microsoft,
            Provider::GoogleWorkspace => &self.google,
        }
    }

    fn push(&self, provider: Provider) -> &dyn PushChannels {
        match provider {
            Provider::Microsoft365 => &self.microsoft,
            Provider::GoogleWorkspace => &self.google,
        }
    }
}

/// A subscription kind asked of a provider that has no such thing.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a subscription of this provider")]
struct ForeignKind(SubscriptionKind);

/// What the domain reads in a failed API call: the status and the provider's codes, or
/// that no answer came.
fn api_signal(e: &ApiError) -> ProviderSignal {
    match e {
        ApiError::Status {
            status,
            code,
            message,
            reason,
            ..
        } => ProviderSignal::Api {
            status: *status,
            code: code.clone(),
            message: message.clone(),
            reason: reason.clone(),
        },
        // Our servers could not reach the provider: the provider's (or our) trouble, not the
        // seat's network. (A seat's blocked network shows in the browser, not here.)
        ApiError::Transport { .. } => ProviderSignal::TransportFailed,
        ApiError::Decode { .. } => ProviderSignal::Api {
            status: 200,
            code: Some("unexpected_response".into()),
            message: None,
            reason: None,
        },
    }
}

/// A failed call while reading the account behind a grant: always the seat's mailbox
/// problem, classified precisely.
fn account_error(operation: &'static str, e: ApiError) -> ProviderError {
    ProviderError::signalled(operation, api_signal(&e), Some(Box::new(e)))
}

fn oauth_error(operation: &'static str, e: OAuthError) -> ProviderError {
    let signal = match &e {
        OAuthError::Rejected(body) => Some(ProviderSignal::TokenEndpoint {
            error: body.error.clone(),
            description: body.error_description.clone(),
            codes: body.error_codes.clone(),
        }),
        OAuthError::Unreachable(_) => Some(ProviderSignal::TransportFailed),
        OAuthError::BadUrl { .. } | OAuthError::Malformed(_) | OAuthError::NoRedirect => None,
    };
    ProviderError {
        operation,
        signal,
        source: Some(Box::new(e)),
    }
}

fn tokens(set: TokenSet) -> Tokens {
    Tokens {
        access_token: set.access_token,
        refresh_token: set.refresh_token,
        granted_scopes: set.granted_scopes,
        account: set.identity.map(|claims| AccountClaims {
            tenant_id: claims.tid,
            hosted_domain: claims.hd,
            email: claims.email.or(claims.preferred_username),
        }),
    }
}

/// No address the provider can serve behind the grant.
fn without_mailbox(operation: &'static str) -> ProviderError {
    ProviderError::signalled(operation, ProviderSignal::ProfileWithoutMailbox, None)
}

/// The address as the provider wrote it; one that is not an address is no mailbox either.
/// (Its parse error is dropped: it would quote the address into the log.)
fn address(operation: &'static str, raw: &str) -> Result<EmailAddress, ProviderError> {
    EmailAddress::parse(raw).map_err(|_| without_mailbox(operation))
}

/// Stopping something the provider no longer has, or that the grant may no longer stop
/// (it lapses on its own), is done.
fn stopped(operation: &'static str, result: Result<(), ApiError>) -> Result<(), ProviderError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(ApiError::Status {
            status: 401 | 403, ..
        }) => Ok(()),
        Err(e) => Err(ProviderError::failed(operation, e)),
    }
}

async fn redeem(
    app: &OAuthApp,
    code: &str,
    verifier: &SecretString,
) -> Result<Tokens, ProviderError> {
    app.redeem(code, verifier)
        .await
        .map(tokens)
        .map_err(|e| oauth_error("oauth.redeem", e))
}

async fn refresh(app: &OAuthApp, refresh_token: &SecretString) -> Result<Tokens, ProviderError> {
    app.refresh(refresh_token)
        .await
        .map(tokens)
        .map_err(|e| oauth_error("oauth.refresh", e))
}

fn authorization_url(
    app: &OAuthApp,
    state: &str,
    scopes: &[&str],
    login_hint: Option<&str>,
) -> Result<AuthorizationRequest, ProviderError> {
    let (challenge, verifier) = new_pkce();
    Ok(AuthorizationRequest {
        url: app
            .authorization_url(state, scopes, challenge, login_hint)
            .map_err(|e| ProviderError::failed("oauth.authorize", e))?,
        verifier,
    })
}
