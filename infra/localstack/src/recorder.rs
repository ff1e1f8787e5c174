//! Every AWS call a function makes, recorded on its way to the emulators: what the
//! permission check ([`crate::permissions`]) holds against the function's role in
//! template.yaml.
//!
//! Each recorded function gets an SDK configuration of its own whose endpoint is a small
//! proxy on loopback; the proxy notes the call (the `X-Amz-Target` operation and its JSON
//! body) and forwards it unchanged to DynamoDB Local or moto, whose answer it hands back
//! unchanged. The function's code is the deployed code: only the endpoint differs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One call: who made it, the operation (`DynamoDB_20120810.Query`, `AmazonSQS.SendMessage`,
/// `TrentService.Decrypt`, `secretsmanager.GetSecretValue`) and its body.
#[derive(Debug, Clone)]
pub struct AwsCall {
    pub function: String,
    pub target: String,
    pub body: serde_json::Value,
}

/// The calls recorded so far, shared by every recorded function.
#[derive(Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<AwsCall>>>,
    http: reqwest::Client,
}

#[derive(Clone)]
struct Proxy {
    recorder: Recorder,
    function: String,
    dynamodb: String,
    others: String,
}

/// The endpoint a service's calls really go to: the SDK's own environment variables.
fn endpoint(service_variable: &str) -> anyhow::Result<String> {
    std::env::var(service_variable)
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .map_err(|_| {
            anyhow::anyhow!(
                "{service_variable} is not set: the recorder forwards to the local emulators"
            )
        })
}

/// Makes the SDK ignore per-service endpoint variables, so the proxy is every service's
/// endpoint.
#[derive(Debug)]
struct NoServiceEndpoints;

impl aws_types::service_config::LoadServiceConfig for NoServiceEndpoints {
    fn load_config(&self, _: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// An SDK configuration for `function`: `base` with every service's endpoint at a proxy
    /// that records the function's calls.
    pub async fn config_for(
        &self,
        base: &aws_config::SdkConfig,
        function: &str,
    ) -> anyhow::Result<aws_config::SdkConfig> {
        let proxy = Proxy {
            recorder: self.clone(),
            function: function.to_owned(),
            dynamodb: endpoint("AWS_ENDPOINT_URL_DYNAMODB")?,
            others: endpoint("AWS_ENDPOINT_URL")?,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(base
            .to_builder()
            .endpoint_url(url)
            .service_config(NoServiceEndpoints)
            .build())
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<AwsCall> {
        match self.calls.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// How many calls of each operation each function made.
    pub fn tally(&self) -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for c in self.calls() {
            *out.entry((c.function, c.target)).or_default() += 1;
        }
        out
    }
}

async fn forward(State(proxy): State<Proxy>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let parsed = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    if let Ok(mut calls) = proxy.recorder.calls.lock() {
        calls.push(AwsCall {
            function: proxy.function.clone(),
            target: target.clone(),
            body: parsed,
        });
    }
    let base = if target.starts_with("DynamoDB_") {
        &proxy.dynamodb
    } else {
        &proxy.others
    };
    let mut request = proxy
        .recorder
        .http
        .post(format!("{}/", base.trim_end_matches('/')));
    for (name, value) in &headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            out_headers.insert(name.clone(), value.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out_headers, bytes).into_response()
}
