//! The safety net under push notifications: a connection that has not synced successfully
//! for longer than the interval gets an incremental sync queued, so a push the provider
//! dropped (with no lifecycle event to say so) costs at most one interval.

use hiresync_domain::capability::capabilities;
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::failure::Failure;
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use tracing::info;

use crate::connector::Connector;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUpReport {
    /// Incremental syncs queued.
    pub queued: usize,
    /// Connections taken out of the listing: they no longer sync (deauthorized, or their
    /// contract no longer allows it) until a sync of theirs writes a status again.
    pub forgotten: usize,
}

impl Connector {
    /// Queues a catch-up sync for every connection quiet since before `now - interval`,
    /// at most `per_shard` from each shard of the listing.
    pub async fn catch_up(
        &self,
        now: Timestamp,
        interval: jiff::SignedDuration,
        per_shard: i32,
    ) -> Result<CatchUpReport, Failure> {
        let mut report = CatchUpReport::default();
        let quiet = self
            .stores
            .sync_status
            .quiet_since(now - interval, per_shard)
            .await?;
        for (c, s, kind) in quiet {
            let conn = self.stores.connections.get(&c, &s, kind).await?;
            let contract = self.settings(&c).await?;
            let syncs = conn.as_ref().is_some_and(|read| {
                let conn = Some(&read.value);
                let allowed = match kind {
                    ConnectionKind::Email => capabilities(&contract, conn, None).view_email,
                    ConnectionKind::Calendar => capabilities(&contract, None, conn).calendar,
                };
                read.value.is_authorized() && allowed.is_ok()
            });
            if !syncs {
                self.stores.sync_status.forget_quiet(&c, &s, kind).await?;
                report.forgotten += 1;
                continue;
            }
            let job = SyncJob {
                contract: c.clone(),
                seat: s.clone(),
                kind,
                reason: SyncReason::CatchUp,
                requested_at: now,
            };
            // One per connection per minute, however often the run is repeated.
            let dedup = format!("quiet:{c}:{s}:{}:{}", kind.as_str(), now.as_second() / 60);
            self.queues.sync_jobs.sync_job(&job, &dedup).await?;
            report.queued += 1;
        }
        if report != CatchUpReport::default() {
            info!(
                queued = report.queued,
                forgotten = report.forgotten,
                "catch-up run"
            );
        }
        Ok(report)
    }
}
