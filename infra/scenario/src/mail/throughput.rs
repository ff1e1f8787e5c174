//! How fast a historical sync judges a large mailbox (the `historical` benchmark): one
//! seat's mailbox filled with `messages` mails spread over the last year, the provider
//! answering every call after `latency` (a provider across the internet rather than on
//! loopback), then the seat connects and the clock runs until ingest has judged it all.
//! Everything is the deployed code: settings-api completes the sign-in, ingest pulls Graph
//! delta or Gmail list and metadata from the sandbox and writes to DynamoDB Local.

use std::time::{Duration, Instant};

use hiresync_sandbox::Behaviour;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::suite::Suite;

use super::desk::{candidate, letter, Desk};

/// What one historical sync took.
#[derive(Debug, Clone)]
pub struct Measured {
    pub provider: &'static str,
    pub messages: usize,
    pub synced: usize,
    pub provider_calls: u64,
    pub elapsed: Duration,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
}

/// Candidates of the contract the mailbox writes to; one mail in ten is with someone else.
const CANDIDATES: usize = 100;

/// Fills `address`'s mailbox: 1:1 threads with candidates (half received, half answered),
/// one mail in ten from a stranger, one in ten copying a second candidate; the threads that
/// went quiet over six months ago are judged and left out too.
async fn fill(suite: &Suite, address: &str, messages: usize, now: Timestamp) -> anyhow::Result<()> {
    for n in 0..messages {
        let who = format!("cand{}@talent.example", n % CANDIDATES);
        let other = format!("cand{}@talent.example", (n + 1) % CANDIDATES);
        let stranger = format!("someone{n}@elsewhere.example");
        // Spread over 360 days, newest last.
        let at = now
            - SignedDuration::from_mins(((messages - n) * 360 * 24 * 60 / messages) as i64 + 60);
        // A candidate's one-to-one thread runs about two weeks; the others are threads of
        // their own.
        let thread = format!("c{}-{}", n % CANDIDATES, n / (CANDIDATES * 4));
        let mut mail = match n % 10 {
            0 => letter(&format!("s{n}"), &stranger, &[address], &[], "Hello", at),
            1 => letter(
                &format!("g{n}"),
                address,
                &[&who],
                &[&other],
                "Both of you",
                at,
            ),
            k if k % 2 == 0 => letter(&thread, &who, &[address], &[], "About the role", at),
            _ => letter(&thread, address, &[&who], &[], "Re: About the role", at),
        };
        // Nothing is subscribed yet; the sync finds them all.
        mail.silent = true;
        suite.sandbox.deliver(address, mail).await?;
    }
    Ok(())
}

/// One seat of `contract` on `provider` (`microsoft365` or `google_workspace`) connects a
/// mailbox of `messages` mails; the time from its sign-in until every sync job is done.
pub async fn historical_sync(
    suite: &Suite,
    provider: &'static str,
    contract: &'static str,
    messages: usize,
    latency: Duration,
) -> anyhow::Result<Measured> {
    let seat = "bench";
    let address: &'static str = Box::leak(format!("bench@{contract}.example").into_boxed_str());
    suite.sandbox.account(address, Behaviour::Normal);
    let mut desk = Desk::new(suite, contract, seat, address).await?;
    desk.admin_sets(json!({"provider": provider, "email_access": "view_only"}))
        .await?;
    for n in 0..CANDIDATES {
        let email = format!("cand{n}@talent.example");
        candidate(suite, contract, &format!("p-{n}"), &email, true, "anyone").await?;
    }
    suite.pump().await?;
    fill(suite, address, messages, Timestamp::now()).await?;

    suite.sandbox.set_latency(latency);
    let calls_before = suite.sandbox.provider_calls();
    let started = Instant::now();
    desk.connect().await?;
    suite.pump().await?;
    let elapsed = started.elapsed();
    let provider_calls = suite.sandbox.provider_calls() - calls_before;
    suite.sandbox.set_latency(Duration::ZERO);

    let synced = desk.synced().await?.len();
    anyhow::ensure!(synced > 0, "nothing synced: the benchmark measured no sync");
    Ok(Measured {
        provider,
        messages,
        synced,
        provider_calls,
        elapsed,
    })
}
