use std::collections::{BTreeSet, HashMap};

use hiresync_domain::access::{DeauthorizationReason, Effect, ReconnectReason};
use hiresync_domain::authorization::PendingAuthorization;
use hiresync_domain::capability::may_authorize;
use hiresync_domain::connect_error::{
    account_mismatch, classify, AccountClaims, ConnectError, ProviderSignal, StaleReason,
};
use hiresync_domain::connection::{Connection, ConnectionKind, Grant, SyncStart};
use hiresync_domain::contract::{Contract, Provider, SettingsUpdate};
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{
    AuthorizationStore, ConnectionStore, ContractStore, SeatStore, SubscriptionStore, TokenSealer,
    TokenStore,
};
use hiresync_domain::scopes;
use hiresync_domain::seat::Seat;
use hiresync_domain::subscription::{Lifetimes, PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_messages::{FanOutQueue, NoticeQueue, SyncJobQueue};
use hiresync_providers::oauth::{new_pkce, OAuthError, TokenSet};
use hiresync_providers::{
    resources, ApiError, GmailClient, GoogleCalendarClient, GraphClient, SubscriptionRequest,
    WatchRequest, ALL_CHANGES,
};
use hiresync_runtime::outbox::SqsOutbox as Outbox;
use hiresync_store::{
    DynamoAuthorizationStore, DynamoConnectionStore, DynamoContractStore, DynamoSeatStore,
    DynamoSubscriptionStore, DynamoSyncStatusStore, DynamoTokenStore, StoreError, StoredToken,
    Versioned,
};
use hiresync_vault::TokenVault;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::state::{new_id, StateSigner};
use hiresync_messages::{FanOutPage, Notice, SyncJob, SyncReason};

/// How many connections one fan-out message handles before enqueuing the next page.
const FAN_OUT_PAGE: i32 = 25;
const CONFLICT_RETRIES: usize = 5;

/// The repositories the use cases need.
#[derive(Clone)]
pub struct Stores {
    pub contracts: DynamoContractStore,
    pub seats: DynamoSeatStore,
    pub connections: DynamoConnectionStore,
    pub tokens: DynamoTokenStore,
    pub subscriptions: DynamoSubscriptionStore,
    pub authorizations: DynamoAuthorizationStore,
    pub sync_status: DynamoSyncStatusStore,
}

impl Stores {
    pub fn new(client: aws_sdk_dynamodb::Client, tenancy: &str) -> Self {
        Self {
            contracts: DynamoContractStore::new(client.clone(), tenancy),
            seats: DynamoSeatStore::new(client.clone(), tenancy),
            connections: DynamoConnectionStore::new(client.clone(), tenancy),
            tokens: DynamoTokenStore::new(client.clone(), tenancy),
            subscriptions: DynamoSubscriptionStore::new(client.clone(), tenancy),
            authorizations: DynamoAuthorizationStore::new(client.clone(), tenancy),
            sync_status: DynamoSyncStatusStore::new(client, tenancy),
        }
    }
}

/// The providers' applications and API endpoints, with constructors of each client that
/// fail as the use cases do.
pub type ProviderSetup = hiresync_providers::ProviderClients;

trait ClientsExt {
    fn graph_client(&self, token: &SecretString) -> Result<GraphClient, Failure>;
    fn gmail_client(&self, token: &SecretString) -> Result<GmailClient, Failure>;
    fn calendar_client(&self, token: &SecretString) -> Result<GoogleCalendarClient, Failure>;
}

impl ClientsExt for ProviderSetup {
    fn graph_client(&self, token: &SecretString) -> Result<GraphClient, Failure> {
        self.graph(token)
            .map_err(|e| Failure::internal("graph base URL", e))
    }

    fn gmail_client(&self, token: &SecretString) -> Result<GmailClient, Failure> {
        self.gmail(token)
            .map_err(|e| Failure::internal("gmail base URL", e))
    }

    fn calendar_client(&self, token: &SecretString) -> Result<GoogleCalendarClient, Failure> {
        self.calendar(token)
            .map_err(|e| Failure::internal("calendar base URL", e))
    }
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

#[derive(Clone)]
pub struct Connector {
    pub stores: Stores,
    pub vault: TokenVault,
    pub outbox: Outbox,
    pub providers: ProviderSetup,
    pub push: PushSettings,
    pub signer: StateSigner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChange {
    pub contract: Contract,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    pub url: String,
    pub expires_at: Timestamp,
}

/// The provider's redirect back to us, as it arrived.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub contract: ContractId,
    pub seat: SeatId,
    pub kind: ConnectionKind,
    pub address: EmailAddress,
    pub sync: SyncStart,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutOutcome {
    pub seen: usize,
    pub lost_authorization: usize,
    pub more: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalReport {
    pub renewed: usize,
    pub recreated: usize,
    /// Created for a connection that had no record of them (see [`Connector::renew_due`]).
    pub added: usize,
    pub stopped: usize,
    pub failed: usize,
}

/// A random secret for Graph's clientState or a Calendar channel token (URL-safe, 48 chars).
fn new_secret() -> SecretString {
    SecretString::from(format!("{}{}", new_id(), &new_id()[..5]))
}

fn hash_secret(secret: &SecretString) -> String {
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn stale(reason: StaleReason) -> Failure {
    Failure::Refused(ConnectError::AuthorizationRequestExpired { reason })
}

fn refused(provider: Provider, kind: ConnectionKind, signal: ProviderSignal) -> Failure {
    Failure::Refused(classify(provider, kind, &signal))
}

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

fn oauth_signal(e: &OAuthError) -> Option<ProviderSignal> {
    match e {
        OAuthError::Rejected(body) => Some(ProviderSignal::TokenEndpoint {
            error: body.error.clone(),
            description: body.error_description.clone(),
            codes: body.error_codes.clone(),
        }),
        OAuthError::Unreachable(_) => Some(ProviderSignal::TransportFailed),
        _ => None,
    }
}

fn context<'a>(
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

impl Connector {
    // ------------------------------------------------------------------ settings

    /// The contract's settings; a contract the store has never seen has the defaults.
    pub async fn settings(&self, id: &ContractId) -> Result<Contract, Failure> {
        Ok(self
            .stores
            .contracts
            .get(id)
            .await?
            .map(|v| v.value)
            .unwrap_or_else(|| Contract::new(id.clone())))
    }

    /// Applies an admin's change and starts the fan-out of its effects to every connection
    /// of the contract. Repeating the same change yields no effects and no fan-out.
    pub async fn change_settings(
        &self,
        id: &ContractId,
        update: SettingsUpdate,
        now: Timestamp,
    ) -> Result<SettingsChange, Failure> {
        for _ in 0..CONFLICT_RETRIES {
            let read = match self.stores.contracts.get(id).await? {
                Some(read) => read,
                None => match self
                    .stores
                    .contracts
                    .create(&Contract::new(id.clone()))
                    .await
                {
                    Ok(created) => created,
                    Err(StoreError::AlreadyExists { .. }) => continue,
                    Err(e) => return Err(e.into()),
                },
            };
            let mut contract = read.value.clone();
            let effects = contract.change_settings(update).map_err(|_| {
                Failure::Refused(ConnectError::NotAllowed(
                    hiresync_domain::capability::Denial::ContractSuspended,
                ))
            })?;
            let written = match self.stores.contracts.update(&read, &contract).await {
                Ok(written) => written,
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            };
            let reaches_connections = effects.iter().any(|e| {
                matches!(
                    e,
                    Effect::Deauthorize { .. } | Effect::RequireReconnect { .. }
                )
            });
            if reaches_connections {
                self.outbox
                    .fan_out(&FanOutPage {
                        contract: id.clone(),
                        effects: effects.clone(),
                        issued_at: now,
                        page: None,
                        change: format!("v{}", written.version),
                    })
                    .await?;
            }
            info!(contract = %id, effects = effects.len(), "settings changed");
            return Ok(SettingsChange { contract, effects });
        }
        Err(Failure::internal(
            "settings",
            std::io::Error::other("the contract kept changing concurrently"),
        ))
    }

    /// Carries a settings change to one page of the contract's connections and enqueues the
    /// next page. Safe to repeat: a connection already changed is left alone.
    pub async fn fan_out_page(
        &self,
        page: &FanOutPage,
        now: Timestamp,
    ) -> Result<FanOutOutcome, Failure> {
        let token = page
            .page
            .clone()
            .map(hiresync_store::PageToken::from_string);
        let listed = self
            .stores
            .connections
            .list_by_contract(&page.contract, FAN_OUT_PAGE, token.as_ref())
            .await?;
        let mut outcome = FanOutOutcome {
            seen: listed.items.len(),
            ..Default::default()
        };
        for read in listed.items {
            if self
                .apply_effects(read, &page.effects, page.issued_at, now)
                .await?
            {
                outcome.lost_authorization += 1;
            }
        }
        if let Some(next) = listed.next {
            outcome.more = true;
            self.outbox
                .fan_out(&FanOutPage {
                    page: Some(next.as_str().to_owned()),
                    ..page.clone()
                })
                .await?;
        }
        info!(contract = %page.contract, change = %page.change, seen = outcome.seen, lost = outcome.lost_authorization, more = outcome.more, "fan-out page done");
        Ok(outcome)
    }

    /// The seat removes its own authorization of `kind`. Synced data stays.
    pub async fn deauthorize(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        now: Timestamp,
    ) -> Result<Connection, Failure> {
        let read = self
            .stores
            .connections
            .get(contract, seat, kind)
            .await?
            .ok_or(Failure::NotFound("connection"))?;
        let effect = Effect::Deauthorize {
            kind,
            reason: DeauthorizationReason::SeatRequested,
        };
        self.apply_effects(read, &[effect], now, now).await?;
        self.stores
            .connections
            .get(contract, seat, kind)
            .await?
            .map(|v| v.value)
            .ok_or(Failure::NotFound("connection"))
    }

    /// Applies effects to one connection; when it loses its authorization, its push
    /// subscriptions are stopped and its grant revoked first (both harmless to repeat), so a
    /// failure half-way is finished by the retry. Returns whether it lost its authorization.
    async fn apply_effects(
        &self,
        mut read: Versioned<Connection>,
        effects: &[Effect],
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, Failure> {
        for _ in 0..CONFLICT_RETRIES {
            let mut changed = read.value.clone();
            let mut lost = false;
            for effect in effects {
                lost |= changed.apply(effect, issued_at, now);
            }
            if changed == read.value {
                return Ok(false);
            }
            if lost {
                self.release(&read.value, issued_at, now).await?;
            }
            match self.stores.connections.update(&read, &changed).await {
                Ok(_) => {
                    info!(contract = %changed.contract_id, seat = %changed.seat_id, kind = changed.kind.as_str(), state = ?changed.state, "connection changed");
                    return Ok(lost);
                }
                Err(e) if e.is_conflict() => {
                    read = self
                        .stores
                        .connections
                        .get(&changed.contract_id, &changed.seat_id, changed.kind)
                        .await?
                        .ok_or(Failure::NotFound("connection"))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Failure::internal(
            "connection update",
            std::io::Error::other("the connection kept changing concurrently"),
        ))
    }

    /// Stops a connection's push subscriptions, revokes its grant where the provider offers
    /// revocation (Google; Microsoft has no per-grant revocation for delegated tokens), and
    /// deletes its stored token, unless the token belongs to an authorization newer than
    /// `issued_at`.
    async fn release(
        &self,
        conn: &Connection,
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let token = self.stores.tokens.get(c, s, k).await?;
        let token = token.filter(|t| t.authorized_at <= issued_at);
        let refresh = match &token {
            Some(t) => Some(self.vault.open(&t.sealed, &context(c, s, k)).await?),
            None => None,
        };
        let access = match &refresh {
            Some(r) => match self.providers.oauth(conn.grant.provider).refresh(r).await {
                Ok(set) => Some(set.access_token),
                // The grant is already gone: nothing at the provider to stop or revoke.
                Err(e) if e.is_invalid_grant() => None,
                Err(e) => return Err(Failure::internal("token refresh", e)),
            },
            None => None,
        };
        for sub in self.stores.subscriptions.for_connection(c, s, k).await? {
            if let Some(access) = &access {
                self.stop_at_provider(&sub, access).await?;
            }
            self.stores.subscriptions.delete(&sub).await?;
        }
        if let (Provider::GoogleWorkspace, Some(r)) = (conn.grant.provider, &refresh) {
            hiresync_providers::revoke_google(
                &self.providers.http,
                &self.providers.google_revoke_url,
                r,
            )
            .await
            .map_err(|e| Failure::internal("token revocation", e))?;
        }
        self.stores
            .tokens
            .delete_unless_newer(c, s, k, issued_at)
            .await?;
        let _ = now;
        Ok(())
    }

    async fn stop_at_provider(
        &self,
        sub: &PushSubscription,
        access: &SecretString,
    ) -> Result<(), Failure> {
        if sub.id.starts_with("pending:") {
            return Ok(());
        }
        let result = match sub.kind {
            SubscriptionKind::GraphInbox
            | SubscriptionKind::GraphSentItems
            | SubscriptionKind::GraphDeletedItems
            | SubscriptionKind::GraphEvents => {
                self.providers
                    .graph_client(access)?
                    .delete_subscription(&sub.id)
                    .await
            }
            SubscriptionKind::GmailWatch => self.providers.gmail_client(access)?.stop().await,
            SubscriptionKind::CalendarChannel => match &sub.resource_id {
                Some(resource) => {
                    self.providers
                        .calendar_client(access)?
                        .stop(&sub.id, resource)
                        .await
                }
                None => Ok(()),
            },
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            // The grant no longer allows it: the subscription lapses on its own.
            Err(ApiError::Status {
                status: 401 | 403, ..
            }) => Ok(()),
            Err(e) => Err(Failure::internal("stopping a push subscription", e)),
        }
    }

    // ------------------------------------------------------------------ authorization

    /// Starts a seat's authorization of `kind`: where to send the seat, and until when.
    pub async fn start_authorization(
        &self,
        contract_id: &ContractId,
        seat_id: &SeatId,
        user: &UserId,
        kind: ConnectionKind,
        login_hint: Option<&str>,
        now: Timestamp,
    ) -> Result<AuthorizationStart, Failure> {
        let contract = self.settings(contract_id).await?;
        let provider = may_authorize(&contract, kind)
            .map_err(|d| Failure::Refused(ConnectError::NotAllowed(d)))?;
        if self.stores.seats.get(contract_id, seat_id).await?.is_none() {
            match self
                .stores
                .seats
                .create(&Seat::new(
                    seat_id.clone(),
                    contract_id.clone(),
                    Some(user.clone()),
                ))
                .await
            {
                Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let pending = PendingAuthorization::new(
            new_id(),
            contract_id.clone(),
            seat_id.clone(),
            user.clone(),
            kind,
            provider,
            contract.settings.email_access,
            now,
        );
        let (challenge, verifier) = new_pkce();
        self.stores
            .authorizations
            .create(&pending, &verifier)
            .await?;
        let wanted = scopes::requested_scopes(provider, kind, contract.settings.email_access);
        let url = self.providers.oauth(provider).authorization_url(
            &self.signer.sign(&pending.id),
            &wanted,
            challenge,
            login_hint,
        );
        info!(contract = %contract_id, seat = %seat_id, kind = kind.as_str(), provider = ?provider, "authorization started");
        Ok(AuthorizationStart {
            url,
            expires_at: pending.expires_at,
        })
    }

    /// Completes an authorization from the provider's redirect: redeems the code, checks the
    /// granted scopes and the mailbox or calendar behind the grant, and only then stores the
    /// connection, its sealed token and its push subscriptions.
    pub async fn complete_authorization(
        &self,
        callback: &Callback,
        now: Timestamp,
    ) -> Result<Connected, Failure> {
        let id = callback
            .state
            .as_deref()
            .and_then(|s| self.signer.verify(s))
            .ok_or(stale(StaleReason::Unrecognized))?;
        // The signature proves we issued it; if the store no longer has it, it was used.
        let (pending, verifier) = self
            .stores
            .authorizations
            .take(id)
            .await?
            .ok_or(stale(StaleReason::AlreadyUsed))?;
        if pending.is_expired(now) {
            return Err(stale(StaleReason::Expired));
        }
        let (provider, kind) = (pending.provider, pending.kind);
        if let Some(error) = &callback.error {
            return Err(refused(
                provider,
                kind,
                ProviderSignal::AuthorizeRedirect {
                    error: error.clone(),
                    description: callback.error_description.clone(),
                },
            ));
        }
        let code = callback
            .code
            .as_deref()
            .ok_or(stale(StaleReason::Unrecognized))?;

        // The admin may have changed the provider or turned the feature off meanwhile.
        let contract = self.settings(&pending.contract_id).await?;
        let now_provider = may_authorize(&contract, kind)
            .map_err(|d| Failure::Refused(ConnectError::NotAllowed(d)))?;
        if now_provider != provider {
            return Err(stale(StaleReason::SettingsChanged));
        }

        let tokens = self
            .providers
            .oauth(provider)
            .redeem(code, &verifier)
            .await
            .map_err(|e| match oauth_signal(&e) {
                Some(signal) => refused(provider, kind, signal),
                None => Failure::internal("code redemption", e),
            })?;
        let refresh = tokens.refresh_token.clone().ok_or_else(|| {
            refused(
                provider,
                kind,
                ProviderSignal::ScopesNotGranted(vec!["offline_access".into()]),
            )
        })?;
        let feature = scopes::feature_scopes(provider, kind, pending.email_access);
        let granted: BTreeSet<String> = tokens
            .granted_scopes
            .clone()
            .unwrap_or_else(|| feature.iter().map(|s| (*s).to_owned()).collect());
        let missing = scopes::missing_scopes(provider, &feature, &granted);
        if !missing.is_empty() {
            return Err(refused(
                provider,
                kind,
                ProviderSignal::ScopesNotGranted(missing),
            ));
        }
        // A personal or outside account signed in where the contract's provider expects a
        // work account of its own: refuse before touching the mailbox.
        if let Some(identity) = &tokens.identity {
            let claims = AccountClaims {
                tenant_id: identity.tid.clone(),
                hosted_domain: identity.hd.clone(),
                email: identity
                    .email
                    .clone()
                    .or_else(|| identity.preferred_username.clone()),
            };
            if let Some(foreign) = account_mismatch(provider, &claims) {
                return Err(refused(
                    provider,
                    kind,
                    ProviderSignal::ForeignAccount(foreign),
                ));
            }
        }
        let address = self.grant_address(provider, kind, &tokens).await?;

        let grant = Grant {
            provider,
            address: address.clone(),
            scopes: granted,
        };
        let (c, s) = (pending.contract_id.clone(), pending.seat_id.clone());
        let sync = self.store_connection(&c, &s, kind, grant, now).await?;
        let sealed = self.vault.seal(&refresh, &context(&c, &s, kind)).await?;
        self.stores
            .tokens
            .put(
                &c,
                &s,
                kind,
                &StoredToken {
                    sealed,
                    authorized_at: now,
                },
            )
            .await?;
        self.subscribe(&c, &s, kind, provider, &address, &tokens.access_token, now)
            .await?;
        self.outbox
            .sync_job(
                &SyncJob {
                    contract: c.clone(),
                    seat: s.clone(),
                    kind,
                    reason: match sync {
                        SyncStart::Historical => SyncReason::Historical,
                        SyncStart::Resume => SyncReason::Resume,
                    },
                    requested_at: now,
                },
                &format!("connect:{}", pending.id),
            )
            .await?;
        info!(contract = %c, seat = %s, kind = kind.as_str(), sync = ?sync, "connected");
        Ok(Connected {
            contract: c,
            seat: s,
            kind,
            address,
            sync,
        })
    }

    /// Reads the mailbox or calendar behind a grant; a provider error here is the seat's
    /// mailbox problem (no mailbox, on-premises, inactive) and is classified precisely.
    async fn grant_address(
        &self,
        provider: Provider,
        kind: ConnectionKind,
        tokens: &TokenSet,
    ) -> Result<EmailAddress, Failure> {
        let fail = |e: &ApiError| refused(provider, kind, api_signal(e));
        let address = match (provider, kind) {
            (Provider::Microsoft365, _) => {
                let graph = self.providers.graph_client(&tokens.access_token)?;
                let me = graph.me().await.map_err(|e| fail(&e))?;
                let address = me.mail.ok_or_else(|| {
                    refused(provider, kind, ProviderSignal::ProfileWithoutMailbox)
                })?;
                match kind {
                    ConnectionKind::Email => {
                        graph.mailbox_settings().await.map_err(|e| fail(&e))?
                    }
                    ConnectionKind::Calendar => {
                        graph.default_calendar().await.map_err(|e| fail(&e))?;
                    }
                }
                address
            }
            (Provider::GoogleWorkspace, ConnectionKind::Email) => {
                self.providers
                    .gmail_client(&tokens.access_token)?
                    .profile()
                    .await
                    .map_err(|e| fail(&e))?
                    .email_address
            }
            (Provider::GoogleWorkspace, ConnectionKind::Calendar) => {
                self.providers
                    .calendar_client(&tokens.access_token)?
                    .primary()
                    .await
                    .map_err(|e| fail(&e))?
                    .id
            }
        };
        EmailAddress::parse(&address)
            .map_err(|_| refused(provider, kind, ProviderSignal::ProfileWithoutMailbox))
    }

    async fn store_connection(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        grant: Grant,
        now: Timestamp,
    ) -> Result<SyncStart, Failure> {
        for _ in 0..CONFLICT_RETRIES {
            match self.stores.connections.get(c, s, kind).await? {
                None => {
                    let first = Connection::first(c.clone(), s.clone(), kind, grant.clone(), now);
                    match self.stores.connections.create(&first).await {
                        Ok(_) => return Ok(SyncStart::Historical),
                        Err(StoreError::AlreadyExists { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Some(read) => {
                    let mut conn = read.value.clone();
                    let start = conn.reauthorize(grant.clone(), now);
                    match self.stores.connections.update(&read, &conn).await {
                        Ok(_) => return Ok(start),
                        Err(e) if e.is_conflict() => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Err(Failure::internal(
            "connection",
            std::io::Error::other("the connection kept changing concurrently"),
        ))
    }

    // ------------------------------------------------------------------ subscriptions

    fn subscription_kinds(provider: Provider, kind: ConnectionKind) -> &'static [SubscriptionKind] {
        match (provider, kind) {
            (Provider::Microsoft365, ConnectionKind::Email) => &[
                SubscriptionKind::GraphInbox,
                SubscriptionKind::GraphSentItems,
                SubscriptionKind::GraphDeletedItems,
            ],
            (Provider::Microsoft365, ConnectionKind::Calendar) => &[SubscriptionKind::GraphEvents],
            (Provider::GoogleWorkspace, ConnectionKind::Email) => &[SubscriptionKind::GmailWatch],
            (Provider::GoogleWorkspace, ConnectionKind::Calendar) => {
                &[SubscriptionKind::CalendarChannel]
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn subscribe(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        provider: Provider,
        address: &EmailAddress,
        access: &SecretString,
        now: Timestamp,
    ) -> Result<(), Failure> {
        for &sub_kind in Self::subscription_kinds(provider, kind) {
            self.subscribe_one(c, s, sub_kind, address, access, now)
                .await?;
        }
        Ok(())
    }

    /// Creates and stores one push subscription of a connection. When the provider fails,
    /// it stores a placeholder instead and returns `false`: the connection works without
    /// push (the safety-net poll and the renewal job cover it), and the placeholder, due
    /// now, makes the renewal job create the subscription on its next run.
    async fn subscribe_one(
        &self,
        c: &ContractId,
        s: &SeatId,
        sub_kind: SubscriptionKind,
        address: &EmailAddress,
        access: &SecretString,
        now: Timestamp,
    ) -> Result<bool, Failure> {
        match self
            .create_subscription(c, s, sub_kind, address, access, now)
            .await
        {
            Ok(sub) => {
                self.stores
                    .subscriptions
                    .put(&sub, sub.renew_at(&self.push.lifetimes))
                    .await?;
                Ok(true)
            }
            Err(e) => {
                warn!(contract = %c, seat = %s, kind = ?sub_kind, error = %e, "push subscription not created; renewal will retry");
                let placeholder = PushSubscription {
                    id: format!(
                        "pending:{}:{}:{}:{}",
                        c,
                        s,
                        sub_kind.connection_kind().as_str(),
                        serde_json::to_string(&sub_kind)
                            .unwrap_or_default()
                            .trim_matches('"')
                    ),
                    kind: sub_kind,
                    contract_id: c.clone(),
                    seat_id: s.clone(),
                    resource_id: None,
                    secret_hash: None,
                    expires_at: now,
                    renewed_at: now,
                };
                self.stores.subscriptions.put(&placeholder, now).await?;
                Ok(false)
            }
        }
    }

    /// Subscribes a connection to each kind it should have but holds no record of, not
    /// even a placeholder: a kind added after it connected (Deleted Items joined Inbox and
    /// Sent Items). What is created is followed by a catch-up sync, since nothing pushed
    /// its changes before.
    async fn add_missing(
        &self,
        conn: &Connection,
        access: &SecretString,
        now: Timestamp,
        report: &mut RenewalReport,
    ) -> Result<(), Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let held: Vec<SubscriptionKind> = self
            .stores
            .subscriptions
            .for_connection(c, s, k)
            .await?
            .into_iter()
            .map(|sub| sub.kind)
            .collect();
        let mut created = Vec::new();
        for &kind in Self::subscription_kinds(conn.grant.provider, k) {
            if held.contains(&kind) {
                continue;
            }
            info!(contract = %c, seat = %s, kind = ?kind, "push subscription missing; adding it");
            if self
                .subscribe_one(c, s, kind, &conn.grant.address, access, now)
                .await?
            {
                report.added += 1;
                created.push(kind);
            }
        }
        if let Some(first) = created.first() {
            self.outbox
                .sync_job(
                    &SyncJob {
                        contract: c.clone(),
                        seat: s.clone(),
                        kind: k,
                        reason: SyncReason::CatchUp,
                        requested_at: now,
                    },
                    &format!(
                        "added:{c}:{s}:{}:{}:{}",
                        k.as_str(),
                        serde_json::to_string(first)
                            .unwrap_or_default()
                            .trim_matches('"'),
                        now.as_second()
                    ),
                )
                .await?;
        }
        Ok(())
    }

    async fn create_subscription(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: SubscriptionKind,
        address: &EmailAddress,
        access: &SecretString,
        now: Timestamp,
    ) -> Result<PushSubscription, Failure> {
        let base = |id: String,
                    expires_at: Timestamp,
                    resource_id: Option<String>,
                    secret: Option<&SecretString>| PushSubscription {
            id,
            kind,
            contract_id: c.clone(),
            seat_id: s.clone(),
            resource_id,
            secret_hash: secret.map(hash_secret),
            expires_at,
            renewed_at: now,
        };
        match kind {
            SubscriptionKind::GraphInbox
            | SubscriptionKind::GraphSentItems
            | SubscriptionKind::GraphDeletedItems
            | SubscriptionKind::GraphEvents => {
                let resource = match kind {
                    SubscriptionKind::GraphInbox => resources::INBOX_MESSAGES,
                    SubscriptionKind::GraphSentItems => resources::SENT_ITEMS_MESSAGES,
                    SubscriptionKind::GraphDeletedItems => resources::DELETED_ITEMS_MESSAGES,
                    _ => resources::EVENTS,
                };
                let ceiling = self.stores.contracts.graph_ceiling(c).await?;
                let client_state = new_secret();
                let created = self
                    .providers
                    .graph_client(access)?
                    .create_subscription(
                        &SubscriptionRequest {
                            change_type: ALL_CHANGES.to_owned(),
                            notification_url: self.push.graph_notification_url.clone(),
                            lifecycle_notification_url: self.push.graph_lifecycle_url.clone(),
                            resource: resource.to_owned(),
                            expiration: self.push.lifetimes.graph_expiration(now, ceiling),
                            client_state: client_state.clone(),
                        },
                        now,
                    )
                    .await
                    .map_err(|e| Failure::internal("graph subscription", e))?;
                if let Some(minutes) = created.clamped_to_minutes {
                    self.stores
                        .contracts
                        .remember_graph_ceiling(c, minutes)
                        .await?;
                }
                Ok(base(
                    created.value.id,
                    created.value.expiration,
                    None,
                    Some(&client_state),
                ))
            }
            SubscriptionKind::GmailWatch => {
                let watch = self
                    .providers
                    .gmail_client(access)?
                    .watch(&self.push.gmail_topic, &["INBOX", "SENT"])
                    .await
                    .map_err(|e| Failure::internal("gmail watch", e))?;
                Ok(base(
                    PushSubscription::gmail_watch_id(address.as_str()),
                    watch.expiration,
                    None,
                    None,
                ))
            }
            SubscriptionKind::CalendarChannel => {
                let token = new_secret();
                let ttl = self.push.lifetimes.calendar_ttl.as_secs().max(0) as u64;
                let channel = self
                    .providers
                    .calendar_client(access)?
                    .watch(
                        "primary",
                        &WatchRequest {
                            channel_id: new_id(),
                            address: self.push.calendar_notification_url.clone(),
                            token: token.clone(),
                            ttl_seconds: ttl,
                        },
                    )
                    .await
                    .map_err(|e| Failure::internal("calendar channel", e))?;
                Ok(base(
                    channel.id,
                    channel.expiration,
                    Some(channel.resource_id),
                    Some(&token),
                ))
            }
        }
    }

    /// A usable access token for a connection, refreshing with the stored refresh token and
    /// keeping the rotated one. A refused grant marks the connection as needing reconnection
    /// and tells the seat.
    pub async fn access_token(
        &self,
        conn: &Connection,
        now: Timestamp,
    ) -> Result<SecretString, Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let stored = self
            .stores
            .tokens
            .get(c, s, k)
            .await?
            .ok_or(Failure::Refused(ConnectError::NotAllowed(
                hiresync_domain::capability::Denial::NotAuthorized { kind: k },
            )))?;
        let refresh = self.vault.open(&stored.sealed, &context(c, s, k)).await?;
        match self
            .providers
            .oauth(conn.grant.provider)
            .refresh(&refresh)
            .await
        {
            Ok(set) => {
                if let Some(rotated) = &set.refresh_token {
                    if rotated.expose_secret() != refresh.expose_secret() {
                        let sealed = self.vault.seal(rotated, &context(c, s, k)).await?;
                        self.stores
                            .tokens
                            .put(
                                c,
                                s,
                                k,
                                &StoredToken {
                                    sealed,
                                    authorized_at: stored.authorized_at,
                                },
                            )
                            .await?;
                    }
                }
                Ok(set.access_token)
            }
            Err(e) if e.is_invalid_grant() => {
                self.grant_revoked(conn, now).await?;
                Err(Failure::Refused(ConnectError::NotAllowed(
                    hiresync_domain::capability::Denial::NeedsReconnect { kind: k },
                )))
            }
            Err(e) => Err(Failure::internal("token refresh", e)),
        }
    }

    async fn grant_revoked(&self, conn: &Connection, now: Timestamp) -> Result<(), Failure> {
        let reason = ReconnectReason::GrantRevoked;
        if let Some(read) = self
            .stores
            .connections
            .get(&conn.contract_id, &conn.seat_id, conn.kind)
            .await?
        {
            let mut changed = read.value.clone();
            if changed.require_reconnect(reason, now) {
                match self.stores.connections.update(&read, &changed).await {
                    Ok(_) => {}
                    Err(e) if e.is_conflict() => {}
                    Err(e) => return Err(e.into()),
                }
                self.outbox
                    .notice(&Notice::ReauthorizationNeeded {
                        contract: conn.contract_id.clone(),
                        seat: conn.seat_id.clone(),
                        kind: conn.kind,
                        reason,
                        at: now,
                    })
                    .await?;
                warn!(contract = %conn.contract_id, seat = %conn.seat_id, kind = conn.kind.as_str(), "grant refused by the provider; seat must reconnect");
            }
        }
        Ok(())
    }

    /// Renews every subscription due at `now`: extends or recreates it, stops the ones whose
    /// connection is gone, and enqueues a catch-up sync wherever notifications may have been
    /// missed. The first time a run meets a connection, it also adds the subscriptions the
    /// connection should have but has no record of (kinds added since it connected), so
    /// every connection gains them within one renewal period.
    pub async fn renew_due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<RenewalReport, Failure> {
        let mut report = RenewalReport::default();
        // One token refresh per connection per run, however many of its subscriptions are
        // due (a Microsoft mailbox has three).
        let mut tokens: HashMap<(ContractId, SeatId, ConnectionKind), SecretString> =
            HashMap::new();
        for sub in self.stores.subscriptions.due(now, per_shard).await? {
            match self.renew_one(&sub, now, &mut report, &mut tokens).await {
                Ok(()) => {}
                Err(e) => {
                    report.failed += 1;
                    warn!(contract = %sub.contract_id, seat = %sub.seat_id, kind = ?sub.kind, error = %e, "renewal failed; next run retries");
                }
            }
        }
        Ok(report)
    }

    async fn renew_one(
        &self,
        sub: &PushSubscription,
        now: Timestamp,
        report: &mut RenewalReport,
        tokens: &mut HashMap<(ContractId, SeatId, ConnectionKind), SecretString>,
    ) -> Result<(), Failure> {
        let kind = sub.kind.connection_kind();
        let conn = self
            .stores
            .connections
            .get(&sub.contract_id, &sub.seat_id, kind)
            .await?;
        let conn = match conn {
            Some(read) if read.value.is_authorized() => read.value,
            _ => {
                // Stale: its connection is gone or no longer authorized.
                self.stores.subscriptions.delete(sub).await?;
                report.stopped += 1;
                return Ok(());
            }
        };
        let cache_key = (sub.contract_id.clone(), sub.seat_id.clone(), kind);
        let cached = tokens.get(&cache_key).cloned();
        let first_visit = cached.is_none();
        let fetched = match cached {
            Some(a) => Ok(a),
            None => self.access_token(&conn, now).await,
        };
        let access = match fetched {
            Ok(a) => {
                tokens.insert(cache_key, a.clone());
                a
            }
            Err(Failure::Refused(_)) => {
                self.stores.subscriptions.delete(sub).await?;
                report.stopped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let lapsed = sub.lapsed(now) || sub.id.starts_with("pending:");
        let renewed = match sub.kind {
            _ if sub.id.starts_with("pending:") => None,
            SubscriptionKind::GraphInbox
            | SubscriptionKind::GraphSentItems
            | SubscriptionKind::GraphDeletedItems
            | SubscriptionKind::GraphEvents => {
                let ceiling = self
                    .stores
                    .contracts
                    .graph_ceiling(&sub.contract_id)
                    .await?;
                let expiration = self.push.lifetimes.graph_expiration(now, ceiling);
                match self
                    .providers
                    .graph_client(&access)?
                    .renew_subscription(&sub.id, expiration, now)
                    .await
                {
                    Ok(created) => {
                        if let Some(minutes) = created.clamped_to_minutes {
                            self.stores
                                .contracts
                                .remember_graph_ceiling(&sub.contract_id, minutes)
                                .await?;
                        }
                        Some(created.value.expiration)
                    }
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(Failure::internal("graph renewal", e)),
                }
            }
            SubscriptionKind::GmailWatch => Some(
                self.providers
                    .gmail_client(&access)?
                    .watch(&self.push.gmail_topic, &["INBOX", "SENT"])
                    .await
                    .map_err(|e| Failure::internal("gmail watch", e))?
                    .expiration,
            ),
            // Calendar channels cannot be extended: a new one replaces the old below.
            SubscriptionKind::CalendarChannel => None,
        };
        match renewed {
            Some(expires_at) => {
                let updated = PushSubscription {
                    expires_at,
                    renewed_at: now,
                    ..sub.clone()
                };
                self.stores
                    .subscriptions
                    .put(&updated, updated.renew_at(&self.push.lifetimes))
                    .await?;
                report.renewed += 1;
            }
            None => {
                let fresh = self
                    .create_subscription(
                        &sub.contract_id,
                        &sub.seat_id,
                        sub.kind,
                        &conn.grant.address,
                        &access,
                        now,
                    )
                    .await?;
                self.stores
                    .subscriptions
                    .put(&fresh, fresh.renew_at(&self.push.lifetimes))
                    .await?;
                if fresh.id != sub.id {
                    self.stop_at_provider(sub, &access).await?;
                    self.stores.subscriptions.delete(sub).await?;
                }
                report.recreated += 1;
            }
        }
        let recreated_graph = renewed.is_none() && sub.kind != SubscriptionKind::CalendarChannel;
        if lapsed || recreated_graph {
            self.outbox
                .sync_job(
                    &SyncJob {
                        contract: sub.contract_id.clone(),
                        seat: sub.seat_id.clone(),
                        kind,
                        reason: SyncReason::CatchUp,
                        requested_at: now,
                    },
                    &format!("catchup:{}:{}", sub.id, now.as_second()),
                )
                .await?;
        }
        if first_visit {
            self.add_missing(&conn, &access, now, report).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl hiresync_domain::ports::AccessTokens for Connector {
    async fn access_token(
        &self,
        conn: &Connection,
        now: Timestamp,
    ) -> Result<SecretString, Failure> {
        Connector::access_token(self, conn, now).await
    }
}
