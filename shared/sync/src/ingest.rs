use std::collections::{BTreeMap, BTreeSet};

use hiresync_connect::messages::SyncJob;
use hiresync_connect::messages::SyncReason;
use hiresync_connect::{Connector, Failure};
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::policy::{self, Decision, MessageFacts, ThreadState};
use hiresync_domain::sync_status::{SyncStage, SyncStatus};
use hiresync_domain::Timestamp;
use hiresync_providers::gmail_sync::{GmailMessage, HistoryChange, HistoryError};
use hiresync_providers::graph_delta::{
    removal_is_delete, DeltaItem, DeltaNext, DeltaStart, GraphMessage, WellKnownFolder,
};
use hiresync_providers::GmailClient;
use hiresync_store::{DynamoDirectoryStore, DynamoMailStore, SkipRecord, StoreError};
use secrecy::SecretString;
use tracing::{info, warn};

use crate::facts::{self, Unreadable};

/// Cursor keys, one per stream.
const GMAIL_HISTORY: &str = "gmail_history";
const GMAIL_FULL_PAGE: &str = "gmail_full_page";
const GMAIL_FULL_HISTORY: &str = "gmail_full_history";
/// Skip records name at most this many participants of a message.
const SKIP_RECORD_FANOUT: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Pages one job handles before enqueuing its continuation.
    pub pages_per_job: u32,
    pub page_size: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pages_per_job: 10,
            page_size: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub synced: usize,
    pub skipped: usize,
    pub threads_removed: usize,
    pub deleted: usize,
    pub pages: u32,
    /// The cursor had expired and a bounded full resync started.
    pub resynced: bool,
    /// The job stopped at its page limit and enqueued its continuation.
    pub continued: bool,
}

pub struct Ingestor {
    pub connector: Connector,
    pub mail: DynamoMailStore,
    pub directory: DynamoDirectoryStore,
    pub limits: Limits,
}

fn storage(e: StoreError) -> Failure {
    Failure::from(e)
}

fn provider(context: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Failure {
    Failure::Internal {
        context,
        source: Box::new(e),
    }
}

/// What one page did to the report and the cursor.
struct Judged<'a> {
    conn: &'a Connection,
    now: Timestamp,
}

impl Ingestor {
    /// Runs one sync job. Safe to repeat: stores are idempotent by provider id and
    /// Message-ID, and the cursor only moves after a page is stored.
    pub async fn run(&self, job: &SyncJob, now: Timestamp) -> Result<IngestReport, Failure> {
        let mut report = IngestReport::default();
        let Some(read) = self
            .connector
            .stores
            .connections
            .get(&job.contract, &job.seat, job.kind)
            .await
            .map_err(storage)?
        else {
            info!(contract = %job.contract, seat = %job.seat, "sync job for a connection that does not exist; dropped");
            return Ok(report);
        };
        let conn = read.value;
        // While a seat is deauthorized nothing is fetched or deleted.
        if !conn.is_authorized() || job.kind != ConnectionKind::Email {
            return Ok(report);
        }
        let access = match self.connector.access_token(&conn, now).await {
            Ok(a) => a,
            // The grant was refused: the connection is marked, the seat told; nothing to do.
            Err(Failure::Refused(_)) => return Ok(report),
            Err(e) => return Err(e),
        };
        let outcome = match conn.grant.provider {
            Provider::Microsoft365 => self.graph(job, &conn, &access, now, &mut report).await,
            Provider::GoogleWorkspace => self.gmail(job, &conn, &access, now, &mut report).await,
        };
        self.record_status(job, &conn, &report, outcome.as_ref().err(), now)
            .await;
        outcome?;
        info!(contract = %job.contract, seat = %job.seat, synced = report.synced, skipped = report.skipped, deleted = report.deleted, removed = report.threads_removed, pages = report.pages, resynced = report.resynced, continued = report.continued, "sync job done");
        Ok(report)
    }

    /// Updates the connection's visible status. A failure to write it is logged, not
    /// raised: the sync itself is what matters, and the next job writes it again.
    async fn record_status(
        &self,
        job: &SyncJob,
        conn: &Connection,
        report: &IngestReport,
        error: Option<&Failure>,
        now: Timestamp,
    ) {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let current = match self.connector.stores.sync_status.get(c, s, k).await {
            Ok(current) => current,
            Err(e) => {
                warn!(error = ?e, "sync status not readable");
                return;
            }
        };
        let stage = if report.resynced {
            SyncStage::Resyncing
        } else if job.reason == SyncReason::Historical {
            SyncStage::Historical
        } else {
            match &current {
                // A stage that was still under way when this job continued it.
                Some(st) if st.stage != SyncStage::Incremental && report.continued => st.stage,
                _ => SyncStage::Incremental,
            }
        };
        let mut status = current.unwrap_or_else(|| SyncStatus::new(stage, now));
        match error {
            None => {
                let judged = (report.synced + report.skipped + report.threads_removed) as u64;
                status.succeeded(stage, judged, report.synced as u64, now);
            }
            Some(e) => {
                let code = match e {
                    Failure::Refused(e) => e.code(),
                    Failure::NotFound(what) => what,
                    Failure::Internal { context, .. } => context,
                };
                status.failed(code, now);
            }
        }
        if let Err(e) = self
            .connector
            .stores
            .sync_status
            .put(c, s, k, &status)
            .await
        {
            warn!(error = ?e, "sync status not written");
        }
    }

    /// Stores one cursor position, re-reading on a concurrent change (another job of the
    /// same connection cannot run at the same time, but a settings change can).
    async fn set_cursor(
        &self,
        conn: &Connection,
        key: &str,
        value: Option<String>,
    ) -> Result<(), Failure> {
        let store = &self.connector.stores.connections;
        for _ in 0..5 {
            let read = store
                .get(&conn.contract_id, &conn.seat_id, conn.kind)
                .await
                .map_err(storage)?
                .ok_or(Failure::NotFound("connection"))?;
            let mut changed = read.value.clone();
            match &value {
                Some(v) => changed.cursor.0.insert(key.to_owned(), v.clone()),
                None => changed.cursor.0.remove(key),
            };
            if changed == read.value {
                return Ok(());
            }
            match store.update(&read, &changed).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        Err(Failure::Internal {
            context: "cursor",
            source: Box::new(std::io::Error::other(
                "the connection kept changing concurrently",
            )),
        })
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
        self.connector
            .outbox
            .sync_job(
                &next,
                &format!(
                    "continue:{}:{}:{}",
                    job.group(),
                    now.as_millisecond(),
                    report.pages
                ),
            )
            .await
            .map_err(Failure::from)
    }

    // ------------------------------------------------------------------ Graph

    async fn graph(
        &self,
        job: &SyncJob,
        conn: &Connection,
        access: &SecretString,
        now: Timestamp,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let graph = self.connector.providers.graph(access)?;
        let mut deleted_items: Option<String> = None;
        for folder in [WellKnownFolder::Inbox, WellKnownFolder::SentItems] {
            let key = format!("graph_{}", folder.name());
            let mut start = match conn.cursor.0.get(&key) {
                Some(link) => DeltaStart::Link(link.clone()),
                None => DeltaStart::Folder {
                    folder,
                    received_since: Some(policy::lookback_start(conn)),
                },
            };
            let mut restarted = false;
            loop {
                if report.pages >= self.limits.pages_per_job {
                    return self.continue_later(job, now, report).await;
                }
                let page = match graph
                    .messages_delta(start.clone(), self.limits.page_size)
                    .await
                {
                    Ok(page) => page,
                    Err(hiresync_providers::graph_delta::DeltaError::Api(e)) => {
                        return Err(provider("graph delta", e))
                    }
                    Err(e) if !restarted => {
                        // Expired (or unusable) cursor: drop it and enumerate again, back to
                        // the lookback start; stores are idempotent, so replays are harmless.
                        warn!(contract = %conn.contract_id, seat = %conn.seat_id, folder = folder.name(), error = %e, "delta cursor unusable; full resync of the folder");
                        self.set_cursor(conn, &key, None).await?;
                        report.resynced = true;
                        restarted = true;
                        start = DeltaStart::Folder {
                            folder,
                            received_since: Some(policy::lookback_start(conn)),
                        };
                        continue;
                    }
                    Err(e) => return Err(provider("graph delta", e)),
                };
                report.pages += 1;
                let judge = Judged { conn, now };
                // Newest first: a thread's latest message decides whether it is active, and
                // once stored it lets the thread's older messages through.
                let mut changed: Vec<&GraphMessage> = page
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        DeltaItem::Changed(m) => Some(m),
                        DeltaItem::Removed { .. } => None,
                    })
                    .collect();
                changed.sort_by_key(|m| std::cmp::Reverse(m.received_at.or(m.sent_at)));
                for m in changed {
                    self.judge_graph(&judge, m, report).await?;
                }
                for item in &page.items {
                    match item {
                        DeltaItem::Changed(_) => {}
                        DeltaItem::Removed { id, .. } => {
                            if deleted_items.is_none() {
                                deleted_items = Some(
                                    graph
                                        .deleted_items_folder_id()
                                        .await
                                        .map_err(|e| provider("graph folders", e))?,
                                );
                            }
                            let current = graph
                                .message_metadata(id)
                                .await
                                .map_err(|e| provider("graph message", e))?;
                            let is_delete = removal_is_delete(
                                current.as_ref(),
                                deleted_items.as_deref().unwrap_or_default(),
                            );
                            if is_delete
                                && self
                                    .mail
                                    .delete_by_provider_id(&conn.seat_id, id)
                                    .await
                                    .map_err(storage)?
                            {
                                report.deleted += 1;
                            }
                        }
                    }
                }
                // The page is stored: only now does the cursor move.
                self.set_cursor(conn, &key, Some(page.next.link().to_owned()))
                    .await?;
                match page.next {
                    DeltaNext::More(link) => start = DeltaStart::Link(link),
                    DeltaNext::Done(_) => break,
                }
            }
        }
        Ok(())
    }

    async fn judge_graph(
        &self,
        judge: &Judged<'_>,
        m: &GraphMessage,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        if m.is_draft {
            return Ok(());
        }
        match facts::from_graph(m) {
            Ok(f) => {
                let direction = if f.from == judge.conn.grant.address {
                    Direction::Sent
                } else {
                    Direction::Received
                };
                let subject = m.subject.clone().unwrap_or_default();
                self.judge(
                    judge,
                    f,
                    m.internet_message_id.clone(),
                    subject,
                    direction,
                    report,
                )
                .await
            }
            Err(why) => self.unreadable(judge, why, report),
        }
    }

    // ------------------------------------------------------------------ Gmail

    async fn gmail(
        &self,
        job: &SyncJob,
        conn: &Connection,
        access: &SecretString,
        now: Timestamp,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let gmail = self.connector.providers.gmail(access)?;
        let judge = Judged { conn, now };
        if let Some(start) = conn.cursor.0.get(GMAIL_HISTORY).cloned() {
            let mut page_token: Option<String> = None;
            loop {
                if report.pages >= self.limits.pages_per_job {
                    // The history cursor has not moved: the continuation replays from it,
                    // idempotently.
                    return self.continue_later(job, now, report).await;
                }
                let page = match gmail
                    .history(&start, page_token.as_deref(), self.limits.page_size)
                    .await
                {
                    Ok(page) => page,
                    Err(HistoryError::Expired { .. }) => {
                        warn!(contract = %conn.contract_id, seat = %conn.seat_id, "Gmail history id expired; full resync");
                        self.set_cursor(conn, GMAIL_HISTORY, None).await?;
                        report.resynced = true;
                        return self.gmail_full(job, &gmail, &judge, report).await;
                    }
                    Err(HistoryError::Api(e)) => return Err(provider("gmail history", e)),
                };
                report.pages += 1;
                for change in &page.changes {
                    match change {
                        HistoryChange::Deleted { id } => {
                            self.gmail_delete(conn, id, report).await?
                        }
                        HistoryChange::LabelsAdded { id, label_ids }
                            if label_ids.iter().any(|l| l == "TRASH") =>
                        {
                            self.gmail_delete(conn, id, report).await?
                        }
                        HistoryChange::Added { id, .. } | HistoryChange::LabelsAdded { id, .. } => {
                            match gmail
                                .message_metadata(id)
                                .await
                                .map_err(|e| provider("gmail message", e))?
                            {
                                Some(m) => self.judge_gmail(&judge, &m, report).await?,
                                None => self.gmail_delete(conn, id, report).await?,
                            }
                        }
                    }
                }
                match page.next_page_token {
                    Some(next) => page_token = Some(next),
                    None => {
                        self.set_cursor(conn, GMAIL_HISTORY, Some(page.history_id))
                            .await?;
                        return Ok(());
                    }
                }
            }
        }
        self.gmail_full(job, &gmail, &judge, report).await
    }

    /// The historical (or resync) enumeration: every message since the lookback start, in
    /// pages, resumable through the cursor; the history id read before it began becomes
    /// the incremental cursor when it ends, so nothing that changed meanwhile is missed.
    async fn gmail_full(
        &self,
        job: &SyncJob,
        gmail: &GmailClient,
        judge: &Judged<'_>,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judge.conn;
        let fresh = self
            .connector
            .stores
            .connections
            .get(&conn.contract_id, &conn.seat_id, conn.kind)
            .await
            .map_err(storage)?
            .map(|v| v.value)
            .ok_or(Failure::NotFound("connection"))?;
        let history = match fresh.cursor.0.get(GMAIL_FULL_HISTORY) {
            Some(h) => h.clone(),
            None => {
                let h = gmail
                    .profile()
                    .await
                    .map_err(|e| provider("gmail profile", e))?
                    .history_id;
                self.set_cursor(conn, GMAIL_FULL_HISTORY, Some(h.clone()))
                    .await?;
                h
            }
        };
        let since = policy::lookback_start(conn)
            .strftime("%Y/%m/%d")
            .to_string();
        let query = format!("after:{since} {{in:inbox in:sent}}");
        let mut page_token = fresh.cursor.0.get(GMAIL_FULL_PAGE).cloned();
        loop {
            if report.pages >= self.limits.pages_per_job {
                return self.continue_later(job, judge.now, report).await;
            }
            let list = gmail
                .list_messages(
                    Some(&query),
                    &[],
                    page_token.as_deref(),
                    self.limits.page_size,
                )
                .await
                .map_err(|e| provider("gmail list", e))?;
            report.pages += 1;
            for r in &list.messages {
                if let Some(m) = gmail
                    .message_metadata(&r.id)
                    .await
                    .map_err(|e| provider("gmail message", e))?
                {
                    self.judge_gmail(judge, &m, report).await?;
                }
            }
            match list.next_page_token {
                Some(next) => {
                    self.set_cursor(conn, GMAIL_FULL_PAGE, Some(next.clone()))
                        .await?;
                    page_token = Some(next);
                }
                None => {
                    self.set_cursor(conn, GMAIL_FULL_PAGE, None).await?;
                    self.set_cursor(conn, GMAIL_FULL_HISTORY, None).await?;
                    self.set_cursor(conn, GMAIL_HISTORY, Some(history)).await?;
                    return Ok(());
                }
            }
        }
    }

    async fn gmail_delete(
        &self,
        conn: &Connection,
        id: &str,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        if self
            .mail
            .delete_by_provider_id(&conn.seat_id, id)
            .await
            .map_err(storage)?
        {
            report.deleted += 1;
        }
        Ok(())
    }

    async fn judge_gmail(
        &self,
        judge: &Judged<'_>,
        m: &GmailMessage,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        // Drafts, spam and what the user already binned are not conversations.
        if m.label_ids
            .iter()
            .any(|l| l == "DRAFT" || l == "SPAM" || l == "TRASH")
        {
            return Ok(());
        }
        match facts::from_gmail(m) {
            Ok(f) => {
                let direction = if m.label_ids.iter().any(|l| l == "SENT") {
                    Direction::Sent
                } else {
                    Direction::Received
                };
                self.judge(
                    judge,
                    f,
                    facts::gmail_message_id(m),
                    facts::gmail_subject(m),
                    direction,
                    report,
                )
                .await
            }
            Err(why) => self.unreadable(judge, why, report),
        }
    }

    // ------------------------------------------------------------------ the policy

    async fn judge(
        &self,
        judge: &Judged<'_>,
        f: MessageFacts,
        internet_message_id: Option<String>,
        subject: String,
        direction: Direction,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judge.conn;
        let stored = self
            .mail
            .thread(&conn.seat_id, &f.thread_id)
            .await
            .map_err(storage)?;
        let state = stored.as_ref().map(|t| ThreadState {
            started_from_product: t.started_from_product,
            last_activity_at: t.last_activity_at,
            participants: BTreeSet::from([conn.grant.address.clone(), t.counterpart.clone()]),
            removed_for_inactivity_at: None,
        });
        let mut directory: BTreeMap<EmailAddress, DirectoryEntry> = BTreeMap::new();
        if let Some(other) = policy::counterpart(&f, &conn.grant.address) {
            if let Some(entry) = self
                .directory
                .find_by_email(&conn.contract_id, &other)
                .await
                .map_err(storage)?
            {
                directory.insert(other, entry);
            }
        }
        match policy::decide(&f, state.as_ref(), conn, &directory, judge.now) {
            Decision::Sync { counterpart, .. } => {
                let thread = match stored {
                    Some(mut t) => {
                        t.record_activity(f.at);
                        t
                    }
                    None => Thread {
                        contract_id: conn.contract_id.clone(),
                        seat_id: conn.seat_id.clone(),
                        thread_id: f.thread_id.clone(),
                        counterpart,
                        visibility: Visibility::Private,
                        started_from_product: f.started_from_product,
                        last_activity_at: f.at,
                    },
                };
                let message = Message {
                    contract_id: conn.contract_id.clone(),
                    seat_id: conn.seat_id.clone(),
                    thread_id: f.thread_id.clone(),
                    provider_id: f.provider_id.clone(),
                    internet_message_id,
                    direction,
                    from: f.from.clone(),
                    to: f.to.clone(),
                    cc: f.cc.clone(),
                    bcc: f.bcc.clone(),
                    subject,
                    sent_at: f.at,
                };
                self.mail
                    .store_message(&thread, &message)
                    .await
                    .map_err(storage)?;
                report.synced += 1;
            }
            Decision::Skip(reason) => {
                self.record(judge, &f, reason.code(), reason.message())
                    .await?;
                report.skipped += 1;
            }
            Decision::RemoveThread(reason) => {
                self.mail
                    .remove_thread(&conn.seat_id, &f.thread_id)
                    .await
                    .map_err(storage)?;
                self.record(judge, &f, reason.code(), reason.message())
                    .await?;
                report.threads_removed += 1;
            }
        }
        Ok(())
    }

    /// Records a skip under each participant other than the seat, so "why did this not
    /// sync?" answers for any of them.
    async fn record(
        &self,
        judge: &Judged<'_>,
        f: &MessageFacts,
        code: &str,
        explanation: String,
    ) -> Result<(), Failure> {
        let conn = judge.conn;
        let others: BTreeSet<&EmailAddress> = std::iter::once(&f.from)
            .chain(&f.to)
            .chain(&f.cc)
            .chain(&f.bcc)
            .filter(|a| **a != conn.grant.address)
            .collect();
        for counterpart in others.into_iter().take(SKIP_RECORD_FANOUT) {
            self.mail
                .record_skip(&SkipRecord {
                    contract: conn.contract_id.clone(),
                    seat: conn.seat_id.clone(),
                    counterpart: counterpart.clone(),
                    provider_id: f.provider_id.clone(),
                    at: f.at,
                    code: code.to_owned(),
                    explanation: explanation.clone(),
                    decided_at: judge.now,
                })
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// A message whose participants cannot be read is skipped, never guessed at. Nothing
    /// names a counterpart to record it under, so it is logged (without addresses).
    fn unreadable(
        &self,
        judge: &Judged<'_>,
        why: Unreadable,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        warn!(contract = %judge.conn.contract_id, seat = %judge.conn.seat_id, code = why.code(), "message metadata unreadable; skipped");
        report.skipped += 1;
        Ok(())
    }
}
