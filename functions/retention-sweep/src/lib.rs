//! retention-sweep: on a schedule, removes every synced thread that has had no mail sent or
//! received for six months, with its messages, for authorized and deauthorized seats alike.
//! Each removal leaves the inactivity tombstone, so a conversation that comes back syncs
//! only what came after the removal.

mod config;
mod sweep;

use std::sync::Arc;

use hiresync_domain::ports::{Retention, StoreError};
use hiresync_store::DynamoMailStore;
use jiff::Timestamp;

pub use config::Config;
pub use sweep::{sweep, SweepReport, FIRST_RUN_DAYS, PER_SHARD};

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub retention: Arc<dyn Retention>,
}

impl App {
    /// One run at `now`, stopping in time for `deadline` (the invocation's).
    pub async fn handle(
        &self,
        now: Timestamp,
        deadline: std::time::Instant,
    ) -> Result<SweepReport, StoreError> {
        // Stop with room to write the mark and answer.
        let stop_at = deadline.checked_sub(std::time::Duration::from_secs(20));
        let out_of_time = move || stop_at.is_none_or(|at| std::time::Instant::now() >= at);
        sweep(self.retention.as_ref(), now, &out_of_time).await
    }
}

/// The composition root `main.rs` and the local suite both call: the mail table as
/// `config` names it.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> App {
    App {
        retention: Arc::new(DynamoMailStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.mail_table,
        )),
    }
}
