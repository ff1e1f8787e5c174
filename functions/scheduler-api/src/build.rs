//! The composition root: every port the scheduler's use cases take, built once per cold
//! start from the function's configuration. `main.rs` and the local suite both call
//! [`build`].

use std::sync::Arc;

use hiresync_connect::Connector;
use hiresync_providers::adapters::ProviderCalendars;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::{QueueUrls, SqsQueue};
use hiresync_scheduling::{Scheduler, SchedulingPorts};
use hiresync_store::DynamoSchedulingStore;
use hiresync_wiring::{connect_ports, BuildError, ConnectWiring};

use crate::config::Config;
use crate::App;

/// The scheduler over DynamoDB, KMS, SQS and the providers, as `config` says.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<Arc<App>, BuildError> {
    let clients = ProviderClients::new(&config.providers)?;
    let calendars = Arc::new(ProviderCalendars::new(&clients));
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        // Only a refused refresh is sent anywhere: the seat is told to reconnect.
        queues: QueueUrls {
            notifications: Some(config.notifications_queue_url),
            ..QueueUrls::default()
        },
    };
    let ports = connect_ports(aws, &wiring, clients);
    let stores = ports.stores.clone();
    let scheduling = Arc::new(DynamoSchedulingStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        config.scheduling_table,
    ));
    let scheduler = Scheduler::new(
        SchedulingPorts {
            contracts: stores.contracts,
            seats: stores.seats,
            connections: stores.connections,
            settings: scheduling.clone(),
            store: scheduling,
            calendars,
            tokens: Arc::new(Connector::new(ports)),
            bookings: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(aws),
                config.bookings_queue_url,
            )),
        },
        config.link_signer,
    );
    Ok(Arc::new(App {
        scheduler,
        auth: config.authenticator,
        public_base_url: config.public_base_url,
        clock: Arc::new(jiff::Timestamp::now),
    }))
}
