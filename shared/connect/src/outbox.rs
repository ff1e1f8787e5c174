//! Sending the connect use cases' messages.

use aws_sdk_sqs::Client;
use serde::Serialize;
use thiserror::Error;

use crate::messages::{FanOutPage, Notice, SyncJob};

#[derive(Debug, Error)]
pub enum OutboxError {
    #[error("message for {queue} cannot be encoded")]
    Encode {
        queue: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("sending to {queue} failed")]
    Send {
        queue: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

#[derive(Debug, Clone)]
pub struct QueueUrls {
    pub sync_jobs: String,
    pub deauthorizations: String,
    pub notifications: String,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    sqs: Client,
    urls: QueueUrls,
}

fn body<T: Serialize>(queue: &'static str, message: &T) -> Result<String, OutboxError> {
    serde_json::to_string(message).map_err(|source| OutboxError::Encode { queue, source })
}

impl Outbox {
    pub fn new(sqs: Client, urls: QueueUrls) -> Self {
        Self { sqs, urls }
    }

    async fn send(
        &self,
        queue: &'static str,
        url: &str,
        body: String,
        fifo: Option<(String, String)>,
    ) -> Result<(), OutboxError> {
        let mut request = self.sqs.send_message().queue_url(url).message_body(body);
        if let Some((group, dedup)) = fifo {
            request = request
                .message_group_id(group)
                .message_deduplication_id(dedup);
        }
        request.send().await.map_err(|e| OutboxError::Send {
            queue,
            source: Box::new(e),
        })?;
        Ok(())
    }

    /// `dedup` names the cause (a pending authorization, a renewal), so a retried step
    /// enqueues one job, not two.
    pub async fn sync_job(&self, job: &SyncJob, dedup: &str) -> Result<(), OutboxError> {
        let dedup: String = dedup
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
            .take(128)
            .collect();
        self.send(
            "sync-jobs",
            &self.urls.sync_jobs,
            body("sync-jobs", job)?,
            Some((job.group(), dedup)),
        )
        .await
    }

    pub async fn fan_out(&self, page: &FanOutPage) -> Result<(), OutboxError> {
        self.send(
            "deauthorizations",
            &self.urls.deauthorizations,
            body("deauthorizations", page)?,
            None,
        )
        .await
    }

    pub async fn notice(&self, notice: &Notice) -> Result<(), OutboxError> {
        self.send(
            "notifications",
            &self.urls.notifications,
            body("notifications", notice)?,
            None,
        )
        .await
    }
}
