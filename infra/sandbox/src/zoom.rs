//! Zoom's meetings API (protocols-additions.md §6), under the sandbox's Zoom base `/zoom`
//! (Zoom's `https://api.zoom.us/v2`), for a contract-level Zoom connection: an account
//! with its users' emails and one access token, made through the control API.
//!
//! - `POST /users/{userId}/meetings` (`me`, the account's first user, or a user's email):
//!   201 with the meeting (`id` an int64 of 11 digits, `uuid`, `join_url`
//!   `https://zoom.us/j/<id>?pwd=...`, `password`, `start_time`, `duration`, `topic`,
//!   `timezone`, ...); 404 code 1001 for an email that is not a user of the account;
//! - `GET` (200), `PATCH` (204), `DELETE` (204) `/meetings/{meetingId}`; 404 code 3001 for
//!   a meeting that is gone or another account's;
//! - `GET /users/{userId}` (`me`, a user's email or id): the user (`id`, `email`,
//!   `account_id`, `first_name`, `role_name`, `type`, `status`, ...). For an OAuth token
//!   `me` is the user who consented, while still a user of the account; otherwise, and
//!   for the control API's token, the account's first user. 404 code 1001 for no such
//!   user;
//! - 401 code 124 for an unknown token.
//!
//! An account's token is the one the control API made, or any live access token from
//! Zoom's OAuth (`oauth`, under `/zoom-oauth`).
//!
//! An account can be made to fail ([`ZoomFailure`]): not eligible (400 code 3161 on
//! creates and updates), or the next few calls answer 503 or 429 (no `Retry-After`).

mod oauth;

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::calendar::{instant, utc_time, zone};
use crate::Sandbox;

/// How a Zoom account fails its API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum ZoomFailure {
    #[default]
    None,
    /// Its users may not host or schedule meetings: creates and updates answer 400 code
    /// 3161.
    NotEligible,
    /// The next `calls` calls answer `status` (503, or 429 without `Retry-After`).
    Temporary {
        #[serde(default = "one")]
        calls: u32,
        #[serde(default = "unavailable")]
        status: u16,
    },
}

fn one() -> u32 {
    1
}

fn unavailable() -> u16 {
    503
}

#[derive(Debug, Clone)]
struct Account {
    users: Vec<String>,
    token: String,
    failure: ZoomFailure,
}

/// A meeting as the sandbox holds it.
#[derive(Debug, Clone, Serialize)]
pub struct ZoomMeeting {
    pub id: i64,
    pub uuid: String,
    pub account: String,
    pub host_email: String,
    pub topic: String,
    pub agenda: String,
    pub start_time: Timestamp,
    pub duration: i64,
    pub timezone: String,
    pub password: String,
    pub join_url: String,
    /// `waiting`, or `deleted` once deleted.
    pub status: &'static str,
    pub updates: u32,
}

/// Every Zoom account of the sandbox.
#[derive(Debug, Default)]
pub struct Zoom {
    accounts: HashMap<String, Account>,
    meetings: BTreeMap<i64, ZoomMeeting>,
    count: i64,
    oauth: oauth::OAuth,
}

/// A Zoom account to make (or remake: its meetings stay).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewZoomAccount {
    /// A fresh id when absent.
    pub account_id: Option<String>,
    /// Its users' emails; the first is the account's owner (`me`).
    pub users: Vec<String>,
    /// A fresh token when absent.
    pub access_token: Option<String>,
}

/// What the account is, as made.
#[derive(Debug, Clone, Serialize)]
pub struct ZoomAccountView {
    pub account_id: String,
    pub users: Vec<String>,
    pub access_token: String,
}

impl Sandbox {
    /// Makes (or remakes) a Zoom account; its id and token.
    pub fn zoom_account(&self, new: NewZoomAccount) -> ZoomAccountView {
        let n = self.next_number();
        let account_id = new
            .account_id
            .unwrap_or_else(|| format!("zoom-account-{n}"));
        let token = new
            .access_token
            .unwrap_or_else(|| format!("zoom-access-{n}-{}", fastrand::u64(..)));
        let users: Vec<String> = new.users.iter().map(|u| u.trim().to_lowercase()).collect();
        let mut w = self.lock();
        let failure = w
            .zoom
            .accounts
            .get(&account_id)
            .map(|a| a.failure)
            .unwrap_or_default();
        w.zoom.accounts.insert(
            account_id.clone(),
            Account {
                users: users.clone(),
                token: token.clone(),
                failure,
            },
        );
        ZoomAccountView {
            account_id,
            users,
            access_token: token,
        }
    }

    /// Sets how the account fails; `false` when there is no such account.
    pub fn zoom_failure(&self, account_id: &str, failure: ZoomFailure) -> bool {
        match self.lock().zoom.accounts.get_mut(account_id) {
            Some(a) => {
                a.failure = failure;
                true
            }
            None => false,
        }
    }

    /// The account's meetings, deleted ones included, oldest first.
    pub fn zoom_meetings(&self, account_id: &str) -> Vec<ZoomMeeting> {
        self.lock()
            .zoom
            .meetings
            .values()
            .filter(|m| m.account == account_id)
            .cloned()
            .collect()
    }
}

fn zoom_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn meeting_gone(id: &str) -> Response {
    zoom_error(
        StatusCode::NOT_FOUND,
        3001,
        &format!("Meeting does not exist: {id}."),
    )
}

fn not_eligible() -> Response {
    zoom_error(
        StatusCode::BAD_REQUEST,
        3161,
        "Meeting hosting and scheduling capabilities are not allowed for your user account.",
    )
}

/// The call's bearer token ("" when there is none).
fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// The id Zoom knows a user by, made from the email.
fn user_id(email: &str) -> String {
    format!("host-{}", email.replace(['@', '.'], "-"))
}

/// The account behind the call's token, after its failure mode had its say.
fn account_of(s: &Sandbox, headers: &HeaderMap) -> Result<(String, Account), Box<Response>> {
    let token = bearer(headers);
    let mut w = s.lock();
    let zoom = &mut w.zoom;
    let id = zoom
        .accounts
        .iter()
        .find(|(_, a)| !token.is_empty() && a.token == token)
        .map(|(id, _)| id.clone())
        .or_else(|| zoom.oauth.account_of(token));
    let Some((id, account)) = id.and_then(|id| zoom.accounts.get_mut(&id).map(|a| (id, a))) else {
        return Err(Box::new(zoom_error(
            StatusCode::UNAUTHORIZED,
            124,
            "Invalid access token.",
        )));
    };
    if let ZoomFailure::Temporary { calls, status } = &mut account.failure {
        if *calls > 0 {
            *calls -= 1;
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let message = if status == StatusCode::TOO_MANY_REQUESTS {
                "You have reached the maximum per-second rate limit for this API. Try again later."
            } else {
                "The service is temporarily unavailable. Try again later."
            };
            return Err(Box::new(zoom_error(
                status,
                u32::from(status.as_u16()),
                message,
            )));
        }
    }
    Ok((id, account.clone()))
}

/// The meeting's start from `start_time` (UTC with `Z`, or local time in `timezone`).
fn start_of(body: &Value, timezone: &str) -> Result<Option<Timestamp>, Box<Response>> {
    let Some(text) = body["start_time"].as_str() else {
        return Ok(None);
    };
    instant(text, timezone).map(Some).ok_or_else(|| {
        Box::new(zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "Invalid field: start_time.",
        ))
    })
}

fn timezone_of(body: &Value) -> Result<Option<String>, Box<Response>> {
    match body["timezone"].as_str() {
        Some(tz) if zone(tz).is_none() => Err(Box::new(zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "Invalid field: timezone.",
        ))),
        Some(tz) => Ok(Some(tz.to_owned())),
        None => Ok(None),
    }
}

fn meeting_json(m: &ZoomMeeting) -> Value {
    json!({
        "uuid": m.uuid,
        "id": m.id,
        "host_id": user_id(&m.host_email),
        "host_email": m.host_email,
        "topic": m.topic,
        "type": 2,
        "status": m.status,
        "start_time": utc_time(m.start_time),
        "duration": m.duration,
        "timezone": m.timezone,
        "agenda": m.agenda,
        "created_at": utc_time(Timestamp::now()),
        "start_url": format!("https://zoom.us/s/{}?zak=sandbox-{}", m.id, fastrand::u64(..)),
        "join_url": m.join_url,
        "password": m.password,
        "h323_password": m.password,
        "pstn_password": m.password,
        "encrypted_password": B64.encode(&m.password),
        "pre_schedule": false,
        "settings": {"host_video": false, "participant_video": false, "join_before_host": false,
                     "waiting_room": true, "meeting_authentication": false},
    })
}

async fn create(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let (account_id, account) = match account_of(&s, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let host = if user == "me" {
        account.users.first().cloned()
    } else {
        account
            .users
            .iter()
            .find(|u| u.eq_ignore_ascii_case(&user))
            .cloned()
    };
    let Some(host) = host else {
        return zoom_error(
            StatusCode::NOT_FOUND,
            1001,
            &format!("User {user} not exist or not belong to this account."),
        );
    };
    if account.failure == ZoomFailure::NotEligible {
        return not_eligible();
    }
    let timezone = match timezone_of(&body) {
        Ok(tz) => tz.unwrap_or_else(|| "UTC".to_owned()),
        Err(r) => return *r,
    };
    let start = match start_of(&body, &timezone) {
        Ok(Some(start)) => start,
        Ok(None) => return zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: start_time."),
        Err(r) => return *r,
    };
    let mut rng = fastrand::Rng::new();
    let password: String = (0..8).map(|_| rng.alphanumeric()).collect();
    let uuid_bytes: Vec<u8> = (0..16).map(|_| rng.u8(..)).collect();
    let meeting = {
        let mut w = s.lock();
        w.zoom.count += 1;
        let id = 85_120_000_000 + w.zoom.count * 7_919;
        let pwd: String = (0..32).map(|_| rng.alphanumeric()).collect();
        let meeting = ZoomMeeting {
            id,
            uuid: B64.encode(uuid_bytes),
            account: account_id,
            host_email: host,
            topic: body["topic"].as_str().unwrap_or("Zoom meeting").to_owned(),
            agenda: body["agenda"].as_str().unwrap_or_default().to_owned(),
            start_time: start,
            duration: body["duration"].as_i64().unwrap_or(60),
            timezone,
            password,
            join_url: format!("https://zoom.us/j/{id}?pwd={pwd}.1"),
            status: "waiting",
            updates: 0,
        };
        w.zoom.meetings.insert(id, meeting.clone());
        meeting
    };
    (StatusCode::CREATED, Json(meeting_json(&meeting))).into_response()
}

/// `GET /users/{userId}`: `me` is the user whose consent made an OAuth token (while still
/// a user of the account), otherwise the account's first user; or a user's email or id.
async fn user(State(s): State<Sandbox>, headers: HeaderMap, Path(user): Path<String>) -> Response {
    let (account_id, account) = match account_of(&s, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let found = if user == "me" {
        let consented = s.lock().zoom.oauth.user_of(bearer(&headers));
        consented
            .filter(|u| account.users.contains(u))
            .or_else(|| account.users.first().cloned())
    } else {
        account
            .users
            .iter()
            .find(|u| u.eq_ignore_ascii_case(&user) || user_id(u) == user)
            .cloned()
    };
    let Some(email) = found else {
        return zoom_error(
            StatusCode::NOT_FOUND,
            1001,
            &format!("User does not exist: {user}."),
        );
    };
    let owner = account.users.first() == Some(&email);
    let name = email.split('@').next().unwrap_or_default().to_owned();
    Json(json!({
        "id": user_id(&email),
        "first_name": name,
        "last_name": "",
        "display_name": name,
        "email": email,
        "type": 2,
        "role_name": if owner { "Owner" } else { "Member" },
        "role_id": if owner { "0" } else { "2" },
        "timezone": "UTC",
        "verified": 1,
        "dept": "",
        "language": "en-US",
        "status": "active",
        "account_id": account_id,
        "cluster": "us06",
    }))
    .into_response()
}

/// The account's live meeting `id`, or Zoom's 3001.
fn live(s: &Sandbox, account_id: &str, id: &str) -> Result<ZoomMeeting, Box<Response>> {
    id.parse::<i64>()
        .ok()
        .and_then(|n| s.lock().zoom.meetings.get(&n).cloned())
        .filter(|m| m.account == account_id && m.status != "deleted")
        .ok_or_else(|| Box::new(meeting_gone(id)))
}

async fn read(State(s): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = account_of(&s, &headers).and_then(|(account_id, _)| live(&s, &account_id, &id));
    match result {
        Ok(m) => Json(meeting_json(&m)).into_response(),
        Err(r) => *r,
    }
}

async fn update(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let (account_id, account) = match account_of(&s, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let mut m = match live(&s, &account_id, &id) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    if account.failure == ZoomFailure::NotEligible {
        return not_eligible();
    }
    match timezone_of(&body) {
        Ok(Some(tz)) => m.timezone = tz,
        Ok(None) => {}
        Err(r) => return *r,
    }
    match start_of(&body, &m.timezone) {
        Ok(Some(start)) => m.start_time = start,
        Ok(None) => {}
        Err(r) => return *r,
    }
    if let Some(duration) = body["duration"].as_i64() {
        m.duration = duration;
    }
    if let Some(topic) = body["topic"].as_str() {
        m.topic = topic.to_owned();
    }
    if let Some(agenda) = body["agenda"].as_str() {
        m.agenda = agenda.to_owned();
    }
    m.updates += 1;
    s.lock().zoom.meetings.insert(m.id, m);
    StatusCode::NO_CONTENT.into_response()
}

async fn remove(State(s): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = account_of(&s, &headers).and_then(|(account_id, _)| live(&s, &account_id, &id));
    match result {
        Ok(m) => {
            if let Some(held) = s.lock().zoom.meetings.get_mut(&m.id) {
                held.status = "deleted";
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => *r,
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// `POST /sandbox/zoom/accounts` with a [`NewZoomAccount`]: 201 with the
/// [`ZoomAccountView`].
async fn control_account(State(s): State<Sandbox>, Json(new): Json<NewZoomAccount>) -> Response {
    if new.users.iter().any(|u| !u.contains('@')) {
        return refused(StatusCode::BAD_REQUEST, "users must be email addresses");
    }
    (StatusCode::CREATED, Json(s.zoom_account(new))).into_response()
}

/// `PUT /sandbox/zoom/accounts/{account}/failure` with `{"mode": "none"}`,
/// `{"mode": "not_eligible"}` or `{"mode": "temporary", "calls": 2, "status": 429}`.
async fn control_failure(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
    Json(failure): Json<ZoomFailure>,
) -> Response {
    if let ZoomFailure::Temporary { status, .. } = failure {
        if !matches!(status, 429 | 500..=599) {
            return refused(StatusCode::BAD_REQUEST, "status must be 429 or a 5xx");
        }
    }
    if s.zoom_failure(&account, failure) {
        Json(failure).into_response()
    } else {
        refused(StatusCode::NOT_FOUND, "no such Zoom account")
    }
}

/// `GET /sandbox/zoom/accounts/{account}/meetings`: `{"meetings": [ZoomMeeting, ...]}`.
async fn control_meetings(State(s): State<Sandbox>, Path(account): Path<String>) -> Response {
    Json(json!({"meetings": s.zoom_meetings(&account)})).into_response()
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/zoom/users/{user}", get(user))
        .route("/zoom/users/{user}/meetings", post(create))
        .route(
            "/zoom/meetings/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/sandbox/zoom/accounts", post(control_account))
        .route(
            "/sandbox/zoom/accounts/{account}/failure",
            put(control_failure),
        )
        .route(
            "/sandbox/zoom/accounts/{account}/meetings",
            get(control_meetings),
        )
        .merge(oauth::routes())
}
