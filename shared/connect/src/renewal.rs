//! Keeping push subscriptions alive: extend or replace what is due, drop what lost its
//! connection, and catch up wherever notifications may have been missed.

use std::collections::HashMap;

use hiresync_domain::connection::{Connection, ConnectionKind, RECONCILE_EVERY_DAYS};
use hiresync_domain::failure::Chain;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{retry_on_race, Raced, Renewal};
use hiresync_domain::subscription::PushSubscription;
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use secrecy::SecretString;
use tracing::{info, warn};

use crate::connector::Connector;
use crate::subscriptions::is_placeholder;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalReport {
    pub renewed: usize,
    pub recreated: usize,
    /// Created for a connection that had no record of them (see [`Connector::renew_due`]).
    pub added: usize,
    pub stopped: usize,
    pub failed: usize,
    /// The run stopped for time with renewals still due; the next run takes them.
    pub unfinished: bool,
}

/// One access token per connection per run, however many of its subscriptions are due (a
/// mailbox still holding an earlier version's per-folder subscriptions has several).
type TokenCache = HashMap<(ContractId, SeatId, ConnectionKind), SecretString>;

impl Connector {
    /// Creates at the provider the subscriptions a connection holds only placeholders for
    /// (a sign-in leaves them: [`Connector::complete_authorization`]), for the connection's
    /// first sync job, which reads the mailbox right after (so no catch-up is queued). What
    /// the provider refuses stays a placeholder for the renewal job.
    /// One read when there is nothing to do, so every first sync job of a connection can
    /// ask.
    pub async fn set_up_push(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        now: Timestamp,
    ) -> Result<RenewalReport, Failure> {
        let mut report = RenewalReport::default();
        let mut tokens = TokenCache::new();
        let mut pending: Vec<PushSubscription> = self
            .stores
            .subscriptions
            .for_connection(c, s, kind)
            .await?
            .into_iter()
            .filter(is_placeholder)
            .collect();
        // In the order the provider's kinds are declared (a Graph mailbox's Inbox first).
        pending.sort_by_key(|sub| sub.kind as u8);
        for sub in &pending {
            if let Err(e) = self
                .renew_one(sub, now, &mut report, &mut tokens, true)
                .await
            {
                // Left as it is, due now: the renewal job's next run creates it.
                warn!(contract = %c, seat = %s, kind = ?sub.kind, error = %Chain(&e), "push subscription not created; renewal will retry");
                report.failed += 1;
            }
        }
        Ok(report)
    }

    /// Renews every subscription due at `now`: extends or recreates it, stops the ones whose
    /// connection is gone, and enqueues a catch-up sync wherever notifications may have been
    /// missed. The first time a run meets a connection, it also adds the subscriptions the
    /// connection should have but has no record of (kinds added since it connected), so
    /// every connection gains them within one renewal period.
    pub async fn renew_due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<RenewalReport, Failure> {
        self.renew_due_until(now, per_shard, None).await
    }

    /// [`Connector::renew_due`], starting no renewal after `stop_at`: what is left stays
    /// due and the next run takes it.
    pub async fn renew_due_until(
        &self,
        now: Timestamp,
        per_shard: i32,
        stop_at: Option<std::time::Instant>,
    ) -> Result<RenewalReport, Failure> {
        let mut report = RenewalReport::default();
        let mut tokens = TokenCache::new();
        for sub in self.stores.subscriptions.due(now, per_shard).await? {
            if stop_at.is_some_and(|at| std::time::Instant::now() >= at) {
                report.unfinished = true;
                break;
            }
            if let Err(e) = self
                .renew_one(&sub, now, &mut report, &mut tokens, false)
                .await
            {
                report.failed += 1;
                // Due again later, each failure in a row waiting longer: a subscription
                // that keeps failing gives way to the others due in its shard.
                let failures = sub.failures.saturating_add(1);
                let retry_at = PushSubscription::retry_at(now, failures);
                warn!(contract = %sub.contract_id, seat = %sub.seat_id, kind = ?sub.kind, failures, retry_at = %retry_at, error = %Chain(&e), "renewal failed; retried later");
                if let Err(e) = self
                    .stores
                    .subscriptions
                    .defer(&sub.id, retry_at, failures)
                    .await
                {
                    warn!(contract = %sub.contract_id, seat = %sub.seat_id, error = %Chain(&e), "failed renewal could not be deferred; next run retries it");
                }
            }
        }
        Ok(report)
    }

    /// Renews (or creates, for a placeholder) one subscription. `sync_follows`: the caller
    /// syncs the connection right after (its first job), so no catch-up is queued for what
    /// the subscription missed.
    async fn renew_one(
        &self,
        sub: &PushSubscription,
        now: Timestamp,
        report: &mut RenewalReport,
        tokens: &mut TokenCache,
        sync_follows: bool,
    ) -> Result<(), Failure> {
        let kind = sub.kind.connection_kind();
        let conn = self
            .stores
            .connections
            .get(&sub.contract_id, &sub.seat_id, kind)
            .await?;
        let conn = match conn {
            Some(read) if read.value.is_authorized() => read.value,
            _ => {
                // Stale: its connection is gone or no longer authorized.
                self.stores.subscriptions.delete(sub).await?;
                report.stopped += 1;
                return Ok(());
            }
        };
        let provider = conn.grant.provider;
        let cache_key = (sub.contract_id.clone(), sub.seat_id.clone(), kind);
        let cached = tokens.get(&cache_key).cloned();
        let first_visit = cached.is_none();
        let fetched = match cached {
            Some(a) => Ok(a),
            None => self.access_token(&conn, now).await,
        };
        let access = match fetched {
            Ok(a) => {
                tokens.insert(cache_key, a.clone());
                a
            }
            Err(Failure::Refused(_)) => {
                self.stores.subscriptions.delete(sub).await?;
                report.stopped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if first_visit && kind == ConnectionKind::Email {
            self.refresh_aliases(&conn, &access).await;
            if !sync_follows && conn.cursor.reconcile_due(now) {
                self.queue_reconciliation(&conn, now).await?;
            }
        }
        // A kind the provider no longer uses for such a connection (Graph's per-folder mail
        // subscriptions, replaced by one on the whole mailbox) is stopped and forgotten;
        // the connection's first visit adds what it should have instead.
        if !self
            .providers
            .push(provider)
            .kinds(kind)
            .contains(&sub.kind)
        {
            self.stop_at_provider(provider, sub, &access).await?;
            self.stores.subscriptions.delete(sub).await?;
            report.stopped += 1;
            if first_visit {
                self.add_missing(&conn, &access, now, report).await?;
            }
            return Ok(());
        }
        let renewal = if is_placeholder(sub) {
            // Never created at the provider: create it, and catch up on what it missed.
            Renewal::Gone
        } else {
            let terms = self.channel_terms(&sub.contract_id, provider, now).await?;
            self.providers
                .push(provider)
                .renew(&access, sub, &terms)
                .await
                .map_err(|e| Failure::internal("push renewal", e))?
        };
        match renewal {
            Renewal::Extended {
                expires_at,
                clamped_to_minutes,
            } => {
                self.remember_clamp(&sub.contract_id, clamped_to_minutes)
                    .await?;
                let updated = PushSubscription {
                    expires_at,
                    renewed_at: now,
                    failures: 0,
                    ..sub.clone()
                };
                self.stores
                    .subscriptions
                    .put(&updated, updated.renew_at(&self.push_settings()?.lifetimes))
                    .await?;
                report.renewed += 1;
            }
            Renewal::Gone | Renewal::Replace => {
                let fresh = self
                    .create_subscription(
                        &sub.contract_id,
                        &sub.seat_id,
                        provider,
                        sub.kind,
                        &conn.grant.address,
                        &access,
                        now,
                    )
                    .await?;
                self.stores
                    .subscriptions
                    .put(&fresh, fresh.renew_at(&self.push_settings()?.lifetimes))
                    .await?;
                if fresh.id != sub.id {
                    self.stop_at_provider(provider, sub, &access).await?;
                    self.stores.subscriptions.delete(sub).await?;
                }
                report.recreated += 1;
            }
        }
        // A lapsed or dropped subscription may have missed notifications.
        if !sync_follows && (sub.lapsed(now) || renewal == Renewal::Gone) {
            self.queues
                .sync_jobs
                .sync_job(
                    &SyncJob {
                        contract: sub.contract_id.clone(),
                        seat: sub.seat_id.clone(),
                        kind,
                        reason: SyncReason::CatchUp,
                        requested_at: now,
                    },
                    &format!("catchup:{}:{}", sub.id, now.as_second()),
                )
                .await?;
        }
        if first_visit {
            self.add_missing(&conn, &access, now, report).await?;
        }
        Ok(())
    }

    /// Reads the mailbox's other addresses (aliases, send-as) and stores them on the
    /// connection when they changed: mail to or from them is the seat's own. Done when a
    /// connection's push is set up (its first sync job) and on each renewal run's first
    /// visit. A failure changes nothing (the addresses read before stay) and is logged.
    async fn refresh_aliases(&self, conn: &Connection, access: &SecretString) {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let aliases = match self
            .providers
            .accounts(conn.grant.provider)
            .aliases(access, &conn.grant.address)
            .await
        {
            Ok(aliases) => aliases,
            Err(e) => {
                warn!(contract = %c, seat = %s, error = %Chain(&e), "mailbox aliases not read; the ones stored stay");
                return;
            }
        };
        if aliases == conn.aliases {
            return;
        }
        let stored = retry_on_race("aliases", || {
            let aliases = aliases.clone();
            async move {
                let Some(read) = self.stores.connections.get(c, s, k).await? else {
                    return Ok(Some(()));
                };
                if read.value.aliases == aliases || read.value.grant.address != conn.grant.address {
                    return Ok(Some(()));
                }
                let mut changed = read.value.clone();
                changed.aliases = aliases;
                Ok(self
                    .stores
                    .connections
                    .update(&read, &changed)
                    .await
                    .raced()?
                    .map(|_| ()))
            }
        })
        .await;
        match stored {
            Ok(()) => {
                info!(contract = %c, seat = %s, aliases = aliases.len(), "mailbox aliases updated")
            }
            Err(e) => {
                warn!(contract = %c, seat = %s, error = %Chain(&e), "mailbox aliases not stored")
            }
        }
    }

    /// Queues the week's check of the connection's stored messages against the mailbox
    /// (ingest's `Reconcile` job). The renewal run visits every connection at least every
    /// two days, so each is reconciled about weekly: the job records when it ran, so later
    /// visits find none due (a job still queued at the next visit is queued again and runs
    /// twice, harmlessly), and a duplicate sent within the queue's five-minute window is
    /// dropped by its deduplication id.
    async fn queue_reconciliation(&self, conn: &Connection, now: Timestamp) -> Result<(), Failure> {
        let job = SyncJob {
            contract: conn.contract_id.clone(),
            seat: conn.seat_id.clone(),
            kind: conn.kind,
            reason: SyncReason::Reconcile,
            requested_at: now,
        };
        let week = now.as_second() / (RECONCILE_EVERY_DAYS * 24 * 3600);
        self.queues
            .sync_jobs
            .sync_job(&job, &format!("reconcile:{}:{week}", job.group()))
            .await?;
        Ok(())
    }
}
