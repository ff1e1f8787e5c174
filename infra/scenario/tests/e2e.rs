//! End to end: the local suite runs as its own process (`hiresync-scenario serve`, what
//! `make serve` starts), and these tests drive it only from outside, as the product and the
//! providers would: HTTP to the API and the webhooks, mail changes in the provider sandbox
//! (which pushes to the webhooks as Graph and Pub/Sub do), candidate events and jobs onto
//! the real queues. What sync did is read back through the API.
//!
//! Each test starts its own suite (own tables, queues and ports), so they run in parallel.

// Test helpers outside #[test] functions: a failure to mint a token is a broken test.
#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Running {
    child: Child,
    dir: PathBuf,
    api: String,
    providers: String,
    key: Vec<u8>,
    queues: Value,
    http: reqwest::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let mut log = String::new();
            if let Ok(mut f) = std::fs::File::open(self.dir.join("suite.log")) {
                let _ = f.read_to_string(&mut log);
            }
            eprintln!("---- the suite's output ----\n{log}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn days_ago(days: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days)).to_string()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|c| match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (c as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Running {
    async fn start(label: &str) -> Result<Running> {
        let dir = std::env::temp_dir().join(format!(
            "hiresync-e2e-{label}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir)?;
        let info_path = dir.join("suite.json");
        let log = std::fs::File::create(dir.join("suite.log"))?;
        let child = Command::new(env!("CARGO_BIN_EXE_hiresync-scenario"))
            .arg("serve")
            .env("HIRESYNC_PORT", "0")
            .env("HIRESYNC_SUITE_INFO", &info_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(90);
        let info: Value = loop {
            if let Ok(text) = std::fs::read_to_string(&info_path) {
                break serde_json::from_str(&text)?;
            }
            if Instant::now() > deadline {
                return Err("the suite did not come up within 90 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let aws = hiresync_localstack::aws_config().await;
        let running = Running {
            child,
            dir,
            api: info["api"].as_str().unwrap_or_default().to_owned(),
            providers: info["providers"].as_str().unwrap_or_default().to_owned(),
            key: B64.decode(info["signing_key"].as_str().unwrap_or_default())?,
            queues: info["queues"].clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            sqs: aws_sdk_sqs::Client::new(&aws),
        };
        let health = running
            .http
            .get(format!("{}/healthz", running.api))
            .send()
            .await?;
        assert_eq!(health.status().as_u16(), 200, "GET /healthz");
        Ok(running)
    }

    fn token(&self, contract: &str, seat: &str, role: &str) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("local".into());
        let exp = jiff::Timestamp::now().as_second() + 3600;
        jsonwebtoken::encode(
            &header,
            &json!({"sub": format!("user-{seat}"), "contract": contract, "seat": seat, "role": role, "aud": "hiresync", "exp": exp}),
            &EncodingKey::from_secret(&self.key),
        )
        .expect("a token")
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut request = self.http.request(method, url);
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.send(method, format!("{}{path}", self.api), Some(bearer), body)
            .await
    }

    async fn sandbox(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.send(
            method,
            format!("{}/sandbox{path}", self.providers),
            None,
            body,
        )
        .await
    }

    async fn settings(&self, contract: &str, settings: Value) -> Result<()> {
        let admin = self.token(contract, "admin-seat", "admin");
        let (status, body) = self
            .api(
                reqwest::Method::PUT,
                &format!("/v1/contracts/{contract}/settings"),
                &admin,
                Some(settings),
            )
            .await?;
        assert_eq!(status, 200, "settings: {body}");
        Ok(())
    }

    async fn queue_depth(&self, queue: &str) -> Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let url = self.queues[queue].as_str().unwrap_or_default();
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let count = |a: A| {
            attrs
                .get(&a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible))
    }

    /// Waits until the queue is empty (nothing waiting, nothing in flight), seen twice.
    async fn drained(&self, queue: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut quiet = 0;
        while quiet < 2 {
            if Instant::now() > deadline {
                return Err(format!("{queue} did not drain within 60 s").into());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            quiet = if self.queue_depth(queue).await? == 0 {
                quiet + 1
            } else {
                0
            };
        }
        Ok(())
    }

    async fn settle(&self) -> Result<()> {
        self.drained("sync_jobs").await
    }

    /// A candidate event, as the product publishes it, through the real queue.
    async fn candidate(
        &self,
        contract: &str,
        profile: &str,
        email: &str,
        in_pipeline: bool,
        discovery: &str,
    ) -> Result<()> {
        let event = json!({"detail-type": "candidate.upserted", "detail": {
            "contract_id": contract, "profile_id": profile, "emails": [email],
            "discovery": discovery, "in_pipeline": in_pipeline, "version": 1}});
        self.sqs
            .send_message()
            .queue_url(self.queues["directory_events"].as_str().unwrap_or_default())
            .message_body(event.to_string())
            .send()
            .await?;
        self.drained("directory_events").await
    }

    /// A seat connects its mailbox: the consent URL, the sandbox's redirect, our callback.
    async fn connect(&self, contract: &str, seat: &str, address: &str) -> Result<()> {
        let (status, _) = self
            .sandbox(
                reqwest::Method::POST,
                "/accounts",
                Some(json!({"address": address})),
            )
            .await?;
        assert_eq!(status, 204);
        let (status, start) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/seats/{seat}/connections/email/authorize"),
                &self.token(contract, seat, "recruiter"),
                Some(json!({"login_hint": address})),
            )
            .await?;
        assert_eq!(status, 200, "authorize: {start}");
        let consent = self
            .http
            .get(start["authorization_url"].as_str().unwrap_or_default())
            .send()
            .await?;
        let back = consent
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or("the sandbox did not redirect back")?
            .to_owned();
        let done = self.http.get(back).send().await?;
        let status = done.status().as_u16();
        let body: Value = done.json().await?;
        assert_eq!(status, 200, "callback: {body}");
        self.settle().await
    }

    /// Puts a message in a mailbox; the sandbox pushes before answering. Returns its id.
    async fn deliver(&self, address: &str, mail: Value) -> Result<String> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                &format!("/mailboxes/{address}/messages"),
                Some(mail),
            )
            .await?;
        assert_eq!(status, 201, "deliver: {body}");
        for answer in body["pushes"].as_array().into_iter().flatten() {
            assert!(
                matches!(answer.as_u64(), Some(202 | 204)),
                "a push was not accepted: {body}"
            );
        }
        Ok(body["id"].as_str().unwrap_or_default().to_owned())
    }

    async fn relocate(&self, address: &str, id: &str, folder: &str) -> Result<()> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                &format!("/mailboxes/{address}/messages/{id}/move"),
                Some(json!({"folder": folder})),
            )
            .await?;
        assert_eq!(status, 200, "move: {body}");
        Ok(())
    }

    /// provider id -> counterpart, for every message the seat has stored.
    async fn stored(&self, contract: &str, seat: &str) -> Result<BTreeMap<String, String>> {
        let token = self.token(contract, seat, "recruiter");
        let mut stored = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = format!("/v1/contracts/{contract}/seats/{seat}/threads?limit=100");
            if let Some(n) = &next {
                path.push_str(&format!("&next={}", encode(n)));
            }
            let (status, page) = self.api(reqwest::Method::GET, &path, &token, None).await?;
            assert_eq!(status, 200, "threads: {page}");
            for t in page["threads"].as_array().into_iter().flatten() {
                assert_eq!(
                    t["visibility"], "private",
                    "synced mail is private by default"
                );
                for m in t["messages"].as_array().into_iter().flatten() {
                    stored.insert(
                        m["provider_id"].as_str().unwrap_or_default().to_owned(),
                        t["counterpart"].as_str().unwrap_or_default().to_owned(),
                    );
                }
            }
            match page["next"].as_str() {
                Some(n) => next = Some(n.to_owned()),
                None => return Ok(stored),
            }
        }
    }

    async fn stored_ids(&self, contract: &str, seat: &str) -> Result<BTreeSet<String>> {
        Ok(self.stored(contract, seat).await?.into_keys().collect())
    }

    /// The recorded reason a message was not synced, asked under `counterpart`.
    async fn why(
        &self,
        contract: &str,
        seat: &str,
        counterpart: &str,
        id: &str,
    ) -> Result<Option<String>> {
        let (status, body) = self
            .api(
                reqwest::Method::GET,
                &format!(
                    "/v1/contracts/{contract}/seats/{seat}/skips?counterpart={}&message={}",
                    encode(counterpart),
                    encode(id)
                ),
                &self.token(contract, seat, "recruiter"),
                None,
            )
            .await?;
        assert_eq!(status, 200, "skips: {body}");
        Ok(body["decisions"][0]["code"].as_str().map(str::to_owned))
    }

    async fn email_state(&self, contract: &str, seat: &str) -> Result<String> {
        let email = self.email_connection(contract, seat).await?;
        Ok(email["state"].as_str().unwrap_or_default().to_owned())
    }

    async fn sync_status(&self, contract: &str, seat: &str) -> Result<Value> {
        Ok(self.email_connection(contract, seat).await?["sync"].clone())
    }

    async fn email_connection(&self, contract: &str, seat: &str) -> Result<Value> {
        let (status, body) = self
            .api(
                reqwest::Method::GET,
                &format!("/v1/contracts/{contract}/seats/{seat}/connections"),
                &self.token(contract, seat, "recruiter"),
                None,
            )
            .await?;
        assert_eq!(status, 200, "connections: {body}");
        let email = body["connections"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["kind"] == "email")
            .cloned()
            .ok_or("no email connection")?;
        Ok(email)
    }
}

fn mail(thread: &str, from: &str, to: &[&str], cc: &[&str], at: Option<String>) -> Value {
    json!({"thread": thread, "from": from, "to": to, "cc": cc, "subject": format!("about {thread}"), "at": at})
}

fn ids(list: &[&String]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A Microsoft 365 contract with candidates, and one connected seat.
async fn microsoft_seat(suite: &Running, contract: &str, address: &str) -> Result<()> {
    suite
        .settings(
            contract,
            json!({"provider": "microsoft365", "email_access": "view_only"}),
        )
        .await?;
    for (profile, email, pipeline, discovery) in [
        ("p-jane", "jane@talent.example", true, "anyone"),
        ("p-noor", "noor@talent.example", true, "anyone"),
        ("p-omar", "omar@talent.example", false, "anyone"),
        ("p-lena", "lena@talent.example", true, "first_degree"),
    ] {
        suite
            .candidate(contract, profile, email, pipeline, discovery)
            .await?;
    }
    suite.connect(contract, "sam", address).await
}

#[tokio::test]
async fn every_rule_through_graph_pushes_and_the_sandbox_mailbox() -> Result<()> {
    let suite = Running::start("graph").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-ms", me).await?;
    let jane = "Jane Doe <jane@talent.example>";

    let synced_in = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    let synced_out = suite
        .deliver(me, mail("jane", me, &[jane], &[], None))
        .await?;
    let colleague = suite
        .deliver(me, mail("tom", "tom@hire.example", &[me], &[], None))
        .await?;
    let stranger = suite
        .deliver(me, mail("x", "x@nowhere.example", &[me], &[], None))
        .await?;
    let outside_pipeline = suite
        .deliver(me, mail("omar", "omar@talent.example", &[me], &[], None))
        .await?;
    let restricted = suite
        .deliver(me, mail("lena", me, &["lena@talent.example"], &[], None))
        .await?;
    let group = suite
        .deliver(
            me,
            mail("panel", me, &[jane], &["omar@talent.example"], None),
        )
        .await?;
    // Imported into the inbox now, but its conversation has been idle for seven months.
    let idle = suite
        .deliver(
            me,
            mail(
                "noor-old",
                "noor@talent.example",
                &[me],
                &[],
                Some(days_ago(210)),
            ),
        )
        .await?;
    // A 1:1 thread that gains a third person: all of it leaves, and stays out.
    let noor_first = suite
        .deliver(me, mail("noor", "noor@talent.example", &[me], &[], None))
        .await?;
    suite.settle().await?;
    assert!(suite
        .stored("e2e-ms", "sam")
        .await?
        .contains_key(&noor_first));
    let noor_group = suite
        .deliver(
            me,
            mail(
                "noor",
                "noor@talent.example",
                &[me],
                &["Priya <priya@agency.example>"],
                None,
            ),
        )
        .await?;
    let noor_later = suite
        .deliver(me, mail("noor", me, &["noor@talent.example"], &[], None))
        .await?;
    suite.settle().await?;

    let stored = suite.stored("e2e-ms", "sam").await?;
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&[&synced_in, &synced_out]),
        "exactly the one-to-one candidate thread is stored"
    );
    assert_eq!(stored[&synced_in], "jane@talent.example");
    for (counterpart, id, code) in [
        ("tom@hire.example", &colleague, "same_domain"),
        ("x@nowhere.example", &stranger, "no_profile"),
        ("omar@talent.example", &outside_pipeline, "not_in_pipeline"),
        ("lena@talent.example", &restricted, "discovery_restricted"),
        ("omar@talent.example", &group, "too_many_participants"),
        ("noor@talent.example", &idle, "thread_inactive"),
        ("priya@agency.example", &noor_group, "too_many_participants"),
        ("noor@talent.example", &noor_later, "too_many_participants"),
    ] {
        assert_eq!(
            suite
                .why("e2e-ms", "sam", counterpart, id)
                .await?
                .as_deref(),
            Some(code),
            "why was {id} ({counterpart}) not synced?"
        );
    }

    // Deletion: into Deleted Items is a delete; into another folder is not.
    suite.relocate(me, &synced_in, "deleteditems").await?;
    suite.relocate(me, &synced_out, "archive").await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-ms", "sam").await?,
        ids(&[&synced_out])
    );
    // Deleted for good (not through Deleted Items) from a folder sync follows.
    let third = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    suite.settle().await?;
    assert!(suite.stored("e2e-ms", "sam").await?.contains_key(&third));
    let (status, _) = suite
        .sandbox(
            reqwest::Method::DELETE,
            &format!("/mailboxes/{me}/messages/{third}"),
            None,
        )
        .await?;
    assert_eq!(status, 200);
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-ms", "sam").await?,
        ids(&[&synced_out])
    );
    // Moved on from the archive into Deleted Items: a delete after all.
    suite.relocate(me, &synced_out, "deleteditems").await?;
    suite.settle().await?;
    assert_eq!(suite.stored_ids("e2e-ms", "sam").await?, ids(&[]));
    Ok(())
}

#[tokio::test]
async fn gmail_through_pubsub_pushes_with_real_headers_deletes_and_a_deauthorized_seat(
) -> Result<()> {
    let suite = Running::start("gmail").await?;
    let me = "gus@umbrella.example";
    suite
        .settings(
            "e2e-g",
            json!({"provider": "google_workspace", "email_access": "view_only"}),
        )
        .await?;
    suite
        .candidate("e2e-g", "p-jane", "jane@talent.example", true, "anyone")
        .await?;
    suite
        .candidate("e2e-g", "p-kai", "kai@talent.example", true, "anyone")
        .await?;
    // History before the connection: read by the historical sync.
    let mut odd = mail(
        "jane",
        "jane@talent.example",
        &[me],
        &[],
        Some(days_ago(20)),
    );
    odd["headers"] = json!([["From", "\"Doe, Jane\" <Jane@Talent.example>"]]);
    let historical = suite.deliver(me, odd).await?;
    let mut encoded = mail(
        "group",
        me,
        &["jane@talent.example"],
        &[],
        Some(days_ago(15)),
    );
    encoded["headers"] = json!([["Cc", "=?UTF-8?B?S2FpIE3DvGxsZXI=?= <kai@talent.example>"]]);
    let group = suite.deliver(me, encoded).await?;
    let ancient = suite
        .deliver(
            me,
            mail(
                "old",
                "jane@talent.example",
                &[me],
                &[],
                Some(days_ago(500)),
            ),
        )
        .await?;
    suite.connect("e2e-g", "gus", me).await?;
    let stored = suite.stored("e2e-g", "gus").await?;
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&[&historical])
    );
    assert_eq!(
        stored[&historical], "jane@talent.example",
        "display name with a comma, any case"
    );
    assert_eq!(
        suite
            .why("e2e-g", "gus", "kai@talent.example", &group)
            .await?
            .as_deref(),
        Some("too_many_participants"),
        "an encoded-word display name is still a participant"
    );
    assert_eq!(
        suite
            .why("e2e-g", "gus", "jane@talent.example", &ancient)
            .await?,
        None,
        "never fetched"
    );

    // Live, through Pub/Sub: a reply syncs; an old mail imported now is before the lookback.
    let reply = suite
        .deliver(me, mail("jane", me, &["jane@talent.example"], &[], None))
        .await?;
    let imported = suite
        .deliver(
            me,
            mail(
                "import",
                "jane@talent.example",
                &[me],
                &[],
                Some(days_ago(400)),
            ),
        )
        .await?;
    suite.settle().await?;
    assert!(suite.stored("e2e-g", "gus").await?.contains_key(&reply));
    assert_eq!(
        suite
            .why("e2e-g", "gus", "jane@talent.example", &imported)
            .await?
            .as_deref(),
        Some("before_lookback")
    );
    // The bin is a delete; so is a delete for good.
    suite.relocate(me, &reply, "trash").await?;
    suite.settle().await?;
    assert_eq!(suite.stored_ids("e2e-g", "gus").await?, ids(&[&historical]));

    // Email turned off: the seat is deauthorized; nothing is fetched or deleted meanwhile.
    suite
        .settings("e2e-g", json!({"email_access": "off"}))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while suite.email_state("e2e-g", "gus").await? == "authorized" {
        assert!(Instant::now() < deadline, "the seat was never deauthorized");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, pushes_before) = suite.sandbox(reqwest::Method::GET, "/pushes", None).await?;
    let unseen = suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    suite.relocate(me, &historical, "trash").await?;
    suite.settle().await?;
    let (_, pushes_after) = suite.sandbox(reqwest::Method::GET, "/pushes", None).await?;
    assert_eq!(
        pushes_before["pushes"].as_array().map(Vec::len),
        pushes_after["pushes"].as_array().map(Vec::len),
        "the watch was stopped: no more pushes"
    );
    let stored = suite.stored("e2e-g", "gus").await?;
    assert!(!stored.contains_key(&unseen));
    assert!(
        stored.contains_key(&historical),
        "nothing is deleted while deauthorized"
    );
    Ok(())
}

#[tokio::test]
async fn notifications_duplicated_ten_times_and_shuffled_store_exactly_the_expected_set(
) -> Result<()> {
    let suite = Running::start("dupes").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-dup", me).await?;
    let jane = "jane@talent.example";
    let a = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    let b = suite
        .deliver(me, mail("jane", me, &[jane], &[], None))
        .await?;
    let _skipped = suite
        .deliver(me, mail("x", "x@nowhere.example", &[me], &[], None))
        .await?;
    let c = suite
        .deliver(me, mail("noor", "noor@talent.example", &[me], &[], None))
        .await?;
    let gone = suite
        .deliver(me, mail("jane", jane, &[me], &[], None))
        .await?;
    suite.relocate(me, &gone, "deleteditems").await?;
    suite.settle().await?;
    let expected = ids(&[&a, &b, &c]);
    assert_eq!(suite.stored_ids("e2e-dup", "sam").await?, expected);

    let (status, body) = suite
        .sandbox(
            reqwest::Method::POST,
            "/pushes/replay",
            Some(json!({"times": 10, "seed": 20261123})),
        )
        .await?;
    assert_eq!(status, 200);
    let answers = body["answers"].as_array().cloned().unwrap_or_default();
    assert!(answers.len() >= 60, "every push, ten times over");
    assert!(answers.iter().all(|a| a.as_u64() == Some(202)), "{body}");
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-dup", "sam").await?,
        expected,
        "duplicates and reordering change nothing"
    );
    Ok(())
}

#[tokio::test]
async fn forged_unknown_and_malformed_pushes_enqueue_nothing() -> Result<()> {
    let suite = Running::start("forged").await?;
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
    let key =
        EncodingKey::from_rsa_der(include_bytes!("../../sandbox/keys/pubsub-signing-key.der"));
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
    Ok(())
}

#[tokio::test]
async fn a_poison_job_lands_in_the_dead_letter_queue_while_other_mailboxes_sync() -> Result<()> {
    let suite = Running::start("poison").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-poison", me).await?;
    suite
        .sqs
        .send_message()
        .queue_url(suite.queues["sync_jobs"].as_str().unwrap_or_default())
        .message_group_id("e2e-poison/nobody/email")
        .message_deduplication_id("poison-1")
        .message_body("{\"this is\": \"not a sync job\"}")
        .send()
        .await?;
    let fine = suite
        .deliver(me, mail("jane", "jane@talent.example", &[me], &[], None))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while suite.queue_depth("sync_jobs_dlq").await? == 0 {
        assert!(
            Instant::now() < deadline,
            "the poison job never reached the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    suite.settle().await?;
    assert_eq!(suite.queue_depth("sync_jobs_dlq").await?, 1);
    assert!(suite.stored("e2e-poison", "sam").await?.contains_key(&fine));
    Ok(())
}

#[tokio::test]
async fn a_missed_notification_and_a_forgotten_cursor_lose_nothing() -> Result<()> {
    let suite = Running::start("gaps").await?;
    let me = "sam@hire.example";
    microsoft_seat(&suite, "e2e-gaps", me).await?;

    // Graph dropped the notification; its lifecycle event `missed` brings a catch-up sync.
    let mut quiet = mail("jane", "jane@talent.example", &[me], &[], None);
    quiet["silent"] = json!(true);
    let dropped = suite.deliver(me, quiet).await?;
    suite.settle().await?;
    assert!(
        !suite
            .stored_ids("e2e-gaps", "sam")
            .await?
            .contains(&dropped),
        "nothing has told hiresync yet"
    );
    let (status, body) = suite
        .sandbox(
            reqwest::Method::POST,
            &format!("/mailboxes/{me}/lifecycle"),
            Some(json!({"event": "missed"})),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let answers = body["pushes"].as_array().cloned().unwrap_or_default();
    assert!(
        !answers.is_empty(),
        "every mail subscription asked for lifecycle events"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.as_u64(), Some(200..=299))),
        "{body}"
    );
    suite.settle().await?;
    assert!(suite
        .stored_ids("e2e-gaps", "sam")
        .await?
        .contains(&dropped));

    // The provider forgets every cursor: the next sync starts a bounded resync and still
    // ends with exactly the mailbox's one-to-one thread.
    let (status, _) = suite
        .sandbox(
            reqwest::Method::POST,
            &format!("/mailboxes/{me}/expire-cursors"),
            None,
        )
        .await?;
    assert_eq!(status, 204);
    let reply = suite
        .deliver(me, mail("jane", me, &["jane@talent.example"], &[], None))
        .await?;
    suite.settle().await?;
    assert_eq!(
        suite.stored_ids("e2e-gaps", "sam").await?,
        ids(&[&dropped, &reply])
    );
    let status = suite.sync_status("e2e-gaps", "sam").await?;
    assert_eq!(status["stage"], "resyncing", "{status}");
    assert!(status["last_error"].is_null(), "{status}");
    Ok(())
}
