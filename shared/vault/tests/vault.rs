//! Envelope encryption of refresh tokens against KMS (moto on loopback).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_domain::ports::{SealError as VaultError, TokenSealer};
use hiresync_vault::TokenVault;
use secrecy::{ExposeSecret, SecretString};

async fn vault() -> TokenVault {
    let (config, key) = hiresync_localstack::fresh_key("vault").await.unwrap();
    TokenVault::new(aws_sdk_kms::Client::new(&config), key)
}

const CONTEXT: &[(&str, &str)] = &[("contract", "acme"), ("seat", "seat-1"), ("kind", "email")];

#[tokio::test]
async fn a_sealed_token_opens_only_for_its_own_connection() {
    let vault = vault().await;
    let token = SecretString::from("1.AXkA-refresh-token-value-9f8e7d");
    let sealed = vault.seal(&token, CONTEXT).await.unwrap();

    // Nothing stored carries the token.
    let needle = b"refresh-token-value";
    for part in [&sealed.ciphertext, &sealed.wrapped_key, &sealed.nonce] {
        assert!(!part.windows(needle.len()).any(|w| w == needle));
    }
    assert!(!format!("{sealed:?}").contains("refresh-token"));

    let opened = vault.open(&sealed, CONTEXT).await.unwrap();
    assert_eq!(opened.expose_secret(), token.expose_secret());

    // Copied onto another seat's connection, it cannot be opened.
    let other = &[("contract", "acme"), ("seat", "seat-2"), ("kind", "email")];
    assert!(matches!(
        vault.open(&sealed, other).await,
        Err(VaultError::Integrity)
    ));

    // Tampering is detected.
    let mut tampered = sealed.clone();
    tampered.ciphertext[0] ^= 0x01;
    assert!(matches!(
        vault.open(&tampered, CONTEXT).await,
        Err(VaultError::Integrity)
    ));
}

#[tokio::test]
async fn each_seal_uses_a_fresh_data_key_and_nonce() {
    let vault = vault().await;
    let token = SecretString::from("same-token");
    let a = vault.seal(&token, CONTEXT).await.unwrap();
    let b = vault.seal(&token, CONTEXT).await.unwrap();
    assert_ne!(a.wrapped_key, b.wrapped_key);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.ciphertext, b.ciphertext);
}
