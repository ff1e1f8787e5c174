//! Microsoft 365: the Microsoft identity platform and Graph.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    Accounts, AuthorizationRequest, Channel, ChannelTerms, Identity, NewChannel, ProviderError,
    PushChannels, Renewal, Tokens,
};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use secrecy::SecretString;

use super::{
    account_error, address, authorization_url, redeem, refresh, stopped, without_mailbox,
    ForeignKind,
};
use crate::{resources, ProviderClients, SubscriptionRequest, ALL_CHANGES};

pub struct Microsoft(pub(super) Arc<ProviderClients>);

#[async_trait]
impl Identity for Microsoft {
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> Result<AuthorizationRequest, ProviderError> {
        authorization_url(&self.0.microsoft, state, scopes, login_hint)
    }

    async fn redeem(&self, code: &str, verifier: &SecretString) -> Result<Tokens, ProviderError> {
        redeem(&self.0.microsoft, code, verifier).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ProviderError> {
        refresh(&self.0.microsoft, refresh_token).await
    }

    /// Microsoft has no revocation of one delegated grant (see [`crate::revoke`]): ending
    /// the connection means deleting its subscriptions and its stored token.
    async fn revoke(&self, _refresh_token: &SecretString) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[async_trait]
impl Accounts for Microsoft {
    /// The user's primary SMTP address, once Graph shows it can reach the mailbox (or the
    /// calendar): a token alone does not say the user has one Graph serves.
    async fn address(
        &self,
        access: &SecretString,
        kind: ConnectionKind,
    ) -> Result<EmailAddress, ProviderError> {
        let graph = self
            .0
            .graph(access)
            .map_err(|e| ProviderError::failed("graph base URL", e))?;
        let me = graph.me().await.map_err(|e| account_error("graph.me", e))?;
        let mail = me.mail.ok_or_else(|| without_mailbox("graph.me"))?;
        match kind {
            ConnectionKind::Email => graph
                .mailbox_settings()
                .await
                .map_err(|e| account_error("graph.mailbox_settings", e))?,
            ConnectionKind::Calendar => {
                graph
                    .default_calendar()
                    .await
                    .map_err(|e| account_error("graph.default_calendar", e))?;
            }
        }
        address("graph.me", &mail)
    }

    /// The SMTP proxy addresses of the user (`smtp:` aliases; the primary `SMTP:` one is
    /// `address`). A personal account has none; one that cannot be parsed is left out.
    async fn aliases(
        &self,
        access: &SecretString,
        own: &EmailAddress,
    ) -> Result<BTreeSet<EmailAddress>, ProviderError> {
        let me = self
            .0
            .graph(access)
            .map_err(|e| ProviderError::failed("graph base URL", e))?
            .me()
            .await
            .map_err(|e| account_error("graph.me", e))?;
        Ok(me
            .smtp_addresses()
            .filter_map(|a| EmailAddress::parse(a).ok())
            .filter(|a| a != own)
            .collect())
    }
}

/// The Graph resource a subscription kind watches.
fn graph_resource(kind: SubscriptionKind) -> Result<&'static str, ProviderError> {
    match kind {
        SubscriptionKind::GraphMessages => Ok(resources::MESSAGES),
        SubscriptionKind::GraphInbox => Ok(resources::INBOX_MESSAGES),
        SubscriptionKind::GraphSentItems => Ok(resources::SENT_ITEMS_MESSAGES),
        SubscriptionKind::GraphDeletedItems => Ok(resources::DELETED_ITEMS_MESSAGES),
        SubscriptionKind::GraphEvents => Ok(resources::EVENTS),
        other => Err(ProviderError::failed(
            "graph subscription",
            ForeignKind(other),
        )),
    }
}

#[async_trait]
impl PushChannels for Microsoft {
    /// Graph clamps a subscription's lifetime to the tenant's ceiling.
    fn learns_ceiling(&self) -> bool {
        true
    }

    fn kinds(&self, kind: ConnectionKind) -> &'static [SubscriptionKind] {
        match kind {
            ConnectionKind::Email => &[SubscriptionKind::GraphMessages],
            ConnectionKind::Calendar => &[SubscriptionKind::GraphEvents],
        }
    }

    async fn create(
        &self,
        access: &SecretString,
        channel: &NewChannel<'_>,
        terms: &ChannelTerms<'_>,
    ) -> Result<Channel, ProviderError> {
        let resource = graph_resource(channel.kind)?;
        let settings = terms.settings;
        let created = self
            .0
            .graph(access)
            .map_err(|e| ProviderError::failed("graph base URL", e))?
            .create_subscription(
                &SubscriptionRequest {
                    change_type: ALL_CHANGES.to_owned(),
                    notification_url: settings.graph_notification_url.clone(),
                    lifecycle_notification_url: settings.graph_lifecycle_url.clone(),
                    resource: resource.to_owned(),
                    expiration: settings
                        .lifetimes
                        .graph_expiration(terms.now, terms.ceiling_minutes),
                    client_state: channel.secret.clone(),
                },
                terms.now,
            )
            .await
            .map_err(|e| ProviderError::failed("graph.create_subscription", e))?;
        Ok(Channel {
            id: created.value.id,
            expires_at: created.value.expiration,
            resource_id: None,
            echoes_secret: true,
            clamped_to_minutes: created.clamped_to_minutes,
        })
    }

    async fn renew(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
        terms: &ChannelTerms<'_>,
    ) -> Result<Renewal, ProviderError> {
        graph_resource(sub.kind)?;
        let expiration = terms
            .settings
            .lifetimes
            .graph_expiration(terms.now, terms.ceiling_minutes);
        let renewed = self
            .0
            .graph(access)
            .map_err(|e| ProviderError::failed("graph base URL", e))?
            .renew_subscription(&sub.id, expiration, terms.now)
            .await;
        match renewed {
            Ok(created) => Ok(Renewal::Extended {
                expires_at: created.value.expiration,
                clamped_to_minutes: created.clamped_to_minutes,
            }),
            Err(e) if e.is_not_found() => Ok(Renewal::Gone),
            Err(e) => Err(ProviderError::failed("graph.renew_subscription", e)),
        }
    }

    async fn stop(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
    ) -> Result<(), ProviderError> {
        let graph = self
            .0
            .graph(access)
            .map_err(|e| ProviderError::failed("graph base URL", e))?;
        stopped(
            "graph.delete_subscription",
            graph.delete_subscription(&sub.id).await,
        )
    }
}
