//! Verifying Pub/Sub push requests: the OIDC JWT Google signs (RS256), checked against
//! Google's published keys, cached and refetched when an unknown key id shows up.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

pub const GOOGLE_JWKS: &str = "https://www.googleapis.com/oauth2/v3/certs";
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// Tolerated clock skew on `exp`.
const LEEWAY_SECONDS: i64 = 60;
/// At most one refetch per this interval, however many unknown key ids arrive (forged key
/// ids must not turn into a flood of fetches); Pub/Sub retries a push refused meanwhile.
pub const REFETCH_AFTER: Duration = Duration::from_secs(30);

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
    email: Option<String>,
    email_verified: Option<bool>,
}

pub struct GooglePushVerifier {
    http: reqwest::Client,
    jwks_url: String,
    audience: String,
    service_account: String,
    refetch_after: Duration,
    keys: RwLock<(Option<JwkSet>, Option<Instant>)>,
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
            keys: RwLock::new((None, None)),
        }
    }

    /// How soon after a fetch an unknown key id may cause another.
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_after = interval;
        self
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, PushAuthError> {
        {
            let keys = self.keys.read().await;
            if let Some(jwk) = keys.0.as_ref().and_then(|set| set.find(kid)) {
                return DecodingKey::from_jwk(jwk).map_err(|_| PushAuthError::UnknownKey);
            }
        }
        let mut keys = self.keys.write().await;
        let recently = keys.1.is_some_and(|at| at.elapsed() < self.refetch_after);
        if !recently || keys.0.is_none() {
            let set: JwkSet = self
                .http
                .get(&self.jwks_url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|_| PushAuthError::KeysUnavailable)?
                .json()
                .await
                .map_err(|_| PushAuthError::KeysUnavailable)?;
            *keys = (Some(set), Some(Instant::now()));
        }
        let jwk = keys
            .0
            .as_ref()
            .and_then(|set| set.find(kid))
            .ok_or(PushAuthError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|_| PushAuthError::UnknownKey)
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
        let verified = claims.email_verified == Some(true);
        if !verified || claims.email.as_deref() != Some(self.service_account.as_str()) {
            return Err(PushAuthError::WrongAccount);
        }
        Ok(())
    }
}
