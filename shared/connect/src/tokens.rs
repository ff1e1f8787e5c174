//! A usable access token for a connection, from its sealed refresh token: the rotated
//! refresh token is kept, and a refused grant turns the connection to "needs reconnect".

use hiresync_domain::access::ReconnectReason;
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::Connection;
use hiresync_domain::failure::Failure;
use hiresync_domain::ports::{retry_on_race, AccessTokens, Raced, StoredToken};
use hiresync_domain::Timestamp;
use hiresync_messages::Notice;
use secrecy::{ExposeSecret, SecretString};
use tracing::{info, warn};

use crate::connector::{seal_context, Connector};

impl Connector {
    /// A usable access token for a connection, refreshing with the stored refresh token and
    /// keeping the rotated one. A refused grant marks the connection as needing reconnection
    /// and tells the seat.
    pub async fn access_token(
        &self,
        conn: &Connection,
        now: Timestamp,
    ) -> Result<SecretString, Failure> {
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let stored = self
            .stores
            .tokens
            .get(c, s, k)
            .await?
            .ok_or(Failure::Refused(ConnectError::NotAllowed(
                Denial::NotAuthorized { kind: k },
            )))?;
        let refresh = self
            .sealer
            .open(&stored.sealed, &seal_context(c, s, k))
            .await?;
        match self
            .providers
            .identity(conn.grant.provider)
            .refresh(&refresh)
            .await
        {
            Ok(tokens) => {
                if let Some(rotated) = &tokens.refresh_token {
                    if rotated.expose_secret() != refresh.expose_secret() {
                        let sealed = self.sealer.seal(rotated, &seal_context(c, s, k)).await?;
                        let token = StoredToken {
                            sealed,
                            authorized_at: stored.authorized_at,
                        };
                        // Only onto the authorization it came from: a deauthorization
                        // or a newer grant written meanwhile stands.
                        if !self.stores.tokens.rotate(c, s, k, &token).await? {
                            info!(contract = %c, seat = %s, kind = k.as_str(), "rotated refresh token dropped: its authorization is no longer the stored one");
                        }
                    }
                }
                Ok(tokens.access_token)
            }
            Err(e) if e.is_invalid_grant() => {
                self.grant_revoked(conn, now).await?;
                Err(Failure::Refused(ConnectError::NotAllowed(
                    Denial::NeedsReconnect { kind: k },
                )))
            }
            Err(e) => Err(Failure::internal("token refresh", e)),
        }
    }

    /// The provider refused the grant: the connection needs a new authorization, and the
    /// seat is told once, by whoever marked it.
    async fn grant_revoked(&self, conn: &Connection, now: Timestamp) -> Result<(), Failure> {
        let reason = ReconnectReason::GrantRevoked;
        let connections = &self.stores.connections;
        let (c, s, k) = (&conn.contract_id, &conn.seat_id, conn.kind);
        let marked = retry_on_race("connection update", || async {
            let Some(read) = connections.get(c, s, k).await? else {
                return Ok(Some(false));
            };
            let mut changed = read.value.clone();
            if !changed.require_reconnect(reason, now) {
                return Ok(Some(false));
            }
            let written = connections.update(&read, &changed).await.raced()?;
            Ok(written.map(|_| true))
        })
        .await?;
        if marked {
            self.queues
                .notices
                .notice(&Notice::ReauthorizationNeeded {
                    contract: c.clone(),
                    seat: s.clone(),
                    kind: k,
                    reason,
                    at: now,
                })
                .await?;
            warn!(contract = %c, seat = %s, kind = k.as_str(), "grant refused by the provider; seat must reconnect");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl AccessTokens for Connector {
    async fn access_token(
        &self,
        conn: &Connection,
        now: Timestamp,
    ) -> Result<SecretString, Failure> {
        Connector::access_token(self, conn, now).await
    }
}
