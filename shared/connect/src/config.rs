//! Everything the connect use cases need from the environment, read once at cold start,
//! and the wiring that builds their ports from it: the only module of this crate that knows
//! DynamoDB, KMS, SQS and the providers' HTTP clients.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::PushSettings;
use hiresync_domain::subscription::Lifetimes;
use hiresync_providers::adapters::connect::ConnectProviders;
use hiresync_providers::oauth::{token_http_client, OAuthApp, OAuthSettings};
use hiresync_providers::{
    http_client, ProviderClients, RetryPolicy, CALENDAR_BASE, GMAIL_BASE, GOOGLE_REVOKE_URL,
    GRAPH_BASE,
};
use hiresync_runtime::config::{ConfigError, Env};
use hiresync_runtime::outbox::QueueUrls;
use hiresync_store::{
    DynamoAuthorizationStore, DynamoConnectionStore, DynamoContractStore, DynamoSeatStore,
    DynamoSubscriptionStore, DynamoSyncStatusStore, DynamoTokenStore,
};
use hiresync_vault::TokenVault;
use jiff::SignedDuration;
use secrecy::SecretString;

use hiresync_domain::ports::TenancyStores as Stores;

use crate::connector::{ConnectPorts, Connector};
use crate::state::StateSigner;

pub const MICROSOFT_AUTHORIZE: &str =
    "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize";
pub const MICROSOFT_TOKEN: &str =
    "https://login.microsoftonline.com/organizations/oauth2/v2.0/token";
pub const GOOGLE_AUTHORIZE: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";

pub struct ConnectConfig {
    pub tenancy_table: String,
    pub queues: QueueUrls,
    pub token_key_id: String,
    pub state_key: Vec<u8>,
    pub microsoft: OAuthSettings,
    pub google: OAuthSettings,
    pub graph_base: String,
    pub gmail_base: String,
    pub calendar_base: String,
    pub google_revoke_url: String,
    pub push: PushSettings,
}

impl std::fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("tenancy_table", &self.tenancy_table)
            .field("microsoft", &self.microsoft)
            .field("google", &self.google)
            .field("push", &self.push)
            .finish_non_exhaustive()
    }
}

impl ConnectConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(Env::process())
    }

    pub fn from_lookup<L: Fn(&str) -> Option<String>>(
        mut env: Env<L>,
    ) -> Result<Self, ConfigError> {
        let redirect = env.required("OAUTH_REDIRECT_URL");
        let oauth = |env: &mut Env<L>, prefix: &str, authorize: &str, token: &str| OAuthSettings {
            client_id: env.required(&format!("{prefix}_CLIENT_ID")),
            client_secret: SecretString::from(env.required(&format!("{prefix}_CLIENT_SECRET"))),
            authorize_url: env
                .optional(&format!("{prefix}_AUTHORIZE_URL"))
                .unwrap_or_else(|| authorize.to_owned()),
            token_url: env
                .optional(&format!("{prefix}_TOKEN_URL"))
                .unwrap_or_else(|| token.to_owned()),
            redirect_url: Some(redirect.clone()),
        };
        let microsoft = oauth(&mut env, "MICROSOFT", MICROSOFT_AUTHORIZE, MICROSOFT_TOKEN);
        let google = oauth(&mut env, "GOOGLE", GOOGLE_AUTHORIZE, GOOGLE_TOKEN);
        let state_key = B64
            .decode(env.required("OAUTH_STATE_KEY"))
            .unwrap_or_default();
        let webhooks = env.required("WEBHOOK_BASE_URL");
        let webhooks = webhooks.trim_end_matches('/');
        let defaults = Lifetimes::default();
        let lifetimes = Lifetimes {
            graph_minutes: env.parsed_or("GRAPH_SUBSCRIPTION_MINUTES", defaults.graph_minutes),
            calendar_ttl: SignedDuration::from_hours(
                env.parsed_or("CALENDAR_CHANNEL_TTL_HOURS", 168),
            ),
            renew_before: SignedDuration::from_hours(env.parsed_or("RENEW_BEFORE_HOURS", 24)),
            gmail_rewatch_every: defaults.gmail_rewatch_every,
        };
        let config = Self {
            tenancy_table: env.required("TENANCY_TABLE"),
            queues: QueueUrls {
                sync_jobs: Some(env.required("SYNC_JOBS_QUEUE_URL")),
                deauthorizations: Some(env.required("DEAUTHORIZATIONS_QUEUE_URL")),
                notifications: Some(env.required("NOTIFICATIONS_QUEUE_URL")),
            },
            token_key_id: env.required("TOKEN_KEY_ID"),
            microsoft,
            google,
            graph_base: env
                .optional("GRAPH_BASE_URL")
                .unwrap_or_else(|| GRAPH_BASE.to_owned()),
            gmail_base: env
                .optional("GMAIL_BASE_URL")
                .unwrap_or_else(|| GMAIL_BASE.to_owned()),
            calendar_base: env
                .optional("CALENDAR_BASE_URL")
                .unwrap_or_else(|| CALENDAR_BASE.to_owned()),
            google_revoke_url: env
                .optional("GOOGLE_REVOKE_URL")
                .unwrap_or_else(|| GOOGLE_REVOKE_URL.to_owned()),
            push: PushSettings {
                graph_notification_url: format!("{webhooks}/webhooks/graph"),
                graph_lifecycle_url: format!("{webhooks}/webhooks/graph/lifecycle"),
                calendar_notification_url: format!("{webhooks}/webhooks/calendar"),
                gmail_topic: env.required("GMAIL_PUBSUB_TOPIC"),
                lifetimes,
            },
            state_key,
        };
        let config = env.finish(config)?;
        if config.state_key.len() < 32 {
            return Err(ConfigError {
                missing: vec![],
                invalid: vec![(
                    "OAUTH_STATE_KEY".into(),
                    "must be base64 of at least 32 bytes".into(),
                )],
            });
        }
        Ok(config)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("OAuth settings are invalid")]
    OAuth(#[from] hiresync_providers::oauth::OAuthError),
    #[error("HTTP client cannot be built")]
    Http(#[from] reqwest::Error),
    #[error("OAUTH_STATE_KEY must be at least 32 bytes")]
    StateKey,
}

/// The clients of both providers: their OAuth applications, one HTTP client, the API base
/// URLs and the retry policy.
pub fn provider_clients(config: &ConnectConfig) -> Result<ProviderClients, BuildError> {
    let token_http = token_http_client()?;
    Ok(ProviderClients {
        microsoft: OAuthApp::new(
            Provider::Microsoft365,
            &config.microsoft,
            token_http.clone(),
        )?,
        google: OAuthApp::new(Provider::GoogleWorkspace, &config.google, token_http)?,
        http: http_client()?,
        graph_base: config.graph_base.clone(),
        gmail_base: config.gmail_base.clone(),
        calendar_base: config.calendar_base.clone(),
        google_revoke_url: config.google_revoke_url.clone(),
        retry: RetryPolicy::default(),
    })
}

/// The tenancy stores in DynamoDB.
pub fn dynamo_stores(aws: &aws_config::SdkConfig, tenancy_table: &str) -> Stores {
    let client = aws_sdk_dynamodb::Client::new(aws);
    Stores {
        contracts: Arc::new(DynamoContractStore::new(client.clone(), tenancy_table)),
        seats: Arc::new(DynamoSeatStore::new(client.clone(), tenancy_table)),
        connections: Arc::new(DynamoConnectionStore::new(client.clone(), tenancy_table)),
        tokens: Arc::new(DynamoTokenStore::new(client.clone(), tenancy_table)),
        subscriptions: Arc::new(DynamoSubscriptionStore::new(client.clone(), tenancy_table)),
        authorizations: Arc::new(DynamoAuthorizationStore::new(client.clone(), tenancy_table)),
        sync_status: Arc::new(DynamoSyncStatusStore::new(client, tenancy_table)),
    }
}

/// The ports as deployed: DynamoDB, KMS, SQS, and the providers' APIs through `providers`.
pub fn ports(
    aws: &aws_config::SdkConfig,
    config: &ConnectConfig,
    providers: ProviderClients,
) -> ConnectPorts {
    ConnectPorts {
        stores: dynamo_stores(aws, &config.tenancy_table),
        sealer: Arc::new(TokenVault::new(
            aws_sdk_kms::Client::new(aws),
            config.token_key_id.clone(),
        )),
        queues: hiresync_runtime::outbox::sqs_queues(
            &aws_sdk_sqs::Client::new(aws),
            &config.queues,
        ),
        providers: Arc::new(ConnectProviders::new(providers)),
    }
}

/// The connector over [`ports`] with the given provider clients.
pub fn connector(
    aws: &aws_config::SdkConfig,
    config: &ConnectConfig,
    providers: ProviderClients,
) -> Result<Connector, BuildError> {
    let signer = StateSigner::new(config.state_key.clone()).ok_or(BuildError::StateKey)?;
    Ok(Connector::new(ports(aws, config, providers))
        .with_push(config.push.clone())
        .with_signer(signer))
}

impl Connector {
    /// The connector a function builds once per cold start.
    pub fn from_config(
        aws: &aws_config::SdkConfig,
        config: &ConnectConfig,
    ) -> Result<Self, BuildError> {
        connector(aws, config, provider_clients(config)?)
    }
}
