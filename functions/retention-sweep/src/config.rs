//! What retention-sweep reads from its environment: the mail table.

use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub mail_table: String,
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let config = Config {
            mail_table: env.required(hiresync_store::tables::MAIL.env_var),
        };
        env.finish(config)
    }
}
