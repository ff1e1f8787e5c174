//! What the connect use cases need from a mail and calendar provider, by capability:
//! signing a seat in ([`Identity`]), learning the mailbox or calendar behind a grant
//! ([`Accounts`]), and being told of changes ([`PushChannels`]). A [`ProviderRegistry`]
//! finds each for a [`Provider`], so adding a provider means implementing these three
//! traits and adding one registry entry.
//!
//! A provider's answer that the domain classifies for the seat
//! ([`crate::connect_error::classify`]) travels as a [`ProviderSignal`] in the error;
//! anything else keeps its cause for the log.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use thiserror::Error;

use crate::connect_error::{AccountClaims, ProviderSignal};
use crate::connection::ConnectionKind;
use crate::contract::Provider;
use crate::ids::EmailAddress;
use crate::subscription::{Lifetimes, PushSubscription, SubscriptionKind};

use super::BoxError;

/// A provider call that failed.
#[derive(Debug, Error)]
#[error("provider call {operation} failed")]
pub struct ProviderError {
    /// The call, for the log (`oauth.refresh`, `graph.me`).
    pub operation: &'static str,
    /// What the provider said, when the domain can tell the seat what it means.
    pub signal: Option<ProviderSignal>,
    #[source]
    pub source: Option<BoxError>,
}

impl ProviderError {
    /// A failure the domain has no words for: kept for the log only.
    pub fn failed(
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            signal: None,
            source: Some(Box::new(source)),
        }
    }

    /// A failure the domain classifies as `signal`, with its cause when there is one.
    pub fn signalled(
        operation: &'static str,
        signal: ProviderSignal,
        source: Option<BoxError>,
    ) -> Self {
        Self {
            operation,
            signal: Some(signal),
            source,
        }
    }

    /// The grant (a code or a refresh token) is no longer good: the seat must authorize
    /// again.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(&self.signal, Some(ProviderSignal::TokenEndpoint { error, .. }) if error == "invalid_grant")
    }
}

/// Where to send a seat to sign in, and the PKCE verifier to keep until it comes back.
pub struct AuthorizationRequest {
    pub url: String,
    pub verifier: SecretString,
}

/// What a code redemption or a refresh yields.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: SecretString,
    /// A new refresh token: on the first consent, and from some providers on every
    /// refresh (the stored one is then replaced).
    pub refresh_token: Option<SecretString>,
    /// The scopes the provider says it granted; `None` when its answer does not say.
    pub granted_scopes: Option<BTreeSet<String>>,
    /// Who signed in, when the answer says (an OpenID Connect `id_token`).
    pub account: Option<AccountClaims>,
}

/// Signing a seat in with OAuth (authorization code with PKCE) and keeping its grant.
#[async_trait]
pub trait Identity: Send + Sync {
    /// The consent page for `scopes`, coming back to our redirect with `state`.
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> Result<AuthorizationRequest, ProviderError>;

    /// Redeems the authorization code with the verifier kept for it.
    async fn redeem(&self, code: &str, verifier: &SecretString) -> Result<Tokens, ProviderError>;

    /// A fresh access token from a refresh token.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ProviderError>;

    /// Gives the grant back. Harmless to repeat; a no-op where the provider has no
    /// revocation of one grant.
    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), ProviderError>;
}

/// The mailbox or calendar behind a grant.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The address of the mailbox (`Email`) or calendar (`Calendar`) the grant reaches.
    /// When there is none the provider can serve (no mailbox, on-premises, inactive), the
    /// error carries the signal saying so.
    async fn address(
        &self,
        access: &SecretString,
        kind: ConnectionKind,
    ) -> Result<EmailAddress, ProviderError>;

    /// The mailbox's other addresses (aliases, send-as addresses), `address` left out:
    /// mail to or from them is the seat's own.
    async fn aliases(
        &self,
        access: &SecretString,
        address: &EmailAddress,
    ) -> Result<std::collections::BTreeSet<EmailAddress>, ProviderError>;
}

/// Where providers push, and for how long subscriptions live.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub graph_notification_url: String,
    pub graph_lifecycle_url: String,
    pub calendar_notification_url: String,
    /// `projects/<project>/topics/<topic>`.
    pub gmail_topic: String,
    pub lifetimes: Lifetimes,
}

/// What a new or renewed subscription is asked for.
#[derive(Debug, Clone, Copy)]
pub struct ChannelTerms<'a> {
    pub settings: &'a PushSettings,
    /// The longest lifetime the contract's tenant accepted so far, in minutes, if learned.
    pub ceiling_minutes: Option<u32>,
    pub now: Timestamp,
}

/// A subscription to create.
#[derive(Debug, Clone, Copy)]
pub struct NewChannel<'a> {
    pub kind: SubscriptionKind,
    /// The mailbox or calendar the connection holds.
    pub address: &'a EmailAddress,
    /// A fresh random id, for a provider that lets the caller name the channel.
    pub channel_id: &'a str,
    /// A fresh random secret, for a provider that echoes one in every notification.
    pub secret: &'a SecretString,
}

/// A subscription the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub expires_at: Timestamp,
    /// What the provider needs besides the id to stop it.
    pub resource_id: Option<String>,
    /// Whether notifications carry [`NewChannel::secret`], so its hash is kept to check
    /// them.
    pub echoes_secret: bool,
    /// `Some(N)` when the provider refused the asked lifetime as longer than N minutes and
    /// accepted N: remembered for the tenant, so it is not asked for more next time.
    pub clamped_to_minutes: Option<u32>,
}

/// What became of a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Extended {
        expires_at: Timestamp,
        /// As in [`Channel::clamped_to_minutes`].
        clamped_to_minutes: Option<u32>,
    },
    /// The provider no longer has it: a new one replaces it, and the changes since it was
    /// dropped are caught up, since nothing pushed them.
    Gone,
    /// This kind cannot be extended: a new one replaces it before it ends.
    Replace,
}

/// Push subscriptions: Graph subscriptions, Gmail watches, Calendar channels.
#[async_trait]
pub trait PushChannels: Send + Sync {
    /// The subscriptions a connection of `kind` needs.
    fn kinds(&self, kind: ConnectionKind) -> &'static [SubscriptionKind];

    /// Whether the provider may clamp a subscription's lifetime to a ceiling the contract
    /// then remembers ([`ChannelTerms::ceiling_minutes`]); only then is it read.
    fn learns_ceiling(&self) -> bool {
        false
    }

    async fn create(
        &self,
        access: &SecretString,
        channel: &NewChannel<'_>,
        terms: &ChannelTerms<'_>,
    ) -> Result<Channel, ProviderError>;

    async fn renew(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
        terms: &ChannelTerms<'_>,
    ) -> Result<Renewal, ProviderError>;

    /// Stops a subscription. One the provider no longer has, or that the grant may no
    /// longer stop (it lapses on its own), counts as stopped.
    async fn stop(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
    ) -> Result<(), ProviderError>;
}

/// Each provider's ports.
pub trait ProviderRegistry: Send + Sync {
    fn identity(&self, provider: Provider) -> &dyn Identity;
    fn accounts(&self, provider: Provider) -> &dyn Accounts;
    fn push(&self, provider: Provider) -> &dyn PushChannels;
}
