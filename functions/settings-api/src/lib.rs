//! The settings API: admin settings, and each seat's connect / complete / disconnect.
//!
//! Every route needs a bearer token, and checks that the caller's contract and seat own
//! what is asked for. The providers redirect a seat's browser to the product's front end,
//! which finishes the sign-in with the seat holder's own token (`.../complete`): a consent
//! link sent to someone else connects nothing. Errors are `{code, message}` (plus `admin_action` where an admin can
//! fix it) with a status that fits; internal causes are logged, never returned.

pub use hiresync_wiring::auth;
mod build;
mod config;
mod connections;
mod errors;
mod mail;
mod zoom;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use hiresync_connect::{Connector, Failure, SettingsChange};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::{Contract, EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{Conversations, MailReader, SkipLog};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{info_span, Instrument};

use crate::auth::{Authenticator, Caller, Role};
pub use crate::build::build;
pub use crate::config::Config;
pub use crate::errors::ApiError;
use crate::errors::ApiResult;
pub use crate::mail::PAGE_BUDGET_BYTES;
pub use hiresync_wiring::BuildError;

/// Every route, as `(method, path)`; the OpenAPI document must list exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/contracts/{contract}/settings"),
    ("PUT", "/v1/contracts/{contract}/settings"),
    ("GET", "/v1/contracts/{contract}/seats/{seat}/connections"),
    (
        "POST",
        "/v1/contracts/{contract}/seats/{seat}/connections/{kind}/authorize",
    ),
    (
        "DELETE",
        "/v1/contracts/{contract}/seats/{seat}/connections/{kind}",
    ),
    (
        "POST",
        "/v1/contracts/{contract}/seats/{seat}/connections/{kind}/complete",
    ),
    ("GET", "/v1/contracts/{contract}/seats/{seat}/skips"),
    ("GET", "/v1/contracts/{contract}/seats/{seat}/threads"),
    ("GET", "/v1/contracts/{contract}/seats/{seat}/skips/summary"),
    (
        "POST",
        "/v1/contracts/{contract}/seats/{seat}/connections/{kind}/sign-in-unreachable",
    ),
    ("PUT", "/v1/contracts/{contract}/organizations"),
    (
        "PUT",
        "/v1/contracts/{contract}/seats/{seat}/threads/{thread}/visibility",
    ),
    (
        "GET",
        "/v1/contracts/{contract}/candidates/{profile}/conversations",
    ),
    ("GET", "/v1/contracts/{contract}/zoom"),
    ("DELETE", "/v1/contracts/{contract}/zoom"),
    ("POST", "/v1/contracts/{contract}/zoom/authorize"),
    ("POST", "/v1/contracts/{contract}/zoom/complete"),
];

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct App {
    pub connector: Connector,
    /// The seats' synced mail, read by the threads route.
    pub threads: Arc<dyn MailReader>,
    /// Who sees which thread: a candidate's conversations, and sharing.
    pub conversations: Arc<dyn Conversations>,
    /// The recorded decisions not to sync, read by the skips route.
    pub skips: Arc<dyn SkipLog>,
    /// The contract's Zoom connection.
    pub zoom: Arc<hiresync_scheduling::zoom::ZoomConnections>,
    pub auth: Authenticator,
    /// Read once per request.
    pub clock: Clock,
}

fn caller(app: &App, headers: &HeaderMap, now: Timestamp) -> ApiResult<Caller> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(app.auth.verify(header, now)?)
}

fn contract_of(caller: &Caller, raw: &str) -> ApiResult<ContractId> {
    let id = ContractId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if id != caller.contract {
        return Err(ApiError::forbidden());
    }
    Ok(id)
}

/// The seat itself may act on its connections and read its mail; an admin of the contract
/// may read a seat's connections and the counts of its decisions (`admin_may`), never its
/// mail or the addresses it corresponds with.
fn seat_of(caller: &Caller, raw: &str, admin_may: bool) -> ApiResult<SeatId> {
    let id = SeatId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if id == caller.seat || (admin_may && caller.role == Role::Admin) {
        Ok(id)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Who calls a route about one seat, checked: the request's instant, the caller, and the
/// contract and seat the path names, which the caller may reach (`admin_may` as in
/// [`seat_of`]).
struct SeatScope {
    now: Timestamp,
    caller: Caller,
    contract: ContractId,
    seat: SeatId,
}

fn seat_scope(
    app: &App,
    headers: &HeaderMap,
    contract: &str,
    seat: &str,
    admin_may: bool,
) -> ApiResult<SeatScope> {
    let now = (app.clock)();
    let caller = caller(app, headers, now)?;
    let contract = contract_of(&caller, contract)?;
    let seat = seat_of(&caller, seat, admin_may)?;
    Ok(SeatScope {
        now,
        caller,
        contract,
        seat,
    })
}

fn kind_of(raw: &str) -> ApiResult<ConnectionKind> {
    match raw {
        "email" => Ok(ConnectionKind::Email),
        "calendar" => Ok(ConnectionKind::Calendar),
        other => Err(ApiError::bad_request(format!(
            "{other:?} is not a connection kind; use \"email\" or \"calendar\""
        ))),
    }
}

#[derive(Serialize)]
struct SettingsBody {
    contract: String,
    status: &'static str,
    provider: Option<Provider>,
    email_access: EmailAccess,
    calendar_enabled: bool,
    video_meetings: bool,
    organizations: Vec<String>,
}

fn settings_body(c: &Contract) -> SettingsBody {
    SettingsBody {
        contract: c.id.to_string(),
        status: if c.is_active() { "active" } else { "suspended" },
        provider: c.settings.provider,
        email_access: c.settings.email_access,
        calendar_enabled: c.settings.calendar_enabled,
        video_meetings: c.settings.video_meetings,
        organizations: c.organizations.iter().cloned().collect(),
    }
}

/// The caller, when it is an admin of `contract`: the instant of the request, the caller
/// and the contract.
fn admin_caller(
    app: &App,
    headers: &HeaderMap,
    contract: &str,
) -> ApiResult<(Timestamp, Caller, ContractId)> {
    let now = (app.clock)();
    let caller = caller(app, headers, now)?;
    let id = contract_of(&caller, contract)?;
    if caller.role != Role::Admin {
        return Err(ApiError::forbidden());
    }
    Ok((now, caller, id))
}

/// The contract, when the caller is one of its admins; the instant of the request.
fn admin_of(app: &App, headers: &HeaderMap, contract: &str) -> ApiResult<(Timestamp, ContractId)> {
    admin_caller(app, headers, contract).map(|(now, _, id)| (now, id))
}

/// An admin change's answer: the settings it left, and the effects being carried out.
fn change_answer(change: &SettingsChange) -> Json<serde_json::Value> {
    Json(json!({
        "settings": settings_body(&change.contract),
        "effects": change.effects,
    }))
}

async fn get_settings(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let now = (app.clock)();
    let caller = caller(&app, &headers, now)?;
    let id = contract_of(&caller, &contract)?;
    let c = app.connector.settings(&id).await?;
    Ok(Json(json!(settings_body(&c))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsRequest {
    provider: Option<Provider>,
    email_access: Option<EmailAccess>,
    calendar_enabled: Option<bool>,
    video_meetings: Option<bool>,
}

async fn put_settings(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SettingsRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (now, id) = admin_of(&app, &headers, &contract)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let update = SettingsUpdate {
        provider: request.provider,
        email_access: request.email_access,
        calendar_enabled: request.calendar_enabled,
        video_meetings: request.video_meetings,
    };
    let change = app
        .connector
        .change_settings(&id, update, now)
        .instrument(info_span!("settings", contract = %id))
        .await?;
    Ok(change_answer(&change))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationsRequest {
    organizations: Vec<String>,
}

/// The admin pins the contract to its organizations (an empty list unpins it): only their
/// accounts may connect, and connections of other accounts lose their authorization.
async fn put_organizations(
    State(app): State<Arc<App>>,
    Path(contract): Path<String>,
    headers: HeaderMap,
    body: Result<Json<OrganizationsRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (now, id) = admin_of(&app, &headers, &contract)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let change = app
        .connector
        .pin_organizations(&id, &request.organizations, now)
        .instrument(info_span!("organizations", contract = %id))
        .await?;
    Ok(change_answer(&change))
}

#[derive(Deserialize)]
struct SkipsQuery {
    counterpart: Option<String>,
    message: Option<String>,
}

/// "Why did this not sync?": the seat's recorded decisions for a counterpart, newest first,
/// optionally narrowed to one message. They name the seat's correspondents, so they are
/// the seat's alone.
async fn skips(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    Query(q): Query<SkipsQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let (contract_id, seat_id) = (scope.contract, scope.seat);
    let raw = q.counterpart.ok_or_else(|| {
        ApiError::bad_request("the counterpart query parameter (an email address) is required")
    })?;
    let counterpart = hiresync_domain::ids::EmailAddress::parse(&raw)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let records = app
        .skips
        .skips_for(&contract_id, &seat_id, &counterpart)
        .await
        .map_err(Failure::from)?;
    let decisions: Vec<_> = records
        .into_iter()
        .filter(|r| q.message.as_deref().is_none_or(|m| m == r.provider_id))
        .map(|r| {
            json!({
                "message": r.provider_id,
                "at": r.at,
                "code": r.code,
                "explanation": r.explanation,
                "decided_at": r.decided_at,
            })
        })
        .collect();
    Ok(Json(
        json!({ "counterpart": counterpart.as_str(), "decisions": decisions }),
    ))
}

/// How many of a seat's messages were not synced, by rule: what an admin may see of a
/// seat's skipped mail (no address, no subject), and the seat too.
async fn skip_summary(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, true)?;
    let (contract_id, seat_id) = (scope.contract, scope.seat);
    let counts = app
        .skips
        .skip_counts(&contract_id, &seat_id)
        .await
        .map_err(Failure::from)?;
    let total: u64 = counts.values().sum();
    Ok(Json(json!({
        "seat": seat_id.as_str(),
        "total": total,
        "by_code": counts,
    })))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// The API as one router, served by Lambda in production and by a local listener in
/// development and tests.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(ROUTES[0].1, get(get_settings).put(put_settings))
        .route(ROUTES[2].1, get(connections::list_connections))
        .route(ROUTES[3].1, post(connections::authorize))
        .route(ROUTES[4].1, axum::routing::delete(connections::deauthorize))
        .route(ROUTES[5].1, post(connections::complete))
        .route(ROUTES[6].1, get(skips))
        .route(ROUTES[7].1, get(mail::threads))
        .route(ROUTES[8].1, get(skip_summary))
        .route(ROUTES[9].1, post(connections::sign_in_unreachable))
        .route(ROUTES[10].1, axum::routing::put(put_organizations))
        .route(ROUTES[11].1, axum::routing::put(mail::put_visibility))
        .route(ROUTES[12].1, get(mail::conversations))
        .route(ROUTES[13].1, get(zoom::get_zoom).delete(zoom::remove_zoom))
        .route(ROUTES[15].1, post(zoom::authorize_zoom))
        .route(ROUTES[16].1, post(zoom::complete_zoom))
        .fallback(not_found)
        .with_state(app)
}
