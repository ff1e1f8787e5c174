//! The contract's Zoom connection, an admin's to make, see and remove. Zoom redirects the
//! admin's browser to the product's front end, which finishes with the same admin's token
//! (`.../zoom/complete`).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hiresync_domain::zoom::{ZoomAccount, ZoomState};
use hiresync_scheduling::zoom::{ZoomCallback, ZoomError};
use serde::Deserialize;
use serde_json::json;
use tracing::{error, info_span, Instrument};

use crate::errors::ApiResult;
use crate::{admin_caller, admin_of, ApiError, App};

impl From<ZoomError> for ApiError {
    fn from(e: ZoomError) -> Self {
        let e = match e {
            ZoomError::Failed(f) => return f.into(),
            other => other,
        };
        let (status, code) = match &e {
            ZoomError::ContractInactive => (StatusCode::CONFLICT, "contract_inactive"),
            ZoomError::SignInStale => (StatusCode::BAD_REQUEST, "zoom_sign_in_expired"),
            ZoomError::Declined(_) => (StatusCode::FORBIDDEN, "zoom_consent_declined"),
            ZoomError::Refused(_) => (StatusCode::BAD_GATEWAY, "zoom_refused"),
            ZoomError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "zoom_unavailable"),
            ZoomError::Misconfigured(cause) => {
                error!(error = %hiresync_runtime::telemetry::Chain(cause), "Zoom refused our application");
                (StatusCode::INTERNAL_SERVER_ERROR, "zoom_misconfigured")
            }
            ZoomError::Failed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// The connection as the admin sees it (never a token).
fn account_body(account: Option<&ZoomAccount>) -> serde_json::Value {
    let Some(a) = account else {
        return json!({ "state": "not_connected" });
    };
    json!({
        "state": match a.state {
            ZoomState::Connected => "connected",
            ZoomState::NeedsReconnect => "needs_reconnect",
        },
        "account_id": a.account_id,
        "authorized_as": a.authorized_as.as_str(),
        "connected_by": a.connected_by.as_str(),
        "connected_at": a.connected_at,
        "refused_at": a.refused_at,
    })
}

pub(crate) async fn get_zoom(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, id) = admin_of(&app, &headers, &contract)?;
    let account = app.zoom.account(&id).await?;
    Ok(Json(account_body(account.as_ref())))
}

pub(crate) async fn authorize_zoom(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let (now, who, id) = admin_caller(&app, &headers, &contract)?;
    let start = app
        .zoom
        .start(&id, &who.user, now)
        .instrument(info_span!("zoom_authorize", contract = %id))
        .await?;
    Ok(Json(
        json!({ "authorization_url": start.url, "expires_at": start.expires_at }),
    ))
}

/// Zoom's redirect, passed on as it came.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ZoomCompleteRequest {
    state: String,
    code: Option<String>,
    error: Option<String>,
    /// Zoom may describe its error; only the error's code is kept.
    #[serde(default, rename = "error_description")]
    _error_description: Option<String>,
}

pub(crate) async fn complete_zoom(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
    body: Result<Json<ZoomCompleteRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (now, who, id) = admin_caller(&app, &headers, &contract)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let account = app
        .zoom
        .complete(
            &id,
            &who.user,
            &ZoomCallback {
                state: request.state,
                code: request.code,
                error: request.error,
            },
            now,
        )
        .instrument(info_span!("zoom_complete", contract = %id))
        .await?;
    Ok(Json(account_body(Some(&account))))
}

pub(crate) async fn remove_zoom(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (_, id) = admin_of(&app, &headers, &contract)?;
    app.zoom
        .remove(&id)
        .instrument(info_span!("zoom_remove", contract = %id))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
