//! What subscription-renewal reads from its environment: the tenancy table, the key that
//! opens refresh tokens, the queues it sends catch-up jobs and reconnection notices to, the
//! providers it calls on a seat's behalf, and where providers push.

use hiresync_connect::PushSettings;
use hiresync_providers::settings::{read_push_settings, ProviderSettings, ProviderUse};
use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub token_key_id: String,
    pub sync_jobs_queue_url: String,
    pub notifications_queue_url: String,
    pub providers: ProviderSettings,
    pub push: PushSettings,
    /// How long a connection may go without a successful sync before a run queues one
    /// (`CATCH_UP_MINUTES`, default 60).
    pub catch_up: jiff::SignedDuration,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            token_key_id: env.required("TOKEN_KEY_ID"),
            sync_jobs_queue_url: env.required("SYNC_JOBS_QUEUE_URL"),
            notifications_queue_url: env.required("NOTIFICATIONS_QUEUE_URL"),
            providers: ProviderSettings::read(&mut env, ProviderUse::OnBehalf),
            push: read_push_settings(&mut env),
            catch_up: jiff::SignedDuration::from_mins(
                env.parsed_or("CATCH_UP_MINUTES", 60i64).max(1),
            ),
        };
        env.finish(config)
    }
}
