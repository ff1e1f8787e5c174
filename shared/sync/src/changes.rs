//! The page loop: each step of the mailbox's changes applied, then its cursor stored; the
//! page limit and the continuation; deletes.

use hiresync_domain::connection::{Connection, Cursor};
use hiresync_domain::failure::Failure;
use hiresync_domain::policy;
use hiresync_domain::ports::{retry_on_race, CursorUpdate, MailChange, MailboxChanges, Raced};
use hiresync_domain::Timestamp;
use hiresync_messages::SyncJob;
use tracing::warn;

use crate::ingestor::{IngestReport, Ingestor, Judged};
use hiresync_domain::failure::Chain;

impl Ingestor {
    /// Follows the mailbox's changes from the stored cursor until the mailbox has nothing
    /// more, or the job's page limit or time is reached (then it continues through the
    /// queue).
    pub(crate) async fn follow_changes(
        &self,
        job: &SyncJob,
        judged: &Judged<'_>,
        mailbox: &mut dyn MailboxChanges,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judged.conn;
        let lookback = policy::lookback_start(conn);
        let mut cursors = conn.cursor.clone();
        loop {
            if report.pages >= self.limits.pages_per_job || judged.out_of_time() {
                // The cursor stands where the last stored page left it: the continuation
                // goes on from there (or replays from it, idempotently).
                return self.continue_later(job, judged.now, report).await;
            }
            let page = mailbox
                .next_page(&cursors, lookback, self.limits.page_size)
                .await?;
            if page.read {
                report.pages += 1;
            }
            if let Some(resync) = &page.resync {
                warn!(contract = %conn.contract_id, seat = %conn.seat_id, stream = %resync.stream, error = %Chain(&*resync.cause), "cursor unusable; full resync of the stream");
            }
            for change in page.changes {
                match change {
                    MailChange::Message(item) => {
                        self.judge_and_follow_up(judged, mailbox, item, report)
                            .await?
                    }
                    MailChange::Deleted { provider_id } => {
                        self.delete_stored(conn, &provider_id, report).await?
                    }
                }
            }
            // The page is stored: only now does the cursor move.
            if !page.cursor.is_empty() {
                cursors = self.store_cursor(conn, &page.cursor).await?;
            }
            if page.resync.is_some() {
                report.resynced = true;
            }
            if page.done {
                return Ok(());
            }
        }
    }

    /// Stores cursor positions in one write, re-reading on a concurrent change (another job
    /// of the same connection cannot run at the same time, but a settings change can).
    /// Returns the cursor as stored now.
    pub(crate) async fn store_cursor(
        &self,
        conn: &Connection,
        updates: &[CursorUpdate],
    ) -> Result<Cursor, Failure> {
        retry_on_race("cursor", || async move {
            let read = self
                .connections
                .get(&conn.contract_id, &conn.seat_id, conn.kind)
                .await?
                .ok_or(Failure::NotFound("connection"))?;
            let mut changed = read.value.clone();
            for update in updates {
                match &update.value {
                    Some(v) => changed.cursor.0.insert(update.key.clone(), v.clone()),
                    None => changed.cursor.0.remove(&update.key),
                };
            }
            if changed == read.value {
                return Ok(Some(changed.cursor));
            }
            let written = self.connections.update(&read, &changed).await.raced()?;
            Ok(written.map(|w| w.value.cursor))
        })
        .await
    }

    async fn continue_later(
        &self,
        job: &SyncJob,
        now: Timestamp,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        report.continued = true;
        let next = SyncJob {
            requested_at: now,
            ..job.clone()
        };
        let dedup = format!(
            "continue:{}:{}:{}",
            job.group(),
            now.as_millisecond(),
            report.pages
        );
        self.jobs
            .sync_job(&next, &dedup)
            .await
            .map_err(Failure::from)
    }

    /// Deletes a message the mailbox deleted, if it is stored here.
    pub(crate) async fn delete_stored(
        &self,
        conn: &Connection,
        provider_id: &str,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        if self
            .threads
            .delete_by_provider_id(&conn.contract_id, &conn.seat_id, provider_id)
            .await?
        {
            report.deleted += 1;
        }
        Ok(())
    }
}
