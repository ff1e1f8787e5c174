//! The driver of the end-to-end tests. The local suite runs as its own process
//! (`hiresync-scenario serve`, what `make serve` starts), and the tests drive it only from
//! outside, as the product and the providers would: HTTP to the API and the webhooks, mail
//! changes in the provider sandbox (which pushes to the webhooks as Graph and Pub/Sub do),
//! candidate events and jobs onto the real queues. What sync did is read back through the API.
//!
//! Each test starts its own suite (own tables, queues and ports), so they run in parallel.
//! One file per concern uses this driver: `mail_rules`, `deletes`, `delivery_faults`,
//! `forged_pushes`.

mod api;
pub mod browser;
mod fixtures;
mod queues;
mod sandbox;
mod scheduling;
mod secrets;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

pub use fixtures::{days_ago, ids, mail, microsoft_seat};
pub use scheduling::Page;
/// What the scheduling tests start from.
pub mod scheduling_fixtures {
    pub use crate::scheduling::{every_day, RITA};
}

/// Starts a suite of its own for the calling test: `start_suite!("label").await?`. A macro
/// because cargo names the package's binary (`CARGO_BIN_EXE_*`) only to the test crates,
/// not to this driver library.
#[macro_export]
macro_rules! start_suite {
    ($label:expr) => {
        $crate::Running::start(env!("CARGO_BIN_EXE_hiresync-e2e-suite"), $label)
    };
}

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One running suite. Dropping it stops the process; when a test panicked, the suite's
/// output is printed first, since that is where the reason usually is.
pub struct Running {
    child: Child,
    dir: PathBuf,
    /// Base URL of the API and the webhooks (`http://127.0.0.1:<port>`).
    pub api: String,
    providers: String,
    key: Vec<u8>,
    queues: Value,
    /// Every table the suite created, by logical id.
    pub tables: Value,
    /// Follows no redirects, so the sandbox's consent redirect can be read.
    pub http: reqwest::Client,
    /// Talks to the emulated SQS the suite's queues live in.
    pub sqs: aws_sdk_sqs::Client,
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

impl Running {
    /// The logical ids of the queues the suite says it created.
    pub fn queue_ids(&self) -> Vec<String> {
        self.queues
            .as_object()
            .map(|q| q.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Starts a suite of its own on free ports and waits until it answers `/healthz`.
    /// `binary` is the suite's executable; the [`start_suite!`] macro passes the one cargo
    /// built for the calling test.
    pub async fn start(binary: &str, label: &str) -> Result<Running> {
        let dir = std::env::temp_dir().join(format!(
            "hiresync-e2e-{label}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir)?;
        let info_path = dir.join("suite.json");
        let log = std::fs::File::create(dir.join("suite.log"))?;
        let child = Command::new(binary)
            .arg("serve")
            .env("HIRESYNC_PORT", "0")
            .env("HIRESYNC_RENEWAL_SECONDS", "1")
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
            tables: info["tables"].clone(),
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

    /// Every AWS call the suite's functions made so far is one their roles in template.yaml
    /// allow (the suite records each call on its way to the emulators and checks it as IAM
    /// would); the error lists each refused one.
    pub async fn assert_aws_calls_allowed(&self) -> Result<()> {
        let report = self.aws_calls().await?;
        let refused = report["refused"].as_array().cloned().unwrap_or_default();
        if report["calls"].as_u64().unwrap_or(0) == 0 {
            return Err("no AWS call was recorded: the check would prove nothing".into());
        }
        if !refused.is_empty() {
            return Err(format!(
                "calls the functions' roles refuse:\n{}",
                serde_json::to_string_pretty(&refused)?
            )
            .into());
        }
        Ok(())
    }

    /// The AWS calls the suite's functions made so far, as the suite reports them:
    /// `{"calls": n, "made": {function: {target: count}}, "refused": [...], ...}`.
    pub async fn aws_calls(&self) -> Result<Value> {
        let (status, report) = self
            .send(
                reqwest::Method::GET,
                format!("{}/suite/aws-calls", self.api),
                None,
                None,
            )
            .await?;
        if status != 200 {
            return Err(format!("GET /suite/aws-calls: {status}").into());
        }
        Ok(report)
    }

    /// A bearer token as the product's identity provider would mint it, signed with the
    /// suite's local key.
    pub fn token(&self, contract: &str, seat: &str, role: &str) -> Result<String> {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("local".into());
        let exp = jiff::Timestamp::now().as_second() + 3600;
        Ok(jsonwebtoken::encode(
            &header,
            &json!({"sub": format!("user-{seat}"), "contract": contract, "seat": seat, "role": role, "aud": "hiresync", "exp": exp}),
            &EncodingKey::from_secret(&self.key),
        )?)
    }

    /// One HTTP exchange; a body that is not JSON reads as `null`.
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
}
