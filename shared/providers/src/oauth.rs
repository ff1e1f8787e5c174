//! OAuth 2 authorization code flow with PKCE, for the Microsoft identity platform and
//! Google, on the `oauth2` crate.
//!
//! Endpoints are configuration, so tests and the local stack point them at a stub. Tokens
//! only ever travel inside `SecretString`; errors carry the provider's error code and
//! numeric codes (Microsoft's `error_codes`), never a token.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use hiresync_domain::contract::Provider;
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The error body of a token endpoint. Microsoft adds `error_codes` (AADSTS numbers) to the
/// standard fields; Google sends the standard ones only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u32>,
}

impl fmt::Display for TokenErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if !self.error_codes.is_empty() {
            write!(f, " {:?}", self.error_codes)?;
        }
        Ok(())
    }
}

impl oauth2::ErrorResponse for TokenErrorBody {}

/// The OpenID Connect `id_token` that comes with the token response when `openid` was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

type IdTokenResponse = oauth2::StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The identity claims hiresync reads from an `id_token`: which kind of account signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IdClaims {
    /// Microsoft: the tenant (the consumer tenant means a personal account).
    pub tid: Option<String>,
    /// Google: the Workspace domain; absent for consumer accounts.
    pub hd: Option<String>,
    pub email: Option<String>,
    /// Microsoft's sign-in name.
    pub preferred_username: Option<String>,
}

/// Reads the claims of an `id_token` received straight from the token endpoint over TLS.
/// OpenID Connect lets a client that got the token this way rely on TLS instead of checking
/// the signature (Core 3.1.3.7); the token is never accepted from anywhere else.
fn id_claims(id_token: &str) -> Option<IdClaims> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

type Client = oauth2::Client<
    TokenErrorBody,
    IdTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The provider's own endpoints, used unless configuration points elsewhere (a sandbox).
pub const MICROSOFT_AUTHORIZE: &str =
    "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize";
pub const MICROSOFT_TOKEN: &str =
    "https://login.microsoftonline.com/organizations/oauth2/v2.0/token";
pub const GOOGLE_AUTHORIZE: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";

/// One OAuth application (client) registered with a provider.
#[derive(Clone)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: String,
    pub token_url: String,
    /// Where the provider sends a seat back after signing in. Only a function that starts
    /// sign-ins has one; refreshing and revoking need none.
    pub redirect_url: Option<String>,
}

impl fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("client_id", &self.client_id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Error)]
pub enum OAuthError {
    #[error("OAuth endpoint {field} is not a valid URL")]
    BadUrl {
        field: &'static str,
        #[source]
        source: oauth2::url::ParseError,
    },
    /// The provider refused: its error code and, for Microsoft, the AADSTS numbers.
    #[error("the provider refused the token request: {0}")]
    Rejected(TokenErrorBody),
    /// The token endpoint could not be reached (network, DNS, TLS, timeout).
    #[error("the token endpoint could not be reached")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the token endpoint answered with something that is not a token response")]
    Malformed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A sign-in was asked of a function configured without a redirect URL.
    #[error("no redirect URL is configured, so no sign-in can start here")]
    NoRedirect,
}

impl OAuthError {
    /// The grant (code or refresh token) is no longer good: the seat must authorize again.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, OAuthError::Rejected(body) if body.error == "invalid_grant")
    }
}

/// What a successful code redemption or refresh yields.
pub struct TokenSet {
    pub access_token: SecretString,
    /// Microsoft returns a new one on every refresh (replace the stored one); Google only on
    /// the first consent.
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
    /// The scopes the provider says it granted (Google's granular consent may grant fewer
    /// than requested); `None` when the response does not say.
    pub granted_scopes: Option<BTreeSet<String>>,
    /// Who signed in, when the response carried an `id_token`.
    pub identity: Option<IdClaims>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("expires_in", &self.expires_in)
            .field("granted_scopes", &self.granted_scopes)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// A fresh PKCE pair: the challenge goes to the authorize URL, the verifier is kept.
pub fn new_pkce() -> (PkceCodeChallenge, SecretString) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (challenge, SecretString::from(verifier.secret().clone()))
}

#[derive(Clone)]
pub struct OAuthApp {
    provider: Provider,
    client: Client,
    http: reqwest::Client,
    signs_in: bool,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// An HTTP client fit for token requests: no redirects (the oauth2 crate requires it, or a
/// malicious redirect could leak the code), bounded time.
pub fn token_http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
}

impl OAuthApp {
    pub fn new(
        provider: Provider,
        settings: &OAuthSettings,
        http: reqwest::Client,
    ) -> Result<Self, OAuthError> {
        let url = |field: &'static str, value: &str| {
            oauth2::url::Url::parse(value).map_err(|source| OAuthError::BadUrl { field, source })
        };
        let client = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                settings.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(url(
                "authorize_url",
                &settings.authorize_url,
            )?))
            .set_token_uri(TokenUrl::from_url(url("token_url", &settings.token_url)?))
            .set_auth_type(AuthType::RequestBody);
        let client = match &settings.redirect_url {
            Some(redirect) => {
                client.set_redirect_uri(RedirectUrl::from_url(url("redirect_url", redirect)?))
            }
            None => client,
        };
        Ok(Self {
            provider,
            client,
            http,
            signs_in: settings.redirect_url.is_some(),
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Where to send the seat: the provider's consent screen for `scopes`, coming back to
    /// our redirect URL with `state`.
    pub fn authorization_url(
        &self,
        state: &str,
        scopes: &[&str],
        challenge: PkceCodeChallenge,
        login_hint: Option<&str>,
    ) -> Result<String, OAuthError> {
        if !self.signs_in {
            return Err(OAuthError::NoRedirect);
        }
        let state = state.to_owned();
        let mut request = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge);
        request = match self.provider {
            // The account picker every time: a seat whose organization already consented
            // would otherwise be signed in without a screen, with whatever account the
            // browser holds, and could connect a mailbox that is not theirs unawares.
            Provider::Microsoft365 => request
                .add_extra_param("response_mode", "query")
                .add_extra_param("prompt", "select_account"),
            // A refresh token is only issued for offline access, and a new one only when
            // consent is shown again.
            Provider::GoogleWorkspace => request
                .add_extra_param("access_type", "offline")
                .add_extra_param("prompt", "consent")
                .add_extra_param("include_granted_scopes", "true"),
        };
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        Ok(request.url().0.to_string())
    }

    /// Redeems the authorization code with the PKCE verifier kept for it.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<TokenSet, OAuthError> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(classify)?;
        Ok(token_set(&response))
    }

    /// A new access token from a refresh token (and, from Microsoft, a new refresh token).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, OAuthError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await
            .map_err(classify)?;
        Ok(token_set(&response))
    }
}

fn token_set(response: &IdTokenResponse) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| SecretString::from(t.secret().clone())),
        expires_in: response.expires_in(),
        granted_scopes: response
            .scopes()
            .map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
        identity: response
            .extra_fields()
            .id_token
            .as_deref()
            .and_then(id_claims),
    }
}

fn classify<RE: std::error::Error + Send + Sync + 'static>(
    err: RequestTokenError<RE, TokenErrorBody>,
) -> OAuthError {
    match err {
        RequestTokenError::ServerResponse(body) => OAuthError::Rejected(body),
        RequestTokenError::Request(e) => OAuthError::Unreachable(Box::new(e)),
        // Never keep the response bytes: a malformed success response may hold a token.
        RequestTokenError::Parse(e, _) => OAuthError::Malformed(Box::new(e)),
        RequestTokenError::Other(message) => OAuthError::Malformed(message.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(&claims)
        )
    }

    #[test]
    fn identity_claims_are_read_from_the_id_token() {
        let t = jwt(
            serde_json::json!({"tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "preferred_username": "x@outlook.com"}),
        );
        let c = id_claims(&t).unwrap();
        assert_eq!(
            c.tid.as_deref(),
            Some("9188040d-6c67-4c5b-b112-36a304b66dad")
        );
        assert_eq!(c.preferred_username.as_deref(), Some("x@outlook.com"));
        assert!(id_claims("not-a-jwt").is_none());
        assert!(id_claims("a.!!!.c").is_none());
    }
}
