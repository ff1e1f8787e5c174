//! The suite's real queues: what the product publishes onto them, and waiting until the
//! functions behind them have nothing left to do.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Result, Running};

impl Running {
    /// The URL of one of the suite's queues (by logical id: `SyncJobsQueue`, `SyncJobsDeadLetterQueue`, ...).
    pub fn queue_url(&self, queue: &str) -> &str {
        self.queues[queue].as_str().unwrap_or_default()
    }

    /// Messages waiting plus messages in flight.
    pub async fn queue_depth(&self, queue: &str) -> Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(self.queue_url(queue))
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let count = |a: A| {
            attrs
                .get(&a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible))
    }

    /// Waits until the queue is empty (nothing waiting, nothing in flight), seen twice.
    pub async fn drained(&self, queue: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut quiet = 0;
        while quiet < 2 {
            if Instant::now() > deadline {
                return Err(format!("{queue} did not drain within 60 s").into());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            quiet = if self.queue_depth(queue).await? == 0 {
                quiet + 1
            } else {
                0
            };
        }
        Ok(())
    }

    /// Waits until every sync job has run.
    pub async fn settle(&self) -> Result<()> {
        self.drained("SyncJobsQueue").await
    }

    /// A candidate event, as the product publishes it, through the real queue.
    pub async fn candidate(
        &self,
        contract: &str,
        profile: &str,
        email: &str,
        in_pipeline: bool,
        discovery: &str,
    ) -> Result<()> {
        let event = json!({"detail-type": "candidate.upserted", "detail": {
            "contract_id": contract, "profile_id": profile, "emails": [email],
            "discovery": discovery, "in_pipeline": in_pipeline, "version": 1}});
        self.sqs
            .send_message()
            .queue_url(self.queue_url("DirectoryEventsQueue"))
            .message_body(event.to_string())
            .send()
            .await?;
        self.drained("DirectoryEventsQueue").await
    }
}
