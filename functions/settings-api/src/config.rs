//! What settings-api reads from its environment: the tables, the key that seals refresh
//! tokens, the queues it sends to, both providers for sign-ins, where providers push, the
//! key that signs the OAuth `state`, our Zoom app (the contract's Zoom connection), and the
//! keys that verify the product's bearer tokens.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_connect::state::StateSigner;
use hiresync_domain::ports::PushSettings;
use hiresync_providers::settings::{
    read_push_settings, read_zoom_settings, ProviderSettings, ProviderUse,
};
use hiresync_providers::zoom_oauth::ZoomOAuthSettings;
use hiresync_runtime::config::{ConfigError, Env};

use crate::auth::Authenticator;

pub struct Config {
    pub tenancy_table: String,
    pub mail_table: String,
    pub token_key_id: String,
    pub sync_jobs_queue_url: String,
    pub deauthorizations_queue_url: String,
    pub notifications_queue_url: String,
    pub providers: ProviderSettings,
    /// Our Zoom app, for the contract's Zoom connection.
    pub zoom: ZoomOAuthSettings,
    pub push: PushSettings,
    pub state_signer: StateSigner,
    pub authenticator: Authenticator,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("tenancy_table", &self.tenancy_table)
            .field("mail_table", &self.mail_table)
            .field("providers", &self.providers)
            .field("zoom", &self.zoom)
            .field("push", &self.push)
            .finish_non_exhaustive()
    }
}

fn state_signer(raw: &str) -> Result<StateSigner, String> {
    B64.decode(raw)
        .ok()
        .and_then(StateSigner::new)
        .ok_or_else(|| "must be base64 of at least 32 bytes".to_owned())
}

fn authenticator(raw: &str) -> Result<Authenticator, String> {
    Authenticator::from_spec(raw)
        .map_err(|_| "must be kid:base64-secret[,...] with secrets of at least 32 bytes".into())
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let tenancy_table = env.required("TENANCY_TABLE");
        let mail_table = env.required("MAIL_TABLE");
        let token_key_id = env.required("TOKEN_KEY_ID");
        let sync_jobs_queue_url = env.required("SYNC_JOBS_QUEUE_URL");
        let deauthorizations_queue_url = env.required("DEAUTHORIZATIONS_QUEUE_URL");
        let notifications_queue_url = env.required("NOTIFICATIONS_QUEUE_URL");
        let providers = ProviderSettings::read(&mut env, ProviderUse::SignIn);
        let zoom = read_zoom_settings(&mut env, ProviderUse::SignIn);
        let push = read_push_settings(&mut env);
        let state_signer = env.secret_checked("OAUTH_STATE_KEY", state_signer);
        let authenticator = env.secret_checked("API_AUTH_KEYS", authenticator);
        env.finish(())?;
        // `finish` reported any key that is missing or invalid, so both are here.
        let (Some(state_signer), Some(authenticator)) = (state_signer, authenticator) else {
            return Err(ConfigError {
                missing: vec!["OAUTH_STATE_KEY_ARN".into(), "API_AUTH_KEYS_ARN".into()],
                invalid: vec![],
            });
        };
        Ok(Config {
            tenancy_table,
            mail_table,
            token_key_id,
            sync_jobs_queue_url,
            deauthorizations_queue_url,
            notifications_queue_url,
            providers,
            zoom,
            push,
            state_signer,
            authenticator,
        })
    }
}
