//! The queue ports over SQS: sync jobs (FIFO, one group per connection), fan-out pages and
//! notices.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use hiresync_messages::{
    dedup_id, FanOutPage, FanOutQueue, Notice, NoticeQueue, QueueError as OutboxError, SyncJob,
    SyncJobQueue,
};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct QueueUrls {
    pub sync_jobs: String,
    pub deauthorizations: String,
    pub notifications: String,
}

#[derive(Debug, Clone)]
pub struct SqsOutbox {
    sqs: Client,
    urls: QueueUrls,
}

fn body<T: Serialize>(queue: &'static str, message: &T) -> Result<String, OutboxError> {
    serde_json::to_string(message).map_err(|source| OutboxError::Encode {
        queue,
        source: Box::new(source),
    })
}

impl SqsOutbox {
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
}

#[async_trait]
impl SyncJobQueue for SqsOutbox {
    async fn sync_job(&self, job: &SyncJob, dedup: &str) -> Result<(), OutboxError> {
        let dedup = dedup_id(dedup);
        self.send(
            "sync-jobs",
            &self.urls.sync_jobs,
            body("sync-jobs", job)?,
            Some((job.group(), dedup)),
        )
        .await
    }
}

#[async_trait]
impl FanOutQueue for SqsOutbox {
    async fn fan_out(&self, page: &FanOutPage) -> Result<(), OutboxError> {
        self.send(
            "deauthorizations",
            &self.urls.deauthorizations,
            body("deauthorizations", page)?,
            None,
        )
        .await
    }
}

#[async_trait]
impl NoticeQueue for SqsOutbox {
    async fn notice(&self, notice: &Notice) -> Result<(), OutboxError> {
        self.send(
            "notifications",
            &self.urls.notifications,
            body("notifications", notice)?,
            None,
        )
        .await
    }
}
