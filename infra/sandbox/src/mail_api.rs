//! The Graph mail reads hiresync makes: delta per folder and a message's metadata (the
//! folders themselves are in [`crate::graph_folders`], Gmail in [`crate::gmail_api`]).
//! Shapes follow the providers' documentation (protocols.md §1.8, §1.10).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::mailbox::{DeltaEntry, DeltaToken, Folder, Mail, Mailbox, Person};
use crate::{caller, unauthorized, Sandbox};

pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

pub(crate) fn google_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})),
    )
        .into_response()
}

/// The answer read from the caller's mailbox, under the lock.
pub(crate) fn with_mailbox(
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
        "isDraft": folder == Folder::Drafts,
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
    let Some(folder_kind) = Folder::parse(&folder).filter(|f| *f != Folder::Gone) else {
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
    let host = host(&headers);
    with_mailbox(&s, &headers, |b| {
        if !b.has_folder(&folder_kind) {
            return no_such_folder();
        }
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
        // The folder segment as the caller gave it, so following the link reads the
        // same folder by the same name.
        let link = |param: &str, token: DeltaToken| {
            graph_link(
                &host,
                &["me", "mailFolders", &folder, "messages", "delta"],
                &format!("{param}={}", token.encode()),
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

/// The `Host` the caller used, for the links Graph hands back.
pub(crate) fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

/// An absolute Graph link: `segments` under `/graph`, each percent-encoded (a user folder's
/// name may hold spaces), then `query` as written (Graph writes `$skiptoken`, not
/// `%24skiptoken`).
pub(crate) fn graph_link(host: &str, segments: &[&str], query: &str) -> String {
    match url::Url::parse(&format!("http://{host}/")) {
        Ok(mut url) => {
            if let Ok(mut path) = url.path_segments_mut() {
                path.pop_if_empty().push("graph").extend(segments);
            }
            url.set_query(Some(query));
            url.to_string()
        }
        Err(_) => format!("http://{host}/graph/{}?{query}", segments.join("/")),
    }
}

/// Graph's answer for a folder id that names no folder of the mailbox.
pub(crate) fn no_such_folder() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
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
