//! Sending messages, by capability: a use case takes the queue it writes to and no other.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{BookingJob, FanOutPage, InmailMessage, Notice, PurgeMessage, SyncJob};

/// A message that could not be put on its queue. The cause is kept for the logs.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("message for {queue} cannot be encoded")]
    Encode {
        queue: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("sending to {queue} failed")]
    Send {
        queue: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The function was built without this queue: it was not meant to send there.
    #[error("this function has no {queue} queue")]
    NotWired { queue: &'static str },
}

impl From<QueueError> for hiresync_domain::failure::Failure {
    fn from(e: QueueError) -> Self {
        hiresync_domain::failure::Failure::internal("queue", e)
    }
}

/// The FIFO sync-jobs queue: one message group per connection.
#[async_trait]
pub trait SyncJobQueue: Send + Sync {
    /// Queues `job`. `dedup` names the cause (a pending authorization, a renewal, a
    /// notification), so a retried step queues one job, not two.
    async fn sync_job(&self, job: &SyncJob, dedup: &str) -> Result<(), QueueError>;
}

/// The queue that carries a settings change to every connection, a page at a time.
#[async_trait]
pub trait FanOutQueue: Send + Sync {
    async fn fan_out(&self, page: &FanOutPage) -> Result<(), QueueError>;
}

/// The contract-purge queue: its own steps, and a lifecycle event put back to wait.
#[async_trait]
pub trait PurgeQueue: Send + Sync {
    /// Queues `message`, delivered no sooner than `delay` from now (at most 15 minutes).
    async fn purge(
        &self,
        message: &PurgeMessage,
        delay: std::time::Duration,
    ) -> Result<(), QueueError>;
}

/// Notices to recruiters, for the product to show.
#[async_trait]
pub trait NoticeQueue: Send + Sync {
    async fn notice(&self, notice: &Notice) -> Result<(), QueueError>;
}

/// The FIFO bookings queue: one message group per booking, one message per revision.
#[async_trait]
pub trait BookingQueue: Send + Sync {
    async fn booking(&self, job: &BookingJob) -> Result<(), QueueError>;
}

/// Messages for the product to post in a candidate's conversation (a standard queue:
/// each message carries its own `id`, and the product drops repeats).
#[async_trait]
pub trait InmailQueue: Send + Sync {
    async fn inmail(&self, message: &InmailMessage) -> Result<(), QueueError>;
}

/// The queues a use case may send to. A function wires only those it sends to; the others
/// are [`NotWired`], which refuses every message with [`QueueError::NotWired`].
#[derive(Clone)]
pub struct Queues {
    pub sync_jobs: Arc<dyn SyncJobQueue>,
    pub fan_out: Arc<dyn FanOutQueue>,
    pub notices: Arc<dyn NoticeQueue>,
}

impl Queues {
    /// All three queues behind one sender (an in-memory fake, say).
    pub fn all<Q>(queues: Arc<Q>) -> Self
    where
        Q: SyncJobQueue + FanOutQueue + NoticeQueue + 'static,
    {
        Self {
            sync_jobs: queues.clone(),
            fan_out: queues.clone(),
            notices: queues,
        }
    }
}

/// A queue a function was not built with.
pub struct NotWired;

#[async_trait]
impl SyncJobQueue for NotWired {
    async fn sync_job(&self, _: &SyncJob, _: &str) -> Result<(), QueueError> {
        Err(QueueError::NotWired { queue: "sync-jobs" })
    }
}

#[async_trait]
impl FanOutQueue for NotWired {
    async fn fan_out(&self, _: &FanOutPage) -> Result<(), QueueError> {
        Err(QueueError::NotWired {
            queue: "deauthorizations",
        })
    }
}

#[async_trait]
impl NoticeQueue for NotWired {
    async fn notice(&self, _: &Notice) -> Result<(), QueueError> {
        Err(QueueError::NotWired {
            queue: "notifications",
        })
    }
}

#[async_trait]
impl InmailQueue for NotWired {
    async fn inmail(&self, _: &InmailMessage) -> Result<(), QueueError> {
        Err(QueueError::NotWired {
            queue: "inmail-outbox",
        })
    }
}

/// A deduplication id SQS accepts (at most 128 of `[A-Za-z0-9-_.:]`, as FIFO queues allow)
/// made from a cause's name.
pub fn dedup_id(cause: &str) -> String {
    cause
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dedup_id_keeps_what_sqs_accepts_and_no_more_than_128_characters() {
        assert_eq!(dedup_id("connect:abc/def ghi"), "connect:abcdefghi");
        assert_eq!(dedup_id(&"x".repeat(300)).len(), 128);
    }
}
