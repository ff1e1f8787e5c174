//! Part two of `make run`: the connect flow over HTTP. The real settings-api router serves
//! on 127.0.0.1:${HIRESYNC_PORT:-3000}; a provider sandbox plays Microsoft and Google;
//! seats follow the authorization URL as a browser would, and finish at the completion
//! route with their own token as the product's front end does; the settings change fans out
//! through the real queue to the real settings-fanout handler.

use anyhow::Context;
use serde_json::{json, Value};

use crate::suite::Suite;

/// A caller of the local API: a browser for the consent dance, the front end that finishes
/// it, and a bearer for the rest.
pub struct Client<'a> {
    http: reqwest::Client,
    base: String,
    suite: &'a Suite,
    contract: &'a str,
}

impl Client<'_> {
    fn token(&self, user: &str, seat: &str, role: &str) -> anyhow::Result<String> {
        self.suite.token(self.contract, user, seat, role)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// The seat's browser opens the consent URL; the provider redirects it to the front end,
    /// which finishes the sign-in with the seat's token.
    pub async fn connect(
        &self,
        seat: &str,
        address: &str,
        kind: &str,
    ) -> anyhow::Result<(u16, Value)> {
        let token = self.token(&format!("user-{seat}"), seat, "recruiter")?;
        let (status, start) = self
            .call(
                reqwest::Method::POST,
                &format!(
                    "/v1/contracts/{}/seats/{seat}/connections/{kind}/authorize",
                    self.contract
                ),
                &token,
                Some(json!({"login_hint": address})),
            )
            .await?;
        if status != 200 {
            return Ok((status, start));
        }
        let url = start["authorization_url"]
            .as_str()
            .context("no authorization_url")?;
        let back = consent(&self.http, url).await?;
        self.complete(&token, seat, kind, &back).await
    }

    /// The front end: what the provider's redirect to `back` carried, passed on to the
    /// completion route with `bearer`.
    pub async fn complete(
        &self,
        bearer: &str,
        seat: &str,
        kind: &str,
        back: &str,
    ) -> anyhow::Result<(u16, Value)> {
        self.call(
            reqwest::Method::POST,
            &format!(
                "/v1/contracts/{}/seats/{seat}/connections/{kind}/complete",
                self.contract
            ),
            bearer,
            Some(carried(back)?),
        )
        .await
    }
}

/// The seat's browser at the consent URL: where the provider sends it back to (the
/// front end's page, with `state` and `code` or `error`). `http` must not follow redirects.
pub async fn consent(http: &reqwest::Client, authorization_url: &str) -> anyhow::Result<String> {
    let answer = http.get(authorization_url).send().await?;
    Ok(answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .context("the provider did not redirect back")?
        .to_owned())
}

/// What the front end passes on to the completion route: every query parameter the
/// provider's redirect to `back` carried.
pub fn carried(back: &str) -> anyhow::Result<Value> {
    let back = reqwest::Url::parse(back).context("the redirect is not a URL")?;
    Ok(Value::Object(
        back.query_pairs()
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    ))
}

pub fn outcome(status: u16, body: &Value) -> String {
    if status == 200 {
        format!(
            "connected {} (sync: {})",
            body["address"].as_str().unwrap_or("?"),
            body["sync"].as_str().unwrap_or("?")
        )
    } else {
        let mut line = format!(
            "HTTP {status} {}: {}",
            body["code"].as_str().unwrap_or("?"),
            body["message"].as_str().unwrap_or("")
        );
        if let Some(action) = body["admin_action"].as_str() {
            line.push_str(&format!("\n{:>40}admin: {action}", ""));
        }
        line
    }
}

async fn show_connections(c: &Client<'_>, seats: &[&str]) -> anyhow::Result<()> {
    let admin = c.token("ada", "admin-seat", "admin")?;
    println!(
        "   {:<6} {:<9} {:<16} {:<28} reason",
        "seat", "kind", "state", "address"
    );
    for seat in seats {
        let (_, body) = c
            .call(
                reqwest::Method::GET,
                &format!("/v1/contracts/globex/seats/{seat}/connections"),
                &admin,
                None,
            )
            .await?;
        for conn in body["connections"].as_array().into_iter().flatten() {
            println!(
                "   {:<6} {:<9} {:<16} {:<28} {}",
                seat,
                conn["kind"].as_str().unwrap_or(""),
                conn["state"].as_str().unwrap_or(""),
                conn["address"].as_str().unwrap_or(""),
                if conn["reason"].is_null() {
                    String::new()
                } else {
                    conn["reason"].to_string()
                }
            );
        }
    }
    Ok(())
}

impl<'a> Client<'a> {
    pub fn new(suite: &'a Suite, contract: &'a str) -> anyhow::Result<Self> {
        Ok(Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: suite.api.clone(),
            suite,
            contract,
        })
    }
}

pub async fn run(suite: &Suite) -> anyhow::Result<()> {
    let api = suite.api.clone();
    let c = Client::new(suite, "globex")?;
    let admin = c.token("ada", "admin-seat", "admin")?;

    crate::heading(&format!(
        "The connect flow over HTTP: settings-api on {api}, providers played by a sandbox"
    ));
    let (status, body) = c.connect("ana", "ana@globex.example", "email").await?;
    println!(
        "   ana connects before any provider is chosen: {}",
        outcome(status, &body)
    );

    let (_, body) = c
        .call(
            reqwest::Method::PUT,
            "/v1/contracts/globex/settings",
            &admin,
            Some(json!({"provider": "microsoft365", "email_access": "send_and_view", "calendar_enabled": true})),
        )
        .await?;
    println!(
        "   admin: PUT settings (Microsoft 365, Send & view, calendar on) -> effects {}",
        body["effects"]
    );

    for (seat, address, kind) in [
        ("ana", "ana@globex.example", "email"),
        ("ana", "ana@globex.example", "calendar"),
        ("ben", "ben@globex.example", "email"),
        ("cleo", "cleo@globex.example", "email"),
        ("dev", "dev@globex.example", "email"),
    ] {
        let (status, body) = c.connect(seat, address, kind).await?;
        println!(
            "   {seat:<5} {kind:<9} {:<22} {}",
            address,
            outcome(status, &body)
        );
    }
    show_connections(&c, &["ana", "ben"]).await?;

    // A consent link forwarded to a colleague connects nothing, and an account connected to
    // one seat is refused to another.
    let (_, start) = c
        .call(
            reqwest::Method::POST,
            "/v1/contracts/globex/seats/ben/connections/calendar/authorize",
            &c.token("user-ben", "ben", "recruiter")?,
            Some(json!({"login_hint": "ben@globex.example"})),
        )
        .await?;
    let back = consent(
        &c.http,
        start["authorization_url"].as_str().unwrap_or_default(),
    )
    .await?;
    let ana = c.token("user-ana", "ana", "recruiter")?;
    let (status, body) = c.complete(&ana, "ana", "calendar", &back).await?;
    println!(
        "   ben's consent link, finished by ana's front end: {}",
        outcome(status, &body)
    );
    let (status, body) = c.connect("ben", "ana@globex.example", "email").await?;
    println!(
        "   ben signs in with ana's mailbox: {}",
        outcome(status, &body)
    );

    crate::heading("The admin lowers email to View only; the change fans out through the deauthorizations queue");
    let (_, body) = c
        .call(
            reqwest::Method::PUT,
            "/v1/contracts/globex/settings",
            &admin,
            Some(json!({"email_access": "view_only"})),
        )
        .await?;
    println!("   effects {}", body["effects"]);
    let pumped = suite.pump().await?;
    println!(
        "   settings-fanout handled {} page(s), {} failed",
        pumped.fan_out.succeeded, pumped.fan_out.failed
    );
    show_connections(&c, &["ana", "ben"]).await?;

    crate::heading("The admin switches to Google Workspace: every connection must reconnect");
    c.call(
        reqwest::Method::PUT,
        "/v1/contracts/globex/settings",
        &admin,
        Some(json!({"provider": "google_workspace"})),
    )
    .await?;
    suite.pump().await?;
    show_connections(&c, &["ana", "ben"]).await?;
    let (status, body) = c.connect("eve", "eve@globex.example", "calendar").await?;
    println!(
        "   eve   calendar  {:<22} {}",
        "eve@globex.example",
        outcome(status, &body)
    );
    let (status, body) = c.connect("ana", "ana@globex.example", "calendar").await?;
    println!(
        "   ana   calendar  {:<22} {}",
        "ana@globex.example",
        outcome(status, &body)
    );

    Ok(())
}
