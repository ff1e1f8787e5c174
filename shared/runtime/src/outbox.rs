//! The queue ports over SQS: sync jobs (FIFO, one group per connection), fan-out pages,
//! notices and InMail messages, each queue its own [`SqsQueue`]. A function wires the queues it sends to and
//! leaves the others [`NotWired`].

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use hiresync_messages::{
    dedup_id, BookingJob, BookingQueue, FanOutPage, FanOutQueue, InmailMessage, InmailQueue,
    NotWired, Notice, NoticeQueue, PurgeMessage, PurgeQueue, QueueError, Queues, SyncJob,
    SyncJobQueue,
};
use serde::Serialize;

/// The URLs of the queues a function sends to; `None` for a queue it never sends to.
#[derive(Debug, Clone, Default)]
pub struct QueueUrls {
    pub sync_jobs: Option<String>,
    pub deauthorizations: Option<String>,
    pub notifications: Option<String>,
}

/// One SQS queue, by URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    sqs: Client,
    url: String,
}

fn body<T: Serialize>(queue: &'static str, message: &T) -> Result<String, QueueError> {
    serde_json::to_string(message).map_err(|source| QueueError::Encode {
        queue,
        source: Box::new(source),
    })
}

impl SqsQueue {
    pub fn new(sqs: Client, url: impl Into<String>) -> Self {
        Self {
            sqs,
            url: url.into(),
        }
    }

    async fn send(
        &self,
        queue: &'static str,
        body: String,
        fifo: Option<(String, String)>,
    ) -> Result<(), QueueError> {
        self.send_later(queue, body, fifo, 0).await
    }

    /// Sends `body`, delivered after `delay_seconds` (SQS allows at most 900).
    async fn send_later(
        &self,
        queue: &'static str,
        body: String,
        fifo: Option<(String, String)>,
        delay_seconds: i32,
    ) -> Result<(), QueueError> {
        let mut request = self
            .sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .set_delay_seconds((delay_seconds > 0).then_some(delay_seconds.min(900)));
        if let Some((group, dedup)) = fifo {
            request = request
                .message_group_id(group)
                .message_deduplication_id(dedup);
        }
        request.send().await.map_err(|e| QueueError::Send {
            queue,
            source: Box::new(e),
        })?;
        Ok(())
    }
}

#[async_trait]
impl SyncJobQueue for SqsQueue {
    async fn sync_job(&self, job: &SyncJob, dedup: &str) -> Result<(), QueueError> {
        let queue = "sync-jobs";
        self.send(
            queue,
            body(queue, job)?,
            Some((job.group(), dedup_id(dedup))),
        )
        .await
    }
}

#[async_trait]
impl BookingQueue for SqsQueue {
    async fn booking(&self, job: &BookingJob) -> Result<(), QueueError> {
        let queue = "bookings";
        self.send(queue, body(queue, job)?, Some((job.group(), job.dedup())))
            .await
    }
}

#[async_trait]
impl FanOutQueue for SqsQueue {
    async fn fan_out(&self, page: &FanOutPage) -> Result<(), QueueError> {
        let queue = "deauthorizations";
        self.send(queue, body(queue, page)?, None).await
    }
}

#[async_trait]
impl NoticeQueue for SqsQueue {
    async fn notice(&self, notice: &Notice) -> Result<(), QueueError> {
        let queue = "notifications";
        self.send(queue, body(queue, notice)?, None).await
    }
}

/// A standard queue: the message's own `id` (in the body) is what the product deduplicates
/// on.
#[async_trait]
impl InmailQueue for SqsQueue {
    async fn inmail(&self, message: &InmailMessage) -> Result<(), QueueError> {
        let queue = "inmail-outbox";
        self.send(queue, body(queue, message)?, None).await
    }
}

#[async_trait]
impl PurgeQueue for SqsQueue {
    async fn purge(
        &self,
        message: &PurgeMessage,
        delay: std::time::Duration,
    ) -> Result<(), QueueError> {
        let queue = "purge";
        let seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        self.send_later(queue, body(queue, message)?, None, seconds)
            .await
    }
}

/// Puts a received message back on its queue for later: its next delivery waits `after`
/// (at most 12 hours, SQS's limit), instead of the queue's visibility timeout.
#[async_trait]
pub trait Redelivery: Send + Sync {
    async fn redeliver_after(
        &self,
        receipt_handle: &str,
        after: std::time::Duration,
    ) -> Result<(), QueueError>;
}

#[async_trait]
impl Redelivery for SqsQueue {
    async fn redeliver_after(
        &self,
        receipt_handle: &str,
        after: std::time::Duration,
    ) -> Result<(), QueueError> {
        let seconds = i32::try_from(after.as_secs().clamp(1, 43_200)).unwrap_or(43_200);
        self.sqs
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| QueueError::Send {
                queue: "redelivery",
                source: Box::new(e),
            })?;
        Ok(())
    }
}

/// The queues at `urls`; those without a URL refuse every message.
pub fn sqs_queues(sqs: &Client, urls: &QueueUrls) -> Queues {
    fn wired<T: ?Sized>(
        sqs: &Client,
        url: &Option<String>,
        as_port: impl Fn(Arc<SqsQueue>) -> Arc<T>,
        not_wired: Arc<T>,
    ) -> Arc<T> {
        match url {
            Some(url) => as_port(Arc::new(SqsQueue::new(sqs.clone(), url))),
            None => not_wired,
        }
    }
    Queues {
        sync_jobs: wired(sqs, &urls.sync_jobs, |q| q, Arc::new(NotWired)),
        fan_out: wired(sqs, &urls.deauthorizations, |q| q, Arc::new(NotWired)),
        notices: wired(sqs, &urls.notifications, |q| q, Arc::new(NotWired)),
    }
}
