//! settings-fanout: carries an admin's settings change to every connection of the contract,
//! one page per message; each page queues the next.

mod config;
mod handler;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Connector;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_wiring::records_only_ports;
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

/// The composition root `main.rs` and the local suite both call. A page changes
/// connections in the tenancy table (what the provider must still do is left there for the
/// renewal job) and queues the next page: no provider, no key, no other queue.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let queues = QueueUrls {
        deauthorizations: Some(config.deauthorizations_queue_url),
        ..QueueUrls::default()
    };
    Ok(App {
        connector: Connector::new(records_only_ports(aws, &config.tenancy_table, &queues)),
    })
}
