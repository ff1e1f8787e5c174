//! The API's one error type: every failure a handler meets becomes a status and a stable
//! `{code, message, admin_action?}` body here, and nowhere else. Internal causes are logged
//! here, once, with their whole chain, and never returned.
//!
//! # Statuses
//!
//! A refusal's status comes from the domain's [`ErrorClass`] through [`status_of`]:
//!
//! | status | class | errors |
//! |---|---|---|
//! | 400 | [`StartAgain`](ErrorClass::StartAgain) | the authorization request is stale: expired, already used, unknown, settings changed |
//! | 403 | [`NeedsPermission`](ErrorClass::NeedsPermission) | permission or policy: admin approval, assignment, app version, scopes, declined consent, sign-in policy, and what the contract does not allow |
//! | 409 | [`WrongAccount`](ErrorClass::WrongAccount) | the account is not one of the selected provider's organization accounts |
//! | 422 | [`MailboxProblem`](ErrorClass::MailboxProblem) | the address cannot be connected: no mailbox, an unusable or on-premises mailbox, no calendar |
//! | 500 | [`OurConfiguration`](ErrorClass::OurConfiguration) | our own OAuth configuration was refused (the message stays generic) |
//! | 502 | [`ProviderRefused`](ErrorClass::ProviderRefused) | the recruiter's network could not reach the provider; the provider refused with a code we do not know |
//! | 503 | [`ProviderUnavailable`](ErrorClass::ProviderUnavailable) | the provider is temporarily unavailable |
//!
//! Besides refusals: 401 for a missing, invalid or expired token, 400 for malformed input,
//! 403 for a token that does not cover the contract or seat, 404 for what does not exist,
//! and 500 (`internal`) for anything failing on our side.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hiresync_connect::Failure;
use hiresync_domain::connect_error::{ConnectError, ErrorClass};
use hiresync_runtime::telemetry::Chain;
use serde_json::json;
use tracing::error;

use crate::auth::AuthError;

/// An API error: the stable body and its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "code": code, "message": message.into() }),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your token does not allow this on that contract or seat",
        )
    }

    /// A refusal of the troubleshooting table: its code and message, and what to ask of an
    /// administrator when one can fix it.
    fn refused(e: &ConnectError) -> Self {
        let mut refusal = Self::new(status_of(e.class()), e.code(), e.message());
        if let Some(action) = e.admin_action() {
            refusal.body["admin_action"] = json!(action);
        }
        refusal
    }
}

/// The HTTP status of each class of connect error: the API's only table of them.
fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::StartAgain => StatusCode::BAD_REQUEST,
        ErrorClass::NeedsPermission => StatusCode::FORBIDDEN,
        ErrorClass::WrongAccount => StatusCode::CONFLICT,
        ErrorClass::MailboxProblem => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::OurConfiguration => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorClass::ProviderRefused => StatusCode::BAD_GATEWAY,
        ErrorClass::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match e {
            AuthError::Missing => "unauthenticated",
            AuthError::Invalid => "invalid_token",
            AuthError::Expired => "token_expired",
        };
        Self::new(StatusCode::UNAUTHORIZED, code, e.to_string())
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(e) => Self::refused(&e),
            Failure::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            Failure::Invalid(why) => Self::bad_request(why),
            internal @ Failure::Internal { .. } => {
                error!(error = %Chain(&internal), "request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something failed on our side; try again shortly",
                )
            }
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
