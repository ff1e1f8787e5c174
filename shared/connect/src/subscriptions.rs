//! A connection's push subscriptions: created when it connects (or a placeholder the
//! renewal job fills in), added when a kind joins later, stopped when it goes.

use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Provider;
use hiresync_domain::failure::Chain;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::ports::{ChannelTerms, NewChannel};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::connector::Connector;
use crate::renewal::RenewalReport;
use crate::state::new_id;

/// The id prefix of a placeholder: a subscription the provider did not create yet.
const PENDING: &str = "pending:";

/// A random secret for Graph's clientState or a Calendar channel token (URL-safe, 48 chars).
fn new_secret() -> SecretString {
    SecretString::from(format!("{}{}", new_id(), &new_id()[..5]))
}

fn hash_secret(secret: &SecretString) -> String {
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of a subscription kind as stored (`graph_inbox`).
fn kind_name(kind: SubscriptionKind) -> String {
    serde_json::to_string(&kind)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

/// Whether `sub` is a placeholder for a subscription still to be created.
/// What stands for a subscription not created yet at the provider: due now, so the renewal
/// job creates it if nothing else has.
fn placeholder(
    c: &ContractId,
    s: &SeatId,
    sub_kind: SubscriptionKind,
    now: Timestamp,
) -> PushSubscription {
    PushSubscription {
        id: format!(
            "{PENDING}{}:{}:{}:{}",
            c,
            s,
            sub_kind.connection_kind().as_str(),
            kind_name(sub_kind)
        ),
        kind: sub_kind,
        contract_id: c.clone(),
        seat_id: s.clone(),
        resource_id: None,
        secret_hash: None,
        expires_at: now,
        renewed_at: now,
        failures: 0,
    }
}

pub(crate) fn is_placeholder(sub: &PushSubscription) -> bool {
    sub.id.starts_with(PENDING)
}

impl Connector {
    /// What a subscription of the contract with `provider` is asked for at `now`. The
    /// contract's learned lifetime ceiling is read only for a provider that learns one.
    pub(crate) async fn channel_terms(
        &self,
        contract: &ContractId,
        provider: Provider,
        now: Timestamp,
    ) -> Result<ChannelTerms<'_>, Failure> {
        let ceiling_minutes = if self.providers.push(provider).learns_ceiling() {
            self.stores.contracts.graph_ceiling(contract).await?
        } else {
            None
        };
        Ok(ChannelTerms {
            settings: self.push_settings()?,
            ceiling_minutes,
            now,
        })
    }

    /// Remembers the lifetime a provider clamped a subscription to, so it is not asked for
    /// more next time.
    pub(crate) async fn remember_clamp(
        &self,
        contract: &ContractId,
        clamped_to_minutes: Option<u32>,
    ) -> Result<(), Failure> {
        if let Some(minutes) = clamped_to_minutes {
            self.stores
                .contracts
                .remember_graph_ceiling(contract, minutes)
                .await?;
        }
        Ok(())
    }

    /// Creates one push subscription at the provider (not stored yet).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create_subscription(
        &self,
        c: &ContractId,
        s: &SeatId,
        provider: Provider,
        kind: SubscriptionKind,
        address: &EmailAddress,
        access: &SecretString,
        now: Timestamp,
    ) -> Result<PushSubscription, Failure> {
        let secret = new_secret();
        let channel_id = new_id();
        let terms = self.channel_terms(c, provider, now).await?;
        let channel = self
            .providers
            .push(provider)
            .create(
                access,
                &NewChannel {
                    kind,
                    address,
                    channel_id: &channel_id,
                    secret: &secret,
                },
                &terms,
            )
            .await
            .map_err(|e| Failure::internal("push subscription", e))?;
        self.remember_clamp(c, channel.clamped_to_minutes).await?;
        Ok(PushSubscription {
            id: channel.id,
            kind,
            contract_id: c.clone(),
            seat_id: s.clone(),
            resource_id: channel.resource_id,
            secret_hash: channel.echoes_secret.then(|| hash_secret(&secret)),
            expires_at: channel.expires_at,
            renewed_at: now,
            failures: 0,
        })
    }

    /// Gives a new connection a placeholder, due now, for every kind of subscription it
    /// needs, without calling the provider: a sign-in finishes within the HTTP API's time
    /// whatever the provider's subscription endpoint does. The connection's first sync job
    /// creates them ([`Connector::set_up_push`]) before it reads the mailbox, and a
    /// placeholder left (the provider failed) is created by the renewal job's next run.
    pub(crate) async fn subscribe_later(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        provider: Provider,
        same_mailbox: bool,
        now: Timestamp,
    ) -> Result<(), Failure> {
        // A re-consent to the same mailbox keeps the subscriptions it holds (a second one of
        // a kind would push every change twice); any other sign-in has none left to keep.
        let held: Vec<SubscriptionKind> = if same_mailbox {
            self.stores
                .subscriptions
                .for_connection(c, s, kind)
                .await?
                .into_iter()
                .map(|sub| sub.kind)
                .collect()
        } else {
            Vec::new()
        };
        for &sub_kind in self.providers.push(provider).kinds(kind) {
            if held.contains(&sub_kind) {
                continue;
            }
            self.stores
                .subscriptions
                .put(&placeholder(c, s, sub_kind, now), now)
                .await?;
        }
        Ok(())
    }

    /// Creates and stores one push subscription of a connection. When the provider fails,
    /// it stores a placeholder instead and returns `false`: the connection works without
    /// push (the safety-net poll and the renewal job cover it), and the placeholder, due
    /// now, makes the renewal job create the subscription on its next run.
    #[allow(clippy::too_many_arguments)]
    async fn subscribe_one(
        &self,
        c: &ContractId,
        s: &SeatId,
        provider: Provider,
        sub_kind: SubscriptionKind,
        address: &EmailAddress,
        access: &SecretString,
        now: Timestamp,
    ) -> Result<bool, Failure> {
        match self
            .create_subscription(c, s, provider, sub_kind, address, access, now)
            .await
        {
            Ok(sub) => {
                self.stores
                    .subscriptions
                    .put(&sub, sub.renew_at(&self.push_settings()?.lifetimes))
                    .await?;
                Ok(true)
            }
            Err(e) => {
                warn!(contract = %c, seat = %s, kind = ?sub_kind, error = %Chain(&e), "push subscription not created; renewal will retry");
                self.stores
                    .subscriptions
                    .put(&placeholder(c, s, sub_kind, now), now)
                    .await?;
                Ok(false)
            }
        }
    }

    /// Subscribes a connection to each kind it should have but holds no record of, not
    /// even a placeholder: a kind added after it connected (Graph's mailbox-wide
    /// subscription, which replaced the per-folder ones). What is created is followed by a catch-up sync, since nothing pushed
    /// its changes before.
    pub(crate) async fn add_missing(
        &self,
        conn: &Connection,
        access: &SecretString,
        now: Timestamp,
        report: &mut RenewalReport,
    ) -> Result<(), Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let provider = conn.grant.provider;
        let held: Vec<SubscriptionKind> = self
            .stores
            .subscriptions
            .for_connection(c, s, k)
            .await?
            .into_iter()
            .map(|sub| sub.kind)
            .collect();
        let mut created = Vec::new();
        for &kind in self.providers.push(provider).kinds(k) {
            if held.contains(&kind) {
                continue;
            }
            info!(contract = %c, seat = %s, kind = ?kind, "push subscription missing; adding it");
            if self
                .subscribe_one(c, s, provider, kind, &conn.grant.address, access, now)
                .await?
            {
                report.added += 1;
                created.push(kind);
            }
        }
        if let Some(&first) = created.first() {
            self.queues
                .sync_jobs
                .sync_job(
                    &SyncJob {
                        contract: c.clone(),
                        seat: s.clone(),
                        kind: k,
                        reason: SyncReason::CatchUp,
                        requested_at: now,
                    },
                    &format!(
                        "added:{c}:{s}:{}:{}:{}",
                        k.as_str(),
                        kind_name(first),
                        now.as_second()
                    ),
                )
                .await?;
        }
        Ok(())
    }

    /// Stops a subscription at its provider; a placeholder has nothing there to stop.
    pub(crate) async fn stop_at_provider(
        &self,
        provider: Provider,
        sub: &PushSubscription,
        access: &SecretString,
    ) -> Result<(), Failure> {
        if is_placeholder(sub) {
            return Ok(());
        }
        self.providers
            .push(provider)
            .stop(access, sub)
            .await
            .map_err(|e| Failure::internal("stopping a push subscription", e))
    }
}
