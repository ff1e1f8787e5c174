//! The API's one error type: every failure a handler meets becomes a status and a stable
//! `{code, message, admin_action?}` body here, and nowhere else.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hiresync_connect::Failure;
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
            Failure::Refused(e) => {
                let mut body = json!({ "code": e.code(), "message": e.message() });
                if let Some(action) = e.admin_action() {
                    body["admin_action"] = json!(action);
                }
                Self {
                    status: StatusCode::from_u16(e.http_status())
                        .unwrap_or(StatusCode::BAD_REQUEST),
                    body,
                }
            }
            Failure::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            internal @ Failure::Internal { .. } => {
                error!(error = ?internal, "request failed");
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
