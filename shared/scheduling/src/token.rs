//! A scheduling link's token: who it belongs to (contract and seat), until when, a random
//! part, and a signature over all of it.
//!
//! A token is refused before any storage is read when it is mangled, forged or expired;
//! only a hash of it is stored, so a copy of the table books nothing. The contract and seat
//! travel in the token (opaque ids, not secrets) so the link is found under its contract's
//! key, never by a global id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hiresync_domain::ids::{ContractId, SeatId};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;
/// The longest token accepted (two ids of 128 characters and the rest, in base64).
pub const MAX_TOKEN_CHARS: usize = 512;

/// Signs and checks link tokens with the deployment's link key.
#[derive(Clone)]
pub struct LinkSigner {
    key: std::sync::Arc<SecretBox<[u8]>>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner")
    }
}

/// What a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub contract: ContractId,
    pub seat: SeatId,
    pub expires_at: Timestamp,
    /// The lowercase hex SHA-256 of the token: the stored link's key.
    pub hash: String,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not one of ours: mangled, truncated, forged or signed with another key.
    #[error("not a scheduling link")]
    Unknown,
    #[error("the link expired")]
    Expired,
}

/// The hash a link is stored under.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl LinkSigner {
    /// `key` must be at least 32 bytes.
    pub fn new(key: Vec<u8>) -> Option<Self> {
        (key.len() >= 32).then(|| Self {
            key: std::sync::Arc::new(SecretBox::new(key.into_boxed_slice())),
        })
    }

    fn mac(&self) -> HmacSha256 {
        match HmacSha256::new_from_slice(self.key.expose_secret()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// A new token for `seat` of `contract`, valid until `expires_at`.
    pub fn mint(&self, contract: &ContractId, seat: &SeatId, expires_at: Timestamp) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        if getrandom::getrandom(&mut nonce).is_err() {
            // No entropy source means no unguessable link: stop rather than mint a weak one.
            std::process::abort();
        }
        self.mint_with(contract, seat, expires_at, nonce)
    }

    fn mint_with(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        expires_at: Timestamp,
        nonce: [u8; NONCE_BYTES],
    ) -> String {
        let mut body = Vec::with_capacity(64);
        body.push(VERSION);
        body.extend_from_slice(&expires_at.as_second().to_be_bytes());
        body.extend_from_slice(&nonce);
        for id in [contract.as_str(), seat.as_str()] {
            // Ids are at most 128 characters of ASCII.
            body.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
            body.extend_from_slice(id.as_bytes());
        }
        let mut mac = self.mac();
        mac.update(&body);
        body.extend_from_slice(&mac.finalize().into_bytes());
        B64.encode(body)
    }

    /// The claims of a token this signer minted, if it is still valid at `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<TokenClaims, TokenError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Unknown);
        }
        let raw = B64.decode(token).map_err(|_| TokenError::Unknown)?;
        if raw.len() < 1 + 8 + NONCE_BYTES + 2 + MAC_BYTES {
            return Err(TokenError::Unknown);
        }
        let (body, signature) = raw.split_at(raw.len() - MAC_BYTES);
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(signature)
            .map_err(|_| TokenError::Unknown)?;
        let mut rest = body;
        let version = take(&mut rest, 1)?;
        if version != [VERSION] {
            return Err(TokenError::Unknown);
        }
        let seconds = i64::from_be_bytes(
            take(&mut rest, 8)?
                .try_into()
                .map_err(|_| TokenError::Unknown)?,
        );
        take(&mut rest, NONCE_BYTES)?;
        let contract = ContractId::parse(text(&mut rest)?).map_err(|_| TokenError::Unknown)?;
        let seat = SeatId::parse(text(&mut rest)?).map_err(|_| TokenError::Unknown)?;
        if !rest.is_empty() {
            return Err(TokenError::Unknown);
        }
        let expires_at = Timestamp::from_second(seconds).map_err(|_| TokenError::Unknown)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        Ok(TokenClaims {
            contract,
            seat,
            expires_at,
            hash: token_hash(token),
        })
    }
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], TokenError> {
    if rest.len() < n {
        return Err(TokenError::Unknown);
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

fn text(rest: &mut &[u8]) -> Result<String, TokenError> {
    let len = usize::from(*take(rest, 1)?.first().ok_or(TokenError::Unknown)?);
    String::from_utf8(take(rest, len)?.to_vec()).map_err(|_| TokenError::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> LinkSigner {
        LinkSigner::new(vec![byte; 32]).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_minted_token_names_its_contract_seat_and_expiry_and_its_hash() {
        let (c, s) = (
            ContractId::parse("acme").unwrap(),
            SeatId::parse("s.1").unwrap(),
        );
        let token = signer(7).mint(&c, &s, at("2026-12-15T00:00:00Z"));
        let claims = signer(7)
            .verify(&token, at("2026-12-01T00:00:00Z"))
            .unwrap();
        assert_eq!(claims.contract, c);
        assert_eq!(claims.seat, s);
        assert_eq!(claims.expires_at, at("2026-12-15T00:00:00Z"));
        assert_eq!(claims.hash, token_hash(&token));
        assert_eq!(claims.hash.len(), 64);
        // Two tokens for the same candidate differ: the random part.
        assert_ne!(token, signer(7).mint(&c, &s, at("2026-12-15T00:00:00Z")));
    }

    #[test]
    fn expired_forged_mangled_and_foreign_tokens_are_refused() {
        let (c, s) = (
            ContractId::parse("acme").unwrap(),
            SeatId::parse("s1").unwrap(),
        );
        let expiry = at("2026-12-15T00:00:00Z");
        let token = signer(7).mint_with(&c, &s, expiry, [1; NONCE_BYTES]);
        assert_eq!(signer(7).verify(&token, expiry), Err(TokenError::Expired));
        assert_eq!(
            signer(8).verify(&token, at("2026-12-01T00:00:00Z")),
            Err(TokenError::Unknown)
        );
        let mut raw = B64.decode(&token).unwrap();
        raw[2] ^= 1; // a later expiry written by hand
        assert_eq!(
            signer(7).verify(&B64.encode(&raw), at("2026-12-01T00:00:00Z")),
            Err(TokenError::Unknown)
        );
        for junk in [
            "",
            "abc",
            "!!!!",
            &"A".repeat(600),
            &token[..token.len() - 2],
        ] {
            assert_eq!(
                signer(7).verify(junk, at("2026-12-01T00:00:00Z")),
                Err(TokenError::Unknown),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(LinkSigner::new(vec![1; 31]).is_none());
    }
}
