//! The JSON routes' one error type: every failure becomes a status and a stable
//! `{code, message}` body here, and nowhere else. Internal causes are logged here, once,
//! with their whole chain, and never returned. (The candidate's pages have their own
//! answers, in `pages`.)
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `bad_request` | malformed input |
//! | 401 | `unauthenticated`, `invalid_token`, `token_expired` | the bearer token |
//! | 403 | `forbidden` | the token does not cover the contract or seat; the seat is not the caller's |
//! | 404 | `not_found` | no such contract, seat or settings |
//! | 409 | `calendar_not_authorized`, `calendar_off`, `scheduler_not_set_up` | the seat or contract is not ready for what was asked |
//! | 422 | `invalid_settings` | settings the recruiter must correct (the message says which) |
//! | 503 | `calendar_unreadable` | the calendar could not be read: no time is known to be free |
//! | 500 | `internal` | anything failing on our side |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hiresync_domain::failure::Failure;
use hiresync_runtime::telemetry::Chain;
use hiresync_scheduling::ScheduleError;
use hiresync_wiring::auth::AuthError;
use serde_json::json;
use tracing::error;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
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

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
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

pub(crate) fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
    error!(error = %Chain(cause), "request failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something failed on our side; try again shortly",
    )
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        let message = e.to_string();
        match e {
            ScheduleError::Settings(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_settings", message)
            }
            ScheduleError::CalendarNotAuthorized => {
                Self::new(StatusCode::CONFLICT, "calendar_not_authorized", message)
            }
            ScheduleError::CalendarOff => Self::new(StatusCode::CONFLICT, "calendar_off", message),
            ScheduleError::NotSetUp => {
                Self::new(StatusCode::CONFLICT, "scheduler_not_set_up", message)
            }
            ScheduleError::Video => Self::new(
                StatusCode::CONFLICT,
                "video_unavailable",
                "video meetings are not activated for the contract: choose phone, or ask your Recruiter admin",
            ),
            ScheduleError::NoHolder => Self::forbidden(),
            ScheduleError::Link(_) | ScheduleError::TimeUnavailable => {
                Self::new(StatusCode::CONFLICT, "not_bookable", message)
            }
            ScheduleError::CalendarUnknown => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "calendar_unreadable", message)
            }
            ScheduleError::Invalid(why) => Self::bad_request(why),
            ScheduleError::Failure(Failure::NotFound(what)) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            ScheduleError::Failure(Failure::Invalid(why)) => Self::bad_request(why),
            ScheduleError::Failure(other) => internal(&other),
        }
    }
}
