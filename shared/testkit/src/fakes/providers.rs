//! Scripted providers for the connect ports: a test says what the provider grants, refuses
//! or fails, and reads back what was asked of it.
//!
//! A [`ScriptedProvider`] behaves like a provider where a use case can tell: it redeems a
//! code only with the PKCE verifier it issued; it refreshes only a refresh token it issued
//! and has not revoked (anything else is `invalid_grant`); channels it created stay live
//! until stopped; a renewal extends a live channel, and one it dropped is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

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
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};

/// The failure of a scripted call: the provider's signal, or a cause the domain has no
/// words for.
fn failure(operation: &'static str, signal: Option<ProviderSignal>) -> ProviderError {
    let source = Box::new(std::io::Error::other("scripted failure (fake)"));
    match signal {
        Some(signal) => ProviderError::signalled(operation, signal, Some(source)),
        None => ProviderError {
            operation,
            signal: None,
            source: Some(source),
        },
    }
}

/// The token endpoint's `invalid_grant`.
pub fn invalid_grant() -> ProviderSignal {
    ProviderSignal::TokenEndpoint {
        error: "invalid_grant".into(),
        description: None,
        codes: vec![],
    }
}

/// The ID token's claims for `address` as an account of its domain's organization (a
/// Gmail address is a personal Google account).
pub fn organization_account(provider: Provider, address: &str) -> AccountClaims {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let personal = matches!(domain.as_str(), "gmail.com" | "googlemail.com");
    AccountClaims {
        tenant_id: (provider == Provider::Microsoft365).then(|| format!("tenant-{domain}")),
        hosted_domain: (provider == Provider::GoogleWorkspace && !personal).then_some(domain),
        email: Some(address.to_owned()),
    }
}

/// What the next sign-in grants.
#[derive(Debug, Clone)]
pub struct GrantScript {
    /// Whether the answer has a refresh token (a new, unique one).
    pub offline_access: bool,
    /// `None`: the answer does not list the granted scopes.
    pub scopes: Option<BTreeSet<String>>,
    /// Who signed in, as the ID token says; `None`: an account of the address's own
    /// organization (a Microsoft tenant, a Workspace domain; a Gmail address is personal).
    pub account: Option<AccountClaims>,
    /// Whether the answer has an ID token at all.
    pub id_token: bool,
    /// The code redemption is refused with this.
    pub refusal: Option<ProviderSignal>,
}

impl Default for GrantScript {
    fn default() -> Self {
        Self {
            offline_access: true,
            scopes: None,
            account: None,
            id_token: true,
            refusal: None,
        }
    }
}

/// Everything a test can script, and what the provider saw.
#[derive(Default)]
struct State {
    grant: GrantScript,
    /// Verifiers issued with an authorization URL.
    verifiers: BTreeSet<String>,
    /// Refresh tokens issued and not revoked.
    grants: BTreeSet<String>,
    revoked: Vec<String>,
    /// Every refresh hands out a new refresh token, as Microsoft does.
    rotates: bool,
    /// The next refreshes fail with these (`None`: without a signal).
    refresh_failures: Vec<Option<ProviderSignal>>,
    revoke_failures: u32,
    /// By kind; a missing entry is `address`.
    accounts: BTreeMap<&'static str, Result<String, ProviderSignal>>,
    address: String,
    /// The mailbox's other addresses; `None` makes reading them fail.
    aliases: Option<Vec<String>>,
    create_failures: u32,
    renew_failures: u32,
    stop_failures: u32,
    /// The longest lifetime the provider accepts, in minutes.
    clamp_minutes: Option<u32>,
    /// Channel id -> expiry, for the channels the provider has.
    live: BTreeMap<String, Timestamp>,
    created: u32,
    /// Refresh and access tokens handed out so far.
    issued: u32,
    accesses: u32,
    calls: Vec<String>,
}

/// One scripted provider (identity, accounts and push channels).
pub struct ScriptedProvider {
    provider: Provider,
    /// Whether it revokes one grant (Google) or has nothing to do (Microsoft).
    revocable: bool,
    state: Mutex<State>,
}

impl ScriptedProvider {
    pub fn new(provider: Provider) -> Self {
        let state = State {
            rotates: provider == Provider::Microsoft365,
            address: "ana@acme.example".into(),
            aliases: Some(Vec::new()),
            ..State::default()
        };
        Self {
            provider,
            revocable: provider == Provider::GoogleWorkspace,
            state: Mutex::new(state),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// What the next code redemption yields.
    pub fn grants(&self, grant: GrantScript) {
        self.with(|s| s.grant = grant);
    }

    /// The mailbox and calendar address behind every grant.
    pub fn address(&self, address: &str) {
        self.with(|s| s.address = address.to_owned());
    }

    /// The mailbox's other addresses, from now on (`None`: reading them fails).
    pub fn aliases(&self, aliases: Option<&[&str]>) {
        self.with(|s| {
            s.aliases = aliases.map(|list| list.iter().map(|a| (*a).to_owned()).collect())
        });
    }

    /// What reading the account of `kind` answers instead.
    pub fn account(&self, kind: ConnectionKind, answer: Result<&str, ProviderSignal>) {
        self.with(|s| s.accounts.insert(kind.as_str(), answer.map(str::to_owned)));
    }

    /// Whether every refresh hands out a new refresh token.
    pub fn rotates(&self, rotates: bool) {
        self.with(|s| s.rotates = rotates);
    }

    /// The next refresh fails with `signal` (`None`: a failure without one).
    pub fn fail_refresh(&self, signal: Option<ProviderSignal>) {
        self.with(|s| s.refresh_failures.push(signal));
    }

    /// The provider forgets every grant: refreshes are `invalid_grant` from now on.
    pub fn forget_grants(&self) {
        self.with(|s| s.grants.clear());
    }

    /// A refresh token the provider knows, as if issued before the test began.
    pub fn knows_grant(&self, refresh_token: &str) {
        self.with(|s| s.grants.insert(refresh_token.to_owned()));
    }

    pub fn fail_revokes(&self, n: u32) {
        self.with(|s| s.revoke_failures = n);
    }

    pub fn fail_creates(&self, n: u32) {
        self.with(|s| s.create_failures = n);
    }

    pub fn fail_renewals(&self, n: u32) {
        self.with(|s| s.renew_failures = n);
    }

    pub fn fail_stops(&self, n: u32) {
        self.with(|s| s.stop_failures = n);
    }

    /// Lifetimes longer than `minutes` are clamped to it.
    pub fn clamp_to(&self, minutes: u32) {
        self.with(|s| s.clamp_minutes = Some(minutes));
    }

    /// The provider drops a channel, as Graph drops a subscription.
    pub fn drop_channel(&self, id: &str) {
        self.with(|s| s.live.remove(id));
    }

    /// The channels the provider has, by id.
    pub fn live(&self) -> Vec<String> {
        self.with(|s| s.live.keys().cloned().collect())
    }

    /// Refresh tokens the provider would refresh now (issued, not revoked or rotated).
    pub fn valid_grants(&self) -> Vec<String> {
        self.with(|s| s.grants.iter().cloned().collect())
    }

    /// Refresh tokens revoked, in order.
    pub fn revoked(&self) -> Vec<String> {
        self.with(|s| s.revoked.clone())
    }

    /// Every call, in order (`refresh`, `create graph_inbox`, `stop <id>`).
    pub fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    /// How many calls start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.starts_with(prefix)).count())
    }

    fn issue(&self, s: &mut State) -> Option<SecretString> {
        s.issued += 1;
        let token = format!("{}-refresh-token-{}", self.name(), s.issued);
        s.grants.insert(token.clone());
        Some(SecretString::from(token))
    }

    fn access(&self, s: &mut State) -> SecretString {
        s.accesses += 1;
        SecretString::from(format!("{}-access-token-{}", self.name(), s.accesses))
    }

    fn name(&self) -> &'static str {
        match self.provider {
            Provider::Microsoft365 => "microsoft",
            Provider::GoogleWorkspace => "google",
        }
    }

    /// The lifetime the provider grants to a channel asked to live until `asked`.
    fn lifetime(s: &State, asked: Timestamp, now: Timestamp) -> (Timestamp, Option<u32>) {
        match s.clamp_minutes {
            Some(max) if asked > now + SignedDuration::from_mins(i64::from(max)) => {
                (now + SignedDuration::from_mins(i64::from(max)), Some(max))
            }
            _ => (asked, None),
        }
    }

    fn asked(kind: SubscriptionKind, terms: &ChannelTerms<'_>) -> Timestamp {
        let lifetimes = &terms.settings.lifetimes;
        match kind {
            SubscriptionKind::GmailWatch => terms.now + SignedDuration::from_hours(7 * 24),
            SubscriptionKind::CalendarChannel => lifetimes.calendar_expiration(terms.now),
            _ => lifetimes.graph_expiration(terms.now, terms.ceiling_minutes),
        }
    }
}

fn kind_name(kind: SubscriptionKind) -> String {
    serde_json::to_string(&kind)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

fn take(failures: &mut u32) -> bool {
    let fail = *failures > 0;
    *failures = failures.saturating_sub(1);
    fail
}

#[async_trait]
impl Identity for ScriptedProvider {
    /// `https://<provider>.fake/authorize?state=..&scope=..[&login_hint=..]`.
    fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        login_hint: Option<&str>,
    ) -> Result<AuthorizationRequest, ProviderError> {
        self.with(|s| {
            s.calls.push("authorize".into());
            let verifier = format!("verifier-{}", s.verifiers.len() + 1);
            s.verifiers.insert(verifier.clone());
            let mut url = format!(
                "https://{}.fake/authorize?state={state}&scope={}",
                self.name(),
                scopes.join("+")
            );
            if let Some(hint) = login_hint {
                url.push_str(&format!("&login_hint={hint}"));
            }
            Ok(AuthorizationRequest {
                url,
                verifier: SecretString::from(verifier),
            })
        })
    }

    async fn redeem(&self, code: &str, verifier: &SecretString) -> Result<Tokens, ProviderError> {
        self.with(|s| {
            s.calls.push(format!("redeem {code}"));
            if !s.verifiers.remove(verifier.expose_secret()) {
                return Err(failure("oauth.redeem", Some(invalid_grant())));
            }
            let grant = s.grant.clone();
            if let Some(refusal) = grant.refusal {
                return Err(failure("oauth.redeem", Some(refusal)));
            }
            let refresh_token = if grant.offline_access {
                self.issue(s)
            } else {
                None
            };
            let account = grant.id_token.then(|| {
                grant
                    .account
                    .unwrap_or_else(|| organization_account(self.provider, &s.address))
            });
            Ok(Tokens {
                access_token: self.access(s),
                refresh_token,
                granted_scopes: grant.scopes,
                account,
            })
        })
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, ProviderError> {
        self.with(|s| {
            s.calls.push("refresh".into());
            if !s.refresh_failures.is_empty() {
                return Err(failure("oauth.refresh", s.refresh_failures.remove(0)));
            }
            if !s.grants.contains(refresh_token.expose_secret()) {
                return Err(failure("oauth.refresh", Some(invalid_grant())));
            }
            let rotated = if s.rotates {
                s.grants.remove(refresh_token.expose_secret());
                self.issue(s)
            } else {
                None
            };
            Ok(Tokens {
                access_token: self.access(s),
                refresh_token: rotated,
                granted_scopes: None,
                account: None,
            })
        })
    }

    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), ProviderError> {
        if !self.revocable {
            return Ok(());
        }
        self.with(|s| {
            s.calls.push("revoke".into());
            if take(&mut s.revoke_failures) {
                return Err(failure("revoke", None));
            }
            s.grants.remove(refresh_token.expose_secret());
            s.revoked.push(refresh_token.expose_secret().to_owned());
            Ok(())
        })
    }
}

#[async_trait]
impl Accounts for ScriptedProvider {
    async fn address(
        &self,
        _access: &SecretString,
        kind: ConnectionKind,
    ) -> Result<EmailAddress, ProviderError> {
        let answer = self.with(|s| {
            s.calls.push(format!("address {}", kind.as_str()));
            s.accounts
                .get(kind.as_str())
                .cloned()
                .unwrap_or_else(|| Ok(s.address.clone()))
        });
        let raw = answer.map_err(|signal| failure("account", Some(signal)))?;
        EmailAddress::parse(&raw)
            .map_err(|_| failure("account", Some(ProviderSignal::ProfileWithoutMailbox)))
    }

    async fn aliases(
        &self,
        _access: &SecretString,
        address: &EmailAddress,
    ) -> Result<BTreeSet<EmailAddress>, ProviderError> {
        let answer = self.with(|s| {
            s.calls.push("aliases".to_owned());
            s.aliases.clone()
        });
        let list = answer.ok_or_else(|| failure("aliases", None))?;
        Ok(list
            .iter()
            .filter_map(|a| EmailAddress::parse(a).ok())
            .filter(|a| a != address)
            .collect())
    }
}

#[async_trait]
impl PushChannels for ScriptedProvider {
    fn learns_ceiling(&self) -> bool {
        self.provider == Provider::Microsoft365
    }

    fn kinds(&self, kind: ConnectionKind) -> &'static [SubscriptionKind] {
        match (self.provider, kind) {
            (Provider::Microsoft365, ConnectionKind::Email) => &[SubscriptionKind::GraphMessages],
            (Provider::Microsoft365, ConnectionKind::Calendar) => &[SubscriptionKind::GraphEvents],
            (Provider::GoogleWorkspace, ConnectionKind::Email) => &[SubscriptionKind::GmailWatch],
            (Provider::GoogleWorkspace, ConnectionKind::Calendar) => {
                &[SubscriptionKind::CalendarChannel]
            }
        }
    }

    async fn create(
        &self,
        _access: &SecretString,
        channel: &NewChannel<'_>,
        terms: &ChannelTerms<'_>,
    ) -> Result<Channel, ProviderError> {
        self.with(|s| {
            s.calls.push(format!("create {}", kind_name(channel.kind)));
            if take(&mut s.create_failures) {
                return Err(failure("create", None));
            }
            let (expires_at, clamped) =
                Self::lifetime(s, Self::asked(channel.kind, terms), terms.now);
            s.created += 1;
            let (id, resource_id, echoes_secret) = match channel.kind {
                SubscriptionKind::GmailWatch => (
                    PushSubscription::gmail_watch_id(channel.address.as_str()),
                    None,
                    false,
                ),
                SubscriptionKind::CalendarChannel => (
                    channel.channel_id.to_owned(),
                    Some(format!("resource-{}", s.created)),
                    true,
                ),
                _ => (format!("{}-sub-{}", self.name(), s.created), None, true),
            };
            s.live.insert(id.clone(), expires_at);
            Ok(Channel {
                id,
                expires_at,
                resource_id,
                echoes_secret,
                clamped_to_minutes: clamped,
            })
        })
    }

    async fn renew(
        &self,
        _access: &SecretString,
        sub: &PushSubscription,
        terms: &ChannelTerms<'_>,
    ) -> Result<Renewal, ProviderError> {
        self.with(|s| {
            s.calls.push(format!("renew {}", sub.id));
            if take(&mut s.renew_failures) {
                return Err(failure("renew", None));
            }
            match sub.kind {
                SubscriptionKind::CalendarChannel => return Ok(Renewal::Replace),
                SubscriptionKind::GmailWatch => {}
                _ if !s.live.contains_key(&sub.id) => return Ok(Renewal::Gone),
                _ => {}
            }
            let (expires_at, clamped) = Self::lifetime(s, Self::asked(sub.kind, terms), terms.now);
            s.live.insert(sub.id.clone(), expires_at);
            Ok(Renewal::Extended {
                expires_at,
                clamped_to_minutes: clamped,
            })
        })
    }

    async fn stop(
        &self,
        _access: &SecretString,
        sub: &PushSubscription,
    ) -> Result<(), ProviderError> {
        self.with(|s| {
            s.calls.push(format!("stop {}", sub.id));
            if take(&mut s.stop_failures) {
                return Err(failure("stop", None));
            }
            s.live.remove(&sub.id);
            Ok(())
        })
    }
}

/// Both providers, scripted.
pub struct FakeProviders {
    pub microsoft: ScriptedProvider,
    pub google: ScriptedProvider,
}

impl Default for FakeProviders {
    fn default() -> Self {
        Self {
            microsoft: ScriptedProvider::new(Provider::Microsoft365),
            google: ScriptedProvider::new(Provider::GoogleWorkspace),
        }
    }
}

impl FakeProviders {
    pub fn of(&self, provider: Provider) -> &ScriptedProvider {
        match provider {
            Provider::Microsoft365 => &self.microsoft,
            Provider::GoogleWorkspace => &self.google,
        }
    }
}

impl ProviderRegistry for FakeProviders {
    fn identity(&self, provider: Provider) -> &dyn Identity {
        self.of(provider)
    }

    fn accounts(&self, provider: Provider) -> &dyn Accounts {
        self.of(provider)
    }

    fn push(&self, provider: Provider) -> &dyn PushChannels {
        self.of(provider)
    }
}
