//! Candidate events -> the candidate directory.
//!
//! The product publishes `candidate.upserted` and `candidate.removed` on the event bus; a
//! rule routes them to this function's queue. Each carries the candidate's `version`, which
//! only grows: an event older than what the directory holds changes nothing, so duplicated
//! and reordered deliveries converge on the newest state.

mod config;
mod handler;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_domain::ports::DirectoryWriter;
use hiresync_store::DynamoDirectoryStore;

pub use config::Config;
pub use handler::{apply, handle, CandidateEvent, Envelope, EventError};

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub directory: Arc<dyn DirectoryWriter>,
}

impl App {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle(self.directory.as_ref(), event).await
    }
}

/// The composition root `main.rs` and the local suite both call: the directory in
/// DynamoDB, as `config` names it.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> App {
    App {
        directory: Arc::new(DynamoDirectoryStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.tenancy_table,
        )),
    }
}
