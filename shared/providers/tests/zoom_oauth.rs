//! Zoom's user-level OAuth (protocols-additions.md §6) against a stub speaking its shapes:
//! the consent URL with PKCE, code redemption and refresh with Basic client credentials,
//! revocation, `users/me`, and Zoom's refusals in the port's kinds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{fast_retry, requests};
use hiresync_domain::ports::{ZoomAuthError, ZoomAuthErrorKind, ZoomAuthorization};
use hiresync_providers::oauth::token_http_client;
use hiresync_providers::{http_client, ZoomOAuth, ZoomOAuthSettings};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_ID: &str = "zoom-client-id";
const CLIENT_SECRET: &str = "zoom-client-secret";
const REDIRECT: &str = "https://app.hiresync.example/zoom/callback";

fn settings(server: &MockServer, redirect: Option<&str>) -> ZoomOAuthSettings {
    ZoomOAuthSettings {
        client_id: CLIENT_ID.to_owned(),
        client_secret: SecretString::from(CLIENT_SECRET),
        authorize_url: format!("{}/oauth/authorize", server.uri()),
        token_url: format!("{}/oauth/token", server.uri()),
        revoke_url: format!("{}/oauth/revoke", server.uri()),
        redirect_url: redirect.map(str::to_owned),
    }
}

fn app_with(settings: &ZoomOAuthSettings, server: &MockServer) -> ZoomOAuth {
    ZoomOAuth::new(
        settings,
        token_http_client().unwrap(),
        http_client().unwrap(),
        &format!("{}/v2", server.uri()),
    )
    .unwrap()
    .with_retry(fast_retry())
}

async fn zoom() -> (MockServer, ZoomOAuth) {
    let server = MockServer::start().await;
    let app = app_with(&settings(&server, Some(REDIRECT)), &server);
    (server, app)
}

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    )
}

fn form(request: &Request) -> HashMap<String, String> {
    oauth2::url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn tokens(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": 3599,
        "scope": "meeting:write:meeting user:read:user",
    }))
}

fn refused(status: u16, error: &str, reason: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"reason": reason, "error": error}))
}

async fn token_answers(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(answer)
        .mount(server)
        .await;
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

fn kind<T: std::fmt::Debug>(result: Result<T, ZoomAuthError>) -> ZoomAuthErrorKind {
    result.unwrap_err().kind
}

// ---- the consent URL ----

#[tokio::test]
async fn the_consent_url_carries_the_client_redirect_state_and_an_s256_challenge_of_the_verifier() {
    let (server, zoom) = zoom().await;

    let request = zoom.authorization_url("state-123").unwrap();

    let url = reqwest::Url::parse(&request.url).unwrap();
    assert_eq!(
        url.as_str().split('?').next(),
        Some(format!("{}/oauth/authorize", server.uri()).as_str())
    );
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["state"], "state-123");
    assert_eq!(query["code_challenge_method"], "S256");
    let expected = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
        request.verifier.expose_secret().to_owned(),
    ));
    assert_eq!(query["code_challenge"], expected.as_str());
    assert!(!request.url.contains(request.verifier.expose_secret()));

    // Every sign-in gets its own verifier.
    let again = zoom.authorization_url("state-123").unwrap();
    assert_ne!(
        again.verifier.expose_secret(),
        request.verifier.expose_secret()
    );
}

#[tokio::test]
async fn without_a_redirect_url_no_sign_in_starts_and_no_code_is_redeemed() {
    let server = MockServer::start().await;
    let zoom = app_with(&settings(&server, None), &server);

    let Err(refused) = zoom.authorization_url("s") else {
        panic!("a sign-in started without a redirect URL");
    };
    assert_eq!(refused.kind, ZoomAuthErrorKind::Misconfigured);
    assert_eq!(
        kind(zoom.redeem("code", &secret("verifier")).await),
        ZoomAuthErrorKind::Misconfigured
    );
    assert!(requests(&server).await.is_empty());
}

// ---- redemption and refresh ----

#[tokio::test]
async fn a_code_is_redeemed_with_basic_client_credentials_and_the_verifier() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(tokens("access-1", "refresh-1"))
        .expect(1)
        .mount(&server)
        .await;

    let grant = zoom
        .redeem("the-code", &secret("the-verifier"))
        .await
        .unwrap();

    assert_eq!(grant.access_token.expose_secret(), "access-1");
    assert_eq!(grant.refresh_token.expose_secret(), "refresh-1");
    assert_eq!(grant.expires_in.as_secs(), 3599);
    let sent = requests(&server).await;
    let form = form(&sent[0]);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["code_verifier"], "the-verifier");
    assert!(!form.contains_key("client_secret"), "{form:?}");
    assert!(!format!("{grant:?}").contains("access-1"));
}

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic().as_str()))
        .respond_with(tokens("access-2", "refresh-2"))
        .expect(1)
        .mount(&server)
        .await;

    let grant = zoom.refresh(&secret("refresh-1")).await.unwrap();

    assert_eq!(grant.access_token.expose_secret(), "access-2");
    assert_eq!(grant.refresh_token.expose_secret(), "refresh-2");
    let form = form(&requests(&server).await[0]);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "refresh-1");
    assert_eq!(form.len(), 2, "{form:?}");
}

#[tokio::test]
async fn an_answer_without_a_refresh_token_is_a_failure() {
    let (server, zoom) = zoom().await;
    token_answers(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "access-3", "token_type": "bearer", "expires_in": 3599
        })),
    )
    .await;

    let failed = zoom.refresh(&secret("refresh-1")).await.unwrap_err();

    assert_eq!(failed.kind, ZoomAuthErrorKind::Failed);
    assert!(!format!("{failed:?}").contains("access-3"));
}

#[tokio::test]
async fn a_spent_refresh_token_is_an_invalid_grant() {
    let (server, zoom) = zoom().await;
    token_answers(&server, refused(400, "invalid_request", "Invalid Token!")).await;

    let refused = zoom.refresh(&secret("refresh-spent")).await.unwrap_err();

    assert_eq!(refused.kind, ZoomAuthErrorKind::InvalidGrant);
    assert_eq!(refused.operation, "zoom.refresh");
    assert!(!format!("{refused:?}").contains("refresh-spent"));
}

#[tokio::test]
async fn a_bad_code_is_an_invalid_grant_and_its_refusal_never_quotes_it() {
    let (server, zoom) = zoom().await;
    token_answers(
        &server,
        refused(
            400,
            "invalid_request",
            "Invalid authorization code the-secret-code",
        ),
    )
    .await;

    let refused = zoom
        .redeem("the-secret-code", &secret("v"))
        .await
        .unwrap_err();

    assert_eq!(refused.kind, ZoomAuthErrorKind::InvalidGrant);
    let shown = format!("{refused:?} {refused}");
    assert!(!shown.contains("the-secret-code"), "{shown}");
}

#[tokio::test]
async fn an_invalid_grant_error_is_an_invalid_grant() {
    let (server, zoom) = zoom().await;
    token_answers(&server, refused(400, "invalid_grant", "Token expired")).await;
    assert_eq!(
        kind(zoom.refresh(&secret("r")).await),
        ZoomAuthErrorKind::InvalidGrant
    );
}

#[tokio::test]
async fn our_client_refused_or_a_redirect_mismatch_is_misconfigured() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(refused(
            401,
            "invalid_client",
            "Invalid client_id or client_secret",
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    token_answers(
        &server,
        refused(400, "invalid_request", "Redirect URI mismatch."),
    )
    .await;

    assert_eq!(
        kind(zoom.refresh(&secret("r")).await),
        ZoomAuthErrorKind::Misconfigured
    );
    let refused = zoom.redeem("c", &secret("v")).await.unwrap_err();
    assert_eq!(refused.kind, ZoomAuthErrorKind::Misconfigured);
    assert!(!format!("{refused:?}").contains(CLIENT_SECRET));
    assert_eq!(
        kind(zoom.redeem("c", &secret("v")).await),
        ZoomAuthErrorKind::Misconfigured
    );
}

#[tokio::test]
async fn a_503_or_429_is_temporary_and_a_token_call_is_sent_once() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(429))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        kind(zoom.refresh(&secret("r")).await),
        ZoomAuthErrorKind::Temporary
    );
    assert_eq!(
        kind(zoom.redeem("c", &secret("v")).await),
        ZoomAuthErrorKind::Temporary
    );
}

#[tokio::test]
async fn an_unreachable_zoom_is_temporary() {
    let server = MockServer::start().await;
    let mut gone = settings(&server, Some(REDIRECT));
    gone.token_url = "http://127.0.0.1:9/oauth/token".to_owned();
    let zoom = app_with(&gone, &server);
    assert_eq!(
        kind(zoom.refresh(&secret("r")).await),
        ZoomAuthErrorKind::Temporary
    );
}

#[tokio::test]
async fn an_unknown_refusal_is_a_failure() {
    let (server, zoom) = zoom().await;
    token_answers(
        &server,
        refused(400, "unsupported_grant_type", "Unsupported grant type"),
    )
    .await;
    assert_eq!(
        kind(zoom.refresh(&secret("r")).await),
        ZoomAuthErrorKind::Failed
    );
}

// ---- revocation ----

#[tokio::test]
async fn a_token_is_revoked_with_basic_client_credentials() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;

    zoom.revoke(&secret("refresh-9")).await.unwrap();

    let form = form(&requests(&server).await[0]);
    assert_eq!(form["token"], "refresh-9");
}

#[tokio::test]
async fn revoking_a_dead_token_is_not_an_error() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(refused(400, "invalid_request", "Invalid Token!"))
        .expect(1)
        .mount(&server)
        .await;

    zoom.revoke(&secret("refresh-dead")).await.unwrap();
}

#[tokio::test]
async fn revoking_with_a_refused_client_is_misconfigured_and_a_busy_zoom_temporary() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(refused(
            401,
            "invalid_client",
            "Invalid client_id or client_secret",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    assert_eq!(
        kind(zoom.revoke(&secret("r")).await),
        ZoomAuthErrorKind::Misconfigured
    );
    assert_eq!(
        kind(zoom.revoke(&secret("r")).await),
        ZoomAuthErrorKind::Temporary
    );
}

// ---- users/me ----

#[tokio::test]
async fn me_reads_the_users_email_and_account() {
    let (server, zoom) = zoom().await;
    Mock::given(method("GET"))
        .and(path("/v2/users/me"))
        .and(bearer_token("access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "KDcuGIm1QgePTO8WbOqwIQ",
            "first_name": "Rita",
            "last_name": "Admin",
            "email": "Rita@Contoso.example",
            "type": 2,
            "role_name": "Owner",
            "account_id": "q6gBJVO5TzexKYTb_I2rpg",
            "account_number": 10009239,
            "status": "active"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let me = zoom.me(&secret("access-1")).await.unwrap();

    assert_eq!(me.email.as_str(), "rita@contoso.example");
    assert_eq!(me.account_id, "q6gBJVO5TzexKYTb_I2rpg");
}

#[tokio::test]
async fn me_with_a_dead_token_is_an_invalid_grant_and_a_busy_zoom_temporary() {
    let (server, zoom) = zoom().await;
    Mock::given(method("GET"))
        .and(path("/v2/users/me"))
        .and(bearer_token("dead"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 124, "message": "Invalid access token."})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users/me"))
        .and(bearer_token("busy"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users/me"))
        .and(bearer_token("no-email"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"account_id": "a"})))
        .mount(&server)
        .await;

    assert_eq!(
        kind(zoom.me(&secret("dead")).await),
        ZoomAuthErrorKind::InvalidGrant
    );
    assert_eq!(
        kind(zoom.me(&secret("busy")).await),
        ZoomAuthErrorKind::Temporary
    );
    assert_eq!(
        kind(zoom.me(&secret("no-email")).await),
        ZoomAuthErrorKind::Failed
    );
}
