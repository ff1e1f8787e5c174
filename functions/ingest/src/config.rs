//! What ingest reads from its environment: the tenancy table (connections, tokens, the
//! directory), the mail table, the scheduling table (cached busy time), the key that opens refresh tokens, the queues it sends
//! continuations and reconnection notices to, the providers it reads mail from, and where
//! they push (a new connection's subscriptions are created by its first sync job).

use hiresync_connect::PushSettings;
use hiresync_providers::settings::{read_push_settings, ProviderSettings, ProviderUse};
use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub mail_table: String,
    /// Where the scheduler caches seats' busy time, forgotten when a calendar changes.
    pub scheduling_table: String,
    pub token_key_id: String,
    pub sync_jobs_queue_url: String,
    pub notifications_queue_url: String,
    pub providers: ProviderSettings,
    /// Where providers push: a connection's first sync job creates its subscriptions.
    pub push: PushSettings,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            mail_table: env.required("MAIL_TABLE"),
            scheduling_table: env.required("SCHEDULING_TABLE"),
            token_key_id: env.required("TOKEN_KEY_ID"),
            sync_jobs_queue_url: env.required("SYNC_JOBS_QUEUE_URL"),
            notifications_queue_url: env.required("NOTIFICATIONS_QUEUE_URL"),
            providers: ProviderSettings::read(&mut env, ProviderUse::OnBehalf),
            push: read_push_settings(&mut env),
        };
        env.finish(config)
    }
}
