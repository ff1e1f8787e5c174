//! One recruiter's side of the mail story: their API client, the mail they send and
//! receive, and the table of what hiresync did with each message.

use std::collections::BTreeMap;

use anyhow::Context;
use hiresync_sandbox::control::{MailView, NewMail};
use hiresync_sandbox::mailbox::Folder;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::connect::{outcome, Client};
use crate::suite::Suite;

/// One recruiter's side of the story.
pub(super) struct Desk<'a> {
    pub(super) suite: &'a Suite,
    pub(super) client: Client<'a>,
    pub(super) contract: &'a str,
    pub(super) seat: &'a str,
    pub(super) address: &'a str,
    pub(super) token: String,
    pub(super) connected_at: Timestamp,
    /// The sandbox's message id of each message of the story, by label.
    pub(super) ids: BTreeMap<&'static str, String>,
}

pub(super) fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now - SignedDuration::from_hours(24 * days)
}

fn when(now: Timestamp, at: Timestamp) -> String {
    let days = now.duration_since(at).as_hours() / 24;
    match days {
        0 => "today".to_owned(),
        1 => "yesterday".to_owned(),
        d => format!("{d} days ago"),
    }
}

pub(super) fn letter(
    thread: &str,
    from: &str,
    to: &[&str],
    cc: &[&str],
    subject: &str,
    at: Timestamp,
) -> NewMail {
    NewMail {
        thread: thread.to_owned(),
        from: from.to_owned(),
        to: to.iter().map(|s| s.to_string()).collect(),
        cc: cc.iter().map(|s| s.to_string()).collect(),
        bcc: vec![],
        subject: subject.to_owned(),
        at: Some(at),
        message_id: None,
        folder: None,
        headers: vec![],
        silent: false,
    }
}

pub(super) async fn candidate(
    suite: &Suite,
    contract: &str,
    profile: &str,
    email: &str,
    in_pipeline: bool,
    discovery: &str,
) -> anyhow::Result<()> {
    suite
        .publish(json!({"detail-type": "candidate.upserted", "detail": {
            "contract_id": contract, "profile_id": profile, "emails": [email],
            "discovery": discovery, "in_pipeline": in_pipeline, "version": 1}}))
        .await
}

impl<'a> Desk<'a> {
    pub(super) async fn new(
        suite: &'a Suite,
        contract: &'a str,
        seat: &'a str,
        address: &'a str,
    ) -> anyhow::Result<Desk<'a>> {
        Ok(Desk {
            suite,
            client: Client::new(suite, contract)?,
            contract,
            seat,
            address,
            token: suite.token(contract, &format!("user-{seat}"), seat, "recruiter")?,
            connected_at: Timestamp::now(),
            ids: BTreeMap::new(),
        })
    }

    pub(super) async fn admin_sets(&self, settings: Value) -> anyhow::Result<()> {
        let admin = self
            .suite
            .token(self.contract, "admin", "admin-seat", "admin")?;
        let (status, body) = self
            .client
            .call(
                reqwest::Method::PUT,
                &format!("/v1/contracts/{}/settings", self.contract),
                &admin,
                Some(settings.clone()),
            )
            .await?;
        anyhow::ensure!(status == 200, "settings refused: {body}");
        println!("   admin of {}: {settings}", self.contract);
        Ok(())
    }

    pub(super) async fn connect(&mut self) -> anyhow::Result<()> {
        self.connected_at = Timestamp::now();
        let (status, body) = self
            .client
            .connect(self.seat, self.address, "email")
            .await?;
        println!(
            "   {} connects {}: {}",
            self.seat,
            self.address,
            outcome(status, &body)
        );
        anyhow::ensure!(status == 200, "the connection failed");
        Ok(())
    }

    /// A message lands in the mailbox; the provider pushes as it would.
    pub(super) async fn mail(
        &mut self,
        label: &'static str,
        letter: NewMail,
    ) -> anyhow::Result<()> {
        let delivered = self.suite.sandbox.deliver(self.address, letter).await?;
        self.ids.insert(label, delivered.id);
        Ok(())
    }

    pub(super) async fn relocate(
        &self,
        label: &str,
        to: Folder,
    ) -> anyhow::Result<Vec<Option<u16>>> {
        let id = self
            .ids
            .get(label)
            .context("no such message in the story")?;
        Ok(self.suite.sandbox.relocate(self.address, id, to).await?)
    }

    pub(super) async fn api(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .client
            .call(reqwest::Method::GET, path, &self.token, None)
            .await?;
        anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
        Ok(body)
    }

    /// provider id -> the stored thread's counterpart, for every synced message.
    pub(super) async fn synced(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let mut stored = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = format!(
                "/v1/contracts/{}/seats/{}/threads?limit=100",
                self.contract, self.seat
            );
            if let Some(n) = &next {
                path.push_str(&format!("&next={}", encode(n)));
            }
            let page = self.api(&path).await?;
            for t in page["threads"].as_array().into_iter().flatten() {
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

    /// The recorded decision on a message, asked under each of its other participants.
    pub(super) async fn decision(&self, m: &MailView) -> anyhow::Result<Option<(String, String)>> {
        let others = std::iter::once(&m.from)
            .chain(&m.to)
            .chain(&m.cc)
            .filter(|a| !a.eq_ignore_ascii_case(self.address));
        for other in others {
            let body = self
                .api(&format!(
                    "/v1/contracts/{}/seats/{}/skips?counterpart={}&message={}",
                    self.contract,
                    self.seat,
                    encode(other),
                    encode(&m.id)
                ))
                .await?;
            if let Some(d) = body["decisions"].as_array().and_then(|d| d.first()) {
                return Ok(Some((
                    d["code"].as_str().unwrap_or_default().to_owned(),
                    d["explanation"].as_str().unwrap_or_default().to_owned(),
                )));
            }
        }
        Ok(None)
    }

    /// Every message in the mailbox, and what hiresync did with it.
    pub(super) async fn table(&self, title: &str) -> anyhow::Result<()> {
        let pumped = self.suite.pump().await?;
        crate::heading(title);
        println!(
            "   (ingest ran {} sync job(s), {} failed)",
            pumped.ingest.succeeded, pumped.ingest.failed
        );
        let now = Timestamp::now();
        let lookback = days_ago(self.connected_at, 365);
        let synced = self.synced().await?;
        let label_of = |id: &str| {
            self.ids
                .iter()
                .find(|(_, v)| v.as_str() == id)
                .map(|(k, _)| *k)
                .unwrap_or("?")
        };
        println!(
            "   {:<4} {:<13} {:<12} {:<34} {:<24} hiresync",
            "#", "sent", "mailbox", "from -> to", "subject"
        );
        for m in self.suite.sandbox.mails(self.address) {
            let mut people = format!(
                "{} -> {}",
                short(&m.from),
                m.to.iter().map(|a| short(a)).collect::<Vec<_>>().join(",")
            );
            if !m.cc.is_empty() {
                people.push_str(&format!(
                    " cc {}",
                    m.cc.iter().map(|a| short(a)).collect::<Vec<_>>().join(",")
                ));
            }
            let verdict = if synced.contains_key(&m.id) {
                "synced (private to the seat)".to_owned()
            } else if let Some((code, explanation)) = self.decision(&m).await? {
                format!("skipped: {code}\n{:>95}{explanation}", "")
            } else if m.folder == "deleteditems" || m.folder == "gone" {
                "not stored: deleted in the mailbox".to_owned()
            } else if m.at < lookback {
                "not fetched: older than the one-year lookback".to_owned()
            } else {
                "no decision yet".to_owned()
            };
            println!(
                "   {:<4} {:<13} {:<12} {:<34} {:<24} {verdict}",
                label_of(&m.id),
                when(now, m.at),
                m.folder,
                people,
                truncate(&m.subject, 23),
            );
        }
        Ok(())
    }
}

fn short(address: &str) -> &str {
    address.split('@').next().unwrap_or(address)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// Percent-encodes a query value.
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
