//! Turning accepted notifications into sync jobs on the FIFO queue.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use hiresync_messages::SyncJob;
use sha2::{Digest, Sha256};

/// One job to enqueue, with the key that makes its duplicates collapse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub job: SyncJob,
    /// The notification's own identity (provider-specific); hashed into the FIFO
    /// deduplication id, so a redelivered or duplicated push enqueues nothing new.
    pub notification_key: String,
}

impl Job {
    pub fn dedup_id(&self) -> String {
        Sha256::digest(self.notification_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("sync job cannot be encoded")]
    Encode(#[from] serde_json::Error),
    #[error("SendMessageBatch entry cannot be built")]
    Build(#[source] aws_sdk_sqs::error::BuildError),
    #[error("SQS refused the sync jobs")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("SQS did not accept {0} sync job(s)")]
    Partial(usize),
}

#[derive(Debug, Clone)]
pub struct SyncJobs {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl SyncJobs {
    /// Enqueues every job, ten per call; duplicates within the delivery collapse here and
    /// across deliveries by the FIFO deduplication id.
    pub async fn enqueue(&self, jobs: Vec<Job>) -> Result<usize, EnqueueError> {
        let unique: BTreeMap<String, Job> = jobs.into_iter().map(|j| (j.dedup_id(), j)).collect();
        let count = unique.len();
        let entries = unique
            .into_iter()
            .enumerate()
            .map(|(n, (dedup, job))| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("j{n}"))
                    .message_body(serde_json::to_string(&job.job)?)
                    .message_group_id(job.job.group())
                    .message_deduplication_id(dedup)
                    .build()
                    .map_err(EnqueueError::Build)
            })
            .collect::<Result<Vec<_>, EnqueueError>>()?;
        // The batches go out together: jobs are hints (each syncs from the stored cursor),
        // so their order within a connection's group does not matter, and the answer to the
        // provider is due within seconds.
        let sends = entries.chunks(10).map(|chunk| {
            self.sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(chunk.to_vec()))
                .send()
        });
        let failed: usize = futures::future::try_join_all(sends)
            .await
            .map_err(|e| EnqueueError::Send(Box::new(e)))?
            .iter()
            .map(|out| out.failed.len())
            .sum();
        if failed > 0 {
            return Err(EnqueueError::Partial(failed));
        }
        Ok(count)
    }
}
