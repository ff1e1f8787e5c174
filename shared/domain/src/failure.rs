//! Why a use case did not do what was asked, in three kinds an edge maps once: refused
//! (the seat or admin can act on it), not found, or internal (ours or the platform's, with
//! its cause kept for the log).

use std::error::Error;
use std::fmt;

use crate::connect_error::ConnectError;
use crate::ports::{BoxError, SealError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The seat or admin can act on it: the precise error of the troubleshooting table.
    #[error("{}", .0.code())]
    Refused(ConnectError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// What was asked for is not valid (the message says why); nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// Ours or the platform's: storage, queues, the key service, a provider failing after
    /// retries. `context` says what was being done; `source` keeps the cause chain.
    #[error("{context} failed")]
    Internal {
        context: &'static str,
        #[source]
        source: BoxError,
    },
}

/// A provider asked to be left alone for `retry_after`: the job that met it waits that
/// long before its next attempt, rather than failing at once again.
#[derive(Debug, thiserror::Error)]
#[error("the provider asked to wait {retry_after:?}")]
pub struct Throttled {
    pub retry_after: std::time::Duration,
    #[source]
    pub source: BoxError,
}

impl Failure {
    /// How long to wait before trying again, when a provider asked for it somewhere in the
    /// cause chain.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(self);
        while let Some(e) = cause {
            if let Some(t) = e.downcast_ref::<Throttled>() {
                return Some(t.retry_after);
            }
            cause = e.source();
        }
        None
    }

    pub fn internal(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Failure::Internal {
            context,
            source: Box::new(source),
        }
    }

    /// An internal failure that is no error of anything else: a loop that gave up.
    pub fn gave_up(context: &'static str, why: &'static str) -> Self {
        Failure::internal(context, std::io::Error::other(why))
    }

    /// A short, stable name of what failed, for a status record or an error type:
    /// the refusal's code, what was not found, or the internal context.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Refused(e) => e.code(),
            Failure::NotFound(what) => what,
            Failure::Invalid(_) => "invalid",
            Failure::Internal { context, .. } => context,
        }
    }
}

/// An error and every cause under it, as one line: `a: b: c`. Errors are logged through it
/// (`error = %Chain(&e)`), so the storage, queue, key service or provider cause reaches the
/// log instead of only the outermost context.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::internal("storage", e)
    }
}

impl From<SealError> for Failure {
    fn from(e: SealError) -> Self {
        Failure::internal("token vault", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_names_every_cause() {
        let failure = Failure::internal(
            "storage",
            std::io::Error::other("ProvisionedThroughputExceeded"),
        );
        assert_eq!(
            Chain(&failure).to_string(),
            "storage failed: ProvisionedThroughputExceeded"
        );
    }
}
