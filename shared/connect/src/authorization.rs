//! A seat's OAuth sign-in: where to send it, and what to check when it comes back before
//! anything is stored.

use std::collections::BTreeSet;

use hiresync_domain::authorization::PendingAuthorization;
use hiresync_domain::capability::may_authorize;
use hiresync_domain::connect_error::{
    check_granted_scopes, judge_account, ConnectError, ProviderSignal, StaleReason,
};
use hiresync_domain::connection::{Connection, ConnectionKind, Grant, SyncStart};
use hiresync_domain::contract::{Contract, Provider};
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{retry_on_race, MailboxHolder, Raced, StoredToken, Tokens};
use hiresync_domain::scopes;
use hiresync_domain::seat::Seat;
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use tracing::info;

use crate::connector::{refused, seal_context, stale, Connector};
use crate::state::new_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    pub url: String,
    pub expires_at: Timestamp,
}

/// Who finishes a sign-in: the seat, its holder (the product's bearer token names both)
/// and the kind, as the completion route's path and token say. Only the same seat, user
/// and kind that started a sign-in can finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub contract: ContractId,
    pub seat: SeatId,
    pub user: UserId,
    pub kind: ConnectionKind,
}

impl SignIn {
    /// What a state is bound to (never sent anywhere: the MAC covers it).
    fn binding(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.contract,
            self.seat,
            self.user,
            self.kind.as_str()
        )
    }

    fn started(&self, pending: &PendingAuthorization) -> bool {
        pending.contract_id == self.contract
            && pending.seat_id == self.seat
            && pending.user_id == self.user
            && pending.kind == self.kind
    }
}

/// The provider's redirect back to the front end, as it arrived there.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub contract: ContractId,
    pub seat: SeatId,
    pub kind: ConnectionKind,
    pub address: EmailAddress,
    pub sync: SyncStart,
    /// A personal account, not one of an organization: its private conversations with
    /// candidates may sync too, which the product should tell the recruiter.
    pub personal: bool,
}

impl Connector {
    /// Starts a seat's authorization of `kind`: where to send the seat, and until when.
    pub async fn start_authorization(
        &self,
        contract_id: &ContractId,
        seat_id: &SeatId,
        user: &UserId,
        kind: ConnectionKind,
        login_hint: Option<&str>,
        now: Timestamp,
    ) -> Result<AuthorizationStart, Failure> {
        let contract = self.settings(contract_id).await?;
        let provider = may_authorize(&contract, kind)
            .map_err(|d| Failure::Refused(ConnectError::NotAllowed(d)))?;
        if self.stores.seats.get(contract_id, seat_id).await?.is_none() {
            let seat = Seat::new(seat_id.clone(), contract_id.clone(), Some(user.clone()));
            // A seat created meanwhile is as good as ours.
            self.stores.seats.create(&seat).await.raced()?;
        }
        let pending = PendingAuthorization::new(
            new_id(),
            contract_id.clone(),
            seat_id.clone(),
            user.clone(),
            kind,
            provider,
            contract.settings.email_access,
            now,
        );
        let wanted = scopes::requested_scopes(provider, kind, contract.settings.email_access);
        let holder = SignIn {
            contract: contract_id.clone(),
            seat: seat_id.clone(),
            user: user.clone(),
            kind,
        };
        let state = self.signer()?.sign(&pending.id, &holder.binding());
        let request = self
            .providers
            .identity(provider)
            .authorization_url(&state, &wanted, login_hint)
            .map_err(|e| Failure::internal("authorization URL", e))?;
        self.stores
            .authorizations
            .create(&pending, &request.verifier)
            .await?;
        info!(contract = %contract_id, seat = %seat_id, kind = kind.as_str(), provider = ?provider, "authorization started");
        Ok(AuthorizationStart {
            url: request.url,
            expires_at: pending.expires_at,
        })
    }

    /// Completes an authorization from the provider's redirect, for the seat and user that
    /// started it (`holder`; anyone else's state is refused without being consumed):
    /// redeems the code, checks the granted scopes and the mailbox or calendar behind the
    /// grant, and only then stores the connection, its sealed token and its push
    /// subscriptions.
    pub async fn complete_authorization(
        &self,
        holder: &SignIn,
        callback: &Callback,
        now: Timestamp,
    ) -> Result<Connected, Failure> {
        let signer = self.signer()?;
        let id = callback
            .state
            .as_deref()
            .and_then(|s| signer.verify(s, &holder.binding()))
            .ok_or(stale(StaleReason::Unrecognized))?;
        // The signature proves we issued it to this holder; if the store no longer has it,
        // it was used.
        let (pending, verifier) = self
            .stores
            .authorizations
            .take(id)
            .await?
            .ok_or(stale(StaleReason::AlreadyUsed))?;
        if !holder.started(&pending) {
            return Err(stale(StaleReason::Unrecognized));
        }
        if pending.is_expired(now) {
            return Err(stale(StaleReason::Expired));
        }
        let (provider, kind) = (pending.provider, pending.kind);
        if let Some(error) = &callback.error {
            return Err(refused(
                provider,
                kind,
                ProviderSignal::AuthorizeRedirect {
                    error: error.clone(),
                    description: callback.error_description.clone(),
                },
            ));
        }
        let code = callback
            .code
            .as_deref()
            .ok_or(stale(StaleReason::Unrecognized))?;

        // The admin may have changed the provider or turned the feature off meanwhile.
        let contract = self.settings(&pending.contract_id).await?;
        let now_provider = may_authorize(&contract, kind)
            .map_err(|d| Failure::Refused(ConnectError::NotAllowed(d)))?;
        if now_provider != provider {
            return Err(stale(StaleReason::SettingsChanged));
        }

        let tokens = self
            .providers
            .identity(provider)
            .redeem(code, &verifier)
            .await
            .map_err(|e| match e.signal.clone() {
                Some(signal) => refused(provider, kind, signal),
                None => Failure::internal("code redemption", e),
            })?;
        let refresh = tokens.refresh_token.clone().ok_or_else(|| {
            refused(
                provider,
                kind,
                ProviderSignal::ScopesNotGranted(vec!["offline_access".into()]),
            )
        })?;
        let (c, s) = (pending.contract_id.clone(), pending.seat_id.clone());
        // A refused grant is dropped, not revoked: Google keeps one grant per account and
        // application, so revoking it would also end the connection another seat (or this
        // one, before a re-consent) holds with the same account.
        let (grant, personal) = self
            .judge_grant(&c, &s, kind, &pending, &contract, &tokens)
            .await?;
        let address = grant.address.clone();
        let sync = self
            .store_connection(&c, &s, kind, grant, &pending.user_id, now)
            .await?;
        let sealed = self
            .sealer
            .seal(&refresh, &seal_context(&c, &s, kind))
            .await?;
        self.stores
            .tokens
            .put(
                &c,
                &s,
                kind,
                &StoredToken {
                    sealed,
                    authorized_at: now,
                },
            )
            .await?;
        self.subscribe_later(&c, &s, kind, provider, sync == SyncStart::Resume, now)
            .await?;
        self.queues
            .sync_jobs
            .sync_job(
                &SyncJob {
                    contract: c.clone(),
                    seat: s.clone(),
                    kind,
                    reason: match sync {
                        SyncStart::Historical => SyncReason::Historical,
                        SyncStart::Resume => SyncReason::Resume,
                    },
                    requested_at: now,
                },
                &format!("connect:{}", pending.id),
            )
            .await?;
        info!(contract = %c, seat = %s, kind = kind.as_str(), sync = ?sync, "connected");
        Ok(Connected {
            contract: c,
            seat: s,
            kind,
            address,
            sync,
            personal,
        })
    }

    /// Makes this seat the one connection of the account's `kind`: refused while another
    /// seat (of any contract) has it connected; a claim whose seat no longer has it
    /// connected (disconnected, or connected elsewhere since) is taken over.
    async fn claim_mailbox(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        provider: Provider,
        address: &EmailAddress,
    ) -> Result<(), Failure> {
        let claims = &self.stores.mailboxes;
        let me = MailboxHolder {
            contract: c.clone(),
            seat: s.clone(),
        };
        let me = &me;
        retry_on_race("mailbox claim", || async move {
            let holder = claims.holder(provider, kind, address).await?;
            if let Some(other) = &holder {
                if other == me {
                    return Ok(Some(()));
                }
                let theirs = self
                    .stores
                    .connections
                    .get(&other.contract, &other.seat, kind)
                    .await?
                    .is_some_and(|v| {
                        v.value.is_authorized()
                            && v.value.grant.provider == provider
                            && &v.value.grant.address == address
                    });
                if theirs {
                    info!(contract = %c, seat = %s, kind = kind.as_str(), "account already connected to another seat");
                    return Err(Failure::Refused(ConnectError::MailboxInUse { provider, kind }));
                }
            }
            Ok(claims
                .claim(provider, kind, address, holder.as_ref(), me)
                .await
                .raced()?)
        })
        .await
    }

    /// Everything checked of a redeemed grant before anything is stored: the scopes granted,
    /// the account (its organization against the contract's pin), the mailbox or calendar
    /// behind it, and that no other seat has that account connected. The grant to store,
    /// and whether its account is a personal one.
    async fn judge_grant(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        pending: &PendingAuthorization,
        contract: &Contract,
        tokens: &Tokens,
    ) -> Result<(Grant, bool), Failure> {
        let provider = pending.provider;
        let feature = scopes::feature_scopes(provider, kind, pending.email_access);
        let granted: BTreeSet<String> = tokens
            .granted_scopes
            .clone()
            .unwrap_or_else(|| feature.iter().map(|s| (*s).to_owned()).collect());
        check_granted_scopes(provider, kind, pending.email_access, &granted)
            .map_err(Failure::Refused)?;
        // Who signed in, before touching the mailbox: a personal account is allowed (with a
        // warning) unless the admin pinned the contract to its organizations.
        let account = judge_account(provider, tokens.account.as_ref(), &contract.organizations)
            .map_err(Failure::Refused)?;
        // The mailbox or calendar behind the grant; a provider error here is the seat's
        // mailbox problem (no mailbox, on-premises, inactive) and is classified precisely.
        let address = self
            .providers
            .accounts(provider)
            .address(&tokens.access_token, kind)
            .await
            .map_err(|e| match e.signal.clone() {
                Some(signal) => refused(provider, kind, signal),
                None => Failure::internal("mailbox address", e),
            })?;
        self.claim_mailbox(c, s, kind, provider, &address).await?;
        let personal = account.is_personal();
        Ok((
            Grant {
                provider,
                address,
                scopes: granted,
                organization: account.organization,
            },
            personal,
        ))
    }

    /// Stores the connection of a new grant: the seat's first of its kind, or a
    /// reauthorization of the one it had. Returns how its sync starts.
    async fn store_connection(
        &self,
        c: &ContractId,
        s: &SeatId,
        kind: ConnectionKind,
        grant: Grant,
        user: &UserId,
        now: Timestamp,
    ) -> Result<SyncStart, Failure> {
        let connections = &self.stores.connections;
        let grant = &grant;
        retry_on_race("connection", || async move {
            match connections.get(c, s, kind).await? {
                None => {
                    let first = Connection::first(c.clone(), s.clone(), kind, grant.clone(), now)
                        .by(user.clone());
                    let created = connections.create(&first).await.raced()?;
                    Ok(created.map(|_| SyncStart::Historical))
                }
                Some(read) => {
                    let mut conn = read.value.clone();
                    let start = conn.reauthorize_by(grant.clone(), user.clone(), now);
                    let written = connections.update(&read, &conn).await.raced()?;
                    Ok(written.map(|_| start))
                }
            }
        })
        .await
    }
}
