//! The mail reads hiresync makes: Graph delta per folder, a message's metadata and the
//! Deleted Items folder; Gmail history, message listing and metadata. Shapes follow the
//! providers' documentation (protocols.md §1.8, §1.10, §2.6, §2.7).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::mailbox::{DeltaEntry, DeltaToken, Folder, HistoryEvent, Mail, Mailbox, Person};
use crate::{caller, unauthorized, Sandbox};

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn google_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})),
    )
        .into_response()
}

/// The answer read from the caller's mailbox, under the lock.
fn with_mailbox(
    s: &Sandbox,
    headers: &HeaderMap,
    read: impl FnOnce(&Mailbox) -> Response,
) -> Response {
    let Some((address, _)) = caller(s, headers) else {
        return unauthorized();
    };
    let mut w = s.lock();
    read(w.mailboxes.entry(address).or_default())
}

fn recipient(p: &Person) -> Value {
    json!({"emailAddress": {"name": p.name.clone().unwrap_or_default(), "address": p.address}})
}

fn graph_message(m: &Mail) -> Value {
    let folder = m.folder();
    let list = |people: &[Person]| people.iter().map(recipient).collect::<Vec<_>>();
    json!({
        "id": m.id,
        "conversationId": m.thread_id,
        "internetMessageId": m.internet_message_id,
        "from": recipient(&m.from),
        "sender": recipient(&m.from),
        "toRecipients": list(&m.to),
        "ccRecipients": list(&m.cc),
        "bccRecipients": list(&m.bcc),
        "receivedDateTime": m.at.to_string(),
        "sentDateTime": m.at.to_string(),
        "parentFolderId": folder.graph_id(),
        "subject": m.subject,
        "isDraft": false,
    })
}

/// `odata.maxpagesize` from the `Prefer` header(s).
fn page_size(headers: &HeaderMap) -> usize {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(10)
        .clamp(1, 1000)
}

/// `Some(None)` without a filter, `None` for a filter the sandbox does not understand.
fn since_filter(filter: Option<&String>) -> Option<Option<i64>> {
    let Some(filter) = filter else {
        return Some(None);
    };
    filter
        .strip_prefix("receivedDateTime ge ")
        .and_then(|t| t.trim().parse::<Timestamp>().ok())
        .map(|t| Some(t.as_second()))
}

pub(crate) async fn graph_delta(
    State(s): State<Sandbox>,
    Path(folder): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(folder_kind) = Folder::parse(&folder) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidIdMalformed",
            "no such folder",
        );
    };
    let Some(since) = since_filter(q.get("$filter")) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidUrlQueryFilter",
            "The sandbox understands only receivedDateTime ge <instant>.",
        );
    };
    let size = page_size(&headers);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    with_mailbox(&s, &headers, |b| {
        let window = match (q.get("$skiptoken"), q.get("$deltatoken")) {
            (Some(t), _) => DeltaToken::decode(t),
            (None, Some(t)) => DeltaToken::decode(t).map(|t| DeltaToken {
                after: t.after,
                upto: b.seq,
                offset: 0,
                ..t
            }),
            (None, None) => Some(DeltaToken {
                generation: b.generation,
                after: 0,
                upto: b.seq,
                offset: 0,
                since,
            }),
        };
        let Some(window) = window.filter(|w| w.generation == b.generation) else {
            return graph_error(
                StatusCode::GONE,
                "syncStateNotFound",
                "The sync state generation is not found.",
            );
        };
        let entries = b.delta(folder_kind, &window);
        let page: Vec<Value> = entries
            .iter()
            .skip(window.offset)
            .take(size)
            .filter_map(|e| match e {
                DeltaEntry::Changed(id) => b.find(id).map(graph_message),
                DeltaEntry::Removed { id, reason } => {
                    Some(json!({"id": id, "@removed": {"reason": reason}}))
                }
            })
            .collect();
        let link = |param: &str, token: DeltaToken| {
            format!(
                "http://{host}/graph/me/mailFolders/{folder}/messages/delta?{param}={}",
                token.encode()
            )
        };
        let mut body = json!({"value": page});
        if window.offset + size < entries.len() {
            body["@odata.nextLink"] = json!(link(
                "$skiptoken",
                DeltaToken {
                    offset: window.offset + size,
                    ..window
                }
            ));
        } else {
            body["@odata.deltaLink"] = json!(link(
                "$deltatoken",
                DeltaToken {
                    after: window.upto,
                    offset: 0,
                    ..window
                }
            ));
        }
        Json(body).into_response()
    })
}

pub(crate) async fn graph_message_by_id(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_mailbox(&s, &headers, |b| {
        match b.find(&id).filter(|m| m.folder() != Folder::Gone) {
            Some(m) => Json(graph_message(m)).into_response(),
            None => graph_error(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            ),
        }
    })
}

pub(crate) async fn graph_folder(
    State(s): State<Sandbox>,
    Path(folder): Path<String>,
    headers: HeaderMap,
) -> Response {
    if caller(&s, &headers).is_none() {
        return unauthorized();
    }
    match Folder::parse(&folder) {
        Some(f) if f != Folder::Gone => {
            Json(json!({"id": f.graph_id(), "displayName": folder})).into_response()
        }
        _ => graph_error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidIdMalformed",
            "no such folder",
        ),
    }
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

pub(crate) async fn gmail_history(
    State(s): State<Sandbox>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let Some(start) = all(&pairs, "startHistoryId")
        .first()
        .and_then(|t| t.parse::<u64>().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": 400, "message": "startHistoryId is required", "status": "INVALID_ARGUMENT"}})),
        )
            .into_response();
    };
    let (offset, size) = offset_and_size(&pairs);
    with_mailbox(&s, &headers, |b| {
        let Some(records) = b.history_after(start) else {
            return google_not_found();
        };
        let page: Vec<Value> = records
            .iter()
            .skip(offset)
            .take(size)
            .map(|(seq, event)| {
                let id = (seq + crate::mailbox::HISTORY_BASE).to_string();
                match event {
                    HistoryEvent::Added {
                        id: m,
                        thread_id,
                        labels,
                    } => json!({"id": id, "messages": [{"id": m, "threadId": thread_id}],
                        "messagesAdded": [{"message": {"id": m, "threadId": thread_id, "labelIds": labels}}]}),
                    HistoryEvent::LabelsAdded { id: m, labels } => {
                        json!({"id": id, "labelsAdded": [{"message": {"id": m}, "labelIds": labels}]})
                    }
                    HistoryEvent::Deleted { id: m } => {
                        json!({"id": id, "messagesDeleted": [{"message": {"id": m}}]})
                    }
                }
            })
            .collect();
        let mut body = json!({"history": page, "historyId": b.history_id().to_string()});
        if offset + size < records.len() {
            body["nextPageToken"] = json!((offset + size).to_string());
        }
        Json(body).into_response()
    })
}

/// The subset of Gmail's search syntax the sync uses: `after:YYYY/MM/DD` and `in:` terms.
fn matches_query(m: &Mail, q: Option<&str>) -> bool {
    let Some(q) = q else {
        return !matches!(m.folder(), Folder::Gone | Folder::DeletedItems);
    };
    let mut folders = Vec::new();
    let mut after: Option<Timestamp> = None;
    for term in q.split_whitespace() {
        let term = term.trim_matches(|c| c == '{' || c == '}');
        if let Some(day) = term.strip_prefix("after:") {
            after = jiff::civil::Date::strptime("%Y/%m/%d", day)
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp());
        } else if let Some(folder) = term.strip_prefix("in:") {
            folders.extend(Folder::parse(folder));
        }
    }
    let folder = m.folder();
    let in_scope = if folders.is_empty() {
        !matches!(folder, Folder::Gone | Folder::DeletedItems)
    } else {
        folders.contains(&folder)
    };
    in_scope && after.is_none_or(|a| m.at >= a)
}

pub(crate) async fn gmail_list(
    State(s): State<Sandbox>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let (offset, size) = offset_and_size(&pairs);
    let q = all(&pairs, "q").first().map(|q| q.to_string());
    with_mailbox(&s, &headers, |b| {
        let mut found: Vec<&Mail> = b
            .mails
            .iter()
            .filter(|m| matches_query(m, q.as_deref()))
            .collect();
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
                "historyId": (m.etag + crate::mailbox::HISTORY_BASE).to_string(),
                "payload": {"headers": m.gmail_headers().into_iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect::<Vec<_>>()},
            }))
            .into_response(),
            None => google_not_found(),
        }
    })
}
