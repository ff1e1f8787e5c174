//! The token sealer in memory: a reversible, context-bound transformation that is not
//! encryption but behaves like the vault where a use case can tell (a token sealed for one
//! connection does not open for another; the sealed bytes never contain the token).

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use hiresync_domain::ports::{SealContext, SealError, TokenSealer};
use hiresync_domain::sealed::Sealed;
use secrecy::{ExposeSecret, SecretString};

#[derive(Default)]
pub struct InMemorySealer {
    /// Seals and opens so far.
    pub calls: AtomicU32,
}

fn context_bytes(context: SealContext<'_>) -> Vec<u8> {
    let mut pairs = context.to_vec();
    pairs.sort();
    pairs
        .iter()
        .flat_map(|(k, v)| format!("{k}={v};").into_bytes())
        .collect()
}

fn mask(bytes: &[u8], key: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % key.len()] ^ 0x5a)
        .collect()
}

#[async_trait]
impl TokenSealer for InMemorySealer {
    async fn seal(
        &self,
        secret: &SecretString,
        context: SealContext<'_>,
    ) -> Result<Sealed, SealError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let key = context_bytes(context);
        Ok(Sealed {
            key_id: "fake".into(),
            wrapped_key: key.clone(),
            nonce: vec![0; 12],
            ciphertext: mask(secret.expose_secret().as_bytes(), &key),
        })
    }

    async fn open(
        &self,
        sealed: &Sealed,
        context: SealContext<'_>,
    ) -> Result<SecretString, SealError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let key = context_bytes(context);
        if sealed.wrapped_key != key {
            return Err(SealError::Integrity);
        }
        String::from_utf8(mask(&sealed.ciphertext, &key))
            .map(SecretString::from)
            .map_err(|_| SealError::Integrity)
    }
}
