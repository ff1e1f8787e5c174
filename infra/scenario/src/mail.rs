//! Part three of `make run`: mail. Two recruiters connect real (sandbox) mailboxes, one on
//! Microsoft 365 and one on Google Workspace. Their history is synced; then mail arrives, is
//! replied to, gains a third person, is archived and deleted, and every change reaches
//! hiresync the way it would in production: the provider pushes to webhook-intake, which
//! queues a sync job, which ingest runs against Graph delta or Gmail history.
//!
//! After each step a table lists every message in the mailbox and what hiresync did with
//! it, read back through the API the product uses: the seat's synced threads, and for the
//! rest, "why did this not sync?".

use std::collections::BTreeMap;

use anyhow::Context;
use hiresync_sandbox::control::{MailView, NewMail};
use hiresync_sandbox::mailbox::Folder;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::connect::{outcome, Client};
use crate::suite::Suite;

/// One recruiter's side of the story.
struct Desk<'a> {
    suite: &'a Suite,
    client: Client<'a>,
    contract: &'a str,
    seat: &'a str,
    address: &'a str,
    token: String,
    connected_at: Timestamp,
    /// The sandbox's message id of each message of the story, by label.
    ids: BTreeMap<&'static str, String>,
}

fn days_ago(now: Timestamp, days: i64) -> Timestamp {
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

fn letter(
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

async fn candidate(
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
    async fn new(
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

    async fn admin_sets(&self, settings: Value) -> anyhow::Result<()> {
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

    async fn connect(&mut self) -> anyhow::Result<()> {
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
    async fn mail(&mut self, label: &'static str, letter: NewMail) -> anyhow::Result<()> {
        let delivered = self.suite.sandbox.deliver(self.address, letter).await?;
        self.ids.insert(label, delivered.id);
        Ok(())
    }

    async fn relocate(&self, label: &str, to: Folder) -> anyhow::Result<Vec<Option<u16>>> {
        let id = self
            .ids
            .get(label)
            .context("no such message in the story")?;
        Ok(self.suite.sandbox.relocate(self.address, id, to).await?)
    }

    async fn api(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .client
            .call(reqwest::Method::GET, path, &self.token, None)
            .await?;
        anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
        Ok(body)
    }

    /// provider id -> the stored thread's counterpart, for every synced message.
    async fn synced(&self) -> anyhow::Result<BTreeMap<String, String>> {
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
    async fn decision(&self, m: &MailView) -> anyhow::Result<Option<(String, String)>> {
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
    async fn table(&self, title: &str) -> anyhow::Result<()> {
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

/// For `make serve`: globex's candidates, and a few months of mail in ana's and ben's
/// mailboxes, so that connecting them shows a historical sync with something to judge.
pub async fn seed(suite: &Suite) -> anyhow::Result<String> {
    for (profile, email, pipeline, discovery) in [
        ("p-jane", "jane@talent.example", true, "anyone"),
        ("p-omar", "omar@talent.example", false, "anyone"),
    ] {
        candidate(suite, "globex", profile, email, pipeline, discovery).await?;
    }
    let now = Timestamp::now();
    let jane = "Jane Doe <jane@talent.example>";
    for owner in ["ana@globex.example", "ben@globex.example"] {
        for l in [
            letter(
                "jane",
                jane,
                &[owner],
                &[],
                "Your opening",
                days_ago(now, 30),
            ),
            letter(
                "jane",
                owner,
                &[jane],
                &[],
                "Re: Your opening",
                days_ago(now, 29),
            ),
            letter(
                "team",
                "lee@globex.example",
                &[owner],
                &[],
                "Standup",
                days_ago(now, 3),
            ),
            letter(
                "omar",
                "omar@talent.example",
                &[owner],
                &[],
                "Hello",
                days_ago(now, 9),
            ),
            letter(
                "both",
                owner,
                &[jane],
                &["omar@talent.example"],
                "Both of you",
                days_ago(now, 2),
            ),
            letter(
                "who",
                "someone@elsewhere.example",
                &[owner],
                &[],
                "Hi",
                days_ago(now, 1),
            ),
        ] {
            suite.sandbox.deliver(owner, l).await?;
        }
    }
    suite.pump().await?;
    Ok("2 candidates for globex (jane in the pipeline, omar not); 6 mails each in ana's and ben's mailboxes".to_owned())
}

pub async fn run(suite: &Suite) -> anyhow::Result<()> {
    microsoft(suite).await?;
    google(suite).await
}

async fn microsoft(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "Mail on Microsoft 365: initech's recruiter rita connects a mailbox with a year of history",
    );
    let now = Timestamp::now();
    let mut rita = Desk::new(suite, "initech", "rita", "rita@initech.example").await?;
    rita.admin_sets(json!({"provider": "microsoft365", "email_access": "view_only"}))
        .await?;
    for (profile, email, pipeline, discovery) in [
        ("p-jane", "jane@talent.example", true, "anyone"),
        ("p-kai", "kai@talent.example", true, "anyone"),
        ("p-noor", "noor@talent.example", true, "anyone"),
        ("p-omar", "omar@talent.example", false, "anyone"),
        ("p-lena", "lena@talent.example", true, "first_degree"),
    ] {
        candidate(suite, "initech", profile, email, pipeline, discovery).await?;
    }
    let pumped = suite.pump().await?;
    println!(
        "   the product published 5 candidates; directory-events stored {}",
        pumped.directory.succeeded
    );
    let me = "Rita Recruiter <rita@initech.example>";
    let jane = "Jane Doe <jane@talent.example>";
    for (label, l) in [
        (
            "m1",
            letter(
                "jane",
                jane,
                &[me],
                &[],
                "Senior engineer role",
                days_ago(now, 40),
            ),
        ),
        (
            "m2",
            letter(
                "jane",
                me,
                &[jane],
                &[],
                "Re: Senior engineer role",
                days_ago(now, 39),
            ),
        ),
        (
            "m3",
            letter(
                "kai",
                "kai@talent.example",
                &[me],
                &[],
                "Catching up",
                days_ago(now, 250),
            ),
        ),
        (
            "m4",
            letter(
                "jane-old",
                jane,
                &[me],
                &[],
                "An older hello",
                days_ago(now, 420),
            ),
        ),
        (
            "m5",
            letter(
                "tom",
                "Tom <tom@initech.example>",
                &[me],
                &[],
                "Lunch?",
                days_ago(now, 10),
            ),
        ),
        (
            "m6",
            letter(
                "sam",
                "sam@elsewhere.example",
                &[me],
                &[],
                "Quick question",
                days_ago(now, 5),
            ),
        ),
        (
            "m7",
            letter(
                "omar",
                "omar@talent.example",
                &[me],
                &[],
                "Following up",
                days_ago(now, 8),
            ),
        ),
        (
            "m8",
            letter(
                "lena",
                me,
                &["lena@talent.example"],
                &[],
                "An opening",
                days_ago(now, 3),
            ),
        ),
        (
            "m9",
            letter(
                "panel",
                me,
                &[jane],
                &["kai@talent.example"],
                "Panel interview",
                days_ago(now, 2),
            ),
        ),
        (
            "m10",
            letter(
                "noor",
                "Noor <noor@talent.example>",
                &[me],
                &[],
                "Portfolio",
                days_ago(now, 6),
            ),
        ),
    ] {
        rita.mail(label, l).await?;
    }
    rita.connect().await?;
    rita.table("After the historical sync (Graph delta of Inbox and Sent Items, one year back)")
        .await?;

    crate::heading("Mail arrives and is answered; Graph pushes each change to webhook-intake");
    rita.mail(
        "m11",
        letter(
            "jane",
            jane,
            &[me],
            &[],
            "Re: Senior engineer role",
            Timestamp::now(),
        ),
    )
    .await?;
    rita.mail(
        "m12",
        letter(
            "jane",
            me,
            &[jane],
            &[],
            "Re: Senior engineer role",
            Timestamp::now(),
        ),
    )
    .await?;
    rita.mail(
        "m13",
        letter(
            "noor",
            "Noor <noor@talent.example>",
            &[me],
            &["Priya <priya@agency.example>"],
            "Re: Portfolio",
            Timestamp::now(),
        ),
    )
    .await?;
    let pushes = suite.sandbox.pushes();
    println!(
        "   {} pushes so far, answered {:?}",
        pushes.len(),
        pushes.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    rita.table("A reply each way syncs; noor's thread gained a third person, so all of it left")
        .await?;

    crate::heading("rita deletes the first message and archives jane's latest reply");
    rita.relocate("m1", Folder::DeletedItems).await?;
    rita.relocate("m11", Folder::Archive).await?;
    rita.table("Deleted in the mailbox: deleted here; archived: still synced")
        .await?;

    crate::heading("Every push so far is delivered again, three times over, shuffled");
    let before = rita.synced().await?;
    let answers = suite.sandbox.replay(3, Some(7)).await;
    let after_pump = suite.pump().await?;
    let after = rita.synced().await?;
    println!(
        "   {} redeliveries answered {:?}; ingest ran {} job(s); stored messages before {} after {}: {}",
        answers.len(),
        answers.iter().collect::<std::collections::BTreeSet<_>>(),
        after_pump.ingest.succeeded,
        before.len(),
        after.len(),
        if before == after { "unchanged" } else { "CHANGED" }
    );
    anyhow::ensure!(before == after, "duplicated pushes changed what is stored");
    Ok(())
}

async fn google(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "Mail on Google Workspace: umbrella's recruiter gus connects; Gmail pushes through Pub/Sub",
    );
    let now = Timestamp::now();
    let mut gus = Desk::new(suite, "umbrella", "gus", "gus@umbrella.example").await?;
    gus.admin_sets(json!({"provider": "google_workspace", "email_access": "view_only"}))
        .await?;
    candidate(
        suite,
        "umbrella",
        "p-jane",
        "jane@talent.example",
        true,
        "anyone",
    )
    .await?;
    candidate(
        suite,
        "umbrella",
        "p-kai",
        "kai@talent.example",
        true,
        "anyone",
    )
    .await?;
    suite.pump().await?;
    let me = "gus@umbrella.example";
    let mut odd = letter(
        "jane",
        "jane@talent.example",
        &[me],
        &[],
        "Coffee next week?",
        days_ago(now, 20),
    );
    // Real headers: a display name with a comma, another case.
    odd.headers = vec![("From".into(), "\"Doe, Jane\" <Jane@Talent.example>".into())];
    gus.mail("g1", odd).await?;
    let mut encoded = letter(
        "group",
        me,
        &["jane@talent.example"],
        &["kai@talent.example"],
        "Both of you",
        days_ago(now, 15),
    );
    // An RFC 2047 encoded display name ("Kai Müller") among the recipients.
    encoded.headers = vec![(
        "Cc".into(),
        "=?UTF-8?B?S2FpIE3DvGxsZXI=?= <kai@talent.example>".into(),
    )];
    gus.mail("g2", encoded).await?;
    gus.connect().await?;
    gus.table("After the historical sync (Gmail message list, one year back)")
        .await?;

    gus.mail(
        "g3",
        letter(
            "jane",
            "jane@talent.example",
            &[me],
            &[],
            "Re: Coffee next week?",
            Timestamp::now(),
        ),
    )
    .await?;
    gus.mail(
        "g4",
        letter(
            "jane-import",
            "jane@talent.example",
            &[me],
            &[],
            "Imported from an old archive",
            days_ago(now, 400),
        ),
    )
    .await?;
    gus.table("New mail through Pub/Sub pushes (history.list): a fresh reply, and an imported mail older than the lookback")
        .await?;

    gus.relocate("g3", Folder::DeletedItems).await?;
    gus.table("gus moves the reply to the bin: deleted here")
        .await
}
