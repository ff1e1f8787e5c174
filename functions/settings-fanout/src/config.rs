//! What settings-fanout reads from its environment: the tenancy table and its own queue
//! (each page queues the next). Nothing else: a connection loses its authorization here
//! locally, and stopping its subscriptions and revoking its grant at the provider is the
//! renewal job's work, so this function holds no OAuth secret and no key.

use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub deauthorizations_queue_url: String,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            deauthorizations_queue_url: env.required("DEAUTHORIZATIONS_QUEUE_URL"),
        };
        env.finish(config)
    }
}
