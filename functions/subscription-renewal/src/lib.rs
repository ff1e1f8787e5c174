//! subscription-renewal: on a schedule, renews the Graph subscriptions, Gmail watches and
//! Calendar channels that are due, recreates the ones a provider dropped, and queues a
//! catch-up sync where pushes may have been missed; and finishes at the providers what
//! deauthorized connections left there (stopping their subscriptions, revoking grants).

mod config;
mod handler;

use hiresync_connect::{Connector, Failure};
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_wiring::{connect_ports, ConnectWiring};
use jiff::Timestamp;

pub use config::Config;
pub use handler::{handle, RunReport, PER_SHARD};
pub use hiresync_wiring::BuildError;

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub connector: Connector,
    /// How long a connection may stay without a successful sync.
    pub catch_up: jiff::SignedDuration,
}

impl App {
    /// One scheduled run at `now`, within `deadline` (the invocation's; `None` locally).
    pub async fn handle(
        &self,
        now: Timestamp,
        deadline: Option<std::time::Instant>,
    ) -> Result<RunReport, Failure> {
        handle(&self.connector, now, self.catch_up, deadline).await
    }
}

/// The composition root `main.rs` and the local suite both call: renewal refreshes tokens
/// and renews at the providers on the seats' behalf, queues catch-up jobs and tells a seat
/// whose grant was refused; it starts no sign-in.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls {
            sync_jobs: Some(config.sync_jobs_queue_url),
            notifications: Some(config.notifications_queue_url),
            ..QueueUrls::default()
        },
    };
    let clients = ProviderClients::new(&config.providers)?;
    Ok(App {
        connector: Connector::new(connect_ports(aws, &wiring, clients)).with_push(config.push),
        catch_up: config.catch_up,
    })
}
