//! booking-confirmation: one booking job at a time per booking (the FIFO group): the
//! interview goes in the recruiter's calendar with its video meeting, or is moved there,
//! and the candidate is told in their conversation (see `hiresync_scheduling::confirm`).

mod config;
mod handler;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::Connector;
use hiresync_providers::adapters::{ProviderCalendars, ProviderZoom};
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::{QueueUrls, Redelivery, SqsQueue};
use hiresync_scheduling::confirm::{ConfirmPorts, Confirmer};
use hiresync_store::DynamoSchedulingStore;
use hiresync_wiring::{connect_ports, zoom_connections, ConnectWiring};
use jiff::Timestamp;

pub use config::Config;
pub use handler::{backoff, handle, JobError};
pub use hiresync_wiring::BuildError;

/// The function, built once per cold start: the use case, the bookings queue to put a job
/// back on for later, and that queue's `maxReceiveCount`.
#[derive(Clone)]
pub struct App {
    pub confirmer: Arc<Confirmer>,
    pub redelivery: Arc<dyn Redelivery>,
    pub max_receive_count: u32,
}

impl App {
    pub async fn handle(&self, event: SqsEvent, now: Timestamp) -> SqsBatchResponse {
        handle(self, event, now).await
    }
}

pub use hiresync_wiring::Sleep;

/// The composition root `main.rs` and the local suite both call: the confirmation over the
/// tenancy and scheduling tables, the providers' calendars, the connector that refreshes
/// access tokens (and marks a refused grant, telling the seat), and the queues it sends to.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let clients = ProviderClients::new(&config.providers)?;
    let events = Arc::new(ProviderCalendars::new(&clients));
    let meetings = Arc::new(ProviderZoom::new(&clients));
    let zoom = zoom_connections(
        aws,
        &config.tenancy_table,
        &config.token_key_id,
        &config.zoom,
        &clients,
    )?;
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls {
            notifications: Some(config.notifications_queue_url),
            ..QueueUrls::default()
        },
    };
    let ports = connect_ports(aws, &wiring, clients);
    let stores = ports.stores.clone();
    let notices = ports.queues.notices.clone();
    let scheduling = Arc::new(DynamoSchedulingStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        config.scheduling_table,
    ));
    let sqs = aws_sdk_sqs::Client::new(aws);
    let confirmer = Confirmer::new(ConfirmPorts {
        contracts: stores.contracts,
        seats: stores.seats,
        connections: stores.connections,
        settings: scheduling.clone(),
        store: scheduling,
        events,
        tokens: Arc::new(Connector::new(ports)),
        notices,
        inmail: Arc::new(SqsQueue::new(sqs.clone(), config.inmail_outbox_queue_url)),
        wait: Arc::new(Sleep),
        zoom: Arc::new(zoom),
        meetings,
    });
    Ok(App {
        confirmer: Arc::new(confirmer),
        redelivery: Arc::new(SqsQueue::new(sqs, config.bookings_queue_url)),
        max_receive_count: config.max_receive_count,
    })
}
