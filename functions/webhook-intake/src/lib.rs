//! Webhook intake: provider pushes in, sync jobs out.
//!
//! Notifications are hints, never data: each accepted one becomes a sync job for its
//! connection on the FIFO `sync-jobs` queue (one group per connection, a deduplication id
//! from the notification's identity), and the answer goes back only once the job is queued
//! (5xx if it could not be, so the provider retries). Forged, unknown or malformed input
//! enqueues nothing and leaves one structured log line.

mod config;
pub mod google_jwt;
pub mod jobs;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use hiresync_domain::capability::may_authorize;
use hiresync_domain::contract::Contract;
use hiresync_domain::ids::ContractId;
use hiresync_domain::ports::{ContractStore, SubscriptionStore};
use hiresync_domain::subscription::{PushSubscription, SubscriptionKind};
use hiresync_domain::Timestamp;
use hiresync_messages::{SyncJob, SyncReason};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::{error, info, warn};

use crate::google_jwt::GooglePushVerifier;
use crate::jobs::{Job, SyncJobs};

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub use config::Config;

pub struct Intake {
    /// Which connection a subscription or channel belongs to, and its secret's hash.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Whether a subscription's contract still allows what it watches.
    pub contracts: Arc<dyn ContractStore>,
    pub jobs: SyncJobs,
    pub google: GooglePushVerifier,
    pub clock: Clock,
}

/// The composition root `main.rs` and the local suite both call: subscriptions in
/// DynamoDB, jobs onto SQS, Google's keys over HTTP, as `config` says.
pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Arc<Intake> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    Arc::new(Intake {
        subscriptions: Arc::new(hiresync_store::DynamoSubscriptionStore::new(
            dynamo.clone(),
            config.tenancy_table.clone(),
        )),
        contracts: Arc::new(hiresync_store::DynamoContractStore::new(
            dynamo,
            config.tenancy_table,
        )),
        jobs: SyncJobs {
            sqs: aws_sdk_sqs::Client::new(aws),
            queue_url: config.sync_jobs_queue_url,
        },
        google: GooglePushVerifier::new(
            reqwest::Client::new(),
            config.google_jwks_url,
            config.pubsub_audience,
            config.pubsub_service_account,
        ),
        clock: Arc::new(jiff::Timestamp::now),
    })
}

/// Every route, as `(method, path)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/webhooks/graph"),
    ("POST", "/webhooks/graph/lifecycle"),
    ("POST", "/webhooks/gmail"),
    ("POST", "/webhooks/calendar"),
];

pub fn router(intake: Arc<Intake>) -> Router {
    Router::new()
        .route(ROUTES[0].1, post(graph))
        .route(ROUTES[1].1, post(graph_lifecycle))
        .route(ROUTES[2].1, post(gmail))
        .route(ROUTES[3].1, post(calendar))
        .with_state(intake)
}

fn hash_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `presented` is the secret whose hash was stored, in constant time.
fn secret_matches(sub: &PushSubscription, presented: Option<&str>) -> bool {
    match (&sub.secret_hash, presented) {
        (Some(stored), Some(presented)) => {
            bool::from(stored.as_bytes().ct_eq(hash_hex(presented).as_bytes()))
        }
        _ => false,
    }
}

fn job_for(sub: &PushSubscription, key: String, now: Timestamp) -> Job {
    Job {
        job: SyncJob {
            contract: sub.contract_id.clone(),
            seat: sub.seat_id.clone(),
            kind: sub.kind.connection_kind(),
            reason: SyncReason::Push,
            requested_at: now,
        },
        notification_key: key,
    }
}

/// The jobs whose contract still allows what they would sync (active, the feature on, a
/// provider chosen): nothing is queued for a contract suspended or lowered meanwhile.
/// Each contract is read once.
async fn allowed(intake: &Intake, jobs: Vec<Job>) -> Result<Vec<Job>, Response> {
    use futures::{StreamExt, TryStreamExt};
    let ids: std::collections::BTreeSet<ContractId> =
        jobs.iter().map(|j| j.job.contract.clone()).collect();
    let contracts: HashMap<ContractId, Option<Contract>> = futures::stream::iter(ids)
        .map(|id| async move {
            let contract = intake.contracts.get(&id).await?;
            Ok::<_, hiresync_domain::ports::StoreError>((id, contract.map(|c| c.value)))
        })
        .buffer_unordered(LOOKUP_CONCURRENCY)
        .try_collect()
        .await
        .map_err(|e| {
            error!(error = ?e, "contract lookup failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        })?;
    Ok(jobs
        .into_iter()
        .filter(|job| {
            let contract = contracts.get(&job.job.contract).and_then(Option::as_ref);
            let ok = contract.is_some_and(|c| may_authorize(c, job.job.kind).is_ok());
            if !ok {
                info!(contract = %job.job.contract, seat = %job.job.seat, kind = job.job.kind.as_str(), "push for what its contract no longer allows dropped");
            }
            ok
        })
        .collect())
}

async fn enqueue(intake: &Intake, jobs: Vec<Job>, accepted: StatusCode) -> Response {
    let jobs = match allowed(intake, jobs).await {
        Ok(jobs) => jobs,
        Err(r) => return r,
    };
    match intake.jobs.enqueue(jobs).await {
        Ok(_) => accepted.into_response(),
        Err(e) => {
            error!(error = ?e, "sync jobs not enqueued; asking the provider to retry");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Graph's validation handshake: the token, URL-decoded, echoed exactly as plain text.
fn validation(query: &HashMap<String, String>) -> Option<Response> {
    query.get("validationToken").map(|token| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            token.clone(),
        )
            .into_response()
    })
}

#[derive(Deserialize)]
struct Collection<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceData {
    id: Option<String>,
    #[serde(rename = "@odata.etag")]
    etag: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeNotification {
    subscription_id: String,
    client_state: Option<String>,
    change_type: Option<String>,
    resource_data: Option<ResourceData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LifecycleNotification {
    subscription_id: String,
    client_state: Option<String>,
    lifecycle_event: String,
}

/// The most notifications one delivery may carry. Graph documents no number for its
/// batches; this leaves them wide room while bounding what one anonymous request costs.
pub const MAX_DELIVERY_ITEMS: usize = 1_000;

/// How many contract reads one delivery runs at once.
const LOOKUP_CONCURRENCY: usize = 16;

/// Whether `id` has the shape of Graph's subscription ids: a GUID (8-4-4-4-12 hex digits).
pub fn is_graph_subscription_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether `id` has the shape of the Calendar channel ids we create (URL-safe base64, as
/// Google allows up to 64 characters of).
pub fn is_channel_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
}

/// The subscriptions a delivery names, each read once, in batches of 100 (BatchGetItem): a
/// delivery often batches many notifications of few subscriptions, and Graph's answer
/// budget is 3 s; at most 1,000 items make at most 10 reads. Ids of the wrong shape are
/// never read (they name nothing we created).
async fn lookup_all<'a>(
    intake: &Intake,
    ids: impl Iterator<Item = &'a str>,
    route: &'static str,
) -> Result<HashMap<String, Option<PushSubscription>>, Response> {
    let distinct: Vec<String> = ids
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = intake
        .subscriptions
        .get_many(&distinct)
        .await
        .map_err(|e| {
            error!(route, error = ?e, "subscription lookup failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        })?;
    let mut all: HashMap<String, Option<PushSubscription>> =
        distinct.into_iter().map(|id| (id, None)).collect();
    for sub in found {
        if let Some(slot) = all.get_mut(&sub.id) {
            *slot = Some(sub);
        }
    }
    Ok(all)
}

/// The refusal of a Graph delivery larger than any Graph sends, before anything is read.
fn oversized(items: usize, route: &'static str) -> Option<Response> {
    (items > MAX_DELIVERY_ITEMS).then(|| {
        warn!(route, items, "oversized delivery rejected");
        StatusCode::PAYLOAD_TOO_LARGE.into_response()
    })
}

/// The ids of a Graph delivery worth reading: GUID-shaped ones. The others are dropped
/// (logged once with their count), as forged.
fn graph_ids<'a>(ids: impl Iterator<Item = &'a str>, route: &'static str) -> Vec<&'a str> {
    let (good, bad): (Vec<&str>, Vec<&str>) = ids.partition(|id| is_graph_subscription_id(id));
    if !bad.is_empty() {
        warn!(
            route,
            dropped = bad.len(),
            "notifications for ids Graph never issues dropped"
        );
    }
    good
}

fn is_graph_kind(kind: SubscriptionKind) -> bool {
    !matches!(
        kind,
        SubscriptionKind::GmailWatch | SubscriptionKind::CalendarChannel
    )
}

/// The subscription a notification names, if it exists and the notification carries its
/// secret; `None` (logged) for an unknown or forged one.
fn authentic(
    known: &HashMap<String, Option<PushSubscription>>,
    id: &str,
    client_state: Option<&str>,
    route: &'static str,
    accepts: fn(SubscriptionKind) -> bool,
) -> Option<PushSubscription> {
    match known.get(id).cloned().flatten() {
        Some(sub) if !accepts(sub.kind) => {
            warn!(
                route,
                "notification for another route's subscription dropped"
            );
            None
        }
        None => {
            warn!(route, "notification for an unknown subscription dropped");
            None
        }
        Some(sub) if !secret_matches(&sub, client_state) => {
            warn!(route, contract = %sub.contract_id, seat = %sub.seat_id, "notification with a wrong client state dropped");
            None
        }
        Some(sub) => Some(sub),
    }
}

/// One lookup for a single id (Calendar).
async fn authentic_one(
    intake: &Intake,
    id: &str,
    secret: Option<&str>,
    route: &'static str,
) -> Result<Option<PushSubscription>, Response> {
    let known = lookup_all(intake, std::iter::once(id), route).await?;
    Ok(authentic(&known, id, secret, route, |kind| {
        kind == SubscriptionKind::CalendarChannel
    }))
}

async fn graph(
    State(intake): State<Arc<Intake>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(r) = validation(&query) {
        return r;
    }
    let now = (intake.clock)();
    let Ok(delivery) = serde_json::from_slice::<Collection<ChangeNotification>>(&body) else {
        warn!(route = "graph", "malformed notification body rejected");
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Some(r) = oversized(delivery.value.len(), "graph") {
        return r;
    }
    let mut jobs = Vec::new();
    // A delivery may batch notifications of several subscriptions: each stands alone.
    let ids = graph_ids(
        delivery.value.iter().map(|n| n.subscription_id.as_str()),
        "graph",
    );
    let known = match lookup_all(&intake, ids.into_iter(), "graph").await {
        Ok(known) => known,
        Err(r) => return r,
    };
    for n in delivery.value {
        let Some(sub) = authentic(
            &known,
            &n.subscription_id,
            n.client_state.as_deref(),
            "graph",
            is_graph_kind,
        ) else {
            continue;
        };
        let data = n.resource_data.as_ref();
        let key = format!(
            "graph:{}:{}:{}:{}",
            n.subscription_id,
            n.change_type.as_deref().unwrap_or(""),
            data.and_then(|d| d.id.as_deref()).unwrap_or(""),
            data.and_then(|d| d.etag.as_deref()).unwrap_or("")
        );
        jobs.push(job_for(&sub, key, now));
    }
    info!(route = "graph", jobs = jobs.len(), "notifications accepted");
    enqueue(&intake, jobs, StatusCode::ACCEPTED).await
}

async fn graph_lifecycle(
    State(intake): State<Arc<Intake>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(r) = validation(&query) {
        return r;
    }
    let now = (intake.clock)();
    let Ok(delivery) = serde_json::from_slice::<Collection<LifecycleNotification>>(&body) else {
        warn!(
            route = "graph-lifecycle",
            "malformed lifecycle body rejected"
        );
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Some(r) = oversized(delivery.value.len(), "graph-lifecycle") {
        return r;
    }
    let mut jobs = Vec::new();
    let ids = graph_ids(
        delivery.value.iter().map(|n| n.subscription_id.as_str()),
        "graph-lifecycle",
    );
    let known = match lookup_all(&intake, ids.into_iter(), "graph-lifecycle").await {
        Ok(known) => known,
        Err(r) => return r,
    };
    for n in delivery.value {
        let Some(sub) = authentic(
            &known,
            &n.subscription_id,
            n.client_state.as_deref(),
            "graph-lifecycle",
            is_graph_kind,
        ) else {
            continue;
        };
        match n.lifecycle_event.as_str() {
            // Reauthorize (a renewal does) or recreate: the renewal job does either, at
            // once, since the subscription is now due; changes meanwhile are caught up.
            "reauthorizationRequired" | "subscriptionRemoved" => {
                // Only the due time moves: writing back the record read here could undo
                // a renewal that landed meanwhile.
                if let Err(e) = intake.subscriptions.make_due(&sub.id, now).await {
                    error!(route = "graph-lifecycle", error = ?e, "could not mark the subscription due");
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
            "missed" => {}
            other => {
                warn!(
                    route = "graph-lifecycle",
                    event = other,
                    "unknown lifecycle event ignored"
                );
                continue;
            }
        }
        let job = Job {
            job: SyncJob {
                reason: SyncReason::CatchUp,
                ..job_for(&sub, String::new(), now).job
            },
            notification_key: format!(
                "lifecycle:{}:{}:{}",
                n.subscription_id,
                n.lifecycle_event,
                now.as_second() / 60
            ),
        };
        info!(route = "graph-lifecycle", event = %n.lifecycle_event, contract = %sub.contract_id, seat = %sub.seat_id, "lifecycle event handled");
        jobs.push(job);
    }
    enqueue(&intake, jobs, StatusCode::ACCEPTED).await
}

#[derive(Deserialize)]
struct PubSubMessage {
    data: Option<String>,
    #[serde(alias = "message_id", rename = "messageId")]
    message_id: String,
}

#[derive(Deserialize)]
struct PubSubPush {
    message: PubSubMessage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmailChange {
    email_address: String,
}

/// `message.data` in either base64 alphabet, padded or not.
fn decode_data(data: &str) -> Option<Vec<u8>> {
    let trimmed = data.trim().trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

async fn gmail(State(intake): State<Arc<Intake>>, headers: HeaderMap, body: Bytes) -> Response {
    let now = (intake.clock)();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = intake.google.verify(auth, now.as_second()).await {
        warn!(route = "gmail", reason = %e, "push rejected");
        return if e == google_jwt::PushAuthError::KeysUnavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        }
        .into_response();
    }
    let change = serde_json::from_slice::<PubSubPush>(&body)
        .ok()
        .and_then(|push| {
            let data = decode_data(push.message.data.as_deref()?)?;
            let change: GmailChange = serde_json::from_slice(&data).ok()?;
            Some((push.message.message_id, change))
        });
    let Some((message_id, change)) = change else {
        // Acknowledged so Pub/Sub stops redelivering a message that can never be read.
        warn!(route = "gmail", "malformed push acknowledged and dropped");
        return StatusCode::NO_CONTENT.into_response();
    };
    let id = PushSubscription::gmail_watch_id(&change.email_address);
    let sub = match intake.subscriptions.get(&id).await {
        Ok(Some(sub)) => sub,
        Ok(None) => {
            warn!(
                route = "gmail",
                "push for a mailbox without a watch acknowledged and dropped"
            );
            return StatusCode::NO_CONTENT.into_response();
        }
        Err(e) => {
            error!(route = "gmail", error = ?e, "subscription lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Redeliveries keep their messageId: the same job, deduplicated.
    let job = job_for(&sub, format!("gmail:{message_id}"), now);
    info!(route = "gmail", contract = %sub.contract_id, seat = %sub.seat_id, "push accepted");
    enqueue(&intake, vec![job], StatusCode::NO_CONTENT).await
}

async fn calendar(State(intake): State<Arc<Intake>>, headers: HeaderMap) -> Response {
    let now = (intake.clock)();
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(channel), Some(state)) = (h("x-goog-channel-id"), h("x-goog-resource-state")) else {
        warn!(
            route = "calendar",
            "notification without channel headers rejected"
        );
        return StatusCode::BAD_REQUEST.into_response();
    };
    let token = h("x-goog-channel-token");
    if !is_channel_id(channel) || token.is_some_and(|t| t.len() > 256) {
        warn!(
            route = "calendar",
            "notification for a channel id we never create rejected"
        );
        return StatusCode::FORBIDDEN.into_response();
    }
    let sub = match authentic_one(&intake, channel, token, "calendar").await {
        Ok(Some(sub)) => sub,
        // No retry happens for a 4xx: Google only retries 5xx.
        Ok(None) => return StatusCode::FORBIDDEN.into_response(),
        Err(r) => return r,
    };
    if state == "sync" {
        return StatusCode::OK.into_response();
    }
    let key = format!(
        "calendar:{channel}:{}",
        h("x-goog-message-number").unwrap_or("")
    );
    info!(route = "calendar", contract = %sub.contract_id, seat = %sub.seat_id, "notification accepted");
    enqueue(&intake, vec![job_for(&sub, key, now)], StatusCode::OK).await
}
