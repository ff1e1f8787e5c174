//! A usable access token for a connection: what every use case that calls a provider on a
//! seat's behalf needs first.

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;

use crate::connection::Connection;
use crate::failure::Failure;

#[async_trait]
pub trait AccessTokens: Send + Sync {
    /// A usable access token for `conn`, refreshed from its stored grant. When the provider
    /// refuses the grant, the connection is marked as needing reconnection, the seat is told,
    /// and the answer is [`Failure::Refused`]: nothing more can be done for it.
    async fn access_token(
        &self,
        conn: &Connection,
        now: Timestamp,
    ) -> Result<SecretString, Failure>;
}
