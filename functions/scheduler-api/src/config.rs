//! What scheduler-api reads from its environment: the tables, the key that seals refresh
//! tokens (to read a seat's calendar on its behalf), the queues it sends to, the providers,
//! the key that signs scheduling links, the keys that verify the product's bearer tokens,
//! and the public address candidates open links at.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_providers::settings::{ProviderSettings, ProviderUse};
use hiresync_runtime::config::{ConfigError, Env};
use hiresync_scheduling::LinkSigner;
use hiresync_wiring::auth::Authenticator;

pub struct Config {
    pub tenancy_table: String,
    pub scheduling_table: String,
    pub token_key_id: String,
    pub bookings_queue_url: String,
    pub notifications_queue_url: String,
    pub providers: ProviderSettings,
    pub link_signer: LinkSigner,
    pub authenticator: Authenticator,
    /// Where candidates open their links (`<base>/s/<token>`), without a trailing slash.
    pub public_base_url: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("tenancy_table", &self.tenancy_table)
            .field("scheduling_table", &self.scheduling_table)
            .field("providers", &self.providers)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

fn link_signer(raw: &str) -> Result<LinkSigner, String> {
    B64.decode(raw)
        .ok()
        .and_then(LinkSigner::new)
        .ok_or_else(|| "must be base64 of at least 32 bytes".to_owned())
}

fn authenticator(raw: &str) -> Result<Authenticator, String> {
    Authenticator::from_spec(raw)
        .map_err(|_| "must be kid:base64-secret[,...] with secrets of at least 32 bytes".into())
}

fn base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    if trimmed.starts_with("https://") || trimmed.starts_with("http://127.0.0.1") {
        Ok(trimmed.to_owned())
    } else {
        Err("must be an https:// URL (or http://127.0.0.1 locally)".to_owned())
    }
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let tenancy_table = env.required("TENANCY_TABLE");
        let scheduling_table = env.required("SCHEDULING_TABLE");
        let token_key_id = env.required("TOKEN_KEY_ID");
        let bookings_queue_url = env.required("BOOKINGS_QUEUE_URL");
        let notifications_queue_url = env.required("NOTIFICATIONS_QUEUE_URL");
        let providers = ProviderSettings::read(&mut env, ProviderUse::OnBehalf);
        let public_base_url = env.required_checked("PUBLIC_BASE_URL", base_url);
        let link_signer = env.secret_checked("SCHEDULER_LINK_KEY", link_signer);
        let authenticator = env.secret_checked("API_AUTH_KEYS", authenticator);
        env.finish(())?;
        let (Some(link_signer), Some(authenticator), Some(public_base_url)) =
            (link_signer, authenticator, public_base_url)
        else {
            return Err(ConfigError {
                missing: vec![
                    "SCHEDULER_LINK_KEY_ARN".into(),
                    "API_AUTH_KEYS_ARN".into(),
                    "PUBLIC_BASE_URL".into(),
                ],
                invalid: vec![],
            });
        };
        Ok(Config {
            tenancy_table,
            scheduling_table,
            token_key_id,
            bookings_queue_url,
            notifications_queue_url,
            providers,
            link_signer,
            authenticator,
            public_base_url,
        })
    }
}
