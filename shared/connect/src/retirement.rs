//! The provider's side of a deauthorization, done after the local one: stopping the push
//! subscriptions the connection had and revoking its grant, retried until the provider
//! has done both.

use hiresync_domain::failure::{Chain, Failure};
use hiresync_domain::retirement::Retirement;
use hiresync_domain::Timestamp;
use tracing::{info, warn};

use crate::connector::{seal_context, Connector};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetirementReport {
    /// Retirements the provider has fully taken back.
    pub finished: usize,
    /// Retirements that failed this time and wait for a later run.
    pub failed: usize,
}

impl Connector {
    /// Works through the retirements due at `now`, at most `per_shard` from each shard.
    /// One that fails is due again later, each failure in a row waiting longer, for as long
    /// as it takes: its token stays sealed meanwhile, and nothing is fetched with it.
    pub async fn retire_due(
        &self,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<RetirementReport, Failure> {
        self.retire_due_until(now, per_shard, None).await
    }

    /// [`Connector::retire_due`], starting none after `stop_at`: what is left stays due.
    pub async fn retire_due_until(
        &self,
        now: Timestamp,
        per_shard: i32,
        stop_at: Option<std::time::Instant>,
    ) -> Result<RetirementReport, Failure> {
        let mut report = RetirementReport::default();
        for r in self.stores.retirements.due(now, per_shard).await? {
            if stop_at.is_some_and(|at| std::time::Instant::now() >= at) {
                break;
            }
            match self.retire_at_provider(&r).await {
                Ok(()) => {
                    self.stores.retirements.finish(&r).await?;
                    info!(contract = %r.contract_id, seat = %r.seat_id, kind = r.kind.as_str(), "provider clean-up done");
                    report.finished += 1;
                }
                Err(e) => {
                    report.failed += 1;
                    let failures = r.failures.saturating_add(1);
                    let retry_at = Retirement::retry_at(now, failures);
                    warn!(contract = %r.contract_id, seat = %r.seat_id, kind = r.kind.as_str(), failures, retry_at = %retry_at, error = %Chain(&e), "provider clean-up failed; retried later");
                    if let Err(e) = self.stores.retirements.defer(&r, retry_at, failures).await {
                        warn!(contract = %r.contract_id, seat = %r.seat_id, error = %Chain(&e), "failed clean-up could not be deferred; next run retries it");
                    }
                }
            }
        }
        Ok(report)
    }

    /// Stops the retirement's subscriptions and revokes its grant. Both are harmless to
    /// repeat, so an attempt that fails half-way is finished by the next.
    pub(crate) async fn retire_at_provider(&self, r: &Retirement) -> Result<(), Failure> {
        let Some(token) = &r.token else {
            return Ok(());
        };
        let (c, s, k) = (&r.contract_id, &r.seat_id, r.kind);
        let identity = self.providers.identity(r.provider);
        let refresh = self
            .sealer
            .open(&token.sealed, &seal_context(c, s, k))
            .await?;
        let access = match identity.refresh(&refresh).await {
            Ok(tokens) => tokens.access_token,
            // The grant is already gone: nothing at the provider to stop or revoke.
            Err(e) if e.is_invalid_grant() => return Ok(()),
            Err(e) => return Err(Failure::internal("token refresh", e)),
        };
        for sub in &r.subscriptions {
            // An id stored again names a newer subscription (a Gmail watch is named by its
            // mailbox): the seat connected the mailbox again, and it is that connection's.
            if self.stores.subscriptions.get(&sub.id).await?.is_some() {
                continue;
            }
            self.stop_at_provider(r.provider, sub, &access).await?;
        }
        // A seat that connected the same account again since holds the same grant anew
        // (Google keeps one per account and app): revoking it would end that connection.
        let connected_again = self
            .stores
            .connections
            .get(c, s, k)
            .await?
            .is_some_and(|v| {
                v.value.is_authorized()
                    && v.value.grant.provider == r.provider
                    && v.value.grant.address == r.address
            });
        if !connected_again {
            identity
                .revoke(&refresh)
                .await
                .map_err(|e| Failure::internal("token revocation", e))?;
        }
        Ok(())
    }
}
