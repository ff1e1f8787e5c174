//! The connect ports over the providers' HTTP APIs: Microsoft 365 through the Microsoft
//! identity platform and Graph, Google Workspace through Google's OAuth, Gmail and
//! Calendar. What one provider does differently from the other lives here, so the connect
//! use cases never ask which provider they talk to.

use std::sync::Arc;

use async_trait::async_trait;
use hiresync_domain::connect_error::{AccountClaims, ProviderSignal};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    Accounts, AuthorizationRequest, Channel, ChannelTerms, Identity, NewChannel, ProviderError,
    ProviderRegistry, PushChannels, Renewal, Tokens,
};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use secrecy::SecretString;

use crate::oauth::{new_pkce, OAuthApp, OAuthError, TokenSet};
use crate::{
    resources, revoke_google, ApiError, ProviderClients, SubscriptionRequest, WatchRequest,
    ALL_CHANGES,
};

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

/// Microsoft 365: the Microsoft identity platform and Graph.
pub struct Microsoft(Arc<ProviderClients>);

/// Google Workspace: Google's OAuth, Gmail and Google Calendar.
pub struct Google(Arc<ProviderClients>);

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
        OAuthError::BadUrl { .. } | OAuthError::Malformed(_) => None,
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
) -> AuthorizationRequest {
    let (challenge, verifier) = new_pkce();
    AuthorizationRequest {
        url: app.authorization_url(state, scopes, challenge, login_hint),
        verifier,
    }
}

#[async_trait]
impl Identity for Microsoft {
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> AuthorizationRequest {
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
impl Identity for Google {
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> AuthorizationRequest {
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
}

/// The Graph resource a subscription kind watches.
fn graph_resource(kind: SubscriptionKind) -> Result<&'static str, ProviderError> {
    match kind {
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
    fn kinds(&self, kind: ConnectionKind) -> &'static [SubscriptionKind] {
        match kind {
            ConnectionKind::Email => &[
                SubscriptionKind::GraphInbox,
                SubscriptionKind::GraphSentItems,
                SubscriptionKind::GraphDeletedItems,
            ],
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

/// Gmail's watch covers what the sync reads: the inbox and sent mail.
const GMAIL_WATCHED_LABELS: [&str; 2] = ["INBOX", "SENT"];

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
