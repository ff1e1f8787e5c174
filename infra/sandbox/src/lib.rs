//! A provider sandbox: Microsoft's and Google's OAuth endpoints, and the Graph, Gmail and
//! Calendar calls hiresync makes when it connects, each with the documented shapes.
//!
//! Accounts are seeded with a behaviour, so the local suite can show both the happy path
//! and the provider's refusals (admin approval needed, an inactive mailbox, a partial
//! consent). The authorize endpoints consent at once for the account named by
//! `login_hint` and redirect back, as a person clicking "Accept" would. PKCE is checked.
//!
//! Mailboxes hold messages that tests and the scenario put there ([`control`]), filed in
//! any folder ([`mailbox::Folder`]: the well-known ones, Junk, Drafts and the owner's own);
//! an account may have alias addresses ([`Sandbox::aliases`]). hiresync reads mailboxes
//! through Graph delta and folder listings and Gmail history and search (`mail_api`,
//! `graph_folders`, `gmail_api`), and every change is pushed to whoever subscribed
//! ([`push`]): Graph subscriptions after their validation handshake, per folder or for the
//! whole mailbox, and Gmail through a Pub/Sub push with a signed OIDC token.
//!
//! Every account also has a calendar ([`calendar`]), read and written through Graph
//! (`getSchedule`, events with Teams meetings, under `/graph`: `graph_schedule`,
//! `graph_calendar`) and Google Calendar (`freeBusy`, events with Meet conferences, under
//! `/calendar`: `calendar_api`); events made through either are busy time for both, and
//! every change is pushed to Graph event subscriptions and Calendar channels
//! (`calendar_push`). Tests seed appointments, read the recruiter's events back and make a
//! calendar misbehave under `/sandbox/calendars/{address}/...` ([`calendar_control`]).
//!
//! Zoom is played under `/zoom`, standing for `https://api.zoom.us/v2` ([`zoom`]): accounts
//! made under `/sandbox/zoom/accounts` with their users' emails and an access token, their
//! users read (`GET /zoom/users/{userId}`, `me` included), and meetings created, read,
//! moved and deleted with Zoom's shapes and error codes. Zoom's
//! user-level OAuth is played under `/zoom-oauth`, standing for `https://zoom.us/oauth`
//! (`zoom::oauth`): `GET /zoom-oauth/authorize` consents at once for the account with a
//! user whose email is `login_hint` (303 to `redirect_uri` with `code` and `state`, or
//! `error=access_denied`; PKCE `S256` required; the code lasts 5 minutes and serves once),
//! and `POST /zoom-oauth/token` (Basic client credentials, any non-empty pair unless one is
//! set; `authorization_code` with `code_verifier`, or `refresh_token`, which rotates) gives
//! access tokens that call `/zoom` as that account for 3599 seconds, `users/me` being the
//! user who consented. `POST /zoom-oauth/revoke` (same credentials, form `token`: a refresh
//! or access token) kills that token's grant and answers `{"status": "success"}`, or 400
//! `invalid_request` `Invalid Token!` for a token it does not know.
//!
//! Bases, as a client configures them: Graph `{sandbox}/graph` (`/v1.0`), Gmail
//! `{sandbox}/gmail` (`/gmail/v1`), Calendar `{sandbox}/calendar` (`/calendar/v3`), Zoom
//! `{sandbox}/zoom` (`/v2`), Zoom OAuth `{sandbox}/zoom-oauth` (`/authorize`, `/token`,
//! `/revoke`).
//!
//! Control routes of the calendars and Zoom (all JSON):
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /sandbox/calendars/{address}/events` | [`calendar_control::NewEvent`]: `subject`, `start`, `end`, `show_as` (`busy`, `tentative`, `oof`, `free`), `attendees`, `location`, `body`, `organizer`, `silent` | 201, the [`calendar_control::EventView`] and `pushes` |
//! | `GET /sandbox/calendars/{address}/events` | | `{"events": [EventView]}`: `id`, `subject`, `start`, `end`, `status`, `attendees`, `location`, `join_url`, `video`, `conference_status`, ... |
//! | `DELETE /sandbox/calendars/{address}/events/{id}` | | `{"pushes": [...]}` (the owner removes it by hand) |
//! | `PUT /sandbox/calendars/{address}/settings` | any of `unreadable`, `teams_available`, `meet` (`allowed`, `refused`, `failing`), `meet_pending_reads` (default 1) | the settings |
//! | `POST /sandbox/zoom/accounts` | `users` (emails; the first is `me`), `account_id`, `access_token` (both made up when absent) | 201, `{account_id, users, access_token}` |
//! | `PUT /sandbox/zoom/accounts/{account}/failure` | `{"mode": "none"}`, `{"mode": "not_eligible"}`, `{"mode": "temporary", "calls": 2, "status": 503}` (or 429) | the mode |
//! | `GET /sandbox/zoom/accounts/{account}/meetings` | | `{"meetings": [...]}`, deleted ones with `status: deleted` |
//! | `DELETE /sandbox/zoom/accounts/{account}/grant` | | `{account_id, revoked: true}` (404 for no such account): its OAuth codes, access and refresh tokens die |
//! | `PUT /sandbox/zoom/oauth-client` | `client_id`, `client_secret` | `{client_id}`: only that pair is taken by `/zoom-oauth` from now on |

mod accounts;
pub mod calendar;
mod calendar_api;
pub mod calendar_control;
mod calendar_push;
pub mod control;
mod folder;
mod gmail_api;
mod gmail_query;
mod graph_calendar;
mod graph_folders;
mod graph_schedule;
mod mail_api;
pub mod mailbox;
pub mod push;
mod subscriptions;
pub mod zoom;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// How a seeded account behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Consents to everything; has a mailbox and a calendar.
    Normal,
    /// The tenant requires admin consent (Microsoft AADSTS90094 / Google admin_policy_enforced).
    NeedsAdminApproval,
    /// Graph answers MailboxNotEnabledForRESTAPI (inactive, soft-deleted or on-premises).
    InactiveMailbox,
    /// Google: the seat unticks every scope but the first feature scope.
    PartialConsent,
}

#[derive(Debug, Clone)]
struct Grant {
    address: String,
    scopes: String,
    challenge: String,
}

#[derive(Default)]
struct World {
    accounts: HashMap<String, Behaviour>,
    codes: HashMap<String, Grant>,
    /// access or refresh token -> address
    tokens: HashMap<String, String>,
    counter: u64,
    subscriptions: HashMap<String, push::GraphSubscription>,
    mailboxes: HashMap<String, mailbox::Mailbox>,
    /// Mailboxes with a Gmail watch.
    gmail_watches: BTreeSet<String>,
    /// What each Gmail watch asked to be told about.
    gmail_watch_filters: HashMap<String, push::GmailWatchFilter>,
    /// address -> its alias addresses
    aliases: HashMap<String, Vec<String>>,
    pubsub: Option<push::PubSubPush>,
    pushes: Vec<push::Push>,
    /// address -> its calendar
    calendars: HashMap<String, calendar::Calendar>,
    /// Google Calendar push channels by id.
    channels: HashMap<String, calendar_push::Channel>,
    zoom: zoom::Zoom,
}

#[derive(Clone, Default)]
pub struct Sandbox {
    world: Arc<Mutex<World>>,
    http: reqwest::Client,
    /// Added before every provider answer (not the sandbox's own control routes), in
    /// milliseconds: a provider across the internet rather than on loopback.
    latency_ms: Arc<AtomicU64>,
    /// Provider calls answered so far.
    calls: Arc<AtomicU64>,
}

/// Holds every provider call for the sandbox's latency, and counts it.
async fn provider_latency(
    State(sandbox): State<Sandbox>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    if !(path.starts_with("/sandbox/") || path.starts_with("/front-end/")) {
        sandbox.calls.fetch_add(1, Ordering::Relaxed);
        let ms = sandbox.latency_ms.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
    next.run(request).await
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every provider call from now on waits `latency` before it is answered.
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// How many provider calls the sandbox has answered.
    pub fn provider_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Seeds an account (its address is its login).
    pub fn account(&self, address: &str, behaviour: Behaviour) -> &Self {
        self.lock()
            .accounts
            .insert(address.to_lowercase(), behaviour);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        match self.world.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn next(&self, prefix: &str) -> String {
        let mut w = self.lock();
        w.counter += 1;
        format!("{prefix}-{}", w.counter)
    }

    /// A fresh number, for ids.
    fn next_number(&self) -> u64 {
        let mut w = self.lock();
        w.counter += 1;
        w.counter
    }

    /// A Graph subscription id: a GUID, as Graph's are (the intake refuses anything else).
    fn next_guid(&self) -> String {
        let mut w = self.lock();
        w.counter += 1;
        format!("5a3d8c1e-0b7f-4e2a-9c6d-{:012x}", w.counter)
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/ms/authorize", get(authorize_microsoft))
            .route("/ms/token", post(token))
            .route("/google/authorize", get(authorize_google))
            .route("/google/token", post(token))
            .route("/google/revoke", post(revoke))
            .route("/graph/me", get(accounts::graph_me))
            .route("/graph/me/mailboxSettings", get(graph_mailbox))
            .route("/graph/subscriptions", post(subscriptions::graph_subscribe))
            .route(
                "/graph/subscriptions/{id}",
                delete(subscriptions::graph_unsubscribe).patch(subscriptions::graph_renew),
            )
            .route("/gmail/users/me/profile", get(gmail_api::gmail_profile))
            .route("/gmail/users/me/watch", post(gmail_api::gmail_watch))
            .route("/gmail/users/me/stop", post(gmail_api::gmail_stop))
            .route(
                "/gmail/users/me/settings/sendAs",
                get(accounts::gmail_send_as),
            )
            .route("/front-end/oauth", get(front_end_oauth))
            .route("/front-end/zoom", get(front_end_zoom))
            .route(
                "/graph/me/mailFolders/{folder}/messages/delta",
                get(mail_api::graph_delta),
            )
            .route("/graph/me/mailFolders", get(graph_folders::graph_folders))
            .route(
                "/graph/me/mailFolders/{folder}",
                get(graph_folders::graph_folder),
            )
            .route(
                "/graph/me/mailFolders/{folder}/childFolders",
                get(graph_folders::graph_child_folders),
            )
            .route(
                "/graph/me/messages/{id}",
                get(mail_api::graph_message_by_id),
            )
            .route("/gmail/users/me/history", get(gmail_api::gmail_history))
            .route("/gmail/users/me/messages", get(gmail_api::gmail_list))
            .route(
                "/gmail/users/me/messages/{id}",
                get(gmail_api::gmail_message),
            )
            .route("/pubsub/certs", get(pubsub_certs))
            .route(
                "/sandbox/mailboxes/{address}/messages",
                post(control::deliver).get(control::list),
            )
            .route(
                "/sandbox/mailboxes/{address}/messages/{id}",
                delete(control::delete),
            )
            .route(
                "/sandbox/mailboxes/{address}/messages/{id}/move",
                post(control::relocate),
            )
            .route(
                "/sandbox/mailboxes/{address}/expire-cursors",
                post(control::expire),
            )
            .route(
                "/sandbox/mailboxes/{address}/folders",
                post(control::create_folder).get(control::folders),
            )
            .route("/sandbox/accounts", post(control::seed_account))
            .route(
                "/sandbox/accounts/{address}/aliases",
                put(accounts::put_aliases),
            )
            .route(
                "/sandbox/mailboxes/{address}/lifecycle",
                post(control::lifecycle),
            )
            .route("/sandbox/pushes", get(control::pushes))
            .route("/sandbox/watches", get(control::watches))
            .route("/sandbox/pushes/replay", post(control::replay))
            .route("/sandbox/latency", post(control::latency))
            .merge(graph_calendar::routes())
            .merge(graph_schedule::routes())
            .merge(calendar_api::routes())
            .merge(calendar_control::routes())
            .merge(zoom::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                provider_latency,
            ))
            .with_state(self.clone())
    }

    /// Serves the sandbox on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    redirect_uri: String,
    state: String,
    scope: String,
    code_challenge: Option<String>,
    login_hint: Option<String>,
}

fn redirect(base: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(base) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    url.query_pairs_mut().extend_pairs(params);
    Redirect::to(url.as_str()).into_response()
}

fn consent(
    sandbox: &Sandbox,
    q: &AuthorizeQuery,
    refuse: &[(&str, &str)],
    scopes: String,
) -> Response {
    let address = q.login_hint.clone().unwrap_or_default().to_lowercase();
    let behaviour = sandbox.lock().accounts.get(&address).copied();
    match behaviour {
        None => redirect(
            &q.redirect_uri,
            &[("state", &q.state), ("error", "access_denied")],
        ),
        Some(Behaviour::NeedsAdminApproval) => {
            let mut params = vec![("state", q.state.as_str())];
            params.extend_from_slice(refuse);
            redirect(&q.redirect_uri, &params)
        }
        Some(_) => {
            let code = sandbox.next("code");
            sandbox.lock().codes.insert(
                code.clone(),
                Grant {
                    address,
                    scopes,
                    challenge: q.code_challenge.clone().unwrap_or_default(),
                },
            );
            redirect(&q.redirect_uri, &[("state", &q.state), ("code", &code)])
        }
    }
}

async fn authorize_microsoft(
    State(s): State<Sandbox>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let scopes = q.scope.clone();
    consent(
        &s,
        &q,
        &[
            ("error", "access_denied"),
            (
                "error_description",
                "AADSTS90094: The grant requires admin permission.",
            ),
        ],
        scopes,
    )
}

async fn authorize_google(State(s): State<Sandbox>, Query(q): Query<AuthorizeQuery>) -> Response {
    let address = q.login_hint.clone().unwrap_or_default().to_lowercase();
    let partial = s.lock().accounts.get(&address) == Some(&Behaviour::PartialConsent);
    let scopes = if partial {
        // Granular consent: the seat kept only the first feature scope.
        q.scope
            .split(' ')
            .filter(|x| !x.starts_with("https://"))
            .chain(q.scope.split(' ').find(|x| x.starts_with("https://")))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        q.scope.clone()
    };
    consent(&s, &q, &[("error", "admin_policy_enforced")], scopes)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn token(State(s): State<Sandbox>, Form(f): Form<TokenForm>) -> Response {
    let (address, scopes) = match f.grant_type.as_str() {
        "authorization_code" => {
            let Some(grant) = f.code.as_deref().and_then(|c| s.lock().codes.remove(c)) else {
                return oauth_error("invalid_grant", "unknown or used authorization code");
            };
            let verifier = f.code_verifier.unwrap_or_default();
            if B64.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
                return oauth_error("invalid_grant", "PKCE verification failed");
            }
            (grant.address, grant.scopes)
        }
        "refresh_token" => {
            let address = f
                .refresh_token
                .as_deref()
                .and_then(|t| s.lock().tokens.get(t).cloned());
            match address {
                Some(a) => (a, String::new()),
                None => return oauth_error("invalid_grant", "Token has been expired or revoked."),
            }
        }
        _ => return oauth_error("unsupported_grant_type", "only code and refresh grants"),
    };
    let access = s.next("access");
    let refresh = s.next("refresh");
    let account = address.clone();
    {
        let mut w = s.lock();
        w.tokens.insert(access.clone(), address.clone());
        w.tokens.insert(refresh.clone(), address);
    }
    let mut body = json!({
        "token_type": "Bearer", "expires_in": 3599,
        "access_token": access, "refresh_token": refresh,
    });
    if !scopes.is_empty() {
        body["scope"] = json!(scopes);
    }
    if f.grant_type == "authorization_code" {
        body["id_token"] = json!(id_token(&account));
    }
    Json(body).into_response()
}

/// The OpenID Connect ID token of a sign-in, with the claims that name the account's
/// organization: Microsoft's `tid` (one tenant per domain here) and Google's `hd` (absent for
/// a Gmail address, a personal account). Unsigned: a client reads it straight from the token
/// endpoint over TLS, as OpenID Connect allows.
fn id_token(address: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as JWT;
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let mut claims = json!({
        "tid": format!("tenant-{domain}"),
        "email": address,
        "preferred_username": address,
    });
    if !matches!(domain, "gmail.com" | "googlemail.com") {
        claims["hd"] = json!(domain);
    }
    format!(
        "{}.{}.",
        JWT.encode(br#"{"alg":"none"}"#),
        JWT.encode(claims.to_string())
    )
}

#[derive(Deserialize)]
struct RevokeForm {
    token: String,
}

async fn revoke(State(s): State<Sandbox>, Form(f): Form<RevokeForm>) -> Response {
    let known = s.lock().tokens.remove(&f.token).is_some();
    if known {
        StatusCode::OK.into_response()
    } else {
        oauth_error("invalid_token", "Token expired or revoked")
    }
}

/// The account behind a bearer token.
pub(crate) fn caller(s: &Sandbox, headers: &HeaderMap) -> Option<(String, Behaviour)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let w = s.lock();
    let address = w.tokens.get(token).cloned()?;
    let behaviour = w
        .accounts
        .get(&address)
        .copied()
        .unwrap_or(Behaviour::Normal);
    Some((address, behaviour))
}

/// The provider's answer to a missing or unknown access token.
pub(crate) fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty or invalid."}})),
    )
        .into_response()
}

pub(crate) fn inactive() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise."}})),
    )
        .into_response()
}

async fn graph_mailbox(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    match caller(&s, &headers) {
        Some((_, Behaviour::InactiveMailbox)) => inactive(),
        Some(_) => Json(json!({"timeZone": "UTC"})).into_response(),
        None => unauthorized(),
    }
}

pub(crate) fn week_from_now_ms() -> String {
    (jiff::Timestamp::now().as_millisecond() + 7 * 24 * 3600 * 1000).to_string()
}

async fn pubsub_certs() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        push::JWKS,
    )
        .into_response()
}

/// Where the providers send a seat's browser back: the product's front end, which the local
/// suite has none of. It shows what arrived and how the front end finishes the sign-in (the
/// scenario does exactly that with the seat's token).
async fn front_end_zoom(Query(q): Query<std::collections::BTreeMap<String, String>>) -> String {
    let body = serde_json::to_string(&q).unwrap_or_default();
    format!(
        "Zoom redirected here, to the product's front end, with:\n{body}\n\n\
         The front end finishes connecting Zoom with the same admin's token:\n\
         POST /v1/contracts/{{contract}}/zoom/complete\n\
         Authorization: Bearer <the admin's token>\n\
         {body}\n"
    )
}

async fn front_end_oauth(Query(q): Query<std::collections::BTreeMap<String, String>>) -> String {
    let body = serde_json::to_string(&q).unwrap_or_default();
    format!(
        "The provider redirected here, to the product's front end, with:\n{body}\n\n\
         The front end finishes the sign-in with the seat holder's own token:\n\
         POST /v1/contracts/{{contract}}/seats/{{seat}}/connections/{{kind}}/complete\n\
         Authorization: Bearer <the seat's token>\n\
         {body}\n"
    )
}
