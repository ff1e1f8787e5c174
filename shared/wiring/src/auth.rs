//! Who is calling: a bearer token issued by the product's identity system, an HS256 JWT
//! signed with one of the configured keys (chosen by its `kid`), for audience `hiresync`.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

pub const AUDIENCE: &str = "hiresync";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Recruiter,
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub contract: ContractId,
    pub seat: SeatId,
    pub role: Role,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    contract: String,
    seat: String,
    role: Role,
    exp: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the bearer token is not valid")]
    Invalid,
    #[error("the bearer token has expired")]
    Expired,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "API_AUTH_KEYS must be a comma list of kid:base64-secret with secrets of at least 32 bytes"
)]
pub struct BadKeys;

pub struct Authenticator {
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Authenticator {
    /// `spec` is `kid:base64secret[,kid:base64secret...]`, so keys can be rotated by
    /// adding the new one before retiring the old.
    pub fn from_spec(spec: &str) -> Result<Self, BadKeys> {
        let mut keys = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, secret) = entry.split_once(':').ok_or(BadKeys)?;
            let secret = B64.decode(secret).map_err(|_| BadKeys)?;
            if kid.is_empty() || secret.len() < 32 {
                return Err(BadKeys);
            }
            keys.insert(kid.to_owned(), DecodingKey::from_secret(&secret));
        }
        if keys.is_empty() {
            return Err(BadKeys);
        }
        Ok(Self { keys })
    }

    /// Verifies `Authorization: Bearer <jwt>` at `now`.
    pub fn verify(&self, header: Option<&str>, now: Timestamp) -> Result<Caller, AuthError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let head = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if head.alg != Algorithm::HS256 {
            return Err(AuthError::Invalid);
        }
        let key = head
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(AuthError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        // Expiry is checked below against the invocation's clock, not the library's.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "aud", "sub"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|_| AuthError::Invalid)?
            .claims;
        if now.as_second() >= claims.exp {
            return Err(AuthError::Expired);
        }
        Ok(Caller {
            user: UserId::parse(claims.sub).map_err(|_| AuthError::Invalid)?,
            contract: ContractId::parse(claims.contract).map_err(|_| AuthError::Invalid)?,
            seat: SeatId::parse(claims.seat).map_err(|_| AuthError::Invalid)?,
            role: claims.role,
        })
    }
}
