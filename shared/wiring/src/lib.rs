//! What the functions that call providers on a seat's behalf (settings-api, settings-fanout,
//! subscription-renewal, ingest) wire the same way: the connect ports over DynamoDB, KMS,
//! SQS and the providers' HTTP clients. Each function's `build(config)` is still its one
//! composition root; it takes from here what it needs, with the queues it sends to and no
//! other.

use std::sync::Arc;

pub mod auth;
mod records_only;

pub use hiresync_scheduling::zoom::ZoomConnections;
pub use records_only::{NotWired, RecordsOnly};

use hiresync_connect::ConnectPorts;
use hiresync_providers::adapters::connect::ConnectProviders;
use hiresync_providers::oauth::token_http_client;
use hiresync_providers::settings::ClientsError;
use hiresync_providers::zoom_oauth::{ZoomOAuth, ZoomOAuthSettings, ZoomOAuthSetupError};
use hiresync_providers::ProviderClients;
use hiresync_runtime::diagnostics::ErrorType;
use hiresync_runtime::outbox::{sqs_queues, QueueUrls};
use hiresync_scheduling::confirm::Wait;
use hiresync_scheduling::zoom::ZoomPorts;
use hiresync_vault::TokenVault;

/// A function cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the provider clients cannot be built")]
    Clients(#[from] ClientsError),
    #[error("the Zoom app cannot be built")]
    Zoom(#[from] ZoomOAuthSetupError),
}

impl ErrorType for BuildError {
    fn error_type(&self) -> String {
        "Configuration".to_owned()
    }
}

/// Where a function's connect ports live.
#[derive(Debug, Clone)]
pub struct ConnectWiring<'a> {
    pub tenancy_table: &'a str,
    /// The KMS key that wraps refresh tokens' data keys.
    pub token_key_id: &'a str,
    /// The queues the function sends to; the others refuse.
    pub queues: QueueUrls,
}

/// The connect ports as deployed: the tenancy stores in DynamoDB, tokens sealed with KMS,
/// queues on SQS, the providers through `clients`.
pub fn connect_ports(
    aws: &aws_config::SdkConfig,
    wiring: &ConnectWiring<'_>,
    clients: ProviderClients,
) -> ConnectPorts {
    ConnectPorts {
        stores: hiresync_store::tenancy_stores(
            &aws_sdk_dynamodb::Client::new(aws),
            wiring.tenancy_table,
        ),
        sealer: Arc::new(TokenVault::new(
            aws_sdk_kms::Client::new(aws),
            wiring.token_key_id,
        )),
        queues: sqs_queues(&aws_sdk_sqs::Client::new(aws), &wiring.queues),
        providers: Arc::new(ConnectProviders::new(clients)),
    }
}

/// The connect ports of a function that changes only hiresync's own records (the tenancy
/// stores and its queues): the providers and the token key are [`RecordsOnly`], refused.
pub fn records_only_ports(
    aws: &aws_config::SdkConfig,
    tenancy_table: &str,
    queues: &QueueUrls,
) -> ConnectPorts {
    ConnectPorts {
        stores: hiresync_store::tenancy_stores(&aws_sdk_dynamodb::Client::new(aws), tenancy_table),
        sealer: Arc::new(RecordsOnly),
        queues: sqs_queues(&aws_sdk_sqs::Client::new(aws), queues),
        providers: Arc::new(RecordsOnly),
    }
}

/// Waits for real (a pending video meeting, a Zoom refusal looked at again).
pub struct Sleep;

#[async_trait::async_trait]
impl Wait for Sleep {
    async fn wait(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The contract's Zoom connections as deployed: kept in the tenancy table, tokens sealed
/// with the refresh-token key, our Zoom app as `zoom` says, Zoom's API at `clients`'
/// `zoom_base`.
pub fn zoom_connections(
    aws: &aws_config::SdkConfig,
    tenancy_table: &str,
    token_key_id: &str,
    zoom: &ZoomOAuthSettings,
    clients: &ProviderClients,
) -> Result<ZoomConnections, BuildError> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let oauth = ZoomOAuth::new(
        zoom,
        token_http_client().map_err(ClientsError::Http)?,
        clients.http.clone(),
        &clients.zoom_base,
    )?
    .with_retry(clients.retry);
    Ok(ZoomConnections::new(ZoomPorts {
        contracts: hiresync_store::tenancy_stores(&dynamo, tenancy_table).contracts,
        store: Arc::new(hiresync_store::DynamoZoomStore::new(
            dynamo.clone(),
            tenancy_table,
        )),
        sealer: Arc::new(TokenVault::new(aws_sdk_kms::Client::new(aws), token_key_id)),
        oauth: Arc::new(oauth),
        wait: Arc::new(Sleep),
    }))
}
