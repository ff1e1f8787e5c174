//! The latency switch: provider calls wait, the sandbox's own control routes do not count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use hiresync_sandbox::Sandbox;

#[tokio::test]
async fn provider_calls_wait_the_set_latency_and_are_counted() {
    let sandbox = Sandbox::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox.clone().serve(listener));
    let http = reqwest::Client::new();

    let set = http
        .post(format!("{base}/sandbox/latency"))
        .json(&serde_json::json!({"ms": 300}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let refused = http
        .post(format!("{base}/sandbox/latency"))
        .json(&serde_json::json!({"ms": 60_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(
        sandbox.provider_calls(),
        0,
        "control routes are not provider calls"
    );

    // A machine under load only makes it slower: the wait is a lower bound.
    let started = Instant::now();
    let answer = http.get(format!("{base}/graph/me")).send().await.unwrap();
    assert_eq!(
        answer.status(),
        401,
        "no token: Graph's refusal, after the wait"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sandbox.provider_calls(), 1);
}
