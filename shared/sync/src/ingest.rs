use std::collections::{BTreeMap, BTreeSet};

use hiresync_connect::{Connector, Failure};
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::policy::{self, Decision, MessageFacts, SkipReason};
use hiresync_domain::ports::{ConnectionStore, DirectoryReader, SyncStatusStore};
use hiresync_domain::sync_status::{SyncStage, SyncStatus};
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncJobQueue, SyncReason};
use hiresync_providers::gmail_sync::{GmailMessage, HistoryChange, HistoryError};
use hiresync_providers::graph_delta::{
    message_folder_is_deleted_items, removal_is_delete, DeltaItem, DeltaNext, DeltaStart,
    GraphMessage, WellKnownFolder,
};
use hiresync_providers::{GmailClient, GraphClient};
use hiresync_store::{
    DynamoDirectoryStore, DynamoMailStore, SkipRecord, StoreError, StoreOutcome, ThreadTombstone,
};
use secrecy::SecretString;
use tracing::{info, warn};

use crate::facts::{self, Unreadable};
use crate::state::thread_state;

/// The Graph folders a mail sync follows, in this order, each with its cursor key
/// `graph_<name>` (`graph_inbox`, `graph_sentitems`, `graph_deleteditems`). Deleted Items
/// comes last: within a job, what Inbox and Sent Items stored is then in place for a
/// delete to find.
const GRAPH_FOLDERS: [WellKnownFolder; 3] = [
    WellKnownFolder::Inbox,
    WellKnownFolder::SentItems,
    WellKnownFolder::DeletedItems,
];
/// Cursor keys, one per stream.
const GMAIL_HISTORY: &str = "gmail_history";
const GMAIL_FULL_PAGE: &str = "gmail_full_page";
const GMAIL_FULL_HISTORY: &str = "gmail_full_history";
/// Skip records name at most this many participants of a message.
const SKIP_RECORD_FANOUT: usize = 10;
/// When a thread is stored, at most this many of its messages skipped earlier as
/// `thread_inactive` are fetched again and judged again (see [`Ingestor::revisit`]).
const REVISIT_LIMIT: usize = 50;
/// The code of `SkipReason::ThreadInactive`, the decision [`Ingestor::revisit`] looks for.
const THREAD_INACTIVE: &str = "thread_inactive";

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
    /// Messages skipped earlier as `thread_inactive` and synced now that their thread is
    /// stored (counted in `synced` too).
    pub revived: usize,
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

/// The mailbox's Deleted Items folder id, read once per job and kept in `known`.
async fn bin_id(graph: &GraphClient, known: &mut Option<String>) -> Result<String, Failure> {
    if let Some(id) = known {
        return Ok(id.clone());
    }
    let id = graph
        .deleted_items_folder_id()
        .await
        .map_err(|e| provider("graph folders", e))?;
    *known = Some(id.clone());
    Ok(id)
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

/// What every judgement of one job shares: the connection, the instant the job read the
/// clock, and the provider to fetch a message from again.
struct Judged<'a> {
    conn: &'a Connection,
    now: Timestamp,
    source: Source<'a>,
}

#[derive(Clone, Copy)]
enum Source<'a> {
    Graph(&'a GraphClient),
    Gmail(&'a GmailClient),
}

/// What became of one judged message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Judgement {
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
                // A revived message was counted as judged when it was first skipped.
                let judged = (report.synced + report.skipped + report.threads_removed)
                    .saturating_sub(report.revived) as u64;
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
        let graph = self
            .connector
            .providers
            .graph(access)
            .map_err(|e| provider("graph base URL", e))?;
        let judge = Judged {
            conn,
            now,
            source: Source::Graph(&graph),
        };
        let mut deleted_items: Option<String> = None;
        for folder in GRAPH_FOLDERS {
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
                match folder {
                    WellKnownFolder::DeletedItems => {
                        self.graph_binned(conn, &page.items, report).await?
                    }
                    WellKnownFolder::Inbox | WellKnownFolder::SentItems => {
                        self.graph_followed(&judge, &graph, &page.items, &mut deleted_items, report)
                            .await?
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

    /// A page of Inbox or Sent Items: what arrived is judged, and what left is deleted
    /// here if the mailbox deleted it (see [`removal_is_delete`]).
    async fn graph_followed(
        &self,
        judge: &Judged<'_>,
        graph: &GraphClient,
        items: &[DeltaItem],
        deleted_items: &mut Option<String>,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        // Newest first: a thread's latest message decides whether it is active, and
        // once stored it lets the thread's older messages through.
        let mut changed: Vec<&GraphMessage> = items
            .iter()
            .filter_map(|i| match i {
                DeltaItem::Changed(m) => Some(m),
                DeltaItem::Removed { .. } => None,
            })
            .collect();
        changed.sort_by_key(|m| std::cmp::Reverse(m.received_at.or(m.sent_at)));
        for m in changed {
            self.judge_graph(judge, m, report).await?;
        }
        for item in items {
            match item {
                DeltaItem::Changed(_) => {}
                DeltaItem::Removed { id, .. } => {
                    let bin = bin_id(graph, deleted_items).await?;
                    let current = graph
                        .message_metadata(id)
                        .await
                        .map_err(|e| provider("graph message", e))?;
                    if removal_is_delete(current.as_ref(), &bin) {
                        self.delete_stored(judge.conn, id, report).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A page of Deleted Items: a message that arrived there was deleted in the mailbox,
    /// whichever folder it came from (a move into Deleted Items counts as a delete), so it
    /// is deleted here if stored; it is never judged or stored. What left Deleted Items
    /// (restored, or deleted for good) is ignored: a restored message comes back through
    /// the folder it was restored to.
    async fn graph_binned(
        &self,
        conn: &Connection,
        items: &[DeltaItem],
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        for item in items {
            match item {
                DeltaItem::Changed(m) => self.delete_stored(conn, &m.id, report).await?,
                DeltaItem::Removed { .. } => {}
            }
        }
        Ok(())
    }

    /// Judges a message of a page, then whatever its judgement asks to revisit.
    async fn judge_graph(
        &self,
        judge: &Judged<'_>,
        m: &GraphMessage,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let judgement = self.decide_graph(judge, m, report).await?;
        self.follow_up(judge, &m.conversation_id, judgement, report)
            .await
    }

    async fn decide_graph(
        &self,
        judge: &Judged<'_>,
        m: &GraphMessage,
        report: &mut IngestReport,
    ) -> Result<Judgement, Failure> {
        if m.is_draft {
            return Ok(Judgement::Ignored);
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
        let gmail = self
            .connector
            .providers
            .gmail(access)
            .map_err(|e| provider("gmail base URL", e))?;
        let judge = Judged {
            conn,
            now,
            source: Source::Gmail(&gmail),
        };
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
                            self.delete_stored(conn, id, report).await?
                        }
                        HistoryChange::LabelsAdded { id, label_ids }
                            if label_ids.iter().any(|l| l == "TRASH") =>
                        {
                            self.delete_stored(conn, id, report).await?
                        }
                        HistoryChange::Added { id, .. } | HistoryChange::LabelsAdded { id, .. } => {
                            match gmail
                                .message_metadata(id)
                                .await
                                .map_err(|e| provider("gmail message", e))?
                            {
                                Some(m) => self.judge_gmail(&judge, &m, report).await?,
                                None => self.delete_stored(conn, id, report).await?,
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

    /// Deletes a message the mailbox deleted, if it is stored here.
    async fn delete_stored(
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

    /// Judges a message of a page, then whatever its judgement asks to revisit.
    async fn judge_gmail(
        &self,
        judge: &Judged<'_>,
        m: &GmailMessage,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let judgement = self.decide_gmail(judge, m, report).await?;
        self.follow_up(judge, &m.thread_id, judgement, report).await
    }

    async fn decide_gmail(
        &self,
        judge: &Judged<'_>,
        m: &GmailMessage,
        report: &mut IngestReport,
    ) -> Result<Judgement, Failure> {
        // Drafts, spam and what the user already binned are not conversations.
        if m.label_ids
            .iter()
            .any(|l| l == "DRAFT" || l == "SPAM" || l == "TRASH")
        {
            return Ok(Judgement::Ignored);
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

    async fn follow_up(
        &self,
        judge: &Judged<'_>,
        thread_id: &str,
        judgement: Judgement,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        match judgement {
            Judgement::Synced {
                revisit: Some(counterpart),
            } => self.revisit(judge, thread_id, &counterpart, report).await,
            _ => Ok(()),
        }
    }

    /// Judges one message against the stored state of its thread (the live thread, its
    /// tombstone, or both) and acts on the decision.
    async fn judge(
        &self,
        judge: &Judged<'_>,
        f: MessageFacts,
        internet_message_id: Option<String>,
        subject: String,
        direction: Direction,
        report: &mut IngestReport,
    ) -> Result<Judgement, Failure> {
        let conn = judge.conn;
        let (stored, tombstone) = self
            .mail
            .thread_with_tombstone(&conn.seat_id, &f.thread_id)
            .await
            .map_err(storage)?;
        let state = thread_state(&conn.grant.address, stored.as_ref(), tombstone.as_ref());
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
                let created = stored.is_none();
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
                        // A thread back after a removal for inactivity keeps its origin.
                        started_from_product: f.started_from_product
                            || state.as_ref().is_some_and(|s| s.started_from_product),
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
                let outcome = self
                    .mail
                    .store_message(&thread, &message)
                    .await
                    .map_err(storage)?;
                if outcome == StoreOutcome::ThreadRemoved {
                    // Removed for a rule between the read and the write: it stays out.
                    info!(contract = %conn.contract_id, seat = %conn.seat_id, "thread removed meanwhile; message not stored");
                    report.skipped += 1;
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
                let mut participants = f.participants();
                participants.insert(conn.grant.address.clone());
                if stored.is_some() {
                    // The stored messages leave with their thread; each keeps the reason,
                    // so "why did this not sync?" answers for them too. Recorded before
                    // the removal: a retry after a crash records them again.
                    let leaving = self
                        .mail
                        .messages(&conn.seat_id, &f.thread_id)
                        .await
                        .map_err(storage)?;
                    for m in &leaving {
                        let people = std::iter::once(&m.from)
                            .chain(&m.to)
                            .chain(&m.cc)
                            .chain(&m.bcc);
                        self.record_for(
                            judge,
                            (&m.provider_id, m.sent_at, &m.thread_id),
                            people,
                            reason.code(),
                            reason.message(),
                        )
                        .await?;
                    }
                }
                self.mail
                    .remove_thread_for_rule(&ThreadTombstone {
                        contract: conn.contract_id.clone(),
                        seat: conn.seat_id.clone(),
                        thread_id: f.thread_id.clone(),
                        participants,
                        started_from_product: f.started_from_product,
                        last_activity_at: f.at,
                        removed_at: judge.now,
                        reason: reason.code().to_owned(),
                    })
                    .await
                    .map_err(storage)?;
                self.record(judge, &f, reason.code(), reason.message())
                    .await?;
                if stored.is_some() {
                    report.threads_removed += 1;
                } else {
                    report.skipped += 1;
                }
                Ok(Judgement::Decided)
            }
            Decision::Skip(reason) => {
                self.record(judge, &f, reason.code(), reason.message())
                    .await?;
                report.skipped += 1;
                Ok(Judgement::Decided)
            }
        }
    }

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
    async fn revisit(
        &self,
        judge: &Judged<'_>,
        thread_id: &str,
        counterpart: &EmailAddress,
        report: &mut IngestReport,
    ) -> Result<(), Failure> {
        let conn = judge.conn;
        let skips = self
            .mail
            .skips_in_thread(
                &conn.seat_id,
                counterpart,
                thread_id,
                THREAD_INACTIVE,
                REVISIT_LIMIT,
            )
            .await
            .map_err(storage)?;
        if skips.is_empty() {
            return Ok(());
        }
        // The revisited messages were counted when first judged: only what they add to
        // `synced` counts here.
        let mut again = IngestReport::default();
        let mut deleted_items: Option<String> = None;
        for skip in &skips {
            let judgement = match judge.source {
                Source::Graph(graph) => {
                    match graph
                        .message_metadata(&skip.provider_id)
                        .await
                        .map_err(|e| provider("graph message", e))?
                    {
                        None => Judgement::Ignored,
                        Some(m) => {
                            let bin = bin_id(graph, &mut deleted_items).await?;
                            if message_folder_is_deleted_items(&m, &bin) {
                                Judgement::Ignored
                            } else {
                                self.decide_graph(judge, &m, &mut again).await?
                            }
                        }
                    }
                }
                Source::Gmail(gmail) => {
                    match gmail
                        .message_metadata(&skip.provider_id)
                        .await
                        .map_err(|e| provider("gmail message", e))?
                    {
                        None => Judgement::Ignored,
                        Some(m) => self.decide_gmail(judge, &m, &mut again).await?,
                    }
                }
            };
            if judgement != Judgement::Decided {
                self.mail.forget_skip(skip).await.map_err(storage)?;
            }
        }
        report.synced += again.synced;
        report.revived += again.synced;
        info!(contract = %conn.contract_id, seat = %conn.seat_id, revisited = skips.len(), revived = again.synced, "inactive messages of a stored thread judged again");
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
        let people = std::iter::once(&f.from)
            .chain(&f.to)
            .chain(&f.cc)
            .chain(&f.bcc);
        self.record_for(
            judge,
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
        judge: &Judged<'_>,
        (provider_id, at, thread_id): (&str, Timestamp, &str),
        people: impl Iterator<Item = &'p EmailAddress>,
        code: &str,
        explanation: String,
    ) -> Result<(), Failure> {
        let conn = judge.conn;
        let others: BTreeSet<&EmailAddress> =
            people.filter(|a| **a != conn.grant.address).collect();
        for counterpart in others.into_iter().take(SKIP_RECORD_FANOUT) {
            self.mail
                .record_skip_in_thread(
                    &SkipRecord {
                        contract: conn.contract_id.clone(),
                        seat: conn.seat_id.clone(),
                        counterpart: counterpart.clone(),
                        provider_id: provider_id.to_owned(),
                        at,
                        code: code.to_owned(),
                        explanation: explanation.clone(),
                        decided_at: judge.now,
                    },
                    thread_id,
                )
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
    ) -> Result<Judgement, Failure> {
        warn!(contract = %judge.conn.contract_id, seat = %judge.conn.seat_id, code = why.code(), "message metadata unreadable; skipped");
        report.skipped += 1;
        Ok(Judgement::Ignored)
    }
}

#[cfg(test)]
mod tests {
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
