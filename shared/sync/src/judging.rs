//! One message judged: the policy's decision against the stored state of its thread, and
//! what the decision does: store it, record why it was skipped, or remove its thread.

use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::{Message, Origin, SkipRecord, Thread, ThreadTombstone};
use hiresync_domain::policy::{self, Decision, MessageFacts, SkipReason};
use hiresync_domain::ports::{MailItem, MailMessage, MailboxChanges, StoreOutcome};
use hiresync_domain::Timestamp;
use tracing::{info, warn};

use crate::ingestor::{IngestReport, Ingestor, Judged};
use crate::state::thread_state;

/// Skip records name at most this many participants of a message.
const SKIP_RECORD_FANOUT: usize = 10;

/// What became of one judged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Stored. `revisit` names the thread's counterpart when the thread may have messages
    /// skipped as inactive before it was stored: this message created it, or it was stored
    /// before (a replay, which may follow a revisit that was interrupted).
    Synced { revisit: Option<EmailAddress> },
    /// Skipped, or its thread was (or stays) removed: the decision is recorded.
    Decided,
    /// Not a conversation (a draft, binned), or unreadable: nothing recorded.
    Ignored,
}

impl Ingestor {
    /// Judges a message of a page, then whatever its judgement asks to revisit.
    pub(crate) async fn judge_and_follow_up(
        &self,
        judged: &Judged<'_>,
        mailbox: &mut dyn MailboxChanges,
        item: MailItem,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let thread_id = match &item {
            MailItem::Conversation(m) => m.facts.thread_id.clone(),
            MailItem::NotConversation | MailItem::Unreadable { .. } => String::new(),
        };
        if let Judgement::Synced {
            revisit: Some(counterpart),
        } = self.decide(judged, item, report).await?
        {
            self.revisit(judged, mailbox, &thread_id, &counterpart, report)
                .await?;
        }
        Ok(())
    }

    /// Judges one item of the mailbox, without follow-up.
    pub(crate) async fn decide(
        &self,
        judged: &Judged<'_>,
        item: MailItem,
        report: &mut IngestReport,
    ) -> Result<Judgement, Failure> {
        match item {
            MailItem::Conversation(m) => self.judge(judged, m, report).await,
            MailItem::NotConversation => Ok(Judgement::Ignored),
            // Skipped, never guessed at. Nothing names a counterpart to record it under, so
            // it is logged (without addresses).
            MailItem::Unreadable { code } => {
                warn!(contract = %judged.conn.contract_id, seat = %judged.conn.seat_id, code, "message metadata unreadable; skipped");
                report.skip("unreadable");
                Ok(Judgement::Ignored)
            }
        }
    }

    /// Judges one message against the stored state of its thread (the live thread, its
    /// tombstone, or both) and acts on the decision.
    async fn judge(
        &self,
        judged: &Judged<'_>,
        m: MailMessage,
        report: &mut IngestReport,
    ) -> Result<Judgement, Failure> {
        let conn = judged.conn;
        let f = m.facts;
        let (stored, tombstone) = self
            .threads
            .thread_with_tombstone(&conn.contract_id, &conn.seat_id, &f.thread_id)
            .await?;
        let state = thread_state(&conn.grant.address, stored.as_ref(), tombstone.as_ref());
        let mut directory: BTreeMap<EmailAddress, DirectoryEntry> = BTreeMap::new();
        if let Some(other) = policy::counterpart(&f, &conn.grant.address) {
            if let Some(entry) = self
                .directory
                .find_by_email(&conn.contract_id, &other)
                .await?
            {
                directory.insert(other, entry);
            }
        }
        match policy::decide(&f, state.as_ref(), conn, &directory, judged.now) {
            Decision::Sync {
                counterpart,
                profile,
            } => {
                let created = stored.is_none();
                let thread = match stored {
                    Some(mut t) => {
                        t.record_activity(f.at);
                        t
                    }
                    None => Thread::first_seen(
                        conn.contract_id.clone(),
                        conn.seat_id.clone(),
                        f.thread_id.clone(),
                        counterpart,
                        Origin {
                            // Synced for the person who connected the mailbox.
                            holder: conn.authorized_by.clone(),
                            profile,
                            // A thread back after a removal for inactivity keeps its origin.
                            started_from_product: f.started_from_product
                                || state.as_ref().is_some_and(|s| s.started_from_product),
                        },
                        f.at,
                    ),
                };
                let message = Message {
                    contract_id: conn.contract_id.clone(),
                    seat_id: conn.seat_id.clone(),
                    thread_id: f.thread_id.clone(),
                    provider_id: f.provider_id.clone(),
                    internet_message_id: m.internet_message_id,
                    direction: m.direction,
                    from: f.from.clone(),
                    to: f.to.clone(),
                    cc: f.cc.clone(),
                    bcc: f.bcc.clone(),
                    subject: m.subject,
                    sent_at: f.at,
                };
                let outcome = self.threads.store_message(&thread, &message).await?;
                if outcome == StoreOutcome::ThreadRemoved {
                    // Removed for a rule between the read and the write: it stays out.
                    info!(contract = %conn.contract_id, seat = %conn.seat_id, "thread removed meanwhile; message not stored");
                    report.skip("thread_removed");
                    return Ok(Judgement::Decided);
                }
                report.synced += 1;
                let revisit = (created || outcome == StoreOutcome::AlreadyStored)
                    .then(|| thread.counterpart.clone());
                Ok(Judgement::Synced { revisit })
            }
            // The thread is a group conversation: whether it was stored (it leaves), was
            // removed before (it stays out) or was never stored (it never starts), a
            // tombstone remembers everyone seen, so that no later or replayed one-to-one
            // message of it starts it again.
            Decision::RemoveThread(reason)
            | Decision::Skip(reason @ SkipReason::TooManyParticipants { .. }) => {
                let removed = stored.is_some();
                self.remove_thread(judged, &f, removed, &reason).await?;
                if removed {
                    report.threads_removed += 1;
                } else {
                    report.skip(reason.code());
                }
                Ok(Judgement::Decided)
            }
            Decision::Skip(reason) => {
                self.record(judged, &f, reason.code(), reason.message())
                    .await?;
                report.skip(reason.code());
                Ok(Judgement::Decided)
            }
        }
    }

    /// Removes the thread of `f` for `reason` and keeps its tombstone; `f`'s decision is
    /// recorded, and, when the thread was stored (`stored`), each of its messages keeps the
    /// reason too, so "why did this not sync?" answers for them as well.
    async fn remove_thread(
        &self,
        judged: &Judged<'_>,
        f: &MessageFacts,
        stored: bool,
        reason: &SkipReason,
    ) -> Result<(), Failure> {
        let conn = judged.conn;
        let mut participants = f.participants();
        participants.insert(conn.grant.address.clone());
        if stored {
            // Recorded before the removal: a retry after a crash records them again.
            let leaving = self
                .threads
                .messages(&conn.contract_id, &conn.seat_id, &f.thread_id)
                .await?;
            for m in &leaving {
                let people = std::iter::once(&m.from)
                    .chain(&m.to)
                    .chain(&m.cc)
                    .chain(&m.bcc);
                self.record_for(
                    judged,
                    (&m.provider_id, m.sent_at, &m.thread_id),
                    people,
                    reason.code(),
                    reason.message(),
                )
                .await?;
            }
        }
        self.threads
            .remove_thread_for_rule(&ThreadTombstone {
                contract: conn.contract_id.clone(),
                seat: conn.seat_id.clone(),
                thread_id: f.thread_id.clone(),
                participants,
                started_from_product: f.started_from_product,
                last_activity_at: f.at,
                removed_at: judged.now,
                reason: reason.code().to_owned(),
            })
            .await?;
        self.record(judged, f, reason.code(), reason.message())
            .await
    }

    /// Records a skip under each participant other than the seat, so "why did this not
    /// sync?" answers for any of them.
    async fn record(
        &self,
        judged: &Judged<'_>,
        f: &MessageFacts,
        code: &str,
        explanation: String,
    ) -> Result<(), Failure> {
        let people = std::iter::once(&f.from)
            .chain(&f.to)
            .chain(&f.cc)
            .chain(&f.bcc);
        self.record_for(
            judged,
            (&f.provider_id, f.at, &f.thread_id),
            people,
            code,
            explanation,
        )
        .await
    }

    /// Records one decision on the message `(provider id, instant, thread)` under each of
    /// `people` but the seat (at most [`SKIP_RECORD_FANOUT`] of them).
    async fn record_for<'p>(
        &self,
        judged: &Judged<'_>,
        (provider_id, at, thread_id): (&str, Timestamp, &str),
        people: impl Iterator<Item = &'p EmailAddress>,
        code: &str,
        explanation: String,
    ) -> Result<(), Failure> {
        let conn = judged.conn;
        let others: BTreeSet<&EmailAddress> =
            people.filter(|a| **a != conn.grant.address).collect();
        for counterpart in others.into_iter().take(SKIP_RECORD_FANOUT) {
            self.skips
                .record(
                    &SkipRecord {
                        contract: conn.contract_id.clone(),
                        seat: conn.seat_id.clone(),
                        counterpart: counterpart.clone(),
                        provider_id: provider_id.to_owned(),
                        at,
                        code: code.to_owned(),
                        explanation: explanation.clone(),
                        decided_at: judged.now,
                    },
                    Some(thread_id),
                )
                .await?;
        }
        Ok(())
    }
}
