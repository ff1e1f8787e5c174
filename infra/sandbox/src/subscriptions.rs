//! Graph subscriptions (protocols.md §1.4): created once the notification endpoints pass
//! the validation handshake, renewed, deleted. What each one is told is in [`crate::push`].

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::{caller, push, unauthorized, Sandbox};

pub(crate) async fn graph_subscribe(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some((owner, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    // Graph proves the endpoints are ours before it creates anything (§1.4).
    for url in [text("notificationUrl"), text("lifecycleNotificationUrl")] {
        if url.is_empty() {
            continue;
        }
        let token = s.next("validation");
        if !push::validate(&s.http, &url, &token).await {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": {"code": "InvalidRequest", "message": "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."}})),
            )
                .into_response();
        }
    }
    let id = s.next_guid();
    let sub = push::GraphSubscription {
        id: id.clone(),
        owner,
        resource: text("resource"),
        notification_url: text("notificationUrl"),
        lifecycle_url: Some(text("lifecycleNotificationUrl")).filter(|u| !u.is_empty()),
        client_state: body["clientState"].as_str().map(str::to_owned),
        expiration: body["expirationDateTime"].clone(),
    };
    let stored = json!({
        "id": id, "resource": body["resource"], "changeType": body["changeType"],
        "notificationUrl": body["notificationUrl"], "expirationDateTime": body["expirationDateTime"],
    });
    s.lock().subscriptions.insert(id, sub);
    (StatusCode::CREATED, Json(stored)).into_response()
}

pub(crate) async fn graph_renew(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut w = s.lock();
    match w.subscriptions.get_mut(&id) {
        Some(sub) => {
            sub.expiration = body["expirationDateTime"].clone();
            Json(json!({"id": id, "resource": sub.resource, "expirationDateTime": sub.expiration}))
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": {"code": "ResourceNotFound", "message": "subscription not found"}}),
            ),
        )
            .into_response(),
    }
}

pub(crate) async fn graph_unsubscribe(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
) -> Response {
    match s.lock().subscriptions.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
