//! Envelope encryption of refresh tokens with KMS: the [`TokenSealer`] adapter.
//!
//! Each token gets its own data key from KMS (`GenerateDataKey`, AES-256); the token is
//! encrypted locally with AES-256-GCM and only the KMS-wrapped data key is kept beside the
//! ciphertext. The encryption context (contract, seat, connection kind) is bound both to
//! the KMS data key and, as associated data, to the ciphertext: a sealed token copied onto
//! another connection cannot be opened there. Plaintext tokens exist only in memory, inside
//! `SecretString`, which never prints its contents.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use hiresync_domain::ports::{SealContext as Context, SealError as VaultError, TokenSealer};
use secrecy::{ExposeSecret, SecretString};

pub use hiresync_domain::sealed::Sealed;

fn associated_data(context: Context<'_>) -> Vec<u8> {
    let mut pairs: Vec<_> = context.to_vec();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={};", k.len(), k) + &format!("{}={}", v.len(), v) + "|")
        .collect::<String>()
        .into_bytes()
}

fn kms_context(context: Context<'_>) -> HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[derive(Clone)]
pub struct TokenVault {
    kms: aws_sdk_kms::Client,
    key_id: String,
}

impl std::fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVault")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl TokenVault {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
        }
    }
}

#[async_trait]
impl TokenSealer for TokenVault {
    async fn seal(
        &self,
        secret: &SecretString,
        context: Context<'_>,
    ) -> Result<Sealed, VaultError> {
        let key = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(kms_context(context)))
            .send()
            .await
            .map_err(|e| VaultError::Backend {
                operation: "KMS GenerateDataKey",
                source: Box::new(e),
            })?;
        let plaintext = key
            .plaintext
            .ok_or(VaultError::Incomplete("plaintext data key"))?;
        let wrapped = key
            .ciphertext_blob
            .ok_or(VaultError::Incomplete("wrapped data key"))?;
        let cipher = Aes256Gcm::new_from_slice(plaintext.as_ref())
            .map_err(|_| VaultError::Incomplete("256-bit data key"))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(context);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Integrity)?;
        Ok(Sealed {
            key_id: key.key_id.unwrap_or_else(|| self.key_id.clone()),
            wrapped_key: wrapped.into_inner(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    async fn open(
        &self,
        sealed: &Sealed,
        context: Context<'_>,
    ) -> Result<SecretString, VaultError> {
        let key = self
            .kms
            .decrypt()
            .key_id(&sealed.key_id)
            .ciphertext_blob(Blob::new(sealed.wrapped_key.clone()))
            .set_encryption_context(Some(kms_context(context)))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(
                    aws_sdk_kms::operation::decrypt::DecryptError::InvalidCiphertextException(_),
                ) => VaultError::Integrity,
                _ => VaultError::Backend {
                    operation: "KMS Decrypt",
                    source: Box::new(e),
                },
            })?;
        let plaintext = key
            .plaintext
            .ok_or(VaultError::Incomplete("plaintext data key"))?;
        if sealed.nonce.len() != 12 {
            return Err(VaultError::Integrity);
        }
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(plaintext.as_ref()));
        let aad = associated_data(context);
        let bytes = cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Integrity)?;
        let text = String::from_utf8(bytes).map_err(|_| VaultError::Integrity)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn associated_data_is_order_independent_and_unambiguous() {
        assert_eq!(
            associated_data(&[("seat", "s"), ("contract", "c")]),
            associated_data(&[("contract", "c"), ("seat", "s")])
        );
        assert_ne!(
            associated_data(&[("a", "b=c")]),
            associated_data(&[("a=b", "c")])
        );
    }
}
