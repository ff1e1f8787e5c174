//! settings-fanout: carries an admin's settings change to every connection of the contract,
//! one page per message; each page queues the next.

mod config;
mod handler;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Connector;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_wiring::{connect_ports, ConnectWiring};
use jiff::Timestamp;

pub use config::Config;
pub use handler::handle;
pub use hiresync_wiring::BuildError;

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub connector: Connector,
}

impl App {
    pub async fn handle(&self, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
        handle(&self.connector, event, now).await
    }
}

/// The composition root `main.rs` and the local suite both call. A page stops push
/// subscriptions and revokes grants on the seats' behalf and queues the next page: no
/// sign-in, no push settings, no other queue.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls {
            deauthorizations: Some(config.deauthorizations_queue_url),
            ..QueueUrls::default()
        },
    };
    let clients = ProviderClients::new(&config.providers)?;
    Ok(App {
        connector: Connector::new(connect_ports(aws, &wiring, clients)),
    })
}
