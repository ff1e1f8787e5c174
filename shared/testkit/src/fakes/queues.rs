//! The queue ports in memory: what was sent, in order, with FIFO deduplication of sync jobs
//! as SQS does it (same group and deduplication id: sent once).

use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_messages::{
    dedup_id, FanOutPage, FanOutQueue, Notice, NoticeQueue, QueueError, SyncJob, SyncJobQueue,
};

/// Every message sent, by queue. `fail_next` makes the next send of any kind fail.
#[derive(Default)]
pub struct InMemoryQueues {
    pub sync_jobs: Mutex<Vec<(SyncJob, String)>>,
    pub fan_out: Mutex<Vec<FanOutPage>>,
    pub notices: Mutex<Vec<Notice>>,
    fail_next: Mutex<u32>,
}

impl InMemoryQueues {
    /// The next `n` sends fail as if SQS were unreachable.
    pub fn fail_next(&self, n: u32) {
        *self.fail_next.lock().unwrap() = n;
    }

    fn failing(&self, queue: &'static str) -> Result<(), QueueError> {
        let mut left = self.fail_next.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(QueueError::Send {
                queue,
                source: Box::new(std::io::Error::other("queue unavailable (fake)")),
            });
        }
        Ok(())
    }

    pub fn jobs(&self) -> Vec<SyncJob> {
        self.sync_jobs
            .lock()
            .unwrap()
            .iter()
            .map(|(j, _)| j.clone())
            .collect()
    }

    pub fn pages(&self) -> Vec<FanOutPage> {
        self.fan_out.lock().unwrap().clone()
    }

    pub fn sent_notices(&self) -> Vec<Notice> {
        self.notices.lock().unwrap().clone()
    }
}

#[async_trait]
impl SyncJobQueue for InMemoryQueues {
    async fn sync_job(&self, job: &SyncJob, dedup: &str) -> Result<(), QueueError> {
        self.failing("sync-jobs")?;
        let dedup = dedup_id(dedup);
        let mut jobs = self.sync_jobs.lock().unwrap();
        if !jobs
            .iter()
            .any(|(j, d)| j.group() == job.group() && *d == dedup)
        {
            jobs.push((job.clone(), dedup));
        }
        Ok(())
    }
}

#[async_trait]
impl FanOutQueue for InMemoryQueues {
    async fn fan_out(&self, page: &FanOutPage) -> Result<(), QueueError> {
        self.failing("deauthorizations")?;
        self.fan_out.lock().unwrap().push(page.clone());
        Ok(())
    }
}

#[async_trait]
impl NoticeQueue for InMemoryQueues {
    async fn notice(&self, notice: &Notice) -> Result<(), QueueError> {
        self.failing("notifications")?;
        self.notices.lock().unwrap().push(notice.clone());
        Ok(())
    }
}
