//! The OAuth `state` parameter: the pending authorization's id, signed.
//!
//! The id alone is unguessable and single-use (the store hands it out once); the signature
//! lets a forged or mangled state be refused before any storage is touched.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct StateSigner {
    key: std::sync::Arc<SecretBox<[u8]>>,
}

impl std::fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateSigner")
    }
}

/// A new random id for a pending authorization (or a secret): 32 bytes from the operating
/// system's CSPRNG, URL-safe.
pub fn new_id() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No entropy source means no safe secret: stop rather than hand out a weak one.
        std::process::abort();
    }
    B64.encode(bytes)
}

impl StateSigner {
    /// `key` must be at least 32 bytes.
    pub fn new(key: Vec<u8>) -> Option<Self> {
        (key.len() >= 32).then(|| Self {
            key: std::sync::Arc::new(SecretBox::new(key.into_boxed_slice())),
        })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        match HmacSha256::new_from_slice(self.key.expose_secret()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    pub fn sign(&self, id: &str) -> String {
        let mut mac = self.mac();
        mac.update(id.as_bytes());
        format!("{id}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The id inside a state this signer made, or `None` for anything else.
    pub fn verify<'s>(&self, state: &'s str) -> Option<&'s str> {
        let (id, signature) = state.rsplit_once('.')?;
        let signature = B64.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(id.as_bytes());
        mac.verify_slice(&signature).ok().map(|()| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> StateSigner {
        StateSigner::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn a_signed_state_verifies_and_a_tampered_one_does_not() {
        let s = signer(7);
        let id = new_id();
        let state = s.sign(&id);
        assert_eq!(s.verify(&state), Some(id.as_str()));
        assert_eq!(signer(8).verify(&state), None, "another key");
        let forged = format!("other-id.{}", state.rsplit_once('.').unwrap().1);
        assert_eq!(s.verify(&forged), None);
        assert_eq!(s.verify("no-signature"), None);
        assert_eq!(s.verify("id.!!!not-base64"), None);
    }

    #[test]
    fn short_keys_are_refused_and_ids_are_unique() {
        assert!(StateSigner::new(vec![1; 31]).is_none());
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 43);
    }
}
