//! What failed and why, in the shape CloudWatch and Lambda show it: a stable error type name
//! (Lambda's `errorType`) and the message with every cause under it.
//!
//! Each error a function can end with names its type once, here or beside it, through
//! [`ErrorType`]; the edge (the SQS batch helper, a handler returning an error, `main` at
//! cold start) logs it with [`Chain`] and turns it into a [`Diagnostic`].

use std::error::Error;

use hiresync_domain::failure::Failure;
use lambda_runtime::Diagnostic;

use crate::config::ConfigError;
use crate::telemetry::Chain;

/// A stable name for what kind of failure this is, e.g. `Internal:storage`,
/// `Refused:need_admin_approval`, `Malformed:candidate.upserted`.
pub trait ErrorType {
    fn error_type(&self) -> String;
}

impl ErrorType for Failure {
    fn error_type(&self) -> String {
        let kind = match self {
            Failure::Refused(_) => "Refused",
            Failure::NotFound(_) => "NotFound",
            Failure::Invalid(_) => "Invalid",
            Failure::Internal { .. } => "Internal",
        };
        format!("{kind}:{}", self.code())
    }
}

impl ErrorType for crate::secrets::SecretsError {
    fn error_type(&self) -> String {
        "Configuration".to_owned()
    }
}

impl ErrorType for ConfigError {
    fn error_type(&self) -> String {
        "Configuration".to_owned()
    }
}

/// The Lambda diagnostic of `error`: its stable type and its whole cause chain.
pub fn diagnostic<E: ErrorType + Error + 'static>(error: &E) -> Diagnostic {
    Diagnostic {
        error_type: error.error_type(),
        error_message: Chain(error).to_string(),
    }
}

/// A function that cannot start: logged once with its type and causes, then handed to
/// Lambda, which reports the failed initialisation.
pub fn cold_start_failed<E: ErrorType + Error + Send + Sync + 'static>(
    error: E,
) -> lambda_runtime::Error {
    tracing::error!(error_type = %error.error_type(), error = %Chain(&error), "the function cannot start");
    Box::new(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_failure_reports_its_context_and_every_cause() {
        let failure = Failure::internal(
            "storage",
            std::io::Error::other("ProvisionedThroughputExceededException"),
        );
        let d = diagnostic(&failure);
        assert_eq!(d.error_type, "Internal:storage");
        assert_eq!(
            d.error_message,
            "storage failed: ProvisionedThroughputExceededException"
        );
    }

    #[test]
    fn a_missing_variable_is_a_configuration_failure_naming_it() {
        let e = ConfigError {
            missing: vec!["TENANCY_TABLE".into()],
            invalid: vec![],
        };
        let d = diagnostic(&e);
        assert_eq!(d.error_type, "Configuration");
        assert!(d.error_message.contains("TENANCY_TABLE"));
    }
}
