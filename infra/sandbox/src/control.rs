//! Driving the sandbox: mail arrives, is sent, moves, is deleted; cursors expire; pushes are
//! replayed. Each change pushes to whoever subscribed, as the provider would, before the
//! call returns, so a caller knows the pushes are out when it gets the answer.
//!
//! The same operations are offered in process (for `make run`) and over HTTP under
//! `/sandbox/...` (for a person poking at `make serve`, and for the end-to-end tests).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::mailbox::{Change, Folder, Mail, Person};
use crate::push::{self, Push};
use crate::Sandbox;

/// A message to put in a mailbox.
#[derive(Debug, Clone, Deserialize)]
pub struct NewMail {
    /// Messages with the same key share a thread (Graph conversation, Gmail thread).
    pub thread: String,
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub subject: String,
    /// When it was sent; now when absent.
    pub at: Option<Timestamp>,
    /// The RFC 5322 Message-ID; a fresh one when absent.
    pub message_id: Option<String>,
    /// Any folder [`Folder::parse`] reads but the Outbox (`inbox`, `sent`, `junkemail`,
    /// `drafts`, `archive`, `user:Candidates`, ...; a user folder is made if need be); by
    /// default `sent` when the mailbox's owner sent it, `inbox` otherwise.
    pub folder: Option<String>,
    /// Raw header values Gmail hands out instead of the ones built from the fields above.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The provider drops this change's pushes (as happens): only a later sync finds it.
    #[serde(default)]
    pub silent: bool,
}

/// What a change did.
#[derive(Debug, Clone, Serialize)]
pub struct Delivered {
    pub id: String,
    pub thread_id: String,
    pub internet_message_id: String,
    /// The answers to the pushes the change caused.
    pub pushes: Vec<Option<u16>>,
}

/// A message as the sandbox holds it, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct MailView {
    pub id: String,
    pub thread_id: String,
    pub internet_message_id: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub at: Timestamp,
    /// [`Folder::name`]: `inbox`, `sentitems`, `user:Candidates`, ... or `gone`.
    pub folder: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no message {0} in that mailbox (or it is gone already)")]
    NoSuchMessage(String),
    #[error(
        "unknown folder {0:?}, or one no mail goes to: use inbox, sentitems, deleteditems, \
         archive, junkemail, drafts or user:<name>"
    )]
    Folder(String),
    #[error("a message needs a sender and at least one recipient")]
    Incomplete,
}

impl Sandbox {
    /// Where Gmail changes are pushed (a Pub/Sub push subscription), and as whom.
    pub fn pubsub(&self, config: push::PubSubPush) {
        self.lock().pubsub = Some(config);
    }

    /// Puts a message in `address`'s mailbox and pushes the change.
    pub async fn deliver(&self, address: &str, mail: NewMail) -> Result<Delivered, ControlError> {
        let owner = address.to_lowercase();
        let from = Person::parse(&mail.from);
        if from.address.is_empty()
            || mail.to.is_empty() && mail.cc.is_empty() && mail.bcc.is_empty()
        {
            return Err(ControlError::Incomplete);
        }
        let folder = match &mail.folder {
            Some(name) => Folder::parse(name)
                .filter(Folder::holds_mail)
                .ok_or_else(|| ControlError::Folder(name.clone()))?,
            None if from.address.eq_ignore_ascii_case(&owner) => Folder::SentItems,
            None => Folder::Inbox,
        };
        let id = self.next("msg");
        let silent = mail.silent;
        let people = |list: &[String]| list.iter().map(|p| Person::parse(p)).collect::<Vec<_>>();
        let (change, thread_id, internet_message_id) = {
            let mut w = self.lock();
            let b = w.mailboxes.entry(owner.clone()).or_default();
            let thread_id = b.thread_id(&mail.thread);
            let internet_message_id = mail
                .message_id
                .clone()
                .unwrap_or_else(|| format!("<{id}.{thread_id}@sandbox.example>"));
            let change = b.add(
                Mail {
                    id: id.clone(),
                    thread_id: thread_id.clone(),
                    internet_message_id: internet_message_id.clone(),
                    from,
                    to: people(&mail.to),
                    cc: people(&mail.cc),
                    bcc: people(&mail.bcc),
                    subject: mail.subject,
                    at: mail.at.unwrap_or_else(Timestamp::now),
                    raw_headers: mail.headers,
                    moves: vec![],
                    etag: 0,
                },
                folder,
            );
            (change, thread_id, internet_message_id)
        };
        let pushes = if silent {
            vec![]
        } else {
            self.push(&owner, &change).await
        };
        Ok(Delivered {
            id,
            thread_id,
            internet_message_id,
            pushes,
        })
    }

    /// Moves a message to another folder (`DeletedItems` is the bin, and moving out of it
    /// is a restore; a user folder is made if need be), or with `Gone` deletes it for
    /// good, and pushes the change.
    pub async fn relocate(
        &self,
        address: &str,
        id: &str,
        to: Folder,
    ) -> Result<Vec<Option<u16>>, ControlError> {
        if to == Folder::Outbox {
            return Err(ControlError::Folder(to.name()));
        }
        let owner = address.to_lowercase();
        let change = self
            .lock()
            .mailboxes
            .get_mut(&owner)
            .and_then(|b| b.relocate(id, to))
            .ok_or_else(|| ControlError::NoSuchMessage(id.to_owned()))?;
        Ok(self.push(&owner, &change).await)
    }

    /// Makes the user folder `name` (`Candidates` or `user:Candidates`) exist in
    /// `address`'s mailbox, empty, as a person creating it would; it may exist already.
    pub fn create_folder(&self, address: &str, name: &str) -> Result<Folder, ControlError> {
        let bare = name.strip_prefix("user:").unwrap_or(name);
        self.lock()
            .mailboxes
            .entry(address.to_lowercase())
            .or_default()
            .create_folder(bare)
            .ok_or_else(|| ControlError::Folder(name.to_owned()))
    }

    /// Every folder of `address`'s mailbox, as Graph lists them.
    pub fn folders(&self, address: &str) -> Vec<Folder> {
        self.lock()
            .mailboxes
            .entry(address.to_lowercase())
            .or_default()
            .folders()
    }

    /// Forgets every delta token and history id handed out for the mailbox, as a provider
    /// does after a while.
    pub fn expire_cursors(&self, address: &str) {
        self.lock()
            .mailboxes
            .entry(address.to_lowercase())
            .or_default()
            .expire_cursors();
    }

    /// The mailbox's messages, oldest first, deleted ones included (folder `gone`).
    pub fn mails(&self, address: &str) -> Vec<MailView> {
        let w = self.lock();
        let Some(b) = w.mailboxes.get(&address.to_lowercase()) else {
            return vec![];
        };
        let mut views: Vec<MailView> = b
            .mails
            .iter()
            .map(|m| MailView {
                id: m.id.clone(),
                thread_id: m.thread_id.clone(),
                internet_message_id: m.internet_message_id.clone(),
                from: m.from.address.clone(),
                to: m.to.iter().map(|p| p.address.clone()).collect(),
                cc: m.cc.iter().map(|p| p.address.clone()).collect(),
                subject: m.subject.clone(),
                at: m.at,
                folder: m.folder().name(),
            })
            .collect();
        views.sort_by_key(|v| v.at);
        views
    }

    /// Sends a Graph lifecycle event to every subscription of `address` that asked for
    /// them; the answers, one per subscription.
    pub async fn lifecycle(&self, address: &str, event: &str) -> Vec<Option<u16>> {
        let owner = address.to_lowercase();
        let outgoing: Vec<(String, String)> = self
            .lock()
            .subscriptions
            .values()
            .filter(|s| s.owner == owner)
            .filter_map(|s| push::graph_lifecycle(s, event))
            .collect();
        let mut answers = Vec::new();
        for (url, body) in outgoing {
            let done = push::send(&self.http, url, vec![], body).await;
            answers.push(done.status);
            self.lock().pushes.push(done);
        }
        answers
    }

    /// Every push sent so far, in order.
    pub fn pushes(&self) -> Vec<Push> {
        self.lock().pushes.clone()
    }

    /// Sends every push sent so far again, `times` times over, in an order shuffled with
    /// `seed` (or in the original order without one), as a provider redelivers.
    pub async fn replay(&self, times: usize, seed: Option<u64>) -> Vec<Option<u16>> {
        let sent = self.pushes();
        let mut again: Vec<Push> = (0..times).flat_map(|_| sent.iter().cloned()).collect();
        if let Some(seed) = seed {
            fastrand::Rng::with_seed(seed).shuffle(&mut again);
        }
        let mut answers = Vec::with_capacity(again.len());
        for p in again {
            let done = push::send(&self.http, p.url, p.headers, p.body).await;
            answers.push(done.status);
        }
        answers
    }

    /// The pushes a change causes: to each Graph subscription of the owner's folders, and
    /// through Pub/Sub when the owner's Gmail is watched.
    async fn push(&self, owner: &str, change: &Change) -> Vec<Option<u16>> {
        let mut outgoing = Vec::new();
        {
            let mut w = self.lock();
            for sub in w.subscriptions.values().filter(|s| s.owner == owner) {
                if let Some((url, body)) = push::graph_notification(sub, change) {
                    outgoing.push((url, vec![], body));
                }
            }
            let watched = w.gmail_watches.contains(owner)
                && w.gmail_watch_filters
                    .get(owner)
                    .is_none_or(|f| f.wants(change));
            if watched {
                if let Some(config) = w.pubsub.clone() {
                    w.counter += 1;
                    let message_id = format!("pubsub-{}", w.counter);
                    let history_id = w
                        .mailboxes
                        .get(owner)
                        .map(|b| b.history_id())
                        .unwrap_or_default();
                    if let Ok((headers, body)) = push::pubsub_push(
                        &config,
                        owner,
                        history_id,
                        &message_id,
                        Timestamp::now().as_second(),
                    ) {
                        outgoing.push((config.endpoint.clone(), headers, body));
                    }
                }
            }
        }
        let mut answers = Vec::new();
        for (url, headers, body) in outgoing {
            let done = push::send(&self.http, url, headers, body).await;
            answers.push(done.status);
            self.lock().pushes.push(done);
        }
        answers
    }
}

fn refused(status: StatusCode, e: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

pub(crate) async fn deliver(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(mail): Json<NewMail>,
) -> Response {
    match s.deliver(&address, mail).await {
        Ok(d) => (StatusCode::CREATED, Json(d)).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct AccountBody {
    address: String,
    #[serde(default = "normal")]
    behaviour: crate::Behaviour,
}

fn normal() -> crate::Behaviour {
    crate::Behaviour::Normal
}

pub(crate) async fn seed_account(
    State(s): State<Sandbox>,
    Json(body): Json<AccountBody>,
) -> StatusCode {
    s.account(&body.address, body.behaviour);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub(crate) struct MoveBody {
    folder: String,
}

pub(crate) async fn relocate(
    State(s): State<Sandbox>,
    Path((address, id)): Path<(String, String)>,
    Json(body): Json<MoveBody>,
) -> Response {
    let Some(folder) = Folder::parse(&body.folder).filter(Folder::holds_mail) else {
        return refused(StatusCode::BAD_REQUEST, ControlError::Folder(body.folder));
    };
    match s.relocate(&address, &id, folder).await {
        Ok(pushes) => Json(json!({"pushes": pushes})).into_response(),
        Err(e) => refused(StatusCode::NOT_FOUND, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct FolderBody {
    name: String,
}

fn folder_view(f: &Folder) -> serde_json::Value {
    json!({"folder": f.name(), "id": f.graph_id(), "displayName": f.display_name()})
}

/// `POST /sandbox/mailboxes/{address}/folders {"name": "Candidates"}`: 201 with
/// `{"folder": "user:Candidates", "id": "folder-user-Candidates", "displayName": "Candidates"}`.
pub(crate) async fn create_folder(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(body): Json<FolderBody>,
) -> Response {
    match s.create_folder(&address, &body.name) {
        Ok(f) => (StatusCode::CREATED, Json(folder_view(&f))).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET /sandbox/mailboxes/{address}/folders`: `{"folders": [{"folder", "id",
/// "displayName"}, ...]}`.
pub(crate) async fn folders(State(s): State<Sandbox>, Path(address): Path<String>) -> Response {
    let all: Vec<_> = s.folders(&address).iter().map(folder_view).collect();
    Json(json!({"folders": all})).into_response()
}

pub(crate) async fn delete(
    State(s): State<Sandbox>,
    Path((address, id)): Path<(String, String)>,
) -> Response {
    match s.relocate(&address, &id, Folder::Gone).await {
        Ok(pushes) => Json(json!({"pushes": pushes})).into_response(),
        Err(e) => refused(StatusCode::NOT_FOUND, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct LifecycleBody {
    event: String,
}

pub(crate) async fn lifecycle(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(body): Json<LifecycleBody>,
) -> Response {
    const EVENTS: [&str; 3] = ["missed", "reauthorizationRequired", "subscriptionRemoved"];
    if !EVENTS.contains(&body.event.as_str()) {
        return refused(
            StatusCode::BAD_REQUEST,
            format!("event must be one of {EVENTS:?}"),
        );
    }
    Json(json!({"pushes": s.lifecycle(&address, &body.event).await})).into_response()
}

pub(crate) async fn list(State(s): State<Sandbox>, Path(address): Path<String>) -> Response {
    Json(json!({"messages": s.mails(&address)})).into_response()
}

pub(crate) async fn expire(State(s): State<Sandbox>, Path(address): Path<String>) -> StatusCode {
    s.expire_cursors(&address);
    StatusCode::NO_CONTENT
}

/// What is subscribed right now: the mailboxes with a Gmail watch, how many Graph
/// subscriptions each Microsoft mailbox has, and how many Calendar channels each Google
/// calendar has.
pub(crate) async fn watches(State(s): State<Sandbox>) -> Response {
    let w = s.lock();
    let mut graph: std::collections::BTreeMap<String, usize> = Default::default();
    for sub in w.subscriptions.values() {
        *graph.entry(sub.owner.clone()).or_default() += 1;
    }
    let mut calendar: std::collections::BTreeMap<String, usize> = Default::default();
    for channel in w.channels.values() {
        *calendar.entry(channel.owner.clone()).or_default() += 1;
    }
    Json(json!({"gmail": w.gmail_watches, "graph": graph, "calendar": calendar})).into_response()
}

pub(crate) async fn pushes(State(s): State<Sandbox>) -> Response {
    Json(json!({"pushes": s.pushes()})).into_response()
}

#[derive(Deserialize)]
pub(crate) struct ReplayBody {
    #[serde(default = "one")]
    times: usize,
    seed: Option<u64>,
}

fn one() -> usize {
    1
}

pub(crate) async fn replay(State(s): State<Sandbox>, Json(body): Json<ReplayBody>) -> Response {
    if body.times == 0 || body.times > 100 {
        return refused(StatusCode::BAD_REQUEST, "times must be between 1 and 100");
    }
    Json(json!({"answers": s.replay(body.times, body.seed).await})).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LatencyBody {
    ms: u64,
}

/// `POST /sandbox/latency {"ms": 50}`: every provider call from now on waits that long
/// (at most 10 s; 0 for none).
pub(crate) async fn latency(State(s): State<Sandbox>, Json(body): Json<LatencyBody>) -> Response {
    if body.ms > 10_000 {
        return refused(StatusCode::BAD_REQUEST, "ms must be at most 10000");
    }
    s.set_latency(std::time::Duration::from_millis(body.ms));
    Json(json!({"ms": body.ms})).into_response()
}
