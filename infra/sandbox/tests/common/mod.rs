//! What the sandbox's HTTP tests share: a sandbox on a free port with one signed-in
//! account, a webhook that accepts pushes, and letters to deliver.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test uses a part

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hiresync_sandbox::control::NewMail;
use hiresync_sandbox::{Behaviour, Sandbox};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const ME: &str = "rita@contoso.example";

pub struct World {
    pub sandbox: Sandbox,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
}

/// A sandbox on a free port with `ME` seeded and signed in.
pub async fn world() -> World {
    let sandbox = Sandbox::new();
    sandbox.account(ME, Behaviour::Normal);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox.clone().serve(listener));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = "a-verifier-long-enough-for-pkce-0123456789";
    let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
    let consent = http
        .get(format!("{base}/ms/authorize"))
        .query(&[
            ("redirect_uri", "http://127.0.0.1/back"),
            ("state", "s"),
            ("scope", "Mail.Read"),
            ("code_challenge", challenge.as_str()),
            ("login_hint", ME),
        ])
        .send()
        .await
        .unwrap();
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let answer: Value = http
        .post(format!("{base}/ms/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code={code}&code_verifier={verifier}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    World {
        sandbox,
        base,
        http,
        token: answer["access_token"].as_str().unwrap().to_owned(),
    }
}

impl World {
    /// A provider call with the signed-in token: its status and JSON body.
    pub async fn get(&self, path_or_url: &str) -> (u16, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let answer = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// A provider call with the signed-in token (or `token` when given), with an
    /// optional JSON body: its status and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_as(&self.token, method, path, body).await
    }

    /// A call with `token` as the bearer token (empty for none).
    pub async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    pub async fn deliver(&self, subject: &str, folder: Option<&str>, at: &str) -> String {
        self.sandbox
            .deliver(ME, letter(subject, folder, at))
            .await
            .unwrap()
            .id
    }

    /// A whole Graph delta round from `url`: every item, and the delta link to come back.
    pub async fn delta_round(&self, url: &str) -> (Vec<Value>, String) {
        let mut items = Vec::new();
        let mut next = url.to_owned();
        loop {
            let (status, page) = self.get(&next).await;
            assert_eq!(status, 200, "{page}");
            items.extend(page["value"].as_array().unwrap().iter().cloned());
            if let Some(link) = page["@odata.nextLink"].as_str() {
                next = link.to_owned();
            } else {
                return (items, page["@odata.deltaLink"].as_str().unwrap().to_owned());
            }
        }
    }

    pub async fn history_id(&self) -> String {
        let (_, profile) = self.get("/gmail/users/me/profile").await;
        profile["historyId"].as_str().unwrap().to_owned()
    }

    pub async fn listed(&self, query: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/gmail/users/me/messages?{query}")).await;
        assert_eq!(status, 200, "{body}");
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

pub fn letter(subject: &str, folder: Option<&str>, at: &str) -> NewMail {
    NewMail {
        thread: subject.to_owned(),
        from: "Ana <ana@fabrikam.example>".into(),
        to: vec![ME.into()],
        cc: vec![],
        bcc: vec![],
        subject: subject.to_owned(),
        at: Some(at.parse().unwrap()),
        message_id: None,
        folder: folder.map(str::to_owned),
        headers: vec![],
        silent: false,
    }
}

/// A webhook that passes Graph's validation handshake and accepts every push.
pub async fn receiver() -> String {
    async fn hook(Query(q): Query<HashMap<String, String>>) -> Response {
        match q.get("validationToken") {
            Some(token) => token.clone().into_response(),
            None => StatusCode::ACCEPTED.into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", axum::routing::post(hook));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

pub fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["id"].as_str().unwrap()).collect()
}
