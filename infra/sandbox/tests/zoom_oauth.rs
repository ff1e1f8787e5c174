//! Zoom's OAuth over HTTP: an admin authorizes the organisation's Zoom account (consent,
//! code with PKCE, token), the token creates meetings, refresh tokens rotate, and a revoked
//! grant refuses to refresh.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::{world, World, ME};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BACK: &str = "http://127.0.0.1/zoom/back";
const VERIFIER: &str = "a-zoom-verifier-long-enough-for-pkce-0123456789";
const CLIENT: (&str, &str) = ("zoom-client", "zoom-secret");

async fn account(w: &World, users: Value) -> String {
    let (status, made) = w
        .call_as(
            "",
            Method::POST,
            "/sandbox/zoom/accounts",
            Some(json!({"users": users})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    made["account_id"].as_str().unwrap().to_owned()
}

/// The consent for `login_hint`: the redirect's status and query.
async fn consent(w: &World, login_hint: &str) -> (u16, Vec<(String, String)>) {
    let challenge = B64.encode(Sha256::digest(VERIFIER.as_bytes()));
    let answer = w
        .http
        .get(format!("{}/zoom-oauth/authorize", w.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT.0),
            ("redirect_uri", BACK),
            ("state", "st-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", login_hint),
        ])
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(BACK), "{location}");
    let query = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (status, query)
}

async fn code_for(w: &World, login_hint: &str) -> String {
    let (status, query) = consent(w, login_hint).await;
    assert_eq!(status, 303);
    assert!(
        query.contains(&("state".into(), "st-1".into())),
        "{query:?}"
    );
    query
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .unwrap()
}

async fn token(w: &World, client: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let answer = w
        .http
        .post(format!("{}/zoom-oauth/token", w.base))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn redeem(w: &World, code: &str, verifier: &str) -> (u16, Value) {
    token(
        w,
        CLIENT,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", BACK),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(w: &World, refresh_token: &str) -> (u16, Value) {
    token(
        w,
        CLIENT,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn create_meeting(w: &World, access: &str) -> (u16, Value) {
    w.call_as(
        access,
        Method::POST,
        "/zoom/users/me/meetings",
        Some(
            json!({"topic": "Interview", "type": 2, "start_time": "2026-01-12T15:00:00Z",
                    "duration": 30}),
        ),
    )
    .await
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_authorizes_the_account_and_its_tokens_create_meetings() {
    let w = world().await;
    let account_id = account(&w, json!(["owner@contoso.example", ME])).await;
    // Any of the account's users names it.
    let code = code_for(&w, &ME.to_uppercase()).await;

    let (status, tokens) = redeem(&w, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(!text(&tokens, "scope").is_empty());
    let access = text(&tokens, "access_token");

    let (status, made) = create_meeting(&w, &access).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["host_email"], "owner@contoso.example");
    let listed = w.sandbox.zoom_meetings(&account_id);
    assert_eq!(listed.len(), 1);

    // The code serves once.
    let (status, again) = redeem(&w, &code, VERIFIER).await;
    assert_eq!(status, 400);
    assert_eq!(again["error"], "invalid_request");

    // A second authorization gives the account a second live token; both work.
    let (_, second) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;
    assert_ne!(text(&second, "access_token"), access);
    assert_eq!(
        create_meeting(&w, &text(&second, "access_token")).await.0,
        201
    );
    assert_eq!(create_meeting(&w, &access).await.0, 201);

    // After an hour the access token is dead.
    w.sandbox
        .zoom_oauth_elapse(std::time::Duration::from_secs(3600));
    let (status, dead) = create_meeting(&w, &access).await;
    assert_eq!((status, dead["code"].as_i64()), (401, Some(124)));
}

#[tokio::test]
async fn the_code_demands_its_verifier_redirect_and_client_and_expires() {
    let w = world().await;
    account(&w, json!([ME])).await;

    let code = code_for(&w, ME).await;
    let (status, refused) = redeem(&w, &code, "another-verifier-0123456789-0123456789").await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"], "invalid_request");
    assert_eq!(refused["reason"], "Invalid code_verifier");
    // A refused code is spent all the same.
    assert_eq!(redeem(&w, &code, VERIFIER).await.0, 400);

    let code = code_for(&w, ME).await;
    let (status, refused) = token(
        &w,
        CLIENT,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/elsewhere"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        (status, refused["reason"].as_str()),
        (400, Some("Redirect URI mismatch."))
    );

    // No Basic credentials, an empty secret, or another client's id.
    let code = code_for(&w, ME).await;
    let bare = w
        .http
        .post(format!("{}/zoom-oauth/token", w.base))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", BACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, refused) = token(&w, (CLIENT.0, ""), &form).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, _) = token(&w, ("someone-else", "x"), &form).await;
    assert_eq!(status, 400, "the code was issued to another client");

    // Five minutes later the code is dead.
    let code = code_for(&w, ME).await;
    w.sandbox
        .zoom_oauth_elapse(std::time::Duration::from_secs(301));
    assert_eq!(redeem(&w, &code, VERIFIER).await.0, 400);

    // Once the sandbox is given a client, only that pair is taken.
    w.sandbox.zoom_oauth_client(CLIENT.0, "the-real-secret");
    let code = code_for(&w, ME).await;
    assert_eq!(redeem(&w, &code, VERIFIER).await.0, 401);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", BACK),
        ("code_verifier", VERIFIER),
    ];
    // The 401 did not spend the code: the client was refused before it was looked at.
    let (status, tokens) = token(&w, (CLIENT.0, "the-real-secret"), &form).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn the_consent_refuses_an_unknown_account_and_a_missing_challenge() {
    let w = world().await;
    account(&w, json!([ME])).await;

    let (status, query) = consent(&w, "stranger@fabrikam.example").await;
    assert_eq!(status, 303);
    assert!(
        query.contains(&("error".into(), "access_denied".into())),
        "{query:?}"
    );
    assert!(
        query.contains(&("state".into(), "st-1".into())),
        "{query:?}"
    );
    assert!(!query.iter().any(|(k, _)| k == "code"));

    let plain = w
        .http
        .get(format!("{}/zoom-oauth/authorize", w.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT.0),
            ("redirect_uri", BACK),
            ("login_hint", ME),
        ])
        .send()
        .await
        .unwrap();
    let location = plain.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_request"), "{location}");

    let (status, control) = w
        .call_as(
            "",
            Method::PUT,
            "/sandbox/zoom/oauth-client",
            Some(json!({"client_id": "only-this", "client_secret": "s"})),
        )
        .await;
    assert_eq!(status, 200, "{control}");
    let (status, refused) = w
        .call_as(
            "",
            Method::GET,
            &format!(
                "/zoom-oauth/authorize?response_type=code&client_id={}&redirect_uri={BACK}",
                CLIENT.0
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_client"))
    );
}

#[tokio::test]
async fn each_refresh_rotates_the_refresh_token() {
    let w = world().await;
    account(&w, json!([ME])).await;
    let (_, first) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;
    let old = text(&first, "refresh_token");

    let (status, second) = refresh(&w, &old).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["expires_in"], 3599);
    assert_eq!(second["token_type"], "bearer");
    assert_eq!(second["scope"], first["scope"]);
    let new = text(&second, "refresh_token");
    assert_ne!(new, old);
    assert_ne!(second["access_token"], first["access_token"]);

    // The old refresh token is spent.
    let (status, refused) = refresh(&w, &old).await;
    assert_eq!(
        (status, refused),
        (
            400,
            json!({"reason": "Invalid Token!", "error": "invalid_request"})
        )
    );

    // The new access token creates a meeting; the new refresh token refreshes once more,
    // and only for the client it was issued to.
    assert_eq!(
        create_meeting(&w, &text(&second, "access_token")).await.0,
        201
    );
    let (status, _) = token(
        &w,
        ("someone-else", "x"),
        &[("grant_type", "refresh_token"), ("refresh_token", &new)],
    )
    .await;
    assert_eq!(status, 400);
    let (status, third) = refresh(&w, &new).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(
        create_meeting(&w, &text(&third, "access_token")).await.0,
        201
    );
}

#[tokio::test]
async fn a_revoked_grant_refuses_to_refresh() {
    let w = world().await;
    let account_id = account(&w, json!([ME])).await;
    let (_, tokens) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;
    let access = text(&tokens, "access_token");
    assert_eq!(create_meeting(&w, &access).await.0, 201);

    let (status, revoked) = w
        .call_as(
            "",
            Method::DELETE,
            &format!("/sandbox/zoom/accounts/{account_id}/grant"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let (status, refused) = refresh(&w, &text(&tokens, "refresh_token")).await;
    assert_eq!(
        (status, refused["reason"].as_str()),
        (400, Some("Invalid Token!"))
    );
    assert_eq!(create_meeting(&w, &access).await.0, 401);

    // The admin may authorize again.
    let (status, again) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        create_meeting(&w, &text(&again, "access_token")).await.0,
        201
    );

    let missing = w
        .call_as(
            "",
            Method::DELETE,
            "/sandbox/zoom/accounts/nope/grant",
            None,
        )
        .await;
    assert_eq!(missing.0, 404);
    assert!(!w.sandbox.zoom_revoke_grant("nope"));
}

async fn me(w: &World, access: &str) -> (u16, Value) {
    w.call_as(access, Method::GET, "/zoom/users/me", None).await
}

async fn revoke(w: &World, client: (&str, &str), token: &str) -> (u16, Value) {
    let answer = w
        .http
        .post(format!("{}/zoom-oauth/revoke", w.base))
        .basic_auth(client.0, Some(client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn users_me_is_the_user_who_consented() {
    let w = world().await;
    let account_id = account(&w, json!(["owner@contoso.example", ME])).await;
    let (_, tokens) = redeem(&w, &code_for(&w, &ME.to_uppercase()).await, VERIFIER).await;
    let access = text(&tokens, "access_token");

    let (status, user) = me(&w, &access).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["email"], ME);
    assert_eq!(user["account_id"], account_id.as_str());
    assert!(!text(&user, "id").is_empty());

    // A refreshed token still acts as that user.
    let (_, refreshed) = refresh(&w, &text(&tokens, "refresh_token")).await;
    let (_, user) = me(&w, &text(&refreshed, "access_token")).await;
    assert_eq!(user["email"], ME);

    // The control API's token acts as the account's first user.
    let made = w
        .sandbox
        .zoom_account(hiresync_sandbox::zoom::NewZoomAccount {
            account_id: Some(account_id.clone()),
            users: vec!["owner@contoso.example".into(), ME.into()],
            access_token: Some("control-token".into()),
        });
    let (status, owner) = me(&w, &made.access_token).await;
    assert_eq!(
        (status, owner["email"].as_str()),
        (200, Some("owner@contoso.example"))
    );

    // A user is found by email or id; someone else is Zoom's 1001.
    let (status, by_email) = w
        .call_as(
            &access,
            Method::GET,
            "/zoom/users/OWNER@contoso.example",
            None,
        )
        .await;
    assert_eq!(
        (status, by_email["email"].as_str()),
        (200, Some("owner@contoso.example"))
    );
    let id = text(&by_email, "id");
    let (status, by_id) = w
        .call_as(&access, Method::GET, &format!("/zoom/users/{id}"), None)
        .await;
    assert_eq!(
        (status, by_id["email"].as_str()),
        (200, Some("owner@contoso.example"))
    );
    let (status, missing) = w
        .call_as(
            &access,
            Method::GET,
            "/zoom/users/stranger@fabrikam.example",
            None,
        )
        .await;
    assert_eq!((status, missing["code"].as_i64()), (404, Some(1001)));

    // Once the consenting user has left the account, `me` is the account's first user.
    w.sandbox
        .zoom_account(hiresync_sandbox::zoom::NewZoomAccount {
            account_id: Some(account_id.clone()),
            users: vec!["owner@contoso.example".into()],
            access_token: None,
        });
    let (status, user) = me(&w, &access).await;
    assert_eq!(
        (status, user["email"].as_str()),
        (200, Some("owner@contoso.example"))
    );

    // An unknown or expired token is Zoom's 124.
    assert_eq!(me(&w, "nope").await.1["code"], 124);
    w.sandbox
        .zoom_oauth_elapse(std::time::Duration::from_secs(3600));
    let (status, dead) = me(&w, &access).await;
    assert_eq!((status, dead["code"].as_i64()), (401, Some(124)));
}

#[tokio::test]
async fn revoking_a_token_kills_its_grant_and_only_that_grant() {
    let w = world().await;
    account(&w, json!([ME])).await;
    let (_, first) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;
    let (_, refreshed) = refresh(&w, &text(&first, "refresh_token")).await;
    let (_, other) = redeem(&w, &code_for(&w, ME).await, VERIFIER).await;

    // Only with the client's credentials, and only the client's own tokens.
    let new_refresh = text(&refreshed, "refresh_token");
    let (status, refused) = revoke(&w, (CLIENT.0, ""), &new_refresh).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, refused) = revoke(&w, ("someone-else", "x"), &new_refresh).await;
    assert_eq!(
        (status, refused),
        (
            400,
            json!({"reason": "Invalid Token!", "error": "invalid_request"})
        )
    );

    let (status, done) = revoke(&w, CLIENT, &new_refresh).await;
    assert_eq!((status, done), (200, json!({"status": "success"})));

    // Every token of the grant is dead, from before the refresh and after it.
    for access in [
        text(&first, "access_token"),
        text(&refreshed, "access_token"),
    ] {
        assert_eq!(create_meeting(&w, &access).await.0, 401);
        assert_eq!(me(&w, &access).await.0, 401);
    }
    let (status, refused) = refresh(&w, &new_refresh).await;
    assert_eq!(
        (status, refused["reason"].as_str()),
        (400, Some("Invalid Token!"))
    );

    // Revoking again finds nothing.
    let (status, again) = revoke(&w, CLIENT, &new_refresh).await;
    assert_eq!(
        (status, again),
        (
            400,
            json!({"reason": "Invalid Token!", "error": "invalid_request"})
        )
    );

    // The other grant lives on, until its access token revokes it.
    let other_access = text(&other, "access_token");
    assert_eq!(create_meeting(&w, &other_access).await.0, 201);
    assert_eq!(revoke(&w, CLIENT, &other_access).await.0, 200);
    assert_eq!(create_meeting(&w, &other_access).await.0, 401);
    assert_eq!(refresh(&w, &text(&other, "refresh_token")).await.0, 400);
}
