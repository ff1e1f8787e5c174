//! The composition root: every port the API's use cases take, built once per cold start
//! from the function's configuration. `main.rs` and the local suite both call [`build`].

use std::sync::Arc;

use hiresync_connect::Connector;
use hiresync_providers::ProviderClients;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_store::DynamoMailStore;
use hiresync_wiring::{connect_ports, BuildError, ConnectWiring};

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
    let ports = connect_ports(aws, &wiring, ProviderClients::new(&config.providers)?);
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
        auth: config.authenticator,
        clock: Arc::new(jiff::Timestamp::now),
    }))
}
