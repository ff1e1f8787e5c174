//! The Gmail calls hiresync makes: the profile and the watch, history, message listing and
//! metadata. Shapes follow the providers' documentation (protocols.md §2.6, §2.7).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::gmail_query::Search;
use crate::mail_api::{google_not_found, with_mailbox};
use crate::mailbox::{Folder, HistoryEvent, Mail, HISTORY_BASE};
use crate::push::GmailWatchFilter;
use crate::{caller, unauthorized, Sandbox};

/// The history types `history.list` knows.
const HISTORY_TYPES: [&str; 4] = [
    "messageAdded",
    "messageDeleted",
    "labelAdded",
    "labelRemoved",
];

fn invalid_argument(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})),
    )
        .into_response()
}

/// Query parameters that may repeat.
fn all<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn offset_and_size(pairs: &[(String, String)]) -> (usize, usize) {
    let offset = all(pairs, "pageToken")
        .first()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let size = all(pairs, "maxResults")
        .first()
        .and_then(|t| t.parse().ok())
        .unwrap_or(100usize)
        .clamp(1, 500);
    (offset, size)
}

fn history_id(s: &Sandbox, address: &str) -> String {
    let mut w = s.lock();
    w.mailboxes
        .entry(address.to_owned())
        .or_default()
        .history_id()
        .to_string()
}

pub(crate) async fn gmail_profile(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    match caller(&s, &headers) {
        Some((a, _)) => {
            let history = history_id(&s, &a);
            let total = s.mails(&a).len();
            Json(json!({"emailAddress": a, "historyId": history, "messagesTotal": total, "threadsTotal": total}))
                .into_response()
        }
        None => unauthorized(),
    }
}

/// `POST .../watch`: pushes from now on; with `labelIds` only for changes to a message
/// that had or gets one of them (`labelFilterBehavior: INCLUDE`, the default, or the
/// deprecated `labelFilterAction: include`), or with `EXCLUDE` only for changes touching
/// some other label.
pub(crate) async fn gmail_watch(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((a, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    // Callers may post no body at all; that watches everything.
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let labels: Vec<String> = body["labelIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    let behaviour = body["labelFilterBehavior"]
        .as_str()
        .or_else(|| body["labelFilterAction"].as_str())
        .unwrap_or("include");
    let filter = GmailWatchFilter {
        labels,
        exclude: behaviour.eq_ignore_ascii_case("exclude"),
    };
    let history = history_id(&s, &a);
    {
        let mut w = s.lock();
        w.gmail_watches.insert(a.clone());
        w.gmail_watch_filters.insert(a, filter);
    }
    Json(json!({"historyId": history, "expiration": crate::week_from_now_ms()})).into_response()
}

pub(crate) async fn gmail_stop(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    match caller(&s, &headers) {
        Some((a, _)) => {
            let mut w = s.lock();
            w.gmail_watches.remove(&a);
            w.gmail_watch_filters.remove(&a);
            StatusCode::NO_CONTENT.into_response()
        }
        None => unauthorized(),
    }
}

/// One history record as Gmail writes it. Every record lists the message it touched under
/// `messages`, and a label change carries the message's labels after it.
fn history_record(seq: u64, event: &HistoryEvent) -> Value {
    let id = (seq + HISTORY_BASE).to_string();
    match event {
        HistoryEvent::Added {
            id: m,
            thread_id,
            labels,
        } => json!({"id": id, "messages": [{"id": m, "threadId": thread_id}],
            "messagesAdded": [{"message": {"id": m, "threadId": thread_id, "labelIds": labels}}]}),
        HistoryEvent::LabelsAdded {
            id: m,
            thread_id,
            labels,
            now,
        } => json!({"id": id, "messages": [{"id": m, "threadId": thread_id}],
            "labelsAdded": [{"message": {"id": m, "threadId": thread_id, "labelIds": now}, "labelIds": labels}]}),
        HistoryEvent::LabelsRemoved {
            id: m,
            thread_id,
            labels,
            now,
        } => json!({"id": id, "messages": [{"id": m, "threadId": thread_id}],
            "labelsRemoved": [{"message": {"id": m, "threadId": thread_id, "labelIds": now}, "labelIds": labels}]}),
        HistoryEvent::Deleted { id: m, thread_id } => {
            json!({"id": id, "messages": [{"id": m, "threadId": thread_id}],
                "messagesDeleted": [{"message": {"id": m, "threadId": thread_id}}]})
        }
    }
}

/// `GET .../history?startHistoryId=&historyTypes=...`: the records after the start id,
/// only those of the `historyTypes` given (all without any), paged.
pub(crate) async fn gmail_history(
    State(s): State<Sandbox>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let Some(start) = all(&pairs, "startHistoryId")
        .first()
        .and_then(|t| t.parse::<u64>().ok())
    else {
        return invalid_argument("startHistoryId is required");
    };
    let types = all(&pairs, "historyTypes");
    if let Some(unknown) = types.iter().find(|t| !HISTORY_TYPES.contains(t)) {
        return invalid_argument(&format!("Invalid value for historyTypes: {unknown}"));
    }
    let (offset, size) = offset_and_size(&pairs);
    with_mailbox(&s, &headers, |b| {
        let Some(records) = b.history_after(start) else {
            return google_not_found();
        };
        let records: Vec<_> = records
            .into_iter()
            .filter(|(_, e)| types.is_empty() || types.contains(&e.history_type()))
            .collect();
        let page: Vec<Value> = records
            .iter()
            .skip(offset)
            .take(size)
            .map(|(seq, event)| history_record(*seq, event))
            .collect();
        let mut body = json!({"history": page, "historyId": b.history_id().to_string()});
        if offset + size < records.len() {
            body["nextPageToken"] = json!((offset + size).to_string());
        }
        Json(body).into_response()
    })
}

/// `GET .../messages?q=&labelIds=&includeSpamTrash=`: ids, newest first, paged (the
/// search is described in [`crate::gmail_query`]).
pub(crate) async fn gmail_list(
    State(s): State<Sandbox>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let (offset, size) = offset_and_size(&pairs);
    let search = Search::parse(
        all(&pairs, "q").first().copied(),
        all(&pairs, "includeSpamTrash")
            .first()
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        &all(&pairs, "labelIds"),
    );
    with_mailbox(&s, &headers, |b| {
        let mut found: Vec<&Mail> = b.mails.iter().filter(|m| search.matches(m)).collect();
        found.sort_by_key(|m| std::cmp::Reverse(m.at));
        let page: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(size)
            .map(|m| json!({"id": m.id, "threadId": m.thread_id}))
            .collect();
        let mut body = json!({"messages": page, "resultSizeEstimate": found.len()});
        if offset + size < found.len() {
            body["nextPageToken"] = json!((offset + size).to_string());
        }
        Json(body).into_response()
    })
}

pub(crate) async fn gmail_message(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_mailbox(&s, &headers, |b| {
        match b.find(&id).filter(|m| m.folder() != Folder::Gone) {
            Some(m) => Json(json!({
                "id": m.id,
                "threadId": m.thread_id,
                "labelIds": m.folder().gmail_labels(),
                "internalDate": m.at.as_millisecond().to_string(),
                "historyId": (m.etag + HISTORY_BASE).to_string(),
                "payload": {"headers": m.gmail_headers().into_iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect::<Vec<_>>()},
            }))
            .into_response(),
            None => google_not_found(),
        }
    })
}
