//! The routes of a seat's connections: list them, start a sign-in, finish it (with the
//! holder's own token), report a sign-in page the browser cannot reach, disconnect.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hiresync_connect::{Callback, Failure, SignIn};
use hiresync_domain::capability::{capabilities, may_authorize};
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use serde::Deserialize;
use serde_json::json;
use tracing::{info_span, Instrument};

use crate::errors::ApiResult;
use crate::{kind_of, seat_scope, ApiError, App};

pub(crate) async fn list_connections(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, true)?;
    let (contract_id, seat_id) = (scope.contract, scope.seat);
    let c = app.connector.settings(&contract_id).await?;
    let conns = app
        .connector
        .stores
        .connections
        .list_for_seat(&contract_id, &seat_id)
        .await
        .map_err(Failure::from)?;
    let find = |k| conns.iter().find(|v| v.value.kind == k).map(|v| &v.value);
    let caps = capabilities(
        &c,
        find(ConnectionKind::Email),
        find(ConnectionKind::Calendar),
    );
    let ability = |r: &Result<(), hiresync_domain::capability::Denial>| match r {
        Ok(()) => json!({ "allowed": true }),
        Err(d) => json!({ "allowed": false, "reason": d.to_string() }),
    };
    let mut statuses = std::collections::HashMap::new();
    for v in &conns {
        let status = app
            .connector
            .stores
            .sync_status
            .get(&contract_id, &seat_id, v.value.kind)
            .await
            .map_err(Failure::from)?;
        statuses.insert(v.value.kind, status);
    }
    let connections: Vec<_> = conns
        .iter()
        .map(|v| {
            let c = &v.value;
            let (state, reason) = match c.state {
                ConnectionState::Authorized => ("authorized", None),
                ConnectionState::Deauthorized { reason } => ("deauthorized", Some(json!(reason))),
                ConnectionState::NeedsReconnect { reason } => {
                    ("needs_reconnect", Some(json!(reason)))
                }
            };
            json!({
                "kind": c.kind.as_str(),
                "state": state,
                "reason": reason,
                "provider": c.grant.provider,
                "address": c.grant.address.as_str(),
                "organization": c.grant.organization,
                "first_authorized_at": c.first_authorized_at,
                "last_authorized_at": c.last_authorized_at,
                "deauthorized_at": c.deauthorized_at,
                "sync": statuses.get(&c.kind).cloned().flatten(),
            })
        })
        .collect();
    Ok(Json(json!({
        "connections": connections,
        "capabilities": {
            "view_email": ability(&caps.view_email),
            "send_email": ability(&caps.send_email),
            "calendar": ability(&caps.calendar),
        }
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthorizeRequest {
    login_hint: Option<String>,
}

pub(crate) async fn authorize(
    State(app): State<Arc<App>>,
    Path((contract, seat, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Option<Json<AuthorizeRequest>>,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let (now, contract_id, seat_id) = (scope.now, scope.contract, scope.seat);
    let kind = kind_of(&kind)?;
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let start = app
        .connector
        .start_authorization(
            &contract_id,
            &seat_id,
            &scope.caller.user,
            kind,
            request.login_hint.as_deref(),
            now,
        )
        .instrument(info_span!("authorize", contract = %contract_id, seat = %seat_id))
        .await?;
    Ok(Json(
        json!({ "authorization_url": start.url, "expires_at": start.expires_at }),
    ))
}

/// The front end reports that the seat's browser could not reach the provider's sign-in
/// page (the callback never comes then). The answer is the error table's row for it, with
/// what the admin can do, for the provider the contract uses.
pub(crate) async fn sign_in_unreachable(
    State(app): State<Arc<App>>,
    Path((contract, seat, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let (contract_id, seat_id) = (scope.contract, scope.seat);
    let kind = kind_of(&kind)?;
    let c = app.connector.settings(&contract_id).await?;
    let provider = may_authorize(&c, kind)
        .map_err(|denial| Failure::Refused(ConnectError::NotAllowed(denial)))?;
    tracing::warn!(contract = %contract_id, seat = %seat_id, kind = kind.as_str(), provider = ?provider, "the seat's browser could not reach the provider's sign-in");
    Err(Failure::Refused(ConnectError::NetworkBlocked { provider }).into())
}

/// What the provider's redirect brought to the front end, passed on as it came.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteRequest {
    state: String,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The front end finishes a sign-in with the seat holder's token: only the seat and user
/// that started it can.
pub(crate) async fn complete(
    State(app): State<Arc<App>>,
    Path((contract, seat, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<CompleteRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let kind = kind_of(&kind)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let holder = SignIn {
        contract: scope.contract,
        seat: scope.seat,
        user: scope.caller.user,
        kind,
    };
    let connected = app
        .connector
        .complete_authorization(
            &holder,
            &Callback {
                state: Some(request.state),
                code: request.code,
                error: request.error,
                error_description: request.error_description,
            },
            scope.now,
        )
        .instrument(info_span!("complete", contract = %holder.contract, seat = %holder.seat))
        .await?;
    Ok(Json(json!({
        "contract": connected.contract.as_str(),
        "seat": connected.seat.as_str(),
        "kind": connected.kind.as_str(),
        "address": connected.address.as_str(),
        "sync": connected.sync,
        "warnings": if connected.personal {
            json!([{
                "code": "personal_account",
                "message": "This is a personal account, not one of an organization: \
                            conversations with candidates in it sync like work mail does, \
                            so private ones may appear in the product (kept private to you).",
            }])
        } else {
            json!([])
        },
    })))
}

pub(crate) async fn deauthorize(
    State(app): State<Arc<App>>,
    Path((contract, seat, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let (now, contract_id, seat_id) = (scope.now, scope.contract, scope.seat);
    let kind = kind_of(&kind)?;
    app.connector
        .deauthorize(&contract_id, &seat_id, kind, now)
        .instrument(info_span!("deauthorize", contract = %contract_id, seat = %seat_id))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
