//! Errors in logs with every cause under them.
//!
//! The same one-line form as `hiresync_runtime::telemetry::Chain`, written here so the use
//! case does not depend on the runtime crate (and through it on the AWS SDK).

use std::error::Error;
use std::fmt;

/// An error and every cause under it: `a: b: c`. Log errors through it
/// (`error = %Chain(&e)`), so the storage or provider cause reaches the log.
pub(crate) struct Chain<'a>(pub &'a (dyn Error + 'static));

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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("storage failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_cause_is_named() {
        let e = Outer(std::io::Error::other("throttled"));
        assert_eq!(Chain(&e).to_string(), "storage failed: throttled");
    }
}
