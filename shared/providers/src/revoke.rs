//! Giving grants back when a connection ends.
//!
//! Microsoft offers no way to revoke one delegated grant: its v2.0 endpoint has no
//! revocation endpoint for a refresh or access token, and the only levers
//! (`revokeSignInSessions`, removing the user's consent, an admin removing the app) act
//! on the user's or the tenant's sign-ins and consents as a whole, not on our grant. So
//! there is nothing here for Microsoft: ending a Microsoft connection means deleting
//! its subscriptions and destroying the stored tokens.

use secrecy::{ExposeSecret, SecretString};

use crate::http::{send_with_retry, ApiError, Repeat, RetryPolicy};

/// Google's token revocation endpoint.
pub const GOOGLE_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";

/// Revokes a Google grant. Revoking an access token also revokes its refresh token, and
/// revoking the refresh token revokes the grant: pass whichever is at hand (the refresh
/// token still works after the access token expired).
///
/// A token Google no longer knows (400 `invalid_token`: expired, already revoked, or the
/// user removed access) counts as revoked, so repeating the call is harmless.
pub async fn revoke_google(
    http: &reqwest::Client,
    revoke_url: &str,
    token: &SecretString,
) -> Result<(), ApiError> {
    let outcome = send_with_retry(
        &RetryPolicy::default(),
        "google.revoke",
        Repeat::Safe,
        || {
            http.post(revoke_url)
                .form(&[("token", token.expose_secret())])
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(ApiError::Status {
            status: 400,
            code: Some(code),
            ..
        }) if code == "invalid_token" => Ok(()),
        Err(e) => Err(e),
    }
}
