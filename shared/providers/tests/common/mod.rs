//! Shared set-up for the provider tests: clients pointed at a wiremock server, with
//! retries fast enough for a test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hiresync_providers::{http_client, Api, RetryPolicy};
use secrecy::SecretString;
use wiremock::{MockServer, Request};

pub const TOKEN: &str = "ya29.test-access-token";

/// Tiny backoff; a cap of 2 s lets a `Retry-After: 1` be honoured.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base: Duration::from_millis(1),
        cap: Duration::from_secs(2),
    }
}

pub fn api() -> Api {
    Api::new(http_client().unwrap(), SecretString::from(TOKEN)).with_retry(fast_retry())
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

pub fn json_body(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}
