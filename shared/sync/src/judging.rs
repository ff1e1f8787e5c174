//! One message judged: the policy's decision against the stored state of its thread, and
//! what the decision does: store it, record why it was skipped, or remove its thread.

use std::collections::{BTreeMap, BTreeSet};

use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::{Message, Origin, SkipRecord, Thread};
use hiresync_domain::policy::{self, Decision, MessageFacts};
use hiresync_domain::ports::{MailItem, MailMessage, MailboxChanges, StoreOutcome};
use hiresync_domain::Timestamp;
use tracing::{info, warn};

use crate::ingestor::{IngestReport, Ingestor, Judged};
use crate::state::thread_state;

/// Skip records name at most this many participants of a message.
const SKIP_RECORD_FANOUT: usize = 10;

/// The policy is given the directory entries of at most this many addresses of a message
/// (besides the seat's): enough for a candidate on two or three addresses of one profile.
/// An address beyond them counts as a person of its own, and a message with that many
/// addresses is a group email anyway.
const DIRECTORY_LOOKUPS: usize = 5;

/// What became of one judged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Stored. `revisit` names the thread's counterpart when the thread may have messages
    /// skipped as inactive before it was stored: this message created it, or it was stored
    /// before (a replay, which may follow a revisit that was interrupted).
    Synced { revisit: Option<EmailAddress> },
    /// Skipped: the decision is recorded.
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
    /// tombstone, or both) and acts on the decision. A skipped message leaves its thread
    /// as it is.
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
        let state = thread_state(stored.as_ref(), tombstone.as_ref());
        let mut directory: BTreeMap<EmailAddress, DirectoryEntry> = BTreeMap::new();
        // The stored conversation's counterpart too, when the thread kept no profile: one
        // of its profile's other addresses is the same person.
        let stored_counterpart = stored
            .as_ref()
            .filter(|t| t.profile.is_none())
            .map(|t| &t.counterpart);
        let lookups = policy::others(&f, conn)
            .into_iter()
            .take(DIRECTORY_LOOKUPS)
            .chain(stored_counterpart)
            .collect::<BTreeSet<_>>();
        for other in lookups {
            if let Some(entry) = self
                .directory
                .find_by_email(&conn.contract_id, other)
                .await?
            {
                directory.insert(other.clone(), entry);
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
            Decision::Skip(reason) => {
                self.record(judged, &f, reason.code(), reason.message())
                    .await?;
                report.skip(reason.code());
                Ok(Judgement::Decided)
            }
        }
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
        let others: BTreeSet<&EmailAddress> = people.filter(|a| !conn.is_own(a)).collect();
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
