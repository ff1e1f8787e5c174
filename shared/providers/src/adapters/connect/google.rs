//! Google Workspace: Google's OAuth, Gmail and Google Calendar.

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

use super::{account_error, address, authorization_url, redeem, refresh, stopped, ForeignKind};
use crate::{revoke_google, ProviderClients, WatchRequest};

pub struct Google(pub(super) Arc<ProviderClients>);

#[async_trait]
impl Identity for Google {
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> Result<AuthorizationRequest, ProviderError> {
        authorization_url(&self.0.google, state, scopes, login_hint)
    }

    async fn redeem(&self, code: &str, verifier: &SecretString) -> Result<Tokens, ProviderError> {
        redeem(&self.0.google, code, verifier).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ProviderError> {
        refresh(&self.0.google, refresh_token).await
    }

    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), ProviderError> {
        revoke_google(&self.0.http, &self.0.google_revoke_url, refresh_token)
            .await
            .map_err(|e| ProviderError::failed("google.revoke", e))
    }
}

#[async_trait]
impl Accounts for Google {
    async fn address(
        &self,
        access: &SecretString,
        kind: ConnectionKind,
    ) -> Result<EmailAddress, ProviderError> {
        match kind {
            ConnectionKind::Email => {
                let profile = self
                    .0
                    .gmail(access)
                    .map_err(|e| ProviderError::failed("gmail base URL", e))?
                    .profile()
                    .await
                    .map_err(|e| account_error("gmail.profile", e))?;
                address("gmail.profile", &profile.email_address)
            }
            ConnectionKind::Calendar => {
                let primary = self
                    .0
                    .calendar(access)
                    .map_err(|e| ProviderError::failed("calendar base URL", e))?
                    .primary()
                    .await
                    .map_err(|e| account_error("calendar.primary", e))?;
                address("calendar.primary", &primary.id)
            }
        }
    }

    /// The send-as addresses Gmail accepts for the mailbox (the primary one is `address`;
    /// one still pending verification is not the user's yet).
    async fn aliases(
        &self,
        access: &SecretString,
        own: &EmailAddress,
    ) -> Result<BTreeSet<EmailAddress>, ProviderError> {
        let send_as = self
            .0
            .gmail(access)
            .map_err(|e| ProviderError::failed("gmail base URL", e))?
            .send_as()
            .await
            .map_err(|e| account_error("gmail.send_as", e))?;
        Ok(send_as
            .into_iter()
            .filter(|s| {
                s.verification_status
                    .as_deref()
                    .is_none_or(|v| v == "accepted")
            })
            .filter_map(|s| EmailAddress::parse(&s.send_as_email).ok())
            .filter(|a| a != own)
            .collect())
    }
}

/// Gmail's watch covers every label: the sync reads mail wherever it is filed (archived,
/// labelled by a filter that skips the inbox), so a change under any label is a hint.
const GMAIL_WATCHED_LABELS: [&str; 0] = [];

#[async_trait]
impl PushChannels for Google {
    fn kinds(&self, kind: ConnectionKind) -> &'static [SubscriptionKind] {
        match kind {
            ConnectionKind::Email => &[SubscriptionKind::GmailWatch],
            ConnectionKind::Calendar => &[SubscriptionKind::CalendarChannel],
        }
    }

    async fn create(
        &self,
        access: &SecretString,
        channel: &NewChannel<'_>,
        terms: &ChannelTerms<'_>,
    ) -> Result<Channel, ProviderError> {
        let settings = terms.settings;
        match channel.kind {
            SubscriptionKind::GmailWatch => {
                let watch = self
                    .0
                    .gmail(access)
                    .map_err(|e| ProviderError::failed("gmail base URL", e))?
                    .watch(&settings.gmail_topic, &GMAIL_WATCHED_LABELS)
                    .await
                    .map_err(|e| ProviderError::failed("gmail.watch", e))?;
                Ok(Channel {
                    // A mailbox has one watch, known by the mailbox.
                    id: PushSubscription::gmail_watch_id(channel.address.as_str()),
                    expires_at: watch.expiration,
                    resource_id: None,
                    echoes_secret: false,
                    clamped_to_minutes: None,
                })
            }
            SubscriptionKind::CalendarChannel => {
                let ttl = settings.lifetimes.calendar_ttl.as_secs().max(0) as u64;
                let opened = self
                    .0
                    .calendar(access)
                    .map_err(|e| ProviderError::failed("calendar base URL", e))?
                    .watch(
                        "primary",
                        &WatchRequest {
                            channel_id: channel.channel_id.to_owned(),
                            address: settings.calendar_notification_url.clone(),
                            token: channel.secret.clone(),
                            ttl_seconds: ttl,
                        },
                    )
                    .await
                    .map_err(|e| ProviderError::failed("calendar.watch", e))?;
                Ok(Channel {
                    id: opened.id,
                    expires_at: opened.expiration,
                    resource_id: Some(opened.resource_id),
                    echoes_secret: true,
                    clamped_to_minutes: None,
                })
            }
            other => Err(ProviderError::failed("google push", ForeignKind(other))),
        }
    }

    async fn renew(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
        terms: &ChannelTerms<'_>,
    ) -> Result<Renewal, ProviderError> {
        match sub.kind {
            // Watching again extends the mailbox's one watch.
            SubscriptionKind::GmailWatch => {
                let watch = self
                    .0
                    .gmail(access)
                    .map_err(|e| ProviderError::failed("gmail base URL", e))?
                    .watch(&terms.settings.gmail_topic, &GMAIL_WATCHED_LABELS)
                    .await
                    .map_err(|e| ProviderError::failed("gmail.watch", e))?;
                Ok(Renewal::Extended {
                    expires_at: watch.expiration,
                    clamped_to_minutes: None,
                })
            }
            // Calendar channels cannot be extended: a new one replaces the old.
            SubscriptionKind::CalendarChannel => Ok(Renewal::Replace),
            other => Err(ProviderError::failed("google push", ForeignKind(other))),
        }
    }

    async fn stop(
        &self,
        access: &SecretString,
        sub: &PushSubscription,
    ) -> Result<(), ProviderError> {
        match sub.kind {
            SubscriptionKind::GmailWatch => {
                let gmail = self
                    .0
                    .gmail(access)
                    .map_err(|e| ProviderError::failed("gmail base URL", e))?;
                stopped("gmail.stop", gmail.stop().await)
            }
            SubscriptionKind::CalendarChannel => match &sub.resource_id {
                Some(resource) => {
                    let calendar = self
                        .0
                        .calendar(access)
                        .map_err(|e| ProviderError::failed("calendar base URL", e))?;
                    stopped("calendar.stop", calendar.stop(&sub.id, resource).await)
                }
                // Nothing to name the channel by: it lapses on its own.
                None => Ok(()),
            },
            other => Err(ProviderError::failed("google push", ForeignKind(other))),
        }
    }
}
