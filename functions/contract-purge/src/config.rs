//! What contract-purge reads from its environment: the three tables that hold a contract's
//! third-party data, the key that opens the refresh tokens it revokes, its own queue (each
//! step queues the next), the providers it calls on a seat's behalf to stop
//! subscriptions and revoke grants, and our Zoom app (to give the contract's Zoom grant
//! back).

use hiresync_providers::settings::{read_zoom_settings, ProviderSettings, ProviderUse};
use hiresync_providers::zoom_oauth::ZoomOAuthSettings;
use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub mail_table: String,
    pub scheduling_table: String,
    pub token_key_id: String,
    pub purge_queue_url: String,
    pub providers: ProviderSettings,
    /// Our Zoom app, to revoke the contract's Zoom grant.
    pub zoom: ZoomOAuthSettings,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            mail_table: env.required("MAIL_TABLE"),
            scheduling_table: env.required("SCHEDULING_TABLE"),
            token_key_id: env.required("TOKEN_KEY_ID"),
            purge_queue_url: env.required("PURGE_QUEUE_URL"),
            providers: ProviderSettings::read(&mut env, ProviderUse::OnBehalf),
            zoom: read_zoom_settings(&mut env, ProviderUse::OnBehalf),
        };
        env.finish(config)
    }
}
