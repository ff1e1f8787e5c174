//! What webhook-intake reads from its environment: the table that maps a subscription to its
//! connection, the sync-jobs queue, and what a Gmail push's OIDC token must say.

use hiresync_runtime::config::{ConfigError, Env};

use crate::google_jwt::GOOGLE_JWKS;

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub sync_jobs_queue_url: String,
    /// The audience the Pub/Sub push subscription puts in its tokens.
    pub pubsub_audience: String,
    /// The service account the push subscription signs as.
    pub pubsub_service_account: String,
    /// Where Google publishes its signing keys (a sandbox's, locally).
    pub google_jwks_url: String,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            sync_jobs_queue_url: env.required("SYNC_JOBS_QUEUE_URL"),
            pubsub_audience: env.required("PUBSUB_PUSH_AUDIENCE"),
            pubsub_service_account: env.required("PUBSUB_PUSH_SERVICE_ACCOUNT"),
            google_jwks_url: env
                .optional("GOOGLE_JWKS_URL")
                .unwrap_or_else(|| GOOGLE_JWKS.to_owned()),
        };
        env.finish(config)
    }
}
