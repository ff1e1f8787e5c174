//! The weekly reconciliation: stored messages checked against the mailbox, a slice at a
//! time, so that what the mailbox lost without a notification or a delta saying so (a
//! message moved to a folder and deleted for good there, a change older than a cursor the
//! provider forgot) leaves here too.
//!
//! A slice is at most [`Limits::reconcile_per_job`] stored messages, taken in the store's
//! order from where the last slice stopped (the cursor key `reconcile_after`); after the
//! last stored message the next slice starts over. Each message costs one metadata read
//! (Graph `GET /me/messages/{id}`, Gmail `messages.get`: 5 quota units): a message the
//! mailbox no longer has, or has in the bin, spam or junk, is deleted here. Nothing is
//! judged again: a message still in the mailbox stays as it is.
//!
//! [`Limits::reconcile_per_job`]: crate::Limits::reconcile_per_job

use hiresync_domain::connection::{RECONCILED_AT, RECONCILE_AFTER};
use hiresync_domain::failure::Failure;
use hiresync_domain::ports::{CursorUpdate, MailItem, MailboxChanges, PageToken};

use crate::ingestor::{IngestReport, Ingestor, Judged};

impl Ingestor {
    /// Checks one slice of the connection's stored messages against the mailbox and
    /// deletes what it no longer has. A job out of time stops and leaves the
    /// position as it was, so the slice is checked again.
    pub(crate) async fn reconcile(
        &self,
        judged: &Judged<'_>,
        mailbox: &mut dyn MailboxChanges,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judged.conn;
        let start = conn
            .cursor
            .0
            .get(RECONCILE_AFTER)
            .map(|t| PageToken::from_string(t.clone()));
        let page = self
            .threads
            .stored_provider_ids(
                &conn.contract_id,
                &conn.seat_id,
                i32::try_from(self.limits.reconcile_per_job).unwrap_or(i32::MAX),
                start.as_ref(),
            )
            .await?;
        for provider_id in &page.items {
            if judged.out_of_time() {
                // The slice stays where it started and still due: the next reconciliation
                // checks it again (deletes are idempotent).
                return Ok(());
            }
            let gone = match mailbox.refetch(provider_id).await? {
                None | Some(MailItem::NotConversation) => true,
                Some(MailItem::Conversation(_) | MailItem::Unreadable { .. }) => false,
            };
            if gone {
                self.delete_stored(conn, provider_id, report).await?;
            }
            report.reconciled += 1;
        }
        let updates = [
            match page.next {
                Some(next) => CursorUpdate::set(RECONCILE_AFTER, next.as_str()),
                None => CursorUpdate::remove(RECONCILE_AFTER),
            },
            CursorUpdate::set(RECONCILED_AT, judged.now.to_string()),
        ];
        self.store_cursor(conn, &updates).await?;
        Ok(())
    }
}
