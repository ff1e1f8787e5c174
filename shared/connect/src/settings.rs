//! An admin's settings, and carrying a change to every connection of the contract a page at
//! a time; a seat's own disconnect goes the same way.

use hiresync_domain::access::{DeauthorizationReason, Effect};
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::{Contract, SettingsUpdate};
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{retry_on_race, PageToken, Raced, Versioned};
use hiresync_domain::Timestamp;
use hiresync_messages::FanOutPage;
use tracing::info;

use crate::connector::{seal_context, Connector};

/// How many connections one fan-out message handles before enqueuing the next page.
const FAN_OUT_PAGE: i32 = 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChange {
    pub contract: Contract,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutOutcome {
    pub seen: usize,
    pub lost_authorization: usize,
    pub more: bool,
}

impl Connector {
    /// The contract's settings; a contract the store has never seen has the defaults.
    pub async fn settings(&self, id: &ContractId) -> Result<Contract, Failure> {
        Ok(self
            .stores
            .contracts
            .get(id)
            .await?
            .map(|v| v.value)
            .unwrap_or_else(|| Contract::new(id.clone())))
    }

    /// Applies an admin's change and starts the fan-out of its effects to every connection
    /// of the contract. Repeating the same change yields no effects and no fan-out.
    pub async fn change_settings(
        &self,
        id: &ContractId,
        update: SettingsUpdate,
        now: Timestamp,
    ) -> Result<SettingsChange, Failure> {
        let contracts = &self.stores.contracts;
        let (contract, effects, version) = retry_on_race("settings", || async {
            let read = match contracts.get(id).await? {
                Some(read) => read,
                None => match contracts.create(&Contract::new(id.clone())).await.raced()? {
                    Some(created) => created,
                    None => return Ok(None),
                },
            };
            let mut contract = read.value.clone();
            let effects = contract.change_settings(update).map_err(|_| {
                Failure::Refused(ConnectError::NotAllowed(Denial::ContractSuspended))
            })?;
            let written = contracts.update(&read, &contract).await.raced()?;
            Ok(written.map(|w| (contract, effects, w.version)))
        })
        .await?;
        let reaches_connections = effects.iter().any(|e| {
            matches!(
                e,
                Effect::Deauthorize { .. } | Effect::RequireReconnect { .. }
            )
        });
        if reaches_connections {
            self.queues
                .fan_out
                .fan_out(&FanOutPage {
                    contract: id.clone(),
                    effects: effects.clone(),
                    issued_at: now,
                    page: None,
                    change: format!("v{version}"),
                })
                .await?;
        }
        info!(contract = %id, effects = effects.len(), "settings changed");
        Ok(SettingsChange { contract, effects })
    }

    /// Carries a settings change to one page of the contract's connections and enqueues the
    /// next page. Safe to repeat: a connection already changed is left alone.
    pub async fn fan_out_page(
        &self,
        page: &FanOutPage,
        now: Timestamp,
    ) -> Result<FanOutOutcome, Failure> {
        let token = page.page.clone().map(PageToken::from_string);
        let listed = self
            .stores
            .connections
            .list_by_contract(&page.contract, FAN_OUT_PAGE, token.as_ref())
            .await?;
        let mut outcome = FanOutOutcome {
            seen: listed.items.len(),
            ..Default::default()
        };
        // The next page goes out first: a connection of this page that fails (and sends
        // this page back round) never holds up the rest of the contract.
        if let Some(next) = listed.next {
            outcome.more = true;
            self.queues
                .fan_out
                .fan_out(&FanOutPage {
                    page: Some(next.as_str().to_owned()),
                    ..page.clone()
                })
                .await?;
        }
        for read in listed.items {
            if self
                .apply_effects(read, &page.effects, page.issued_at, now)
                .await?
            {
                outcome.lost_authorization += 1;
            }
        }
        info!(contract = %page.contract, change = %page.change, seen = outcome.seen, lost = outcome.lost_authorization, more = outcome.more, "fan-out page done");
        Ok(outcome)
    }

    /// The seat removes its own authorization of `kind`. Synced data stays.
    pub async fn deauthorize(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        kind: ConnectionKind,
        now: Timestamp,
    ) -> Result<Connection, Failure> {
        let read = self
            .stores
            .connections
            .get(contract, seat, kind)
            .await?
            .ok_or(Failure::NotFound("connection"))?;
        let effect = Effect::Deauthorize {
            kind,
            reason: DeauthorizationReason::SeatRequested,
        };
        self.apply_effects(read, &[effect], now, now).await?;
        self.stores
            .connections
            .get(contract, seat, kind)
            .await?
            .map(|v| v.value)
            .ok_or(Failure::NotFound("connection"))
    }

    /// Applies effects to one connection; when it loses its authorization, its push
    /// subscriptions are stopped and its grant revoked first (both harmless to repeat), so a
    /// failure half-way is finished by the retry. Returns whether it lost its authorization.
    async fn apply_effects(
        &self,
        read: Versioned<Connection>,
        effects: &[Effect],
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, Failure> {
        let connections = &self.stores.connections;
        let key = (
            read.value.contract_id.clone(),
            read.value.seat_id.clone(),
            read.value.kind,
        );
        let key = &key;
        // The first attempt uses what the caller read; a lost race reads again.
        let mut given = Some(read);
        retry_on_race("connection update", || {
            let given = given.take();
            async move {
                let read = match given {
                    Some(read) => read,
                    None => connections
                        .get(&key.0, &key.1, key.2)
                        .await?
                        .ok_or(Failure::NotFound("connection"))?,
                };
                let mut changed = read.value.clone();
                let mut lost = false;
                for effect in effects {
                    lost |= changed.apply(effect, issued_at, now);
                }
                if changed == read.value {
                    return Ok(Some(false));
                }
                if lost {
                    self.release(&read.value, issued_at).await?;
                }
                let written = connections.update(&read, &changed).await.raced()?;
                if written.is_some() {
                    info!(contract = %changed.contract_id, seat = %changed.seat_id, kind = changed.kind.as_str(), state = ?changed.state, "connection changed");
                }
                Ok(written.map(|_| lost))
            }
        })
        .await
    }

    /// Stops a connection's push subscriptions, revokes its grant (where the provider can
    /// revoke one grant), and deletes its stored token, unless the token belongs to an
    /// authorization newer than `issued_at`.
    async fn release(&self, conn: &Connection, issued_at: Timestamp) -> Result<(), Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let identity = self.providers.identity(conn.grant.provider);
        let token = self.stores.tokens.get(c, s, k).await?;
        let token = token.filter(|t| t.authorized_at <= issued_at);
        let refresh = match &token {
            Some(t) => Some(self.sealer.open(&t.sealed, &seal_context(c, s, k)).await?),
            None => None,
        };
        let access = match &refresh {
            Some(r) => match identity.refresh(r).await {
                Ok(tokens) => Some(tokens.access_token),
                // The grant is already gone: nothing at the provider to stop or revoke.
                Err(e) if e.is_invalid_grant() => None,
                Err(e) => return Err(Failure::internal("token refresh", e)),
            },
            None => None,
        };
        for sub in self.stores.subscriptions.for_connection(c, s, k).await? {
            if let Some(access) = &access {
                self.stop_at_provider(conn.grant.provider, &sub, access)
                    .await?;
            }
            self.stores.subscriptions.delete(&sub).await?;
        }
        if let Some(r) = &refresh {
            identity
                .revoke(r)
                .await
                .map_err(|e| Failure::internal("token revocation", e))?;
        }
        self.stores
            .tokens
            .delete_unless_newer(c, s, k, issued_at)
            .await?;
        Ok(())
    }
}
