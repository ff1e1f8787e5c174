//! What booking-confirmation reads from its environment: the tenancy table (contract, seat,
//! calendar connection, its sealed refresh token), the scheduling table (bookings, the
//! seat's zone), the key that opens refresh tokens, its own queue (to put a job back for
//! later) with its `maxReceiveCount`, the queues it sends to (the recruiter's notices, the
//! candidate's InMail messages), the providers it calls on the seat's behalf, and our Zoom
//! app (to refresh the contract's Zoom token).

use hiresync_providers::settings::{read_zoom_settings, ProviderSettings, ProviderUse};
use hiresync_providers::zoom_oauth::ZoomOAuthSettings;
use hiresync_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct Config {
    pub tenancy_table: String,
    pub scheduling_table: String,
    pub token_key_id: String,
    pub bookings_queue_url: String,
    /// The bookings queue's `maxReceiveCount` (template.yaml): the delivery of a job that
    /// is its last, on which a temporary video failure is reported instead of retried.
    pub max_receive_count: u32,
    pub notifications_queue_url: String,
    pub inmail_outbox_queue_url: String,
    pub providers: ProviderSettings,
    /// Our Zoom app, to refresh the contract's Zoom token.
    pub zoom: ZoomOAuthSettings,
}

fn receive_count(raw: &str) -> Result<u32, String> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| "must be the queue's maxReceiveCount, from 1 to 1000".to_owned())
}

impl Config {
    pub fn from_env<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Self, ConfigError> {
        let max_receive_count = env.required_checked("BOOKINGS_MAX_RECEIVE_COUNT", receive_count);
        let config = Config {
            tenancy_table: env.required("TENANCY_TABLE"),
            scheduling_table: env.required("SCHEDULING_TABLE"),
            token_key_id: env.required("TOKEN_KEY_ID"),
            bookings_queue_url: env.required("BOOKINGS_QUEUE_URL"),
            // Never used when missing or invalid: `finish` reports it.
            max_receive_count: max_receive_count.unwrap_or(1),
            notifications_queue_url: env.required("NOTIFICATIONS_QUEUE_URL"),
            inmail_outbox_queue_url: env.required("INMAIL_OUTBOX_QUEUE_URL"),
            providers: ProviderSettings::read(&mut env, ProviderUse::OnBehalf),
            zoom: read_zoom_settings(&mut env, ProviderUse::OnBehalf),
        };
        env.finish(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_env(Env::new(move |k: &str| map.get(k).cloned()))
    }

    #[test]
    fn every_missing_variable_is_named_and_the_receive_count_is_checked() {
        let e = load(&[("BOOKINGS_MAX_RECEIVE_COUNT", "0")]).unwrap_err();
        for name in [
            "TENANCY_TABLE",
            "SCHEDULING_TABLE",
            "TOKEN_KEY_ID",
            "BOOKINGS_QUEUE_URL",
            "NOTIFICATIONS_QUEUE_URL",
            "INMAIL_OUTBOX_QUEUE_URL",
            "MICROSOFT_CLIENT_ID",
            "GOOGLE_CLIENT_ID",
            "ZOOM_CLIENT_ID",
        ] {
            assert!(e.missing.iter().any(|m| m == name), "{name}: {e}");
        }
        assert!(e
            .invalid
            .iter()
            .any(|(name, _)| name == "BOOKINGS_MAX_RECEIVE_COUNT"));
        assert_eq!(receive_count("5"), Ok(5));
        assert!(receive_count("five").is_err());
    }
}
