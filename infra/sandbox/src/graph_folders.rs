//! Graph's mail folders: the listing a sync walks to find every folder mail may be filed
//! in, one folder by well-known name or id, and its (always empty) child folders.
//!
//! The sandbox has no nested folders: every folder is a child of the root, so a caller that
//! walks `childFolders` finds the whole tree in one step, and one that does not still sees
//! every folder in the top-level listing.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::mail_api::{graph_error, graph_link, host, no_such_folder, with_mailbox};
use crate::mailbox::{Folder, Mailbox};
use crate::Sandbox;

/// Folders per page when the caller gives no `$top` (Graph's default for this listing).
const DEFAULT_TOP: usize = 10;

fn folder_json(b: &Mailbox, f: &Folder) -> Value {
    json!({
        "id": f.graph_id(),
        "displayName": f.display_name(),
        "parentFolderId": "folder-root",
        "childFolderCount": 0,
        "totalItemCount": b.count(f),
    })
}

/// Why a path segment names no folder of the mailbox.
enum Missing {
    /// Not a well-known name nor a folder id.
    Malformed,
    /// A folder id, but of no folder the mailbox has.
    NotFound,
}

impl Missing {
    fn answer(self) -> Response {
        match self {
            Missing::Malformed => graph_error(
                StatusCode::NOT_FOUND,
                "ErrorInvalidIdMalformed",
                "no such folder",
            ),
            Missing::NotFound => no_such_folder(),
        }
    }
}

/// The folder a path segment names, if the mailbox has it: a well-known name or any
/// folder id.
fn existing(b: &Mailbox, segment: &str) -> Result<Folder, Missing> {
    match Folder::parse(segment) {
        Some(f) if b.has_folder(&f) => Ok(f),
        Some(_) => Err(Missing::NotFound),
        None => Err(Missing::Malformed),
    }
}

/// `GET /graph/me/mailFolders/{folder}`: `{"id", "displayName", ...}`.
pub(crate) async fn graph_folder(
    State(s): State<Sandbox>,
    Path(folder): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_mailbox(&s, &headers, |b| match existing(b, &folder) {
        Ok(f) => Json(folder_json(b, &f)).into_response(),
        Err(missing) => missing.answer(),
    })
}

/// `GET /graph/me/mailFolders`: a page of `$top` folders (`$select` is ignored: every
/// page carries every field), with `@odata.nextLink` while more follow, so a caller that
/// does not follow links misses folders just as it would against Graph.
pub(crate) async fn graph_folders(
    State(s): State<Sandbox>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let top = q
        .get("$top")
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_TOP)
        .clamp(1, 1000);
    let Some(offset) = q
        .get("$skiptoken")
        .map_or(Some(0), |t| t.parse::<usize>().ok())
    else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidUrlQuery",
            "The skip token is not valid.",
        );
    };
    let host = host(&headers);
    with_mailbox(&s, &headers, |b| {
        let folders = b.folders();
        let page: Vec<Value> = folders
            .iter()
            .skip(offset)
            .take(top)
            .map(|f| folder_json(b, f))
            .collect();
        let mut body = json!({"value": page});
        if offset + top < folders.len() {
            body["@odata.nextLink"] = json!(graph_link(
                &host,
                &["me", "mailFolders"],
                &format!("$top={top}&$skiptoken={}", offset + top),
            ));
        }
        Json(body).into_response()
    })
}

/// `GET /graph/me/mailFolders/{folder}/childFolders`: none, for any folder that exists.
pub(crate) async fn graph_child_folders(
    State(s): State<Sandbox>,
    Path(folder): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_mailbox(&s, &headers, |b| match existing(b, &folder) {
        Ok(_) => Json(json!({"value": []})).into_response(),
        Err(_) => no_such_folder(),
    })
}
