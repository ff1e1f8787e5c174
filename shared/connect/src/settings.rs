//! An admin's settings, and carrying a change to every connection of the contract a page at
//! a time; a seat's own disconnect goes the same way.

use std::collections::BTreeSet;

use hiresync_domain::access::{DeauthorizationReason, Effect};
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::{Contract, OrganizationsError, SettingsUpdate};
use hiresync_domain::failure::Chain;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{retry_on_race, MailboxHolder, PageToken, Raced, Versioned};
use hiresync_domain::retirement::Retirement;
use hiresync_domain::Timestamp;
use hiresync_messages::FanOutPage;
use tracing::{info, warn};

use crate::connector::Connector;

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
        self.change_contract(id, now, |contract| {
            contract
                .change_settings(update)
                .map_err(|_| Failure::Refused(ConnectError::NotAllowed(Denial::ContractSuspended)))
        })
        .await
    }

    /// Pins the contract to `organizations` (empty: unpins it): only accounts of them may
    /// connect from now on, and the connections of other accounts lose their authorization
    /// through the fan-out. A list that is not one of organizations is refused whole.
    pub async fn pin_organizations(
        &self,
        id: &ContractId,
        organizations: &[String],
        now: Timestamp,
    ) -> Result<SettingsChange, Failure> {
        self.change_contract(id, now, |contract| {
            contract
                .pin_organizations(organizations)
                .map_err(|e| match e {
                    OrganizationsError::Suspended(_) => {
                        Failure::Refused(ConnectError::NotAllowed(Denial::ContractSuspended))
                    }
                    invalid => Failure::Invalid(invalid.to_string()),
                })
        })
        .await
    }

    /// The contract as stored, or created with the defaults if the store has never seen it;
    /// `None` when another writer created it at the same moment (read it again).
    pub(crate) async fn contract_or_new(
        &self,
        id: &ContractId,
    ) -> Result<Option<Versioned<Contract>>, Failure> {
        let contracts = &self.stores.contracts;
        Ok(match contracts.get(id).await? {
            Some(read) => Some(read),
            None => contracts.create(&Contract::new(id.clone())).await.raced()?,
        })
    }

    /// One admin change of the contract (created with the defaults if new), written on the
    /// version read, and the fan-out of its effects started when they reach connections.
    async fn change_contract(
        &self,
        id: &ContractId,
        now: Timestamp,
        change: impl Fn(&mut Contract) -> Result<Vec<Effect>, Failure>,
    ) -> Result<SettingsChange, Failure> {
        let contracts = &self.stores.contracts;
        let change = &change;
        let (contract, effects, version) = retry_on_race("settings", || async move {
            let Some(read) = self.contract_or_new(id).await? else {
                return Ok(None);
            };
            let mut contract = read.value.clone();
            let effects = change(&mut contract)?;
            let written = contracts.update(&read, &contract).await.raced()?;
            Ok(written.map(|w| (contract, effects, w.version)))
        })
        .await?;
        let reaches_connections = effects.iter().any(|e| {
            matches!(
                e,
                Effect::Deauthorize { .. }
                    | Effect::RequireReconnect { .. }
                    | Effect::EnforceOrganizations
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
        // Organizations are enforced as the contract pins them now: a later change that
        // widened the list again lets those accounts stay.
        let pinned = if page.effects.contains(&Effect::EnforceOrganizations) {
            self.settings(&page.contract).await?.organizations
        } else {
            BTreeSet::new()
        };
        for read in listed.items {
            if self
                .apply_effects(read, &page.effects, &pinned, page.issued_at, now)
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
        self.apply_effects(read, &[effect], &BTreeSet::new(), now, now)
            .await?;
        self.stores
            .connections
            .get(contract, seat, kind)
            .await?
            .map(|v| v.value)
            .ok_or(Failure::NotFound("connection"))
    }

    /// Applies effects to one connection. When it loses its authorization, that is local
    /// and one step: its new state, its token and its subscription records change together
    /// ([`RetirementStore::retire`]), and what is left to do at the provider is kept as a
    /// retirement that the renewal job works through ([`Connector::retire_due`]), so a
    /// provider that fails never holds the deauthorization up. Returns whether it lost
    /// its authorization.
    ///
    /// [`RetirementStore::retire`]: hiresync_domain::ports::RetirementStore::retire
    pub(crate) async fn apply_effects(
        &self,
        read: Versioned<Connection>,
        effects: &[Effect],
        pinned: &BTreeSet<String>,
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
                    lost |= match effect {
                        Effect::EnforceOrganizations => {
                            changed.enforce_organizations(pinned, issued_at, now)
                        }
                        other => changed.apply(other, issued_at, now),
                    };
                }
                if changed == read.value {
                    return Ok(Some(false));
                }
                let written = if lost {
                    let retirement = self.retirement(&read, issued_at, now).await?;
                    let written = self
                        .stores
                        .retirements
                        .retire(&read, &changed, &retirement)
                        .await
                        .raced()?;
                    if written.is_some() {
                        self.release_mailbox(&changed).await;
                    }
                    written
                } else {
                    connections.update(&read, &changed).await.raced()?
                };
                if written.is_some() {
                    info!(contract = %changed.contract_id, seat = %changed.seat_id, kind = changed.kind.as_str(), state = ?changed.state, "connection changed");
                }
                Ok(written.map(|_| lost))
            }
        })
        .await
    }

    /// Lets another seat connect the account now. Best effort: a claim left behind is taken
    /// over by the next seat to connect the account, since this one no longer holds it.
    pub(crate) async fn release_mailbox(&self, conn: &Connection) {
        let holder = MailboxHolder {
            contract: conn.contract_id.clone(),
            seat: conn.seat_id.clone(),
        };
        if let Err(e) = self
            .stores
            .mailboxes
            .release(conn.grant.provider, conn.kind, &conn.grant.address, &holder)
            .await
        {
            warn!(contract = %conn.contract_id, seat = %conn.seat_id, error = %Chain(&e), "mailbox claim not released; the next seat to connect the account takes it over");
        }
    }

    /// What a connection that is losing its authorization leaves for its provider: its
    /// token (unless it belongs to an authorization newer than `issued_at`) and its push
    /// subscriptions.
    async fn retirement(
        &self,
        read: &Versioned<Connection>,
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<Retirement, Failure> {
        let conn = &read.value;
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let token = self.stores.tokens.get(c, s, k).await?;
        Ok(Retirement {
            contract_id: c.clone(),
            seat_id: s.clone(),
            kind: k,
            provider: conn.grant.provider,
            address: conn.grant.address.clone(),
            version: read.version + 1,
            token: token.filter(|t| t.authorized_at <= issued_at),
            subscriptions: self.stores.subscriptions.for_connection(c, s, k).await?,
            retired_at: now,
            failures: 0,
        })
    }
}
