//! Part three of `make run`: mail. Two recruiters connect real (sandbox) mailboxes, one on
//! Microsoft 365 and one on Google Workspace. Their history is synced; then mail arrives, is
//! replied to, gains a third person, is archived and deleted, and every change reaches
//! hiresync the way it would in production: the provider pushes to webhook-intake, which
//! queues a sync job, which ingest runs against Graph delta or Gmail history.
//!
//! After each step a table lists every message in the mailbox and what hiresync did with
//! it, read back through the API the product uses: the seat's synced threads, and for the
//! rest, "why did this not sync?".
//!
//! `desk.rs` holds a recruiter's side (their client, their mail, the table), `microsoft.rs`
//! and `google.rs` the two stories.

mod desk;
mod google;
mod microsoft;
pub mod throughput;
mod transfer;

use jiff::Timestamp;

use crate::suite::Suite;
use desk::{candidate, days_ago, letter};

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
    microsoft::run(suite).await?;
    google::run(suite).await?;
    suspension(suite).await
}

/// The product suspends umbrella: its contract is marked at once, every seat's third-party
/// data goes through the purge queue, and the receipt shows it; then it is reactivated.
async fn suspension(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "The product suspends umbrella: every piece of its third-party data is purged, seat by seat",
    );
    let at = jiff::Timestamp::now();
    suite
        .lifecycle(serde_json::json!({"contract_id": "umbrella", "suspended_at": at.to_string()}))
        .await?;
    // The verification waits a few seconds for seats still being purged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let receipt = loop {
        let pumped = suite.pump().await?;
        if pumped.purge.failed > 0 {
            anyhow::bail!("a purge step failed");
        }
        match suite.purge_receipt("umbrella").await? {
            Some(r) if r.is_finished() => break r,
            _ if std::time::Instant::now() > deadline => anyhow::bail!("the purge did not finish"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    };
    for seat in &receipt.seats {
        println!(
            "   seat {}: deleted {}; provider clean-up owed: {}",
            seat.seat,
            serde_json::to_string(&seat.deleted)?,
            seat.awaiting_provider
        );
    }
    let verification = receipt.verification.clone().unwrap_or_default();
    println!(
        "   receipt: started {}, finished {}, {} item(s) deleted; re-read of every key pattern: {}",
        receipt.started_at,
        receipt
            .finished_at
            .map(|t| t.to_string())
            .unwrap_or_default(),
        receipt.deleted.total(),
        if verification.is_clean() {
            "nothing found".to_owned()
        } else {
            format!("found {:?}", verification.found)
        }
    );
    anyhow::ensure!(verification.is_clean(), "the purge left data behind");

    suite
        .lifecycle(serde_json::json!({
            "contract_id": "umbrella",
            "reactivated_at": (at + jiff::SignedDuration::from_secs(1)).to_string()
        }))
        .await?;
    suite.pump().await?;
    println!("   reactivated: umbrella's seats connect again from scratch (a new historical sync)");
    Ok(())
}
