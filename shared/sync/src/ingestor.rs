//! One sync job: the connection, an access token, the mailbox's changes, the status.

use std::sync::Arc;

use hiresync_domain::capability::capabilities;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::failure::Failure;
use hiresync_domain::ports::{
    AccessTokens, BusyCache, ConnectionStore, ContractStore, DirectoryReader, MailboxSource,
    SkipLog, SyncStatusStore, ThreadStore,
};
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncJobQueue, SyncReason};
use secrecy::SecretString;
use tracing::info;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Pages one job handles before enqueuing its continuation.
    pub pages_per_job: u32,
    pub page_size: u32,
    /// Stored messages one reconciliation job checks against the mailbox.
    pub reconcile_per_job: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pages_per_job: 10,
            page_size: 50,
            reconcile_per_job: 500,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub synced: usize,
    pub skipped: usize,
    /// `skipped` by the rule's code (`unreadable` for metadata that could not be read,
    /// `thread_removed` for a thread removed between the read and the write).
    pub skipped_by: std::collections::BTreeMap<&'static str, usize>,
    pub deleted: usize,
    /// Messages skipped earlier as `thread_inactive` and synced now that their thread is
    /// stored (counted in `synced` too).
    pub revived: usize,
    pub pages: u32,
    /// The cursor had expired and a bounded full resync started.
    pub resynced: bool,
    /// The job stopped at its page limit and enqueued its continuation.
    pub continued: bool,
    /// Stored messages a reconciliation checked against the mailbox.
    pub reconciled: usize,
}

impl IngestReport {
    pub(crate) fn skip(&mut self, code: &'static str) {
        self.skipped += 1;
        *self.skipped_by.entry(code).or_default() += 1;
    }
}

/// The ingest use case, over the ports it needs.
#[derive(Clone)]
pub struct Ingestor {
    /// The contract's settings and status: what its seats may sync at all.
    pub contracts: Arc<dyn ContractStore>,
    /// The connection a job names, and its cursor.
    pub connections: Arc<dyn ConnectionStore>,
    /// The connection's visible sync status.
    pub sync_status: Arc<dyn SyncStatusStore>,
    pub tokens: Arc<dyn AccessTokens>,
    /// Opens the seat's mailbox at its provider.
    pub mailboxes: Arc<dyn MailboxSource>,
    pub threads: Arc<dyn ThreadStore>,
    pub skips: Arc<dyn SkipLog>,
    /// Who is a candidate, for the policy.
    pub directory: Arc<dyn DirectoryReader>,
    /// Where a job that reached its page limit puts its continuation.
    pub jobs: Arc<dyn SyncJobQueue>,
    /// The seats' cached busy time: a calendar job (its provider pushed a change)
    /// forgets it, so the scheduler reads the calendar again.
    pub busy: Arc<dyn BusyCache>,
    pub limits: Limits,
}

/// What every judgement of one job shares: the connection, and the instant the job read
/// the clock.
pub(crate) struct Judged<'a> {
    pub conn: &'a Connection,
    pub now: Timestamp,
    /// When the job must have stopped and queued its continuation (the invocation's
    /// deadline less a margin); `None`: only the page limit stops it.
    pub stop_at: Option<std::time::Instant>,
}

impl Judged<'_> {
    pub fn out_of_time(&self) -> bool {
        self.stop_at
            .is_some_and(|at| std::time::Instant::now() >= at)
    }
}

impl Ingestor {
    /// Runs one sync job. Safe to repeat: stores are idempotent by provider id and
    /// Message-ID, and the cursor only moves after a page is stored.
    pub async fn run(&self, job: &SyncJob, now: Timestamp) -> Result<IngestReport, Failure> {
        self.run_until(job, now, None).await
    }

    /// [`Ingestor::run`], stopping before `stop_at` (no page is started after it): what is
    /// left continues through the queue, as at the page limit.
    pub async fn run_until(
        &self,
        job: &SyncJob,
        now: Timestamp,
        stop_at: Option<std::time::Instant>,
    ) -> Result<IngestReport, Failure> {
        let mut report = IngestReport::default();
        let Some(read) = self
            .connections
            .get(&job.contract, &job.seat, job.kind)
            .await?
        else {
            info!(contract = %job.contract, seat = %job.seat, "sync job for a connection that does not exist; dropped");
            return Ok(report);
        };
        let conn = read.value;
        // While a seat is deauthorized nothing is fetched or deleted.
        if !conn.is_authorized() {
            return Ok(report);
        }
        // A calendar changed: nothing is synced from it, but what the scheduler cached of
        // its busy time is out of date.
        if job.kind == ConnectionKind::Calendar {
            self.busy.forget_busy(&job.contract, &job.seat).await?;
            info!(contract = %job.contract, seat = %job.seat, "calendar changed; cached busy time forgotten");
            return Ok(report);
        }
        // Nor while its contract no longer allows it (suspended, email off, another
        // provider), even before the settings change has reached this connection.
        let contract = self.contracts.get(&job.contract).await?;
        let allowed = match &contract {
            Some(read) => capabilities(&read.value, Some(&conn), None).view_email,
            None => Err(hiresync_domain::capability::Denial::ContractSuspended),
        };
        if let Err(denial) = allowed {
            info!(contract = %job.contract, seat = %job.seat, reason = %denial, "sync job for a seat its contract no longer lets sync; dropped");
            return Ok(report);
        }
        let access = match self.tokens.access_token(&conn, now).await {
            Ok(a) => a,
            // The grant was refused: the connection is marked, the seat told; nothing to do.
            Err(Failure::Refused(_)) => return Ok(report),
            Err(e) => return Err(e),
        };
        let outcome = self
            .sync(job, &conn, &access, now, stop_at, &mut report)
            .await;
        self.record_status(job, &conn, &report, outcome.as_ref().err(), now)
            .await;
        outcome?;
        info!(contract = %job.contract, seat = %job.seat, synced = report.synced, skipped = report.skipped, deleted = report.deleted, pages = report.pages, resynced = report.resynced, continued = report.continued, "sync job done");
        Ok(report)
    }

    async fn sync(
        &self,
        job: &SyncJob,
        conn: &Connection,
        access: &SecretString,
        now: Timestamp,
        stop_at: Option<std::time::Instant>,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let mut mailbox = self
            .mailboxes
            .open(conn.grant.provider, &conn.grant.address, access)?;
        let judged = Judged { conn, now, stop_at };
        if job.reason == SyncReason::Reconcile {
            return self.reconcile(&judged, mailbox.as_mut(), report).await;
        }
        self.follow_changes(job, &judged, mailbox.as_mut(), report)
            .await
    }
}
