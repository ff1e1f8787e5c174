//! The messages of a thread skipped as `thread_inactive`, judged again once the thread is
//! stored.

use hiresync_domain::failure::Failure;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::MailboxChanges;
use tracing::info;

use crate::ingestor::{IngestReport, Ingestor, Judged};
use crate::judging::Judgement;

/// When a thread is stored, at most this many of its messages skipped earlier as
/// `thread_inactive` are fetched again and judged again (see [`Ingestor::revisit`]).
const REVISIT_LIMIT: usize = 50;
/// The code of `SkipReason::ThreadInactive`, the decision [`Ingestor::revisit`] looks for.
const THREAD_INACTIVE: &str = "thread_inactive";

impl Ingestor {
    /// Judges again the messages of `thread_id` with `counterpart` that were skipped as
    /// `thread_inactive` (at most [`REVISIT_LIMIT`], newest first), now that the thread is
    /// stored.
    ///
    /// Pages of a historical sync are in no particular order across pages (and folders), so
    /// an older message of an active thread can be judged before the thread's newest one,
    /// when nothing yet says the thread is active. Its metadata is fetched again by provider
    /// id and judged against the stored thread. A message now stored, gone from the mailbox
    /// or binned no longer has a reason not to be here, so its decision is forgotten; any
    /// other new decision replaces the old one (same key). Safe to repeat: a replay of the
    /// thread's messages revisits again and finds only what is left.
    pub(crate) async fn revisit(
        &self,
        judged: &Judged<'_>,
        mailbox: &mut dyn MailboxChanges,
        thread_id: &str,
        counterpart: &EmailAddress,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judged.conn;
        let skips = self
            .skips
            .skips_in_thread(
                &conn.contract_id,
                &conn.seat_id,
                counterpart,
                thread_id,
                THREAD_INACTIVE,
                REVISIT_LIMIT,
            )
            .await?;
        if skips.is_empty() {
            return Ok(());
        }
        // The revisited messages were counted when first judged: only what they add to
        // `synced` counts here.
        let mut again = IngestReport::default();
        for skip in &skips {
            let judgement = match mailbox.refetch(&skip.provider_id).await? {
                None => Judgement::Ignored,
                Some(item) => self.decide(judged, item, &mut again).await?,
            };
            if judgement != Judgement::Decided {
                self.skips.forget(skip).await?;
            }
        }
        report.synced += again.synced;
        report.revived += again.synced;
        info!(contract = %conn.contract_id, seat = %conn.seat_id, revisited = skips.len(), revived = again.synced, "inactive messages of a stored thread judged again");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use hiresync_domain::policy::SkipReason;
    use hiresync_domain::Timestamp;

    use super::*;

    #[test]
    fn the_revisited_code_is_the_policys() {
        let reason = SkipReason::ThreadInactive {
            last_activity_at: Timestamp::UNIX_EPOCH,
            active_since: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(reason.code(), THREAD_INACTIVE);
    }
}
