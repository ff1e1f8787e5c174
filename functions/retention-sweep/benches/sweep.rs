//! The retention sweep over a large mail table: DynamoDB Local with 100,000 threads
//! (`SWEEP_BENCH_THREADS` to change it), 1% of them expired. Prints how many expiry-index
//! entries the sweep read per thread it removed (the point of the index: the other 99% are
//! never read) and the time per 1,000 removals. A bench binary that prints its figures
//! (`make bench`, which starts the emulators); loopback emulator figures, an upper bound on
//! AWS's latency rather than a prediction of it.

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::ports::ThreadStore;
use hiresync_domain::Timestamp;
use hiresync_store::DynamoMailStore;

const NOW: &str = "2026-09-30T10:00:00Z";

fn thread_of(n: usize, now: Timestamp) -> anyhow::Result<(Thread, Message)> {
    // One in a hundred went quiet six months and a week or so ago (expired over several
    // days' buckets); the others were active within the last month.
    let last = if n % 100 == 0 {
        now - jiff::SignedDuration::from_hours(24 * 190 + (n % 72) as i64)
    } else {
        now - jiff::SignedDuration::from_mins((n % (30 * 24 * 60)) as i64)
    };
    let seat = SeatId::parse(format!("s{}", n % 500))?;
    let thread = Thread {
        contract_id: ContractId::parse(if n % 2 == 0 { "acme" } else { "globex" })?,
        seat_id: seat.clone(),
        thread_id: format!("t{n}"),
        counterpart: EmailAddress::parse(format!("c{}@talent.example", n % 7919))?,
        visibility: Visibility::Private,
        holder: None,
        profile: None,
        started_from_product: false,
        last_activity_at: last,
    };
    let message = Message {
        contract_id: thread.contract_id.clone(),
        seat_id: seat.clone(),
        thread_id: thread.thread_id.clone(),
        provider_id: format!("m{n}"),
        internet_message_id: None,
        direction: Direction::Received,
        from: thread.counterpart.clone(),
        to: vec![EmailAddress::parse(format!("{seat}@acme.example"))?],
        cc: vec![],
        bcc: vec![],
        subject: "Hello".into(),
        sent_at: last,
    };
    Ok((thread, message))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let threads: usize = std::env::var("SWEEP_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let now: Timestamp = NOW.parse()?;
    let (config, resources) = hiresync_localstack::fresh_tables("bench-sweep").await?;
    let store = DynamoMailStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("MailTable")?,
    );

    let seeding = Instant::now();
    futures::stream::iter(0..threads)
        .map(|n| {
            let store = &store;
            async move {
                let (thread, message) = thread_of(n, now)?;
                store.store_message(&thread, &message).await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(64)
        .try_collect::<()>()
        .await?;
    println!(
        "seeded {threads} threads ({} expired) in {:.1} s",
        threads.div_ceil(100),
        seeding.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let report = retention_sweep::sweep(&store, now, &|| false).await?;
    let took = started.elapsed();
    let removed = report.threads_removed.max(1);
    println!(
        "retention sweep: {} threads removed ({} messages); {} index entries read, {:.2} per removal; {:.2} s in all, {:.0} ms per 1,000 removals",
        report.threads_removed,
        report.messages_removed,
        report.listed,
        report.listed as f64 / removed as f64,
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 * 1000.0 / removed as f64,
    );
    anyhow::ensure!(
        report.threads_removed == threads.div_ceil(100),
        "every expired thread removed"
    );
    Ok(())
}
