//! Intake of a 100-item Graph delivery, end to end through the router: subscription
//! look-ups in DynamoDB Local, client-state checks, jobs onto moto's FIFO queue. A bench
//! binary that prints its figures (`make bench`, which starts the emulators); the figures
//! are loopback emulators', an upper bound on AWS's latency, not a prediction of it.

use hiresync_domain::ports::{ContractStore, SubscriptionStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_store::DynamoSubscriptionStore;
use serde_json::json;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use webhook_intake::google_jwt::GooglePushVerifier;
use webhook_intake::jobs::SyncJobs;
use webhook_intake::{router, Intake};

fn hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// acme on Microsoft 365 with email on: the contract the delivery's subscriptions belong to.
fn microsoft_contract() -> anyhow::Result<hiresync_domain::contract::Contract> {
    use hiresync_domain::contract::{Contract, ContractSettings, EmailAccess, Provider};
    Ok(Contract {
        settings: ContractSettings {
            provider: Some(Provider::Microsoft365),
            email_access: EmailAccess::ViewOnly,
            calendar_enabled: true,
            video_meetings: false,
        },
        ..Contract::new(ContractId::parse("acme")?)
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (config, resources) = hiresync_localstack::fresh_stack("bench-intake").await?;
    let subs = DynamoSubscriptionStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("TenancyTable")?,
    );
    let contracts = hiresync_store::DynamoContractStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        resources.table("TenancyTable")?,
    );
    contracts.create(&microsoft_contract()?).await?;
    let now: Timestamp = "2026-03-02T09:00:00Z".parse()?;
    // A delivery batches notifications of 20 mailboxes (two subscriptions each).
    for n in 0..40 {
        let sub = PushSubscription {
            id: format!("00000000-0000-4000-8000-{n:012x}"),
            kind: if n % 2 == 0 {
                SubscriptionKind::GraphInbox
            } else {
                SubscriptionKind::GraphSentItems
            },
            contract_id: ContractId::parse("acme")?,
            seat_id: SeatId::parse(format!("s{}", n / 2))?,
            resource_id: None,
            secret_hash: Some(hash(&format!("state-{n}"))),
            expires_at: "2026-03-05T00:00:00Z".parse()?,
            renewed_at: now,
            failures: 0,
        };
        subs.put(&sub, now).await?;
    }
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = resources.queue("SyncJobsQueue")?.to_owned();
    let intake = Arc::new(Intake {
        subscriptions: std::sync::Arc::new(subs),
        contracts: std::sync::Arc::new(contracts),
        jobs: SyncJobs {
            sqs: sqs.clone(),
            queue_url: queue.clone(),
        },
        google: GooglePushVerifier::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/certs".into(),
            "aud".into(),
            "sa".into(),
        ),
        clock: Arc::new(move || now),
    });
    let app = router(intake);

    let rounds = 15;
    let mut timings: Vec<Duration> = Vec::new();
    for round in 0..rounds {
        let items: Vec<_> = (0..100)
            .map(|i| {
                let n = i % 40;
                json!({
                    "subscriptionId": format!("00000000-0000-4000-8000-{n:012x}"), "clientState": format!("state-{n}"), "changeType": "created",
                    "resource": format!("Users/u/Messages/m-{round}-{i}"), "tenantId": "t",
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "@odata.etag": format!("W/\"{round}-{i}\""), "id": format!("m-{round}-{i}")}
                })
            })
            .collect();
        let body = json!({ "value": items }).to_string();
        let started = Instant::now();
        let response = app
            .clone()
            .oneshot(
                Request::builder()
                    .method("POST")
                    .uri("/webhooks/graph")
                    .body(Body::from(body))?,
            )
            .await?;
        let took = started.elapsed();
        anyhow::ensure!(
            response.status().as_u16() == 202,
            "intake answered {}",
            response.status()
        );
        if round > 0 {
            timings.push(took); // the first round warms the connection pools
        }
        // Keep the queue empty (outside the timing): moto's FIFO gets slower as it fills.
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .send()
                .await?;
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                if let Some(handle) = m.receipt_handle {
                    sqs.delete_message()
                        .queue_url(&queue)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                }
            }
        }
    }
    timings.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "intake: 100-item Graph delivery (40 subscriptions, 100 jobs): median {:.1} ms, p90 {:.1} ms, max {:.1} ms over {} deliveries",
        ms(timings[timings.len() / 2]),
        ms(timings[timings.len() * 9 / 10]),
        ms(timings[timings.len() - 1]),
        timings.len()
    );
    Ok(())
}
