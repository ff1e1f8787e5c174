//! What settings-fanout reads from its environment: the tenancy table, the key that opens
//! refresh tokens, its own queue (each page queues the next), and the providers it calls on
//! a seat's behalf to stop subscriptions and revoke grants.

use hiresync_providers::settings::{ProviderSettings, ProviderUse};
use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub token_key_id: String,
    pub deauthorizations_queue_url: String,
    pub providers: ProviderSettings,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            token_key_id: env.required("TOKEN_KEY_ID"),
            deauthorizations_queue_url: env.required("DEAUTHORIZATIONS_QUEUE_URL"),
            providers: ProviderSettings::read(&mut env, ProviderUse::OnBehalf),
        };
        env.finish(config)
    }
}
