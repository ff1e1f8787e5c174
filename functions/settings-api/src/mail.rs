//! A seat's synced mail as its holder sees it, the owner's choice of who sees a thread, and
//! a candidate's conversations as the caller may see them. Private threads are the person's
//! they were synced for: after a seat changes hands, neither its new holder nor any other
//! seat sees them; shared ones are the whole contract's.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hiresync_connect::Failure;
use hiresync_domain::ids::ProfileId;
use hiresync_domain::mail::{Viewer, Visibility};
use hiresync_domain::ports::{PageToken, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::errors::{ApiError, ApiResult};
use crate::{caller, contract_of, seat_scope, App};

/// Who the caller is, as a viewer of threads.
fn viewer(caller: &crate::auth::Caller) -> Viewer {
    Viewer {
        contract: caller.contract.clone(),
        seat: caller.seat.clone(),
        user: caller.user.clone(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ThreadsQuery {
    limit: Option<i32>,
    next: Option<String>,
}

/// The seat's synced threads with their messages (metadata only), a page at a time: the
/// holder's own and the seat's shared ones (a page may hold fewer than `limit`). Only the
/// seat itself may read them.
pub(crate) async fn threads(
    State(app): State<Arc<App>>,
    Path((contract, seat)): Path<(String, String)>,
    Query(q): Query<ThreadsQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let viewer = viewer(&scope.caller);
    let (contract_id, seat_id) = (scope.contract, scope.seat);
    let limit = q.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 100"));
    }
    let token = q.next.map(PageToken::from_string);
    let page = app
        .threads
        .threads_of_seat(&contract_id, &seat_id, limit, token.as_ref())
        .await
        .map_err(|e| match e {
            StoreError::BadPageToken => {
                ApiError::bad_request("next is not a token this listing gave out")
            }
            other => Failure::from(other).into(),
        })?;
    let mut page = page;
    page.items.retain(|t| t.visible_to(&viewer));
    let mut threads = Vec::with_capacity(page.items.len());
    let mut next = page.next.clone();
    let mut used = 0usize;
    let count = page.items.len();
    for (n, t) in page.items.iter().enumerate() {
        let messages = app
            .threads
            .messages(&contract_id, &seat_id, &t.thread_id)
            .await
            .map_err(Failure::from)?;
        let rendered: Vec<serde_json::Value> = messages.iter().map(message_json).collect();
        let sizes: Vec<usize> = rendered.iter().map(|m| m.to_string().len() + 1).collect();
        let size = THREAD_OVERHEAD_BYTES + sizes.iter().sum::<usize>();
        if used + size <= PAGE_BUDGET_BYTES {
            used += size;
            threads.push(thread_json(t, rendered, false));
            continue;
        }
        if let Some(last) = n.checked_sub(1).and_then(|p| page.items.get(p)) {
            // The page ends before this thread; the next one starts with it.
            next = Some(app.threads.resume_after(last));
        } else {
            // One thread alone is more than a page may carry: its newest messages that fit.
            let mut room = PAGE_BUDGET_BYTES.saturating_sub(THREAD_OVERHEAD_BYTES);
            let keep = sizes
                .iter()
                .rev()
                .take_while(|s| match room.checked_sub(**s) {
                    Some(left) => {
                        room = left;
                        true
                    }
                    None => false,
                })
                .count();
            let newest = rendered[rendered.len() - keep..].to_vec();
            threads.push(thread_json(t, newest, true));
            if n + 1 < count || page.next.is_some() {
                next = Some(app.threads.resume_after(t));
            }
        }
        break;
    }
    Ok(Json(json!({
        "threads": threads,
        "next": next.map(|n| n.as_str().to_owned()),
    })))
}

/// Lambda answers at most 6 MB: a page of threads stays under this.
pub const PAGE_BUDGET_BYTES: usize = 5 * 1024 * 1024;
/// What a thread's own fields take in a page, at most (ids, address, instants).
const THREAD_OVERHEAD_BYTES: usize = 2048;

fn message_json(m: &hiresync_domain::mail::Message) -> serde_json::Value {
    json!({
        "provider_id": m.provider_id,
        "internet_message_id": m.internet_message_id,
        "direction": m.direction,
        "from": m.from.as_str(),
        "to": m.to.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "cc": m.cc.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "subject": m.subject,
        "sent_at": m.sent_at,
    })
}

/// A thread in a page; `truncated` when only its newest messages fit.
fn thread_json(
    t: &hiresync_domain::mail::Thread,
    messages: Vec<serde_json::Value>,
    truncated: bool,
) -> serde_json::Value {
    json!({
        "thread_id": t.thread_id,
        "counterpart": t.counterpart.as_str(),
        "visibility": t.visibility,
        "started_from_product": t.started_from_product,
        "last_activity_at": t.last_activity_at,
        "messages_truncated": truncated,
        "messages": messages,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisibilityBody {
    visibility: Visibility,
}

/// The owner shares a thread with every seat of the contract, or makes it private again.
/// Nobody else may: not the seat's next holder, not another seat, not an admin.
pub(crate) async fn put_visibility(
    State(app): State<Arc<App>>,
    Path((contract, seat, thread)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<VisibilityBody>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let scope = seat_scope(&app, &headers, &contract, &seat, false)?;
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if thread.is_empty() || thread.len() > 1024 {
        return Err(ApiError::bad_request("thread must be 1 to 1024 characters"));
    }
    let viewer = viewer(&scope.caller);
    let mut found = app
        .conversations
        .thread(&scope.contract, &scope.seat, &thread)
        .await
        .map_err(Failure::from)?
        // Another person's private thread is not theirs to know of either.
        .filter(|t| t.visible_to(&viewer))
        .ok_or_else(|| Failure::NotFound("thread"))?;
    found
        .set_visibility(&viewer, body.visibility)
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, "not_owner", e.to_string()))?;
    app.conversations
        .set_visibility(&scope.contract, &scope.seat, &thread, body.visibility)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => Failure::NotFound("thread"),
            other => Failure::from(other),
        })?;
    Ok(Json(json!({
        "thread_id": found.thread_id,
        "visibility": found.visibility,
    })))
}

/// What the caller may see of a candidate's conversations in their contract: their own
/// private threads and every thread shared with the contract, by the profile each was
/// matched to, newest first. Any role of the contract may ask.
pub(crate) async fn conversations(
    State(app): State<Arc<App>>,
    Path((contract, profile)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let now = (app.clock)();
    let caller = caller(&app, &headers, now)?;
    contract_of(&caller, &contract)?;
    let profile = ProfileId::parse(profile).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut threads = app
        .conversations
        .of_profile(&viewer(&caller), &profile)
        .await
        .map_err(Failure::from)?;
    threads.sort_by_key(|t| std::cmp::Reverse(t.last_activity_at));
    let conversations: Vec<serde_json::Value> = threads
        .iter()
        .map(|t| {
            json!({
                "seat": t.seat_id.as_str(),
                "thread_id": t.thread_id,
                "counterpart": t.counterpart.as_str(),
                "visibility": t.visibility,
                "last_activity_at": t.last_activity_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "profile": profile.as_str(),
        "conversations": conversations,
    })))
}
