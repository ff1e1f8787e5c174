//! The composition root: every port the API's use cases take, built once per cold start
//! from the function's configuration. `main.rs` and the local suite both call [`build`].

use std::sync::Arc;

use hiresync_connect::Connector;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_store::DynamoMailStore;
use hiresync_wiring::{connect_ports, zoom_connections, BuildError, ConnectWiring};

use crate::config::Config;
use crate::App;

/// The API over DynamoDB, KMS, SQS and the providers, as `config` says.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<Arc<App>, BuildError> {
    let wiring = ConnectWiring {
        tenancy_table: &config.tenancy_table,
        token_key_id: &config.token_key_id,
        queues: QueueUrls {
            sync_jobs: Some(config.sync_jobs_queue_url),
            deauthorizations: Some(config.deauthorizations_queue_url),
            notifications: Some(config.notifications_queue_url),
        },
    };
    let clients = ProviderClients::new(&config.providers)?;
    let zoom = zoom_connections(
        aws,
        &config.tenancy_table,
        &config.token_key_id,
        &config.zoom,
        &clients,
    )?;
    let ports = connect_ports(aws, &wiring, clients);
    let mail = Arc::new(DynamoMailStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        config.mail_table,
    ));
    Ok(Arc::new(App {
        connector: Connector::new(ports)
            .with_push(config.push)
            .with_signer(config.state_signer),
        threads: mail.clone(),
        conversations: mail.clone(),
        skips: mail,
        zoom: Arc::new(zoom),
        auth: config.authenticator,
        clock: Arc::new(jiff::Timestamp::now),
    }))
}
