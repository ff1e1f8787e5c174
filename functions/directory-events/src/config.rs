//! What directory-events reads from its environment: the table the directory lives in.

use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            tenancy_table: env.required(hiresync_store::tables::TENANCY.env_var),
        };
        env.finish(config)
    }
}
