//! The HTTP plumbing every provider client shares: one `reqwest::Client` per process, a
//! bearer token per connection, one error type, and one retry loop.
//!
//! Retries follow the providers' throttling rules (protocols.md §1.9, §5 rule 11): a 429
//! or 503 waits exactly as long as `Retry-After` says, because retrying sooner still
//! counts against the quota; other transient failures back off exponentially with full
//! jitter. A wait longer than the policy's cap is not slept through: the error comes back
//! with `retry_after` so the caller can put the job back on its queue with that delay
//! instead of holding a Lambda idle.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

/// Time allowed to open a connection (DNS, TCP, TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a whole request, body included. Graph validates a new subscription's
/// notification URL synchronously (up to 10 s) before it answers, so this stays above that.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Builds the process-wide HTTP client; build it once at cold start and clone it into
/// each [`Api`] (clones share the connection pool).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("hiresync/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A failed provider call.
///
/// `Display` never includes the provider's message or any body: error messages can quote
/// mailbox addresses, and logs must stay free of them. The fields are there for code.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The provider answered with a non-success status.
    #[error("provider answered HTTP {status}{}", detail(.code, .reason))]
    Status {
        status: u16,
        /// Graph's `error.code` (`MailboxNotEnabledForRESTAPI`), Google's `error.status`
        /// (`PERMISSION_DENIED`), an OAuth endpoint's `error` (`invalid_token`), or Zoom's
        /// numeric `code` as text (`1001`).
        code: Option<String>,
        /// The provider's human-readable message; may quote personal data.
        message: Option<String>,
        /// Google's machine reason (`ACCESS_TOKEN_SCOPE_INSUFFICIENT`,
        /// `rateLimitExceeded`), or Graph's `innerError.code` when present.
        reason: Option<String>,
        /// How long the provider asked us to wait (`Retry-After`, in seconds).
        retry_after: Option<Duration>,
    },
    /// No answer: the connection failed or the request timed out. The URL is stripped
    /// from the source, since paths can carry addresses (Google calendar ids).
    #[error("provider request failed without an answer (timeout: {timeout}, connect: {connect})")]
    Transport {
        #[source]
        source: reqwest::Error,
        timeout: bool,
        /// The request never left: nothing happened at the provider.
        connect: bool,
    },
    /// A success answer that does not have the documented shape.
    #[error("provider answer to {operation} has an unexpected shape")]
    Decode {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

fn detail(code: &Option<String>, reason: &Option<String>) -> String {
    match (code, reason) {
        (Some(c), Some(r)) => format!(" ({c}, {r})"),
        (Some(c), None) => format!(" ({c})"),
        (None, Some(r)) => format!(" ({r})"),
        (None, None) => String::new(),
    }
}

/// Google's reasons for per-minute quota errors, which come as 403 and pass with time.
const GOOGLE_RATE_LIMIT_REASONS: [&str; 4] = [
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "RATE_LIMIT_EXCEEDED",
    "USER_RATE_LIMIT_EXCEEDED",
];

impl ApiError {
    /// How long the provider asked to be left alone, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// This failure of `operation` as the mailbox port's error, keeping the provider's
    /// request to wait.
    pub fn in_mailbox(self, operation: &'static str) -> hiresync_domain::ports::MailboxError {
        let wait = self.retry_after();
        hiresync_domain::ports::MailboxError::new(operation, self).throttled(wait)
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The thing is gone (subscription expired or deleted, channel unknown).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Trying the same call again later may succeed without anything else changing:
    /// throttling, server trouble, or no answer at all.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status { status, reason, .. } => match *status {
                408 | 429 | 500 | 502 | 503 | 504 => true,
                403 => reason
                    .as_deref()
                    .is_some_and(|r| GOOGLE_RATE_LIMIT_REASONS.contains(&r)),
                _ => false,
            },
            // A request that could not even be built (bad URL) will not get better.
            ApiError::Transport { source, .. } => !source.is_builder(),
            ApiError::Decode { .. } => false,
        }
    }

    fn transport(source: reqwest::Error) -> Self {
        ApiError::Transport {
            timeout: source.is_timeout(),
            connect: source.is_connect(),
            source: source.without_url(),
        }
    }

    /// Whether the internal retry loop may try again, given whether repeating the
    /// request could do something twice.
    fn retry_in_loop(&self, idempotent: bool) -> bool {
        match self {
            // Nothing reached the provider, or it declined before doing anything.
            ApiError::Transport { connect: true, .. } => true,
            ApiError::Status {
                status: 429 | 503, ..
            } => true,
            other => idempotent && other.is_retryable(),
        }
    }
}

/// How often and how patiently a call is retried inside one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls in all, the first included.
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles per retry.
    pub base: Duration,
    /// The longest single wait, backoff or `Retry-After`. A longer `Retry-After` ends the
    /// loop and is handed to the caller in [`ApiError::Status::retry_after`].
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff before retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// A bearer token bound to the shared HTTP client, plus the retry policy.
///
/// One per connection (token); cheap to clone. `Debug` shows the token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    token: SecretString,
    retry: RetryPolicy,
}

/// Whether repeating a request can do something twice (create a second subscription).
/// Non-idempotent requests are retried only when the provider surely did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    Safe,
    Unsafe,
}

/// A success answer, body not yet read as any type.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json<T: DeserializeOwned>(&self, operation: &'static str) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|source| ApiError::Decode { operation, source })
    }
}

impl Api {
    pub fn new(http: reqwest::Client, token: SecretString) -> Self {
        Self {
            http,
            token,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends the request built by `build` with the bearer token, retrying per the policy.
    pub(crate) async fn send(
        &self,
        operation: &'static str,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Answer, ApiError> {
        send_with_retry(&self.retry, operation, repeat, || {
            build(&self.http).bearer_auth(self.token.expose_secret())
        })
        .await
    }
}

/// The retry loop, shared with calls that carry no bearer token (revocation).
pub(crate) async fn send_with_retry(
    policy: &RetryPolicy,
    operation: &'static str,
    repeat: Repeat,
    build: impl Fn() -> RequestBuilder,
) -> Result<Answer, ApiError> {
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let err = match send_once(build()).await {
            Ok(answer) => return Ok(answer),
            Err(err) => err,
        };
        if attempt >= max_attempts || !err.retry_in_loop(repeat == Repeat::Safe) {
            return Err(err);
        }
        let delay = match &err {
            ApiError::Status {
                retry_after: Some(wait),
                ..
            } => {
                if *wait > policy.cap {
                    return Err(err);
                }
                *wait
            }
            _ => policy.backoff(attempt),
        };
        tracing::debug!(
            operation,
            status = err.status(),
            attempt,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "provider call failed; retrying"
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

async fn send_once(request: RequestBuilder) -> Result<Answer, ApiError> {
    let response = request.send().await.map_err(ApiError::transport)?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = response
        .bytes()
        .await
        .map_err(ApiError::transport)?
        .to_vec();
    if status.is_success() {
        return Ok(Answer { body });
    }
    Err(status_error(status, retry_after, &body))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Reads whichever error shape the provider used: Graph's
/// `{"error":{"code","message","innerError"}}`, Google's
/// `{"error":{"code":403,"status","message","errors":[{"reason"}],"details":[{"reason"}]}}`,
/// an OAuth endpoint's `{"error":"invalid_token","error_description"}`, or Zoom's
/// `{"code":1001,"message"}` (the number kept as text in `code`).
fn status_error(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> ApiError {
    let (code, message, reason) = match serde_json::from_slice::<Value>(body) {
        Ok(v) => parse_error_body(&v),
        Err(_) => (None, None, None),
    };
    ApiError::Status {
        status: status.as_u16(),
        code,
        message,
        reason,
        retry_after,
    }
}

type ErrorParts = (Option<String>, Option<String>, Option<String>);

fn parse_error_body(v: &Value) -> ErrorParts {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match v.get("error") {
        Some(Value::String(code)) => (Some(code.clone()), text(v.get("error_description")), None),
        Some(e @ Value::Object(_)) => {
            let code = match e.get("code") {
                Some(Value::String(c)) => Some(c.clone()),
                _ => text(e.get("status")),
            };
            let first_reason = |key: &str| {
                e.get(key)?
                    .as_array()?
                    .iter()
                    .find_map(|d| text(d.get("reason")))
            };
            let inner_code = || {
                e.get("innerError")
                    .or_else(|| e.get("innererror"))
                    .and_then(|i| text(i.get("code")))
            };
            let reason = first_reason("details")
                .or_else(|| first_reason("errors"))
                .or_else(inner_code);
            (code, text(e.get("message")), reason)
        }
        // Zoom: `{"code": 1001, "message": "..."}`, the code a number.
        None => {
            let code = match v.get("code") {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(c)) => Some(c.clone()),
                _ => None,
            };
            (code, text(v.get("message")), None)
        }
        _ => (None, None, None),
    }
}

/// A provider base URL, checked once at construction so that joining paths cannot fail.
#[derive(Debug, Clone)]
pub(crate) struct BaseUrl(pub(crate) Url);

/// A configured base URL that cannot take paths (`mailto:x`, or not a URL at all).
#[derive(Debug, Error)]
#[error("invalid provider base URL {0:?}")]
pub struct InvalidBaseUrl(pub String);

impl BaseUrl {
    pub(crate) fn parse(base: &str) -> Result<Self, InvalidBaseUrl> {
        match Url::parse(base) {
            Ok(url) if !url.cannot_be_a_base() => Ok(Self(url)),
            _ => Err(InvalidBaseUrl(base.to_owned())),
        }
    }

    /// Appends path segments, each percent-encoded (calendar ids contain `@` and `#`),
    /// and sets a literal query, if any.
    pub(crate) fn join(&self, segments: &[&str], query: Option<&str>) -> Url {
        let mut url = self.0.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.set_query(query);
        url
    }
}

/// Serde helpers for Google's habit of sending 64-bit numbers as strings.
pub(crate) mod google_json {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrNum {
        Str(String),
        Num(i64),
    }

    /// An epoch-milliseconds expiration (`"1431990098200"`, or the same as a number).
    pub(crate) fn epoch_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let ms = match StrOrNum::deserialize(d)? {
            StrOrNum::Str(s) => s.trim().parse::<i64>().map_err(serde::de::Error::custom)?,
            StrOrNum::Num(n) => n,
        };
        Timestamp::from_millisecond(ms).map_err(serde::de::Error::custom)
    }

    /// An opaque id that may come as a string or a number; kept as text.
    pub(crate) fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match StrOrNum::deserialize(d)? {
            StrOrNum::Str(s) => s,
            StrOrNum::Num(n) => n.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(700),
        };
        for retry in 1..40 {
            assert!(
                p.backoff(retry) <= Duration::from_millis(700),
                "retry {retry}"
            );
        }
        for _ in 0..50 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn graph_error_shape() {
        let parts = parse_error_body(&json!({"error": {
            "code": "MailboxNotEnabledForRESTAPI",
            "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            "innerError": {"date": "2026-01-05T10:00:00", "request-id": "r"}}}));
        assert_eq!(parts.0.as_deref(), Some("MailboxNotEnabledForRESTAPI"));
        assert!(parts.1.is_some());
        assert_eq!(parts.2, None);
    }

    #[test]
    fn google_error_prefers_error_info_reason() {
        let parts = parse_error_body(&json!({"error": {
            "code": 403, "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}));
        assert_eq!(parts.0.as_deref(), Some("PERMISSION_DENIED"));
        assert_eq!(parts.2.as_deref(), Some("ACCESS_TOKEN_SCOPE_INSUFFICIENT"));
    }

    #[test]
    fn google_legacy_reason_when_no_details() {
        let parts = parse_error_body(&json!({"error": {
            "code": 403, "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}]}}));
        assert_eq!(parts.0, None);
        assert_eq!(parts.2.as_deref(), Some("userRateLimitExceeded"));
    }

    #[test]
    fn oauth_error_shape() {
        let parts = parse_error_body(
            &json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
        );
        assert_eq!(parts.0.as_deref(), Some("invalid_token"));
        assert_eq!(parts.1.as_deref(), Some("Token expired or revoked"));
    }

    #[test]
    fn zoom_error_shape_keeps_the_numeric_code_as_text() {
        let parts = parse_error_body(
            &json!({"code": 1001, "message": "User does not exist: rita@acme.example."}),
        );
        assert_eq!(parts.0.as_deref(), Some("1001"));
        assert!(parts.1.is_some());
        assert_eq!(parts.2, None);
    }

    #[test]
    fn google_rate_limit_403_is_retryable_but_scope_403_is_not() {
        let err = |reason: &str| ApiError::Status {
            status: 403,
            code: None,
            message: None,
            reason: Some(reason.to_owned()),
            retry_after: None,
        };
        assert!(err("userRateLimitExceeded").is_retryable());
        assert!(!err("ACCESS_TOKEN_SCOPE_INSUFFICIENT").is_retryable());
    }

    #[test]
    fn display_leaves_out_the_message() {
        let e = ApiError::Status {
            status: 404,
            code: Some("ErrorItemNotFound".into()),
            message: Some("jane@example.org not found".into()),
            reason: None,
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "provider answered HTTP 404 (ErrorItemNotFound)"
        );
    }

    #[test]
    fn base_url_joins_encoded_segments() {
        let base = BaseUrl::parse("https://www.googleapis.com/calendar/v3/").unwrap();
        let url = base.join(
            &["calendars", "a#b@group.calendar.google.com", "events"],
            None,
        );
        assert_eq!(
            url.as_str(),
            "https://www.googleapis.com/calendar/v3/calendars/a%23b@group.calendar.google.com/events"
        );
        let graph = BaseUrl::parse("https://graph.microsoft.com/v1.0").unwrap();
        assert_eq!(
            graph.join(&["me"], Some("$select=id,mail")).as_str(),
            "https://graph.microsoft.com/v1.0/me?$select=id,mail"
        );
        assert!(BaseUrl::parse("mailto:x@y").is_err());
        assert!(BaseUrl::parse("not a url").is_err());
    }
}
