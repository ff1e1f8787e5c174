//! The OAuth `state` parameter: the pending authorization's id, signed together with who
//! started it.
//!
//! The id alone is unguessable and single-use (the store hands it out once); the signature
//! lets a forged or mangled state be refused before any storage is touched, and, as it
//! covers the seat, the user and the kind the sign-in was started for (its binding, never
//! in the URL), a state presented by anyone else is refused the same way: it is not
//! consumed, so the seat that started it can still finish.

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

    fn mac_of(&self, id: &str, binding: &str) -> HmacSha256 {
        let mut mac = self.mac();
        mac.update(id.as_bytes());
        // Ids never contain a newline, so id and binding cannot be shifted into each other.
        mac.update(b"\n");
        mac.update(binding.as_bytes());
        mac
    }

    /// The state of pending authorization `id`, bound to `binding`.
    pub fn sign(&self, id: &str, binding: &str) -> String {
        let mac = self.mac_of(id, binding);
        format!("{id}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The id inside a state this signer made for `binding`, or `None` for anything else.
    pub fn verify<'s>(&self, state: &'s str, binding: &str) -> Option<&'s str> {
        let (id, signature) = state.rsplit_once('.')?;
        let signature = B64.decode(signature).ok()?;
        self.mac_of(id, binding)
            .verify_slice(&signature)
            .ok()
            .map(|()| id)
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
        let state = s.sign(&id, "acme/s1/u1/email");
        assert_eq!(s.verify(&state, "acme/s1/u1/email"), Some(id.as_str()));
        assert_eq!(
            signer(8).verify(&state, "acme/s1/u1/email"),
            None,
            "another key"
        );
        assert_eq!(s.verify(&state, "acme/s2/u2/email"), None, "another seat");
        let forged = format!("other-id.{}", state.rsplit_once('.').unwrap().1);
        assert_eq!(s.verify(&forged, "acme/s1/u1/email"), None);
        assert_eq!(s.verify("no-signature", ""), None);
        assert_eq!(s.verify("id.!!!not-base64", ""), None);
    }

    #[test]
    fn short_keys_are_refused_and_ids_are_unique() {
        assert!(StateSigner::new(vec![1; 31]).is_none());
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 43);
    }
}
