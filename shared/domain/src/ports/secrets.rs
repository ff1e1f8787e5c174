//! Sealing refresh tokens before they are stored, and opening them to use them.

use async_trait::async_trait;
use secrecy::SecretString;
use thiserror::Error;

use crate::sealed::Sealed;

use super::BoxError;

/// Which connection a token belongs to, as `(name, value)` pairs: bound into every seal,
/// so a sealed token copied onto another connection cannot be opened there.
pub type SealContext<'a> = &'a [(&'a str, &'a str)];

#[derive(Debug, Error)]
pub enum SealError {
    /// The key service failed or could not be reached; `operation` names the call.
    #[error("{operation} failed")]
    Backend {
        operation: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("the key service returned no {0}")]
    Incomplete(&'static str),
    /// The ciphertext, nonce or context does not match: tampered, or opened for another
    /// connection than it was sealed for.
    #[error("sealed token cannot be opened with this context")]
    Integrity,
}

#[async_trait]
pub trait TokenSealer: Send + Sync {
    async fn seal(
        &self,
        secret: &SecretString,
        context: SealContext<'_>,
    ) -> Result<Sealed, SealError>;
    async fn open(
        &self,
        sealed: &Sealed,
        context: SealContext<'_>,
    ) -> Result<SecretString, SealError>;
}
