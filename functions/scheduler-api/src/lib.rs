//! The scheduler API: a seat's scheduler settings, the links it sends candidates, its
//! availability for the product (bearer token, the seat's own), and the candidate's pages
//! (`/s/<token>`: the link is the credential), server-rendered, working without JavaScript.

mod build;
mod config;
mod errors;
mod pages;
mod zones;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::scheduler::link::Invitee;
use hiresync_domain::scheduler::SeatScheduler;
use hiresync_domain::Timestamp;
use hiresync_scheduling::{Invitation, Scheduler};
use hiresync_wiring::auth::{Authenticator, Caller};
use serde::Deserialize;
use serde_json::json;

pub use crate::build::build;
pub use crate::config::Config;
pub use crate::errors::ApiError;
use crate::errors::ApiResult;
pub use hiresync_wiring::BuildError;

/// Every route, as `(method, path)`; the OpenAPI document must list exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/contracts/{contract}/seats/{seat}/scheduler"),
    ("PUT", "/v1/contracts/{contract}/seats/{seat}/scheduler"),
    (
        "POST",
        "/v1/contracts/{contract}/seats/{seat}/scheduling-links",
    ),
    ("GET", "/v1/contracts/{contract}/seats/{seat}/availability"),
    ("GET", "/s/{token}"),
    ("POST", "/s/{token}"),
    ("GET", "/s/{token}/booked"),
    ("GET", "/s/{token}/interview.ics"),
];

/// The largest request body accepted: a bulk of 100 recipients fits with room to spare.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct App {
    pub scheduler: Scheduler,
    pub auth: Authenticator,
    /// Where candidates open links, without a trailing slash.
    pub public_base_url: String,
    /// Read once per request.
    pub clock: Clock,
}

/// The seat's own caller: the token's contract and seat must be the path's.
fn seat_caller(
    app: &App,
    headers: &HeaderMap,
    contract: &str,
    seat: &str,
) -> ApiResult<(Timestamp, Caller, ContractId, SeatId)> {
    let now = (app.clock)();
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = app.auth.verify(header, now)?;
    let contract = ContractId::parse(contract).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let seat = SeatId::parse(seat).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if contract != caller.contract || seat != caller.seat {
        return Err(ApiError::forbidden());
    }
    Ok((now, caller, contract, seat))
}

async fn get_scheduler(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<SeatScheduler>> {
    let (_, _, contract, seat) = seat_caller(&app, &headers, &contract, &seat)?;
    app.scheduler
        .settings(&contract, &seat)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "this seat has no scheduler settings yet",
            )
        })
}

async fn put_scheduler(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<SeatScheduler>, JsonRejection>,
) -> ApiResult<Json<SeatScheduler>> {
    let (now, _, contract, seat) = seat_caller(&app, &headers, &contract, &seat)?;
    let Json(settings) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let saved = app
        .scheduler
        .save_settings(&contract, &seat, settings, now)
        .await?;
    Ok(Json(saved))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipient {
    email: String,
    name: Option<String>,
    profile: Option<String>,
    conversation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    recipients: Vec<Recipient>,
}

/// One link per recipient (a bulk InMail's, or one existing conversation's).
async fn mint_links(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<MintRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let (now, caller, contract, seat) = seat_caller(&app, &headers, &contract, &seat)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let invitations = request
        .recipients
        .into_iter()
        .map(|r| {
            Ok(Invitation {
                invitee: Invitee {
                    email: EmailAddress::parse(&r.email)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?,
                    name: r
                        .name
                        .map(|n| n.trim().to_owned())
                        .filter(|n| !n.is_empty()),
                    profile: r
                        .profile
                        .map(ProfileId::parse)
                        .transpose()
                        .map_err(|e| ApiError::bad_request(e.to_string()))?,
                },
                conversation: r.conversation,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let minted = app
        .scheduler
        .mint(&contract, &seat, &caller.user, invitations, now)
        .await?;
    let links: Vec<_> = minted
        .iter()
        .map(|m| {
            json!({
                "url": format!("{}/s/{}", app.public_base_url, m.token),
                "email": m.invitee.email.as_str(),
                "conversation": m.conversation,
                "expires_at": m.expires_at,
            })
        })
        .collect();
    Ok((StatusCode::CREATED, Json(json!({ "links": links }))))
}

#[derive(Deserialize)]
struct AvailabilityQuery {
    tz: Option<String>,
}

/// The seat's offered times, for the product to show next to a message.
async fn availability(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    Query(q): Query<AvailabilityQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let (now, _, contract, seat) = seat_caller(&app, &headers, &contract, &seat)?;
    let (plan, slots) = app
        .scheduler
        .seat_availability(&contract, &seat, now)
        .await?;
    let seat_zone = plan.schedule.zone().clone();
    let zone = match q.tz.as_deref() {
        None => seat_zone,
        Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
            ApiError::bad_request(format!("{name:?} is not an IANA time zone name"))
        })?,
    };
    let shown: Vec<_> = slots
        .iter()
        .map(|s| {
            json!({
                "start": s.start,
                "end": s.end,
                "local_start": s.start.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            })
        })
        .collect();
    Ok(Json(json!({
        "time_zone": plan.schedule.settings().time_zone,
        "shown_in": zone.iana_name().unwrap_or("UTC"),
        "length_minutes": plan.schedule.settings().length_minutes,
        "slots": shown,
    })))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// The API and the pages as one router, served by Lambda in production.
pub fn router(app: Arc<App>) -> Router {
    routes(app).fallback(not_found)
}

/// The routes without a fallback, for a local listener that serves other functions' too.
pub fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route(ROUTES[0].1, get(get_scheduler).put(put_scheduler))
        .route(ROUTES[2].1, post(mint_links))
        .route(ROUTES[3].1, get(availability))
        .route(ROUTES[4].1, get(pages::booking_page).post(pages::book))
        .route(ROUTES[6].1, get(pages::booked))
        .route(ROUTES[7].1, get(pages::calendar_file))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}
