//! Verifying Pub/Sub push requests: the OIDC JWT Google signs (RS256), checked against
//! Google's published keys. The keys are cached for as long as Google's `Cache-Control`
//! says, fetched with a timeout and without holding a lock meanwhile, and refetched for an
//! unknown key id at most once per interval, so forged key ids cannot cause a flood.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

pub const GOOGLE_JWKS: &str = "https://www.googleapis.com/oauth2/v3/certs";
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// Tolerated clock skew on `exp`, `iat` and `nbf`.
const LEEWAY_SECONDS: i64 = 60;
/// At most one fetch per this interval, however many unknown key ids arrive (forged key
/// ids must not turn into a flood of fetches); Pub/Sub retries a push refused meanwhile.
pub const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// How long a fetch of Google's keys may take: a push must be answered within seconds.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// How long keys are kept when Google's answer names no lifetime.
const DEFAULT_KEYS_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushAuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not an RS256 JWT with a key id")]
    Malformed,
    #[error("the token is signed with a key Google does not publish")]
    UnknownKey,
    #[error("the token's signature, issuer or audience is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not from the configured push service account")]
    WrongAccount,
    #[error("Google's keys could not be fetched")]
    KeysUnavailable,
}

#[derive(Deserialize)]
struct Claims {
    exp: i64,
    iat: Option<i64>,
    nbf: Option<i64>,
    email: Option<String>,
    email_verified: Option<bool>,
}

pub struct GooglePushVerifier {
    http: reqwest::Client,
    jwks_url: String,
    audience: String,
    service_account: String,
    refetch_after: Duration,
    keys: Mutex<KeyCache>,
}

/// What is known of Google's keys; the lock around it is never held across an await.
#[derive(Default)]
struct KeyCache {
    set: Option<Arc<JwkSet>>,
    /// Until when `set` may be used without asking again (`Cache-Control: max-age`).
    fresh_until: Option<Instant>,
    /// When a fetch last started, successful or not.
    last_attempt: Option<Instant>,
}

impl std::fmt::Debug for GooglePushVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GooglePushVerifier")
            .field("audience", &self.audience)
            .field("service_account", &self.service_account)
            .finish_non_exhaustive()
    }
}

impl GooglePushVerifier {
    pub fn new(
        http: reqwest::Client,
        jwks_url: String,
        audience: String,
        service_account: String,
    ) -> Self {
        Self {
            http,
            jwks_url,
            audience,
            service_account,
            refetch_after: REFETCH_AFTER,
            keys: Mutex::new(KeyCache::default()),
        }
    }

    /// How soon after a fetch an unknown key id may cause another.
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_after = interval;
        self
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, PushAuthError> {
        let now = Instant::now();
        let (cached, fetch) = {
            let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = cache.fresh_until.is_some_and(|until| now < until);
            let known = cache
                .set
                .as_ref()
                .is_some_and(|set| set.find(kid).is_some());
            let may_fetch = cache
                .last_attempt
                .is_none_or(|at| now.duration_since(at) >= self.refetch_after);
            let fetch = (!fresh || !known) && may_fetch;
            if fetch {
                cache.last_attempt = Some(now);
            }
            (cache.set.clone(), fetch)
        };
        let set = if fetch {
            match self.fetch().await {
                Ok((set, lifetime)) => {
                    let set = Arc::new(set);
                    let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
                    cache.set = Some(set.clone());
                    cache.fresh_until = Some(Instant::now() + lifetime);
                    set
                }
                // Stale keys still verify what they signed; without any, the push waits.
                Err(e) => cached.ok_or(e)?,
            }
        } else {
            cached.ok_or(PushAuthError::KeysUnavailable)?
        };
        let jwk = set.find(kid).ok_or(PushAuthError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|_| PushAuthError::UnknownKey)
    }

    /// Google's keys and how long they may be kept.
    async fn fetch(&self) -> Result<(JwkSet, Duration), PushAuthError> {
        let response = self
            .http
            .get(&self.jwks_url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|_| PushAuthError::KeysUnavailable)?;
        let lifetime = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_KEYS_LIFETIME);
        let set = response
            .json()
            .await
            .map_err(|_| PushAuthError::KeysUnavailable)?;
        Ok((set, lifetime))
    }

    /// Verifies `Authorization: Bearer <jwt>` at `now` (seconds since the epoch).
    pub async fn verify(&self, header: Option<&str>, now: i64) -> Result<(), PushAuthError> {
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(PushAuthError::Missing)?;
        let head = jsonwebtoken::decode_header(token).map_err(|_| PushAuthError::Malformed)?;
        if head.alg != Algorithm::RS256 {
            return Err(PushAuthError::Malformed);
        }
        let kid = head.kid.ok_or(PushAuthError::Malformed)?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&ISSUERS);
        // Expiry against the invocation's clock (below), not the library's.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "aud"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|_| PushAuthError::Invalid)?
            .claims;
        if now > claims.exp + LEEWAY_SECONDS {
            return Err(PushAuthError::Expired);
        }
        // Issued, or valid, only in the future: not a token Google handed out for now.
        if [claims.iat, claims.nbf]
            .into_iter()
            .flatten()
            .any(|t| t > now + LEEWAY_SECONDS)
        {
            return Err(PushAuthError::Invalid);
        }
        let verified = claims.email_verified == Some(true);
        if !verified || claims.email.as_deref() != Some(self.service_account.as_str()) {
            return Err(PushAuthError::WrongAccount);
        }
        Ok(())
    }
}

/// `max-age` of a `Cache-Control` value, if it has one.
fn max_age(value: &str) -> Option<Duration> {
    value
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("max-age="))
        .find_map(|n| n.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_googles_cache_control() {
        assert_eq!(
            max_age("public, max-age=19732, must-revalidate, no-transform"),
            Some(Duration::from_secs(19732))
        );
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
