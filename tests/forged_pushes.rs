//! Forged pushes end to end: a wrong client state, an unknown subscription, malformed bodies,
//! Pub/Sub tokens that are missing, signed by another key or meant for someone else, an
//! unknown calendar channel. None of them queues a sync job.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_e2e::{mail, microsoft_seat, Result};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

#[tokio::test]
async fn forged_unknown_and_malformed_pushes_enqueue_nothing() -> Result<()> {
    let suite = hiresync_e2e::start_suite!("forged").await?;
    // The suite names every queue and table of the template, so tests reach any of them.
    let template =
        hiresync_localstack::Template::load(&hiresync_localstack::repository_template_path())?;
    let mut queues: Vec<String> = template
        .queues
        .iter()
        .map(|q| q.logical_id.clone())
        .collect();
    queues.sort();
    assert_eq!(suite.queue_ids(), queues);
    for table in &template.tables {
        assert!(
            suite.tables[&table.logical_id].is_string(),
            "{}",
            table.logical_id
        );
    }
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-forged", me).await?;
    suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    suite.settle().await?;
    let (_, sent) = suite.sandbox(reqwest::Method::GET, "/pushes", None).await?;
    let genuine: Value =
        serde_json::from_str(sent["pushes"][0]["body"].as_str().unwrap_or_default())?;
    let before = suite.sync_status("e2e-forged", "sam").await?;
    assert!(before["last_success_at"].is_string(), "{before}");

    let post = |path: &str, body: String, headers: Vec<(&str, String)>| {
        let mut request = suite
            .http
            .post(format!("{}{path}", suite.api))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        async move { request.send().await.map(|r| r.status().as_u16()) }
    };
    let mut wrong_state = genuine.clone();
    wrong_state["value"][0]["clientState"] = json!("guessed");
    let mut unknown = genuine.clone();
    unknown["value"][0]["subscriptionId"] = json!("no-such-subscription");
    // Graph needs a 2xx to stop retrying a bad item; nothing is queued for it.
    assert_eq!(
        post("/webhooks/graph", wrong_state.to_string(), vec![]).await?,
        202
    );
    assert_eq!(
        post("/webhooks/graph", unknown.to_string(), vec![]).await?,
        202
    );
    assert_eq!(
        post("/webhooks/graph", "{not json".into(), vec![]).await?,
        400
    );
    assert_eq!(
        post("/webhooks/graph/lifecycle", wrong_state.to_string(), vec![]).await?,
        400
    );

    // Pub/Sub: no token, a token from another key, the right key with the wrong audience.
    let data = B64.encode(json!({"emailAddress": me, "historyId": 99999}).to_string());
    let push = json!({"message": {"data": data, "messageId": "forged-1"}, "subscription": "x"})
        .to_string();
    assert_eq!(post("/webhooks/gmail", push.clone(), vec![]).await?, 401);
    let mut rs = Header::new(jsonwebtoken::Algorithm::HS256);
    rs.kid = Some("sandbox-pubsub-1".into());
    let claims = json!({"iss": "https://accounts.google.com", "aud": "https://hiresync.local/webhooks/gmail",
        "email": "gmail-push@sandbox.iam.gserviceaccount.com", "email_verified": true,
        "exp": jiff::Timestamp::now().as_second() + 600});
    let hs = jsonwebtoken::encode(&rs, &claims, &EncodingKey::from_secret(b"guess"))?;
    assert_eq!(
        post(
            "/webhooks/gmail",
            push.clone(),
            vec![("authorization", format!("Bearer {hs}"))]
        )
        .await?,
        401
    );
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("sandbox-pubsub-1".into());
    let mut wrong_audience = claims.clone();
    wrong_audience["aud"] = json!("https://someone-else.example/push");
    let key = EncodingKey::from_rsa_der(include_bytes!(
        "../infra/sandbox/keys/pubsub-signing-key.der"
    ));
    let rs256 = jsonwebtoken::encode(&header, &wrong_audience, &key)?;
    assert_eq!(
        post(
            "/webhooks/gmail",
            push,
            vec![("authorization", format!("Bearer {rs256}"))]
        )
        .await?,
        401
    );
    // Calendar: an unknown channel.
    assert_eq!(
        post(
            "/webhooks/calendar",
            String::new(),
            vec![
                ("x-goog-channel-id", "nope".into()),
                ("x-goog-resource-state", "exists".into()),
                ("x-goog-channel-token", "t".into())
            ]
        )
        .await?,
        403
    );

    // Had anything been queued, ingest would have run a job and moved the status on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    suite.settle().await?;
    assert_eq!(
        suite.sync_status("e2e-forged", "sam").await?,
        before,
        "no sync job ran"
    );
    suite.assert_aws_calls_allowed().await?;
    Ok(())
}
