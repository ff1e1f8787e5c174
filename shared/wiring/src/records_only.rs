//! Ports for a function whose use cases change only hiresync's own records (settings-fanout:
//! connections deauthorized locally, their provider clean-up left to the renewal job). It
//! gets neither the OAuth clients' secrets nor the token key: every provider call and every
//! seal is refused here, so a use case that reached one by mistake fails loudly instead of
//! quietly needing a secret the function should not hold.

use async_trait::async_trait;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    Accounts, AuthorizationRequest, Channel, ChannelTerms, Identity, NewChannel, ProviderError,
    ProviderRegistry, PushChannels, Renewal, SealContext, SealError, TokenSealer, Tokens,
};
use hiresync_domain::sealed::Sealed;
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use secrecy::SecretString;

/// What a refused call fails with.
#[derive(Debug, thiserror::Error)]
#[error("this function is not given the providers' credentials nor the token key")]
pub struct NotWired;

/// The providers and the token key, refused.
pub struct RecordsOnly;

fn refused<T>(operation: &'static str) -> Result<T, ProviderError> {
    Err(ProviderError::failed(operation, NotWired))
}

#[async_trait]
impl Identity for RecordsOnly {
    fn authorization_url(
        &self,
        _: &str,
        _: &[&str],
        _: Option<&str>,
    ) -> Result<AuthorizationRequest, ProviderError> {
        refused("oauth.authorize")
    }

    async fn redeem(&self, _: &str, _: &SecretString) -> Result<Tokens, ProviderError> {
        refused("oauth.redeem")
    }

    async fn refresh(&self, _: &SecretString) -> Result<Tokens, ProviderError> {
        refused("oauth.refresh")
    }

    async fn revoke(&self, _: &SecretString) -> Result<(), ProviderError> {
        refused("oauth.revoke")
    }
}

#[async_trait]
impl Accounts for RecordsOnly {
    async fn address(
        &self,
        _: &SecretString,
        _: ConnectionKind,
    ) -> Result<EmailAddress, ProviderError> {
        refused("account.address")
    }

    async fn aliases(
        &self,
        _: &SecretString,
        _: &EmailAddress,
    ) -> Result<std::collections::BTreeSet<EmailAddress>, ProviderError> {
        refused("account.aliases")
    }
}

#[async_trait]
impl PushChannels for RecordsOnly {
    fn kinds(&self, _: ConnectionKind) -> &'static [SubscriptionKind] {
        &[]
    }

    async fn create(
        &self,
        _: &SecretString,
        _: &NewChannel<'_>,
        _: &ChannelTerms<'_>,
    ) -> Result<Channel, ProviderError> {
        refused("push.create")
    }

    async fn renew(
        &self,
        _: &SecretString,
        _: &PushSubscription,
        _: &ChannelTerms<'_>,
    ) -> Result<Renewal, ProviderError> {
        refused("push.renew")
    }

    async fn stop(&self, _: &SecretString, _: &PushSubscription) -> Result<(), ProviderError> {
        refused("push.stop")
    }
}

impl ProviderRegistry for RecordsOnly {
    fn identity(&self, _: Provider) -> &dyn Identity {
        self
    }

    fn accounts(&self, _: Provider) -> &dyn Accounts {
        self
    }

    fn push(&self, _: Provider) -> &dyn PushChannels {
        self
    }
}

#[async_trait]
impl TokenSealer for RecordsOnly {
    async fn seal(&self, _: &SecretString, _: SealContext<'_>) -> Result<Sealed, SealError> {
        Err(SealError::Backend {
            operation: "seal",
            source: Box::new(NotWired),
        })
    }

    async fn open(&self, _: &Sealed, _: SealContext<'_>) -> Result<SecretString, SealError> {
        Err(SealError::Backend {
            operation: "open",
            source: Box::new(NotWired),
        })
    }
}
