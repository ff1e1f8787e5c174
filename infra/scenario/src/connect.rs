//! Part two of `make run`: the connect flow over HTTP. The real settings-api router serves
//! on 127.0.0.1:${HIRESYNC_PORT:-3000}; a provider sandbox plays Microsoft and Google;
//! seats follow the authorization URL as a browser would; the settings change fans out
//! through the real queue to the real settings-fanout handler.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_connect::config::ConnectConfig;
use hiresync_connect::Connector;
use hiresync_localstack::{poller, Resources, Template};
use hiresync_runtime::config::Env;
use hiresync_sandbox::{Behaviour, Sandbox};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use settings_api::auth::Authenticator;
use settings_api::{router, App};

fn random_key() -> Vec<u8> {
    // Development keys for this run only: derived from the unique prefix's randomness.
    let id = hiresync_localstack::unique_prefix("k");
    let mut key = id.into_bytes();
    key.resize(32, b'#');
    key
}

struct Client<'a> {
    http: reqwest::Client,
    base: String,
    suite: &'a Suite,
}

impl Client<'_> {
    fn token(&self, user: &str, seat: &str, role: &str) -> anyhow::Result<String> {
        self.suite.token(user, seat, role)
    }

    async fn call(
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

    /// The seat's browser: open the consent URL, follow the provider's redirect back to us.
    async fn connect(&self, seat: &str, address: &str, kind: &str) -> anyhow::Result<(u16, Value)> {
        let token = self.token(&format!("user-{seat}"), seat, "recruiter")?;
        let (status, start) = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/contracts/globex/seats/{seat}/connections/{kind}/authorize"),
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
        let consent = self.http.get(url).send().await?;
        let back = consent
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("the provider did not redirect back")?
            .to_owned();
        let response = self.http.get(&back).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }
}

fn outcome(status: u16, body: &Value) -> String {
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

pub async fn drain_fan_out(
    connector: &Connector,
    sqs: &aws_sdk_sqs::Client,
    resources: &Resources,
) -> anyhow::Result<(usize, usize)> {
    let queue = resources.queue("DeauthorizationsQueue")?;
    let (mut pages, mut failed) = (0, 0);
    loop {
        let outcome = poller::poll_once(sqs, queue, |event| {
            settings_fanout::handle(connector, event, jiff::Timestamp::now())
        })
        .await?;
        if outcome.received == 0 {
            return Ok((pages, failed));
        }
        pages += outcome.succeeded;
        failed += outcome.failed;
    }
}

/// The local HTTP suite: the provider sandbox, and the settings API (with `GET /healthz`) on
/// 127.0.0.1:${HIRESYNC_PORT:-3000}, wired to the local AWS.
pub struct Suite {
    pub api: String,
    pub providers: String,
    pub connector: Connector,
    signing: Vec<u8>,
}

impl Suite {
    /// A bearer token for the local API, as the product's identity system would mint it.
    pub fn token(&self, user: &str, seat: &str, role: &str) -> anyhow::Result<String> {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("local".into());
        let exp = jiff::Timestamp::now().as_second() + 12 * 3600;
        Ok(jsonwebtoken::encode(
            &header,
            &json!({"sub": user, "contract": "globex", "seat": seat, "role": role, "aud": "hiresync", "exp": exp}),
            &EncodingKey::from_secret(&self.signing),
        )?)
    }
}

/// The accounts the sandbox knows, with how each behaves.
pub const ACCOUNTS: &[(&str, Behaviour)] = &[
    ("ana@globex.example", Behaviour::Normal),
    ("ben@globex.example", Behaviour::Normal),
    ("cleo@globex.example", Behaviour::NeedsAdminApproval),
    ("dev@globex.example", Behaviour::InactiveMailbox),
    ("eve@globex.example", Behaviour::PartialConsent),
];

pub async fn start(
    config: &aws_config::SdkConfig,
    template: &Template,
    resources: &Resources,
) -> anyhow::Result<Suite> {
    let sandbox = Sandbox::new();
    for (address, behaviour) in ACCOUNTS {
        sandbox.account(address, *behaviour);
    }
    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let providers = format!("http://{}", sandbox_listener.local_addr()?);
    tokio::spawn(sandbox.serve(sandbox_listener));

    let port = std::env::var("HIRESYNC_PORT").unwrap_or_else(|_| "3000".into());
    let api_listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .with_context(|| format!("127.0.0.1:{port} is taken; set HIRESYNC_PORT to a free port"))?;
    let api = format!("http://{}", api_listener.local_addr()?);

    let mut env: BTreeMap<String, String> = resources.environment(template);
    let signing = random_key();
    for (k, v) in [
        ("OAUTH_REDIRECT_URL", format!("{api}/v1/oauth/callback")),
        ("WEBHOOK_BASE_URL", "https://hooks.invalid".to_owned()),
        ("MICROSOFT_CLIENT_ID", "local-ms-client".to_owned()),
        ("MICROSOFT_CLIENT_SECRET", "local-ms-secret".to_owned()),
        (
            "MICROSOFT_AUTHORIZE_URL",
            format!("{providers}/ms/authorize"),
        ),
        ("MICROSOFT_TOKEN_URL", format!("{providers}/ms/token")),
        ("GOOGLE_CLIENT_ID", "local-google-client".to_owned()),
        ("GOOGLE_CLIENT_SECRET", "local-google-secret".to_owned()),
        (
            "GOOGLE_AUTHORIZE_URL",
            format!("{providers}/google/authorize"),
        ),
        ("GOOGLE_TOKEN_URL", format!("{providers}/google/token")),
        ("GOOGLE_REVOKE_URL", format!("{providers}/google/revoke")),
        ("GRAPH_BASE_URL", format!("{providers}/graph")),
        ("GMAIL_BASE_URL", format!("{providers}/gmail")),
        ("CALENDAR_BASE_URL", format!("{providers}/calendar")),
        (
            "GMAIL_PUBSUB_TOPIC",
            "projects/local/topics/gmail-push".to_owned(),
        ),
        ("OAUTH_STATE_KEY", B64.encode(random_key())),
    ] {
        env.insert(k.to_owned(), v);
    }
    let cfg = ConnectConfig::from_lookup(Env::new(move |k: &str| env.get(k).cloned()))?;
    let connector = Connector::from_config(config, &cfg)?;
    let app = Arc::new(App {
        mail: hiresync_store::DynamoMailStore::new(
            aws_sdk_dynamodb::Client::new(config),
            resources.table("MailTable")?,
        ),
        connector: connector.clone(),
        auth: Authenticator::from_spec(&format!("local:{}", B64.encode(&signing)))?,
        clock: Arc::new(jiff::Timestamp::now),
    });
    let routes = router(app).route("/healthz", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(api_listener, routes).await });
    Ok(Suite {
        api,
        providers,
        connector,
        signing,
    })
}

pub async fn run(
    config: &aws_config::SdkConfig,
    template: &Template,
    resources: &Resources,
) -> anyhow::Result<()> {
    let suite = start(config, template, resources).await?;
    let connector = suite.connector.clone();
    let api = suite.api.clone();

    let c = Client {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        base: api.clone(),
        suite: &suite,
    };
    let sqs = aws_sdk_sqs::Client::new(config);
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
    let (pages, failed) = drain_fan_out(&connector, &sqs, resources).await?;
    println!("   settings-fanout handled {pages} page(s), {failed} failed");
    show_connections(&c, &["ana", "ben"]).await?;

    crate::heading("The admin switches to Google Workspace: every connection must reconnect");
    c.call(
        reqwest::Method::PUT,
        "/v1/contracts/globex/settings",
        &admin,
        Some(json!({"provider": "google_workspace"})),
    )
    .await?;
    drain_fan_out(&connector, &sqs, resources).await?;
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

    let attrs = sqs
        .get_queue_attributes()
        .queue_url(resources.queue("SyncJobsQueue")?)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await?;
    let waiting = attrs
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .cloned()
        })
        .unwrap_or_default();
    println!("\n   sync jobs waiting for ingest on the FIFO queue: {waiting}");
    Ok(())
}
