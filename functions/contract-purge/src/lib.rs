//! contract-purge: `contract.suspended` marks the contract suspended and removes every piece
//! of its third-party data (mail, skip decisions, tombstones, sync status and cursors,
//! scheduling data, push subscriptions stopped at the provider, tokens revoked, then
//! deleted; the contract's Zoom grant given back), fanned out per seat through its own
//! queue, with a receipt per run;
//! `contract.reactivated` lets the seats connect again once that purge has finished.

mod config;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_connect::{Connector, Purger};
use hiresync_messages::PurgeMessage;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::{QueueUrls, SqsQueue};
use hiresync_runtime::sqs_batch::{self, Ordering};
use hiresync_store::DynamoPurgeStore;
use hiresync_wiring::{connect_ports, zoom_connections, ConnectWiring};
use jiff::Timestamp;
use tracing::{info_span, Instrument};

pub use config::Config;
pub use hiresync_wiring::BuildError;

/// How long before the invocation's deadline a step stops and queues its continuation.
const MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub purger: Purger,
}

impl App {
    /// A batch of the purge queue; each record alone, `deadline` the invocation's.
    pub async fn handle(
        &self,
        event: SqsEvent,
        now: Timestamp,
        deadline: std::time::Instant,
    ) -> SqsBatchResponse {
        let stop_at = deadline.checked_sub(MARGIN);
        let out_of_time = move || stop_at.is_none_or(|at| std::time::Instant::now() >= at);
        let out_of_time = &out_of_time;
        sqs_batch::process(
            event,
            Ordering::Concurrent(4),
            |message: PurgeMessage, _| async move {
                let span = info_span!("purge", contract = %contract_of(&message));
                self.purger
                    .handle(message, now, out_of_time)
                    .instrument(span)
                    .await
            },
        )
        .await
    }
}

fn contract_of(message: &PurgeMessage) -> &hiresync_domain::ids::ContractId {
    match message {
        PurgeMessage::Step(step) => step.contract(),
        PurgeMessage::Suspended(e) => &e.contract_id,
        PurgeMessage::Reactivated(e) => &e.contract_id,
    }
}

/// The composition root `main.rs` and the local suite both call.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<App, BuildError> {
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls::default(),
    };
    let clients = ProviderClients::new(&config.providers)?;
    let zoom = zoom_connections(
        aws,
        &config.tenancy_table,
        &config.token_key_id,
        &config.zoom,
        &clients,
    )?;
    let connector = Connector::new(connect_ports(aws, &wiring, clients));
    Ok(App {
        purger: Purger {
            connector,
            store: Arc::new(DynamoPurgeStore::new(
                aws_sdk_dynamodb::Client::new(aws),
                config.tenancy_table,
                config.mail_table,
                config.scheduling_table,
            )),
            queue: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(aws),
                config.purge_queue_url,
            )),
            integrations: Arc::new(zoom),
        },
    })
}
