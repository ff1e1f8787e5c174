//! Zoom's user-level OAuth for our Zoom app (a "General app", protocols-additions.md §6):
//! the authorization code flow with PKCE that connects a contract's Zoom account, refresh,
//! revocation, and who the token acts as (`users/me`).
//!
//! Zoom wants the client's credentials as `Authorization: Basic` on its token and revoke
//! endpoints, and refuses with `{"reason", "error"}`: 401 `invalid_client` for our own
//! credentials, 400 `invalid_request` for a code or refresh token it no longer takes
//! (`Invalid Token!`, `Invalid authorization code`). Its answers map to the port's kinds:
//!
//! | answer | kind |
//! |---|---|
//! | 401, `invalid_client`, `unauthorized_client`, a redirect URL mismatch | `Misconfigured` |
//! | 400 `invalid_grant`, or `invalid_request` to a redemption or a refresh | `InvalidGrant` |
//! | 408, 429, 5xx, no answer | `Temporary` |
//! | anything else, an answer without a refresh token | `Failed` |
//!
//! A redemption or a refresh is sent once and never repeated inside the call: the code
//! serves once and Zoom kills a refresh token when it rotates it, so a repeat after a lost
//! answer would find the grant spent. Revocation and `users/me` retry per the
//! [`RetryPolicy`].
//!
//! Tokens, the code, the verifier and the client secret only travel in `SecretString`s;
//! Zoom's `reason` is kept for the log with whatever we sent it blotted out.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    AuthorizationRequest, ZoomAuthError, ZoomAuthErrorKind, ZoomAuthorization, ZoomGrant, ZoomUser,
};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::http::{send_with_retry, Api, ApiError, BaseUrl, InvalidBaseUrl, Repeat};
use crate::oauth::new_pkce;
use crate::RetryPolicy;

/// Zoom's own OAuth endpoints, used unless configuration points elsewhere (a sandbox).
pub const ZOOM_AUTHORIZE: &str = "https://zoom.us/oauth/authorize";
pub const ZOOM_TOKEN: &str = "https://zoom.us/oauth/token";
pub const ZOOM_REVOKE: &str = "https://zoom.us/oauth/revoke";

/// How long an access token lasts when Zoom's answer does not say (it documents an hour).
const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);

/// Our Zoom app, as registered with Zoom.
#[derive(Clone)]
pub struct ZoomOAuthSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: String,
    /// Where Zoom sends the admin back after consenting. Only a function that starts
    /// Zoom sign-ins has one; refreshing and revoking need none.
    pub redirect_url: Option<String>,
}

impl fmt::Debug for ZoomOAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomOAuthSettings")
            .field("client_id", &self.client_id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("revoke_url", &self.revoke_url)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// The Zoom app cannot be built from its settings.
#[derive(Debug, Error)]
pub enum ZoomOAuthSetupError {
    #[error("Zoom OAuth setting {field} is not a valid URL")]
    BadUrl {
        field: &'static str,
        #[source]
        source: oauth2::url::ParseError,
    },
    #[error("Zoom's API base URL is invalid")]
    ApiBase(#[from] InvalidBaseUrl),
}

/// Why a Zoom OAuth call failed, for the log: never a token, a code or a verifier.
#[derive(Debug, Error)]
enum ZoomOAuthFailure {
    /// A sign-in was asked of a function configured without a redirect URL.
    #[error("no Zoom redirect URL is configured, so no Zoom sign-in can start here")]
    NoRedirect,
    /// Zoom answered with a non-success status: its `error` and (blotted) `reason`.
    #[error("Zoom answered HTTP {status} ({error:?}: {reason:?})")]
    Refused {
        status: u16,
        error: Option<String>,
        reason: Option<String>,
    },
    #[error("Zoom's token endpoint gave no answer")]
    Unreachable(#[source] reqwest::Error),
    /// A success answer that is not a token response; the body is never kept.
    #[error("Zoom's token answer cannot be read ({category} at line {line}, column {column})")]
    Malformed {
        category: &'static str,
        line: usize,
        column: usize,
    },
    #[error("Zoom's token answer has no refresh token")]
    NoRefreshToken,
    #[error("Zoom's user has no usable email address")]
    NoEmail,
}

/// Our Zoom app: its credentials and endpoints, one HTTP client for the token endpoints
/// (no redirects, bounded time: [`crate::oauth::token_http_client`]) and one for Zoom's API.
#[derive(Clone)]
pub struct ZoomOAuth {
    client_id: String,
    client_secret: SecretString,
    authorize_url: Url,
    token_url: Url,
    revoke_url: Url,
    redirect_url: Option<String>,
    token_http: reqwest::Client,
    api_http: reqwest::Client,
    api_base: BaseUrl,
    retry: RetryPolicy,
}

impl fmt::Debug for ZoomOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomOAuth")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url.as_str())
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

impl ZoomOAuth {
    /// `token_http` calls the token and revoke endpoints, `api_http` calls `users/me` under
    /// `api_base` ([`crate::ZOOM_BASE`] in production); the default retry policy.
    pub fn new(
        settings: &ZoomOAuthSettings,
        token_http: reqwest::Client,
        api_http: reqwest::Client,
        api_base: &str,
    ) -> Result<Self, ZoomOAuthSetupError> {
        let url = |field: &'static str, value: &str| {
            Url::parse(value).map_err(|source| ZoomOAuthSetupError::BadUrl { field, source })
        };
        if let Some(redirect) = &settings.redirect_url {
            url("redirect_url", redirect)?;
        }
        Ok(Self {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            authorize_url: url("authorize_url", &settings.authorize_url)?,
            token_url: url("token_url", &settings.token_url)?,
            revoke_url: url("revoke_url", &settings.revoke_url)?,
            redirect_url: settings.redirect_url.clone(),
            token_http,
            api_http,
            api_base: BaseUrl::parse(api_base)?,
            retry: RetryPolicy::default(),
        })
    }

    /// How revocation and `users/me` retry.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn redirect(&self, operation: &'static str) -> Result<&str, ZoomAuthError> {
        self.redirect_url.as_deref().ok_or_else(|| {
            ZoomAuthError::new(
                operation,
                ZoomAuthErrorKind::Misconfigured,
                ZoomOAuthFailure::NoRedirect,
            )
        })
    }

    /// Posts a grant to the token endpoint, once; `sent` are the secrets in `form`, blotted
    /// out of whatever Zoom's refusal quotes.
    async fn token(
        &self,
        operation: &'static str,
        form: &[(&str, &str)],
        sent: &[&str],
    ) -> Result<ZoomGrant, ZoomAuthError> {
        let fail = |kind, source| ZoomAuthError::new(operation, kind, source);
        let response = self
            .token_http
            .post(self.token_url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .form(form)
            .send()
            .await
            .map_err(|e| fail(transport_kind(&e), ZoomOAuthFailure::Unreachable(e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| fail(transport_kind(&e), ZoomOAuthFailure::Unreachable(e)))?;
        if !status.is_success() {
            let (error, reason) = refusal(&body);
            let kind = token_refusal_kind(status.as_u16(), error.as_deref(), reason.as_deref());
            let reason = reason.map(|r| blot(r, sent));
            return Err(fail(
                kind,
                ZoomOAuthFailure::Refused {
                    status: status.as_u16(),
                    error,
                    reason,
                },
            ));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| fail(ZoomAuthErrorKind::Failed, malformed(&e)))?;
        let refresh_token = answer
            .refresh_token
            .filter(|t| !t.expose_secret().is_empty())
            .ok_or_else(|| fail(ZoomAuthErrorKind::Failed, ZoomOAuthFailure::NoRefreshToken))?;
        Ok(ZoomGrant {
            access_token: answer.access_token,
            refresh_token,
            expires_in: answer
                .expires_in
                .map_or(DEFAULT_ACCESS_LIFETIME, Duration::from_secs),
        })
    }
}

/// Zoom's token answer; `token_type` (`bearer`) and `scope` are not needed.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: SecretString,
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The part of Zoom's `users/me` hiresync keeps.
#[derive(Deserialize)]
struct MeAnswer {
    #[serde(default)]
    email: Option<String>,
    account_id: String,
}

fn malformed(e: &serde_json::Error) -> ZoomOAuthFailure {
    use serde_json::error::Category;
    ZoomOAuthFailure::Malformed {
        category: match e.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        },
        line: e.line(),
        column: e.column(),
    }
}

fn transport_kind(e: &reqwest::Error) -> ZoomAuthErrorKind {
    if e.is_builder() {
        ZoomAuthErrorKind::Failed
    } else {
        ZoomAuthErrorKind::Temporary
    }
}

/// Zoom's `error` and `reason` from a refusal.
fn refusal(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    (
        text("error"),
        text("reason").or_else(|| text("error_description")),
    )
}

/// `reason` with every secret we sent blotted out: Zoom may quote the code it refuses.
fn blot(mut reason: String, sent: &[&str]) -> String {
    for secret in sent.iter().filter(|s| !s.is_empty()) {
        reason = reason.replace(secret, "[REDACTED]");
    }
    reason
}

/// A refusal of a code redemption or a refresh in the port's kinds.
fn token_refusal_kind(status: u16, error: Option<&str>, reason: Option<&str>) -> ZoomAuthErrorKind {
    let redirect_mismatch = reason.is_some_and(|r| {
        let r = r.to_ascii_lowercase();
        r.contains("redirect uri") || r.contains("redirect_uri")
    }) || error == Some("redirect_uri_mismatch");
    match (status, error) {
        (408 | 429 | 500..=599, _) => ZoomAuthErrorKind::Temporary,
        (401, _) | (_, Some("invalid_client" | "unauthorized_client")) => {
            ZoomAuthErrorKind::Misconfigured
        }
        _ if redirect_mismatch => ZoomAuthErrorKind::Misconfigured,
        (400, Some("invalid_grant" | "invalid_request")) => ZoomAuthErrorKind::InvalidGrant,
        _ => ZoomAuthErrorKind::Failed,
    }
}

/// A failed revocation or `users/me` in the port's kinds; 401 means `on_401`.
fn api_kind(e: &ApiError, on_401: ZoomAuthErrorKind) -> ZoomAuthErrorKind {
    match e {
        ApiError::Status { status: 401, .. } => on_401,
        ApiError::Status {
            code: Some(code), ..
        } if code == "invalid_client" || code == "unauthorized_client" => {
            ZoomAuthErrorKind::Misconfigured
        }
        _ if e.is_retryable() => ZoomAuthErrorKind::Temporary,
        _ => ZoomAuthErrorKind::Failed,
    }
}

/// Zoom's answer to revoking a token it no longer knows (used, revoked, expired).
fn already_dead(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Status { status: 400, code: Some(code), .. }
            if matches!(code.as_str(), "invalid_request" | "invalid_grant" | "invalid_token")
    )
}

#[async_trait]
impl ZoomAuthorization for ZoomOAuth {
    fn authorization_url(&self, state: &str) -> Result<AuthorizationRequest, ZoomAuthError> {
        let redirect = self.redirect("zoom.authorize")?;
        let (challenge, verifier) = new_pkce();
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", state)
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", challenge.method().as_str());
        Ok(AuthorizationRequest {
            url: url.into(),
            verifier,
        })
    }

    async fn redeem(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<ZoomGrant, ZoomAuthError> {
        const OP: &str = "zoom.redeem";
        let redirect = self.redirect(OP)?;
        let verifier = verifier.expose_secret();
        self.token(
            OP,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ],
            &[code, verifier],
        )
        .await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<ZoomGrant, ZoomAuthError> {
        let token = refresh_token.expose_secret();
        self.token(
            "zoom.refresh",
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
            &[token],
        )
        .await
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), ZoomAuthError> {
        const OP: &str = "zoom.revoke";
        let outcome = send_with_retry(&self.retry, OP, Repeat::Safe, || {
            self.token_http
                .post(self.revoke_url.clone())
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .form(&[("token", token.expose_secret())])
        })
        .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(e) if already_dead(&e) => Ok(()),
            Err(e) => Err(ZoomAuthError::new(
                OP,
                api_kind(&e, ZoomAuthErrorKind::Misconfigured),
                e,
            )),
        }
    }

    async fn me(&self, access_token: &SecretString) -> Result<ZoomUser, ZoomAuthError> {
        const OP: &str = "zoom.me";
        let url = self.api_base.join(&["users", "me"], None);
        let api = Api::new(self.api_http.clone(), access_token.clone()).with_retry(self.retry);
        let answer: MeAnswer = api
            .send(OP, Repeat::Safe, |h| h.get(url.clone()))
            .await
            .and_then(|a| a.json(OP))
            .map_err(|e| {
                let kind = api_kind(&e, ZoomAuthErrorKind::InvalidGrant);
                ZoomAuthError::new(OP, kind, e)
            })?;
        let email = answer
            .email
            .and_then(|e| EmailAddress::parse(e).ok())
            .ok_or_else(|| {
                ZoomAuthError::new(OP, ZoomAuthErrorKind::Failed, ZoomOAuthFailure::NoEmail)
            })?;
        Ok(ZoomUser {
            email,
            account_id: answer.account_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_the_ports_kinds() {
        use ZoomAuthErrorKind::*;
        let cases = [
            (
                400,
                Some("invalid_request"),
                Some("Invalid Token!"),
                InvalidGrant,
            ),
            (400, Some("invalid_grant"), None, InvalidGrant),
            (
                400,
                Some("invalid_request"),
                Some("Redirect URI mismatch."),
                Misconfigured,
            ),
            (400, Some("redirect_uri_mismatch"), None, Misconfigured),
            (401, Some("invalid_client"), None, Misconfigured),
            (400, Some("invalid_client"), None, Misconfigured),
            (400, Some("unsupported_grant_type"), None, Failed),
            (403, None, None, Failed),
            (429, None, None, Temporary),
            (503, Some("invalid_request"), None, Temporary),
        ];
        for (status, error, reason, kind) in cases {
            assert_eq!(
                token_refusal_kind(status, error, reason),
                kind,
                "{status} {error:?} {reason:?}"
            );
        }
    }

    #[test]
    fn a_refusal_never_quotes_what_we_sent() {
        let body =
            br#"{"reason": "Invalid authorization code the-code", "error": "invalid_request"}"#;
        let (error, reason) = refusal(body);
        assert_eq!(error.as_deref(), Some("invalid_request"));
        assert_eq!(
            blot(reason.unwrap(), &["the-code", ""]),
            "Invalid authorization code [REDACTED]"
        );
        assert_eq!(refusal(b"<html>busy</html>"), (None, None));
    }

    #[test]
    fn settings_and_app_never_show_the_secret() {
        let settings = ZoomOAuthSettings {
            client_id: "zoom-client".to_owned(),
            client_secret: SecretString::from("zoom-secret-value"),
            authorize_url: ZOOM_AUTHORIZE.to_owned(),
            token_url: ZOOM_TOKEN.to_owned(),
            revoke_url: ZOOM_REVOKE.to_owned(),
            redirect_url: None,
        };
        assert!(!format!("{settings:?}").contains("zoom-secret-value"));
        let app = ZoomOAuth::new(
            &settings,
            reqwest::Client::new(),
            reqwest::Client::new(),
            crate::ZOOM_BASE,
        )
        .unwrap();
        assert!(!format!("{app:?}").contains("zoom-secret-value"));
        let bad = ZoomOAuthSettings {
            token_url: "not a url".to_owned(),
            ..settings
        };
        assert!(matches!(
            ZoomOAuth::new(&bad, reqwest::Client::new(), reqwest::Client::new(), "x"),
            Err(ZoomOAuthSetupError::BadUrl {
                field: "token_url",
                ..
            })
        ));
    }
}
