//! Zoom's user-level OAuth (a "General app", protocols-additions.md §6) under `/zoom-oauth`,
//! standing for `https://zoom.us/oauth`: an admin authorizes the organisation's Zoom
//! account, and the tokens it gets call the meetings API under `/zoom` for that account.
//!
//! - `GET /zoom-oauth/authorize` (`response_type=code`, `client_id`, `redirect_uri`,
//!   `state`, `code_challenge`, `code_challenge_method=S256`, and the sandbox's own
//!   `login_hint`: the email of one of the account's users, which picks the account)
//!   consents at once and redirects (303) to `redirect_uri` with `code` and `state`. An
//!   email no account has redirects with `error=access_denied`; a missing challenge or a
//!   method other than `S256` with `error=invalid_request`. The code lasts 5 minutes and
//!   serves once.
//! - `POST /zoom-oauth/token` with `Authorization: Basic base64(client_id:client_secret)`
//!   and a form: `grant_type=authorization_code&code&redirect_uri&code_verifier`, or
//!   `grant_type=refresh_token&refresh_token`. It answers `{access_token, token_type:
//!   "bearer", refresh_token, expires_in: 3599, scope}`. The access token lasts an hour and
//!   calls `/zoom/...` as the account (an account may hold several). Each refresh gives a
//!   new refresh token and kills the old one. Refusals are JSON `{reason, error}`: 401
//!   `invalid_client` for missing or wrong client credentials; 400 `invalid_request`
//!   otherwise (`Invalid Token!` for a used, unknown or revoked refresh token).
//! - `POST /zoom-oauth/revoke` with the same Basic credentials and a form `token` (a
//!   refresh or an access token of the client's): the grant it belongs to dies, its
//!   refresh and access tokens, from before and after refreshes, with it; `{"status":
//!   "success"}`. A token the sandbox does not know (used, revoked, another client's)
//!   answers 400 `{"reason": "Invalid Token!", "error": "invalid_request"}`.
//!
//! An access token also answers `GET /zoom/users/me` as the user who consented (the
//! `login_hint`), or the account's first user once that user has left the account.
//!
//! Client credentials: any non-empty pair is accepted, unless the sandbox was given one
//! ([`Sandbox::zoom_oauth_client`], `PUT /sandbox/zoom/oauth-client`). Either way the pair's
//! id must be the one the code or refresh token was issued to. A grant is revoked
//! (as when the admin removes the app) with [`Sandbox::zoom_revoke_grant`] or
//! `DELETE /sandbox/zoom/accounts/{account}/grant`.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::refused;
use crate::{redirect, Sandbox};

/// How long a code lasts, in seconds.
const CODE_LIFETIME: i64 = 300;
/// How long an access token lasts, in seconds, as `expires_in` says.
const ACCESS_LIFETIME: i64 = 3599;
/// The scopes granted when the authorize call names none (Zoom's come from the app).
const DEFAULT_SCOPE: &str =
    "meeting:read:meeting meeting:write:meeting meeting:update:meeting meeting:delete:meeting user:read:user";

#[derive(Debug, Clone)]
struct Code {
    account: String,
    /// The user who consented (the `login_hint`), in lower case.
    user: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    expires: i64,
}

/// An access or refresh token: whose, to which client, until when (refresh tokens: never).
#[derive(Debug, Clone)]
struct Issued {
    account: String,
    /// The user who consented.
    user: String,
    /// The authorization it comes from: one per redeemed code, kept across refreshes.
    grant: u64,
    client_id: String,
    scope: String,
    expires: Option<i64>,
}

/// Zoom's OAuth state: the configured client, codes and tokens.
#[derive(Debug, Default)]
pub(super) struct OAuth {
    client: Option<(String, String)>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl OAuth {
    /// The account an OAuth access token stands for, while it lasts.
    pub(super) fn account_of(&self, token: &str) -> Option<String> {
        self.live(token).map(|t| t.account.clone())
    }

    /// The user who consented to the grant of an OAuth access token, while it lasts.
    pub(super) fn user_of(&self, token: &str) -> Option<String> {
        self.live(token).map(|t| t.user.clone())
    }

    fn live(&self, token: &str) -> Option<&Issued> {
        self.access
            .get(token)
            .filter(|t| t.expires.is_none_or(|e| e > now()))
    }
}

impl Sandbox {
    /// Only this client may use Zoom's OAuth from now on (by default any non-empty pair).
    pub fn zoom_oauth_client(&self, client_id: &str, client_secret: &str) {
        self.lock().zoom.oauth.client = Some((client_id.to_owned(), client_secret.to_owned()));
    }

    /// Revokes everything the account's admin granted through Zoom's OAuth: its codes,
    /// access and refresh tokens (the control API's own token stays). `false` when there is
    /// no such account.
    pub fn zoom_revoke_grant(&self, account_id: &str) -> bool {
        let mut w = self.lock();
        if !w.zoom.accounts.contains_key(account_id) {
            return false;
        }
        let oauth = &mut w.zoom.oauth;
        oauth.codes.retain(|_, c| c.account != account_id);
        oauth.access.retain(|_, t| t.account != account_id);
        oauth.refresh.retain(|_, t| t.account != account_id);
        true
    }

    /// Zoom's OAuth codes and access tokens age by `by`, as if that much time had passed.
    pub fn zoom_oauth_elapse(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        let mut w = self.lock();
        let oauth = &mut w.zoom.oauth;
        for code in oauth.codes.values_mut() {
            code.expires = code.expires.saturating_sub(secs);
        }
        for token in oauth.access.values_mut() {
            token.expires = token.expires.map(|e| e.saturating_sub(secs));
        }
    }
}

fn token_error(status: StatusCode, error: &str, reason: &str) -> Response {
    (status, Json(json!({"reason": reason, "error": error}))).into_response()
}

fn bad_client() -> Response {
    token_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Invalid client_id or client_secret",
    )
}

fn invalid(reason: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, "invalid_request", reason)
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    login_hint: Option<String>,
}

/// The account with a user of this email, its owner's first (then by id).
fn account_by_user(s: &Sandbox, email: &str) -> Option<String> {
    let w = s.lock();
    let mut found: Vec<(bool, &String)> = w
        .zoom
        .accounts
        .iter()
        .filter(|(_, a)| a.users.iter().any(|u| u.eq_ignore_ascii_case(email)))
        .map(|(id, a)| {
            (
                !a.users
                    .first()
                    .is_some_and(|u| u.eq_ignore_ascii_case(email)),
                id,
            )
        })
        .collect();
    found.sort();
    found.first().map(|(_, id)| (*id).clone())
}

async fn authorize(State(s): State<Sandbox>, Query(q): Query<AuthorizeQuery>) -> Response {
    let client_id = q.client_id.clone().unwrap_or_default();
    let configured = s.lock().zoom.oauth.client.clone();
    if client_id.is_empty() || configured.is_some_and(|(id, _)| id != client_id) {
        // Zoom shows its own error page: there is no client to send the browser back to.
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Invalid client_id",
        );
    }
    let state = q.state.clone().unwrap_or_default();
    let back = |params: &[(&str, &str)]| {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if q.state.is_some() {
            all.push(("state", &state));
        }
        redirect(&q.redirect_uri, &all)
    };
    if q.response_type.as_deref() != Some("code") {
        return back(&[("error", "unsupported_response_type")]);
    }
    let challenge = q.code_challenge.clone().unwrap_or_default();
    if challenge.is_empty() || q.code_challenge_method.as_deref() != Some("S256") {
        return back(&[("error", "invalid_request")]);
    }
    let email = q.login_hint.clone().unwrap_or_default();
    let user = email.trim().to_lowercase();
    let Some(account) = account_by_user(&s, &user) else {
        return back(&[("error", "access_denied")]);
    };
    let code = format!("zoom-code-{}-{:016x}", s.next_number(), fastrand::u64(..));
    s.lock().zoom.oauth.codes.insert(
        code.clone(),
        Code {
            account,
            user,
            client_id,
            redirect_uri: q.redirect_uri.clone(),
            challenge,
            scope: q.scope.clone().unwrap_or_else(|| DEFAULT_SCOPE.to_owned()),
            expires: now().saturating_add(CODE_LIFETIME),
        },
    );
    back(&[("code", &code)])
}

/// The client's id from `Authorization: Basic`, if the pair is one the sandbox takes.
fn client_of(s: &Sandbox, headers: &HeaderMap) -> Option<String> {
    let encoded = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    if id.is_empty() || secret.is_empty() {
        return None;
    }
    match &s.lock().zoom.oauth.client {
        Some((want_id, want_secret))
            if (want_id.as_str(), want_secret.as_str()) != (id, secret) =>
        {
            None
        }
        _ => Some(id.to_owned()),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

async fn token(State(s): State<Sandbox>, headers: HeaderMap, Form(f): Form<TokenForm>) -> Response {
    let Some(client_id) = client_of(&s, &headers) else {
        return bad_client();
    };
    let (account, user, grant, scope) = match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = f.code.unwrap_or_default();
            // A code serves once, whatever comes of it.
            let Some(grant) = s.lock().zoom.oauth.codes.remove(&code) else {
                return invalid(&format!("Invalid authorization code {code}"));
            };
            if grant.expires <= now() || grant.client_id != client_id {
                return invalid(&format!("Invalid authorization code {code}"));
            }
            if f.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
                return invalid("Redirect URI mismatch.");
            }
            let verifier = f.code_verifier.unwrap_or_default();
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
                return invalid("Invalid code_verifier");
            }
            (grant.account, grant.user, s.next_number(), grant.scope)
        }
        Some("refresh_token") => {
            let old = f.refresh_token.unwrap_or_default();
            let mut w = s.lock();
            let refresh = &mut w.zoom.oauth.refresh;
            match refresh.get(&old) {
                Some(t) if t.client_id == client_id => {}
                _ => return invalid("Invalid Token!"),
            }
            // Rotation: the old refresh token is spent.
            let Some(issued) = refresh.remove(&old) else {
                return invalid("Invalid Token!");
            };
            (issued.account, issued.user, issued.grant, issued.scope)
        }
        _ => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant type",
            )
        }
    };
    let n = s.next_number();
    let access = format!("zoom-oauth-access-{n}-{:016x}", fastrand::u64(..));
    let refresh = format!("zoom-oauth-refresh-{n}-{:016x}", fastrand::u64(..));
    let issued = |expires| Issued {
        account: account.clone(),
        user: user.clone(),
        grant,
        client_id: client_id.clone(),
        scope: scope.clone(),
        expires,
    };
    {
        let mut w = s.lock();
        let oauth = &mut w.zoom.oauth;
        oauth.access.insert(
            access.clone(),
            issued(Some(now().saturating_add(ACCESS_LIFETIME))),
        );
        oauth.refresh.insert(refresh.clone(), issued(None));
    }
    Json(json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": ACCESS_LIFETIME,
        "scope": scope,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct RevokeForm {
    token: Option<String>,
}

/// Zoom's revocation: the grant of a refresh or access token dies, all its tokens with it.
async fn revoke(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Form(f): Form<RevokeForm>,
) -> Response {
    let Some(client_id) = client_of(&s, &headers) else {
        return bad_client();
    };
    let token = f.token.unwrap_or_default();
    let mut w = s.lock();
    let oauth = &mut w.zoom.oauth;
    let grant = oauth
        .refresh
        .get(&token)
        .or_else(|| oauth.access.get(&token))
        .filter(|t| t.client_id == client_id)
        .map(|t| t.grant);
    let Some(grant) = grant else {
        return invalid("Invalid Token!");
    };
    oauth.access.retain(|_, t| t.grant != grant);
    oauth.refresh.retain(|_, t| t.grant != grant);
    Json(json!({"status": "success"})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    client_id: String,
    client_secret: String,
}

/// `PUT /sandbox/zoom/oauth-client` with `{client_id, client_secret}`: only that pair is
/// taken from now on.
async fn control_client(State(s): State<Sandbox>, Json(body): Json<ClientBody>) -> Response {
    if body.client_id.is_empty() || body.client_secret.is_empty() {
        return refused(
            StatusCode::BAD_REQUEST,
            "client_id and client_secret are required",
        );
    }
    s.zoom_oauth_client(&body.client_id, &body.client_secret);
    Json(json!({"client_id": body.client_id})).into_response()
}

/// `DELETE /sandbox/zoom/accounts/{account}/grant`: the admin removed the app.
async fn control_revoke(State(s): State<Sandbox>, Path(account): Path<String>) -> Response {
    if s.zoom_revoke_grant(&account) {
        Json(json!({"account_id": account, "revoked": true})).into_response()
    } else {
        refused(StatusCode::NOT_FOUND, "no such Zoom account")
    }
}

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/zoom-oauth/authorize", get(authorize))
        .route("/zoom-oauth/token", post(token))
        .route("/zoom-oauth/revoke", post(revoke))
        .route("/sandbox/zoom/oauth-client", put(control_client))
        .route(
            "/sandbox/zoom/accounts/{account}/grant",
            delete(control_revoke),
        )
}
