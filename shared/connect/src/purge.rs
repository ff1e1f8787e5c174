//! A suspended contract loses every piece of third-party data, seat by seat through the
//! purge queue, and gets a receipt that shows it; a reactivation waits for that receipt.
//!
//! The steps, each idempotent and each queuing the next, so a crash anywhere is continued by
//! the message's redelivery:
//! 1. the event marks the contract suspended at once (nothing syncs or connects from then
//!    on) and opens the run's receipt;
//! 2. pages of the contract's seats queue one step per seat;
//! 3. a seat's step retires its connections (locally, in one transaction each, as any
//!    deauthorization), stops its subscriptions and revokes its grants at the provider,
//!    deletes its mail and scheduling partitions in bounded batches and its records in
//!    the contract partition, then re-reads them;
//! 4. the verification waits for every seat, re-reads every key pattern of the contract
//!    and finishes the receipt.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::{stream, StreamExt, TryStreamExt};
use hiresync_domain::access::{DeauthorizationReason, Effect};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::{Contract, Lifecycle};
use hiresync_domain::failure::{Chain, Failure};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{
    retry_on_race, ContractIntegrations, MailboxHolder, PageToken, PurgeStore, Raced,
};
use hiresync_domain::purge::{DataClass, PurgeCounts, PurgeReceipt, SeatPurge, Verification};
use hiresync_domain::Timestamp;
use hiresync_messages::{
    ContractReactivated, ContractSuspended, PurgeMessage, PurgeQueue, PurgeStep,
};
use tracing::{info, warn};

use crate::connector::Connector;

/// Seats listed per page step.
const SEATS_PAGE: i32 = 100;
/// Items of a seat's partitions deleted per batch (keys read, then batch deletes).
const DELETE_BATCH: i32 = 500;
/// A seat whose re-read still finds data (a sync that was mid-way) is purged again, at most
/// this many times in one step before the step fails and SQS redelivers it.
const SEAT_PASSES: usize = 3;
/// Seats re-read at once by the verification.
const VERIFY_CONCURRENCY: usize = 16;
/// How long a reactivation waits before looking at the purge again.
const REACTIVATION_WAIT: Duration = Duration::from_secs(60);
/// After this many verifications that found seats unfinished, their steps are queued again
/// (one may have gone to the dead-letter queue); after `GIVE_UP` the receipt is finished
/// with what was found.
const REQUEUE_AFTER: u32 = 5;
const GIVE_UP: u32 = 100;

/// What the purge needs besides the connector: its store and its queue.
#[derive(Clone)]
pub struct Purger {
    pub connector: Connector,
    pub store: Arc<dyn PurgeStore>,
    pub queue: Arc<dyn PurgeQueue>,
    /// The contract's own integrations (Zoom), whose grants the purge gives back.
    pub integrations: Arc<dyn ContractIntegrations>,
}

/// How long the verification waits before its next attempt: 5 s doubling, at most 15 min.
pub fn verify_delay(attempt: u32) -> Duration {
    let seconds = 5u64.saturating_mul(1u64 << attempt.min(8));
    Duration::from_secs(seconds.min(900))
}

impl Purger {
    /// One message of the purge queue. `out_of_time` says when a step must stop and queue
    /// its continuation.
    pub async fn handle(
        &self,
        message: PurgeMessage,
        now: Timestamp,
        out_of_time: &(dyn Fn() -> bool + Sync),
    ) -> Result<(), Failure> {
        match message {
            PurgeMessage::Suspended(e) => self.suspended(&e, now).await,
            PurgeMessage::Reactivated(e) => self.reactivated(&e).await,
            PurgeMessage::Step(PurgeStep::Seats {
                contract,
                suspended_at,
                page,
            }) => self.seats_page(&contract, suspended_at, page).await,
            PurgeMessage::Step(PurgeStep::Seat {
                contract,
                suspended_at,
                seat,
                deleted,
            }) => {
                self.seat(&contract, suspended_at, &seat, deleted, now, out_of_time)
                    .await
            }
            PurgeMessage::Step(PurgeStep::Verify {
                contract,
                suspended_at,
                attempt,
            }) => self.verify(&contract, suspended_at, attempt, now).await,
        }
    }

    /// Whether the run of `suspended_at` is the contract's current state: suspended by that
    /// very event. A step of an older run delivered late (after a reactivation, or a newer
    /// suspension that has its own run) does nothing, so it never touches what seats
    /// connected since.
    async fn is_current(&self, c: &ContractId, suspended_at: Timestamp) -> Result<bool, Failure> {
        let contract = self.connector.settings(c).await?;
        let current = !contract.is_active() && contract.lifecycle_at == Some(suspended_at);
        if !current {
            info!(contract = %c, suspended_at = %suspended_at, "step of a purge run that is no longer current; ignored");
        }
        Ok(current)
    }

    async fn send(&self, message: PurgeMessage, delay: Duration) -> Result<(), Failure> {
        Ok(self.queue.purge(&message, delay).await?)
    }

    /// Applies a lifecycle event to the contract (created with the defaults if the store
    /// has never seen it), on the version read.
    async fn lifecycle(
        &self,
        id: &ContractId,
        apply: impl Fn(&mut Contract) -> Lifecycle,
    ) -> Result<Lifecycle, Failure> {
        let contracts = &self.connector.stores.contracts;
        let apply = &apply;
        retry_on_race("contract lifecycle", || async move {
            let Some(read) = self.connector.contract_or_new(id).await? else {
                return Ok(None);
            };
            let mut contract = read.value.clone();
            let outcome = apply(&mut contract);
            if outcome != Lifecycle::Applied {
                return Ok(Some(outcome));
            }
            Ok(contracts
                .update(&read, &contract)
                .await
                .raced()?
                .map(|_| outcome))
        })
        .await
    }

    /// `contract.suspended`: the contract is suspended from now on, and its run starts (or,
    /// for the same event again, continues).
    async fn suspended(&self, e: &ContractSuspended, now: Timestamp) -> Result<(), Failure> {
        let (c, at) = (&e.contract_id, e.suspended_at);
        let outcome = self.lifecycle(c, |contract| contract.suspend(at)).await?;
        if outcome == Lifecycle::Stale {
            info!(contract = %c, suspended_at = %at, "suspension older than the contract's last lifecycle event; ignored");
            return Ok(());
        }
        let receipt = self
            .store
            .start_run(c, &PurgeReceipt::started(at, now))
            .await?;
        if receipt.is_finished() {
            info!(contract = %c, suspended_at = %at, "suspension already purged");
            return Ok(());
        }
        info!(contract = %c, suspended_at = %at, ?outcome, "contract suspended; purge started");
        self.send(
            PurgeMessage::Step(PurgeStep::Seats {
                contract: c.clone(),
                suspended_at: at,
                page: None,
            }),
            Duration::ZERO,
        )
        .await
    }

    /// `contract.reactivated`: seats may connect again, from scratch, once the purge of the
    /// suspension has finished; until then the event waits on the queue.
    async fn reactivated(&self, e: &ContractReactivated) -> Result<(), Failure> {
        let c = &e.contract_id;
        if let Some(run) = self.store.latest_run(c).await? {
            if !run.is_finished() && run.suspended_at < e.reactivated_at {
                info!(contract = %c, "reactivation waits for the purge to finish");
                return self
                    .send(PurgeMessage::Reactivated(e.clone()), REACTIVATION_WAIT)
                    .await;
            }
        }
        let outcome = self
            .lifecycle(c, |contract| contract.reactivate(e.reactivated_at))
            .await?;
        info!(contract = %c, reactivated_at = %e.reactivated_at, ?outcome, "contract reactivation");
        Ok(())
    }

    async fn seats_page(
        &self,
        c: &ContractId,
        suspended_at: Timestamp,
        page: Option<String>,
    ) -> Result<(), Failure> {
        if !self.is_current(c, suspended_at).await? {
            return Ok(());
        }
        let token = page.map(PageToken::from_string);
        let listed = self
            .connector
            .stores
            .seats
            .list(c, SEATS_PAGE, token.as_ref())
            .await?;
        // The next page (or the verification) first: a seat step that cannot be queued
        // sends this page round again without holding up the rest.
        let next = match listed.next {
            Some(next) => PurgeStep::Seats {
                contract: c.clone(),
                suspended_at,
                page: Some(next.as_str().to_owned()),
            },
            None => PurgeStep::Verify {
                contract: c.clone(),
                suspended_at,
                attempt: 0,
            },
        };
        self.send(PurgeMessage::Step(next), Duration::ZERO).await?;
        stream::iter(listed.items)
            .map(|seat| {
                self.send(
                    PurgeMessage::Step(PurgeStep::Seat {
                        contract: c.clone(),
                        suspended_at,
                        seat: seat.value.id,
                        deleted: PurgeCounts::default(),
                    }),
                    Duration::ZERO,
                )
            })
            .buffer_unordered(10)
            .try_collect::<()>()
            .await
    }

    async fn seat(
        &self,
        c: &ContractId,
        suspended_at: Timestamp,
        s: &SeatId,
        mut deleted: PurgeCounts,
        now: Timestamp,
        out_of_time: &(dyn Fn() -> bool + Sync),
    ) -> Result<(), Failure> {
        if !self.is_current(c, suspended_at).await? {
            return Ok(());
        }
        let mut awaiting_provider = 0;
        for pass in 1..=SEAT_PASSES {
            awaiting_provider = self.retire_seat(c, s, &mut deleted, now).await?;
            loop {
                if out_of_time() {
                    info!(contract = %c, seat = %s, "seat purge continues in a new step");
                    return self
                        .send(
                            PurgeMessage::Step(PurgeStep::Seat {
                                contract: c.clone(),
                                suspended_at,
                                seat: s.clone(),
                                deleted,
                            }),
                            Duration::ZERO,
                        )
                        .await;
                }
                let step = self.store.purge_seat_data(c, s, DELETE_BATCH).await?;
                deleted.merge(&step.counts);
                if !step.more {
                    break;
                }
            }
            deleted.merge(&self.store.purge_seat_records(c, s).await?);
            let left: Vec<DataClass> = self
                .store
                .seat_leftovers(c, s)
                .await?
                .into_iter()
                .filter(|class| *class != DataClass::Retirements)
                .collect();
            if left.is_empty() {
                break;
            }
            warn!(contract = %c, seat = %s, pass, left = ?left, "seat data written during its purge; purging again");
            if pass == SEAT_PASSES {
                return Err(Failure::internal(
                    "purge",
                    std::io::Error::other(format!("seat {s} still has {left:?} after its purge")),
                ));
            }
        }
        let record = SeatPurge {
            seat: s.clone(),
            deleted,
            awaiting_provider,
            finished_at: now,
        };
        self.store.seat_done(c, suspended_at, &record).await?;
        info!(contract = %c, seat = %s, deleted = record.deleted.total(), awaiting_provider, "seat purged");
        Ok(())
    }

    /// Takes away every authorization of the seat and finishes its retirements at the
    /// provider now; returns how many the provider could not finish (they stay for the
    /// renewal job, which retries them).
    async fn retire_seat(
        &self,
        c: &ContractId,
        s: &SeatId,
        deleted: &mut PurgeCounts,
        now: Timestamp,
    ) -> Result<u32, Failure> {
        let connector = &self.connector;
        for read in connector.stores.connections.list_for_seat(c, s).await? {
            let kind = read.value.kind;
            let effect = Effect::Deauthorize {
                kind,
                reason: DeauthorizationReason::ContractSuspended,
            };
            let conn = read.value.clone();
            let held = self.holds_claim(&conn).await?;
            connector
                .apply_effects(read, &[effect], &BTreeSet::new(), now, now)
                .await?;
            // Released at the retirement already, unless that release failed (or the
            // connection was retired before and its release failed then): again here, and
            // read back, since no key pattern of the contract finds a claim.
            self.release_claim(&conn, kind).await?;
            if self.holds_claim(&conn).await? {
                return Err(Failure::internal(
                    "purge",
                    std::io::Error::other(format!(
                        "seat {s} still holds its {} account",
                        kind.as_str()
                    )),
                ));
            }
            if held {
                deleted.add(DataClass::MailboxClaims, 1);
            }
        }
        let mut awaiting = 0;
        for r in connector.stores.retirements.of_seat(c, s).await? {
            match connector.retire_at_provider(&r).await {
                Ok(()) => {
                    connector.stores.retirements.finish(&r).await?;
                    deleted.add(DataClass::Retirements, 1);
                    if r.token.is_some() {
                        deleted.add(DataClass::Tokens, 1);
                    }
                    deleted.add(DataClass::PushSubscriptions, r.subscriptions.len() as u64);
                }
                Err(e) => {
                    awaiting += 1;
                    warn!(contract = %c, seat = %s, kind = r.kind.as_str(), error = %Chain(&e), "provider clean-up failed; the renewal job retries it");
                }
            }
        }
        Ok(awaiting)
    }

    /// Whether the connection's seat holds the claim on its account.
    async fn holds_claim(
        &self,
        conn: &hiresync_domain::connection::Connection,
    ) -> Result<bool, Failure> {
        let holder = self
            .connector
            .stores
            .mailboxes
            .holder(conn.grant.provider, conn.kind, &conn.grant.address)
            .await?;
        Ok(holder.is_some_and(|h| h.contract == conn.contract_id && h.seat == conn.seat_id))
    }

    /// Releases the account's claim if this seat still holds it; whether it did.
    async fn release_claim(
        &self,
        conn: &hiresync_domain::connection::Connection,
        kind: ConnectionKind,
    ) -> Result<bool, Failure> {
        let holder = MailboxHolder {
            contract: conn.contract_id.clone(),
            seat: conn.seat_id.clone(),
        };
        Ok(self
            .connector
            .stores
            .mailboxes
            .release(conn.grant.provider, kind, &conn.grant.address, &holder)
            .await?)
    }

    async fn verify(
        &self,
        c: &ContractId,
        suspended_at: Timestamp,
        attempt: u32,
        now: Timestamp,
    ) -> Result<(), Failure> {
        if !self.is_current(c, suspended_at).await? {
            return Ok(());
        }
        let Some(mut receipt) = self.store.run(c, suspended_at).await? else {
            return Err(Failure::NotFound("purge run"));
        };
        let seats = self.all_seats(c).await?;
        let done: BTreeSet<&SeatId> = receipt.seats.iter().map(|s| &s.seat).collect();
        let missing: Vec<SeatId> = seats
            .iter()
            .filter(|s| !done.contains(s))
            .cloned()
            .collect();
        let again = PurgeMessage::Step(PurgeStep::Verify {
            contract: c.clone(),
            suspended_at,
            attempt: attempt + 1,
        });
        if !missing.is_empty() && attempt < GIVE_UP {
            info!(contract = %c, missing = missing.len(), attempt, "purge waits for its seats");
            if attempt >= REQUEUE_AFTER {
                self.requeue_seats(c, suspended_at, &missing).await?;
            }
            return self.send(again, verify_delay(attempt)).await;
        }
        // The contract's own items, counted when an earlier verification deleted them.
        let mut deleted = PurgeCounts::default();
        for class in [DataClass::ProviderLimits, DataClass::Zoom] {
            deleted.add(class, receipt.deleted.get(class));
        }
        deleted.add(DataClass::Zoom, self.integrations.disconnect(c).await?);
        deleted.merge(&self.store.purge_contract_records(c).await?);
        for seat in &receipt.seats {
            deleted.merge(&seat.deleted);
        }
        receipt.deleted = deleted;
        let verification = self.reread(c, &seats, now).await?;
        let stragglers: BTreeSet<SeatId> = verification
            .found
            .iter()
            .filter(|(_, class)| *class != DataClass::Retirements)
            .filter_map(|(seat, _)| seat.clone())
            .collect();
        let clean = verification.is_clean();
        let awaiting_provider = verification.only_awaiting_provider();
        receipt.verification = Some(verification);
        if !clean && attempt < GIVE_UP {
            if awaiting_provider {
                // Only the provider's part is owed: the receipt is final for everything
                // else; the verification keeps looking until the renewal job has finished.
                receipt.finished_at.get_or_insert(now);
            } else {
                let stragglers: Vec<SeatId> = stragglers.into_iter().collect();
                warn!(contract = %c, seats = stragglers.len(), "data found after the purge; those seats are purged again");
                self.requeue_seats(c, suspended_at, &stragglers).await?;
            }
            self.store.finish_run(c, &receipt).await?;
            return self.send(again, verify_delay(attempt)).await;
        }
        receipt.finished_at.get_or_insert(now);
        self.store.finish_run(c, &receipt).await?;
        info!(contract = %c, suspended_at = %suspended_at, deleted = receipt.deleted.total(), clean, "purge finished");
        Ok(())
    }

    async fn requeue_seats(
        &self,
        c: &ContractId,
        suspended_at: Timestamp,
        seats: &[SeatId],
    ) -> Result<(), Failure> {
        stream::iter(seats)
            .map(|seat| {
                self.send(
                    PurgeMessage::Step(PurgeStep::Seat {
                        contract: c.clone(),
                        suspended_at,
                        seat: seat.clone(),
                        deleted: PurgeCounts::default(),
                    }),
                    Duration::ZERO,
                )
            })
            .buffer_unordered(10)
            .try_collect::<()>()
            .await
    }

    async fn all_seats(&self, c: &ContractId) -> Result<Vec<SeatId>, Failure> {
        let mut seats = Vec::new();
        let mut token: Option<PageToken> = None;
        loop {
            let page = self
                .connector
                .stores
                .seats
                .list(c, 1000, token.as_ref())
                .await?;
            seats.extend(page.items.into_iter().map(|s| s.value.id));
            match page.next {
                Some(next) => token = Some(next),
                None => return Ok(seats),
            }
        }
    }

    /// Every key pattern of the contract read again: its partition's third-party prefixes
    /// (every seat's at once) and each seat's own partitions.
    async fn reread(
        &self,
        c: &ContractId,
        seats: &[SeatId],
        now: Timestamp,
    ) -> Result<Verification, Failure> {
        let mut found = self.store.contract_leftovers(c).await?;
        let per_seat: Vec<Vec<(Option<SeatId>, DataClass)>> = stream::iter(seats)
            .map(|s| async move {
                let classes = self.store.seat_leftovers(c, s).await?;
                Ok::<_, Failure>(
                    classes
                        .into_iter()
                        .map(|class| (Some(s.clone()), class))
                        .collect(),
                )
            })
            .buffer_unordered(VERIFY_CONCURRENCY)
            .try_collect()
            .await?;
        found.extend(per_seat.into_iter().flatten());
        found.sort();
        found.dedup();
        Ok(Verification {
            found,
            checked_at: Some(now),
        })
    }
}
