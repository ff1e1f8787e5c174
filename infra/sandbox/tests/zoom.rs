//! Zoom over HTTP: an account made through the control API, meetings created for its
//! users, moved, read and deleted, and Zoom's refusals (unknown user 1001, bad token 124,
//! not eligible 3161, gone 3001, 503 and 429 for a while).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{world, World, ME};
use reqwest::Method;
use serde_json::{json, Value};

async fn account(w: &World, users: Value) -> (String, String) {
    let (status, made) = w
        .call_as(
            "",
            Method::POST,
            "/sandbox/zoom/accounts",
            Some(json!({"users": users})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    (
        made["account_id"].as_str().unwrap().to_owned(),
        made["access_token"].as_str().unwrap().to_owned(),
    )
}

fn meeting() -> Value {
    json!({"topic": "Interview: Jane Doe", "type": 2, "start_time": "2026-01-12T15:00:00Z",
           "duration": 45, "timezone": "Europe/Berlin"})
}

async fn failure(w: &World, account: &str, mode: Value) -> u16 {
    w.call_as(
        "",
        Method::PUT,
        &format!("/sandbox/zoom/accounts/{account}/failure"),
        Some(mode),
    )
    .await
    .0
}

#[tokio::test]
async fn a_meeting_is_created_for_a_user_moved_read_and_deleted() {
    let w = world().await;
    let (account_id, token) = account(&w, json!(["owner@contoso.example", ME])).await;

    let (status, made) = w
        .call_as(
            &token,
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(meeting()),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_i64().unwrap();
    assert!(id > 9_999_999_999, "an int64 of more than 10 digits: {id}");
    let join = made["join_url"].as_str().unwrap();
    assert!(
        join.starts_with(&format!("https://zoom.us/j/{id}?pwd=")),
        "{join}"
    );
    assert!(!made["password"].as_str().unwrap().is_empty());
    assert!(!made["uuid"].as_str().unwrap().is_empty());
    assert_eq!(made["start_time"], "2026-01-12T15:00:00Z");
    assert_eq!(made["duration"], 45);
    assert_eq!(made["topic"], "Interview: Jane Doe");
    assert_eq!(made["timezone"], "Europe/Berlin");
    assert_eq!(made["host_email"], ME);

    let path = format!("/zoom/meetings/{id}");
    let moved = w
        .call_as(&token, Method::PATCH, &path, Some(json!({"start_time": "2026-01-12T17:30:00", "timezone": "Europe/Berlin", "duration": 30})))
        .await;
    assert_eq!(moved.0, 204);
    let (status, read) = w.call_as(&token, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(read["start_time"], "2026-01-12T16:30:00Z");
    assert_eq!(read["duration"], 30);
    assert_eq!(read["join_url"], join);

    // `me` is the account's owner.
    let (status, mine) = w
        .call_as(
            &token,
            Method::POST,
            "/zoom/users/me/meetings",
            Some(meeting()),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(mine["host_email"], "owner@contoso.example");
    assert_ne!(mine["id"], made["id"]);

    assert_eq!(
        w.call_as(
            &token,
            Method::DELETE,
            &format!("{path}?schedule_for_reminder=false"),
            None
        )
        .await
        .0,
        204
    );
    let gone = json!({"code": 3001, "message": format!("Meeting does not exist: {id}.")});
    assert_eq!(
        w.call_as(&token, Method::DELETE, &path, None).await,
        (404, gone.clone())
    );
    assert_eq!(
        w.call_as(&token, Method::GET, &path, None).await,
        (404, gone)
    );

    let (_, listed) = w
        .call_as(
            "",
            Method::GET,
            &format!("/sandbox/zoom/accounts/{account_id}/meetings"),
            None,
        )
        .await;
    let statuses: Vec<&str> = listed["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["deleted", "waiting"]);
    assert_eq!(listed["meetings"][0]["join_url"], join);

    // Another account's meeting does not exist for this one.
    let (_, other_token) = account(&w, json!(["x@fabrikam.example"])).await;
    let other = format!("/zoom/meetings/{}", mine["id"]);
    assert_eq!(
        w.call_as(&other_token, Method::GET, &other, None).await.0,
        404
    );
}

#[tokio::test]
async fn zoom_refuses_as_zoom_does() {
    let w = world().await;
    let (account_id, token) = account(&w, json!([ME])).await;

    let (status, unknown) = w
        .call_as(
            &token,
            Method::POST,
            "/zoom/users/stranger@contoso.example/meetings",
            Some(meeting()),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        unknown,
        json!({"code": 1001, "message": "User stranger@contoso.example not exist or not belong to this account."})
    );
    let bad_token = w
        .call_as(
            "nope",
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(meeting()),
        )
        .await;
    assert_eq!(
        bad_token,
        (
            401,
            json!({"code": 124, "message": "Invalid access token."})
        )
    );
    assert_eq!(
        w.call_as("", Method::GET, "/zoom/meetings/1", None).await.0,
        401
    );

    assert_eq!(
        failure(&w, &account_id, json!({"mode": "not_eligible"})).await,
        200
    );
    let (status, refused) = w
        .call_as(
            &token,
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(meeting()),
        )
        .await;
    assert_eq!((status, refused["code"].as_i64()), (400, Some(3161)));

    assert_eq!(
        failure(&w, &account_id, json!({"mode": "temporary", "calls": 2})).await,
        200
    );
    for _ in 0..2 {
        let (status, _) = w
            .call_as(
                &token,
                Method::POST,
                &format!("/zoom/users/{ME}/meetings"),
                Some(meeting()),
            )
            .await;
        assert_eq!(status, 503);
    }
    let (status, _) = w
        .call_as(
            &token,
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(meeting()),
        )
        .await;
    assert_eq!(status, 201, "the account is well again");

    assert_eq!(
        failure(
            &w,
            &account_id,
            json!({"mode": "temporary", "calls": 1, "status": 429})
        )
        .await,
        200
    );
    let throttled = w
        .http
        .post(format!("{}/zoom/users/{ME}/meetings", w.base))
        .bearer_auth(&token)
        .json(&meeting())
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().get("retry-after").is_none());
    let (status, _) = w
        .call_as(
            &token,
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(meeting()),
        )
        .await;
    assert_eq!(status, 201);

    assert_eq!(failure(&w, &account_id, json!({"mode": "none"})).await, 200);
    assert_eq!(
        failure(&w, "no-such-account", json!({"mode": "none"})).await,
        404
    );
    assert_eq!(
        failure(&w, &account_id, json!({"mode": "temporary", "status": 404})).await,
        400
    );
    let (status, _) = w
        .call_as(
            &token,
            Method::POST,
            &format!("/zoom/users/{ME}/meetings"),
            Some(json!({"topic": "no time"})),
        )
        .await;
    assert_eq!(status, 400);
}
