//! Sync-policy decisions per second: a bench binary that prints its figures
//! (`cargo bench -p hiresync-domain --bench policy`). Not a test: nothing here asserts on
//! time.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::Instant;

use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::Provider;
use hiresync_domain::directory::{DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::policy::{decide, MessageFacts};
use hiresync_domain::Timestamp;

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    let now: Timestamp = "2026-03-03T12:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let seat_address = addr("rita@acme.example");
    let conn = Connection::first(
        ContractId::parse("acme").unwrap_or_else(|e| panic!("{e}")),
        SeatId::parse("s1").unwrap_or_else(|e| panic!("{e}")),
        ConnectionKind::Email,
        Grant {
            provider: Provider::Microsoft365,
            address: seat_address.clone(),
            scopes: BTreeSet::new(),
            organization: None,
        },
        "2026-01-01T00:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let mut directory = BTreeMap::new();
    for n in 0..1000 {
        let a = addr(&format!("cand{n}@cand.example"));
        directory.insert(
            a.clone(),
            DirectoryEntry {
                contract_id: conn.contract_id.clone(),
                profile_id: ProfileId::parse(format!("p{n}")).unwrap_or_else(|e| panic!("{e}")),
                emails: vec![a],
                discovery: DiscoverySetting::Anyone,
                in_pipeline: n % 3 != 0,
                degrees: BTreeMap::new(),
                source_version: 1,
            },
        );
    }
    // A realistic mix: 1:1 with candidates (in and out of the pipeline), group mail,
    // colleagues, strangers, and old mail.
    let messages: Vec<MessageFacts> = (0..10_000)
        .map(|n| {
            let from = match n % 5 {
                0 | 1 => addr(&format!("cand{}@cand.example", n % 1000)),
                2 => addr("colleague@acme.example"),
                3 => addr(&format!("stranger{n}@else.example")),
                _ => addr(&format!("cand{}@cand.example", (n + 7) % 1000)),
            };
            let cc = if n % 5 == 4 {
                vec![addr("bob@else.example")]
            } else {
                vec![]
            };
            let at: Timestamp = if n % 11 == 0 {
                "2024-06-01T00:00:00Z"
            } else {
                "2026-02-20T10:00:00Z"
            }
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
            MessageFacts {
                provider_id: format!("m{n}"),
                thread_id: format!("t{n}"),
                from,
                to: vec![seat_address.clone()],
                cc,
                bcc: vec![],
                at,
                started_from_product: false,
            }
        })
        .collect();

    let rounds = 20;
    let mut kept = 0usize;
    let started = Instant::now();
    for _ in 0..rounds {
        for m in &messages {
            if decide(black_box(m), None, &conn, &directory, now).is_sync() {
                kept += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let decisions = rounds * messages.len();
    println!(
        "policy: {decisions} decisions in {:.3} s = {:.0} decisions/s ({:.2} µs each); {} kept per round",
        elapsed.as_secs_f64(),
        decisions as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / decisions as f64,
        kept / rounds
    );
}
