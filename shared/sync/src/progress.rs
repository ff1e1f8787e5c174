//! The connection's visible sync status: the stage, what was judged and synced, the last
//! error.

use hiresync_domain::connection::Connection;
use hiresync_domain::failure::Failure;
use hiresync_domain::sync_status::{SyncStage, SyncStatus};
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use tracing::warn;

use crate::ingestor::{IngestReport, Ingestor};
use hiresync_domain::failure::Chain;

impl Ingestor {
    /// Updates the connection's visible status. A failure to write it is logged, not
    /// raised: the sync itself is what matters, and the next job writes it again.
    pub(crate) async fn record_status(
        &self,
        job: &SyncJob,
        conn: &Connection,
        report: &IngestReport,
        error: Option<&Failure>,
        now: Timestamp,
    ) {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let current = match self.sync_status.get(c, s, k).await {
            Ok(current) => current,
            Err(e) => {
                warn!(contract = %c, seat = %s, error = %Chain(&e), "sync status not readable");
                return;
            }
        };
        let stage = stage(job, report, current.as_ref());
        let mut status = current.unwrap_or_else(|| SyncStatus::new(stage, now));
        match error {
            None => {
                // A revived message was counted as judged when it was first skipped.
                let judged = (report.synced + report.skipped).saturating_sub(report.revived) as u64;
                status.succeeded(stage, judged, report.synced as u64, now);
            }
            Some(e) => status.failed(e.code(), now),
        }
        if let Err(e) = self.sync_status.put(c, s, k, &status).await {
            warn!(contract = %c, seat = %s, error = %Chain(&e), "sync status not written");
        }
    }
}

/// The stage a job leaves the connection in.
fn stage(job: &SyncJob, report: &IngestReport, current: Option<&SyncStatus>) -> SyncStage {
    if report.resynced {
        SyncStage::Resyncing
    } else if job.reason == SyncReason::Historical {
        SyncStage::Historical
    } else {
        match current {
            // A stage that was still under way when this job continued it.
            Some(st) if st.stage != SyncStage::Incremental && report.continued => st.stage,
            _ => SyncStage::Incremental,
        }
    }
}
