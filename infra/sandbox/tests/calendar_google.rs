//! Google Calendar over HTTP: events with a client id (409 on a repeat), Meet conferences
//! pending then ready (or refused, or failing), reschedule and delete (410 the second
//! time), `freeBusy` with its per-calendar errors, and the channel notifications a watch
//! gets.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{receiver, world, World, ME};
use reqwest::Method;
use serde_json::{json, Value};

const WRITE: &str = "conferenceDataVersion=1&sendUpdates=all";

fn interview(id: &str, request_id: &str) -> Value {
    json!({
        "id": id,
        "summary": "Interview: Jane Doe",
        "description": "Looking forward to it.",
        "start": {"dateTime": "2026-01-12T16:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-01-12T16:45:00", "timeZone": "Europe/Berlin"},
        "attendees": [{"email": "jane@fabrikam.example", "displayName": "Jane Doe"}],
        "location": "Video call",
        "conferenceData": {"createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
    })
}

async fn insert(w: &World, query: &str, body: Value) -> (u16, Value) {
    w.call(
        Method::POST,
        &format!("/calendar/calendars/primary/events?{query}"),
        Some(body),
    )
    .await
}

async fn settings(w: &World, change: Value) {
    let (status, _) = w
        .call_as(
            "",
            Method::PUT,
            &format!("/sandbox/calendars/{ME}/settings"),
            Some(change),
        )
        .await;
    assert_eq!(status, 200);
}

async fn free_busy(w: &World, items: Value) -> Value {
    let (status, answer) = w
        .call(
            Method::POST,
            "/calendar/freeBusy",
            Some(json!({"timeMin": "2026-01-12T00:00:00Z", "timeMax": "2026-01-13T00:00:00Z", "items": items})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn is_meet_link(uri: &str) -> bool {
    let Some(code) = uri.strip_prefix("https://meet.google.com/") else {
        return false;
    };
    let parts: Vec<&str> = code.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [3, 4, 3]
        && code.chars().all(|c| c == '-' || c.is_ascii_lowercase())
}

#[tokio::test]
async fn an_interview_with_meet_is_pending_then_ready_moved_and_deleted() {
    let w = world().await;
    let hook = receiver().await;
    let (status, channel) = w
        .call(
            Method::POST,
            &format!("/calendar/calendars/{ME}/events/watch"),
            Some(
                json!({"id": "channel-1", "type": "web_hook", "address": hook, "token": "tok-1",
                        "params": {"ttl": "604800"}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{channel}");

    let (status, made) = insert(&w, WRITE, interview("booking0001", "req-1")).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["id"], "booking0001");
    assert_eq!(made["status"], "confirmed");
    assert_eq!(made["start"]["dateTime"], "2026-01-12T15:00:00Z");
    assert_eq!(made["end"]["dateTime"], "2026-01-12T15:45:00Z");
    assert_eq!(
        made["conferenceData"]["createRequest"]["status"]["statusCode"],
        "pending"
    );
    assert_eq!(
        made["conferenceData"]["createRequest"]["requestId"],
        "req-1"
    );
    assert!(made.get("hangoutLink").is_none());
    // The listing counts no read: it shows what the next answer will say.
    assert_eq!(w.sandbox.events(ME)[0].conference_status, Some("success"));

    let path = "/calendar/calendars/primary/events/booking0001";
    let (status, ready) = w.get(path).await;
    assert_eq!(status, 200);
    let conference = &ready["conferenceData"];
    assert_eq!(
        conference["createRequest"]["status"]["statusCode"],
        "success"
    );
    let link = ready["hangoutLink"].as_str().unwrap().to_owned();
    assert!(is_meet_link(&link), "{link}");
    assert_eq!(conference["entryPoints"][0]["entryPointType"], "video");
    assert_eq!(conference["entryPoints"][0]["uri"], link.as_str());
    assert_eq!(
        conference["conferenceId"],
        link.trim_start_matches("https://meet.google.com/")
    );
    let listed = &w.sandbox.events(ME)[0];
    assert_eq!(listed.join_url.as_deref(), Some(link.as_str()));
    assert_eq!(listed.send_updates.as_deref(), Some("all"));

    // A retry of the insert: the id is taken.
    let (status, dup) = insert(&w, WRITE, interview("booking0001", "req-1")).await;
    assert_eq!(
        (status, dup["error"]["errors"][0]["reason"].as_str()),
        (409, Some("duplicate"))
    );

    let busy = free_busy(&w, json!([{"id": "primary"}, {"id": ME}])).await;
    let slot = json!([{"start": "2026-01-12T15:00:00Z", "end": "2026-01-12T15:45:00Z"}]);
    assert_eq!(busy["calendars"]["primary"]["busy"], slot);
    assert_eq!(busy["calendars"][ME]["busy"], slot);

    let (status, moved) = w
        .call(
            Method::PATCH,
            &format!("{path}?{WRITE}"),
            Some(json!({"start": {"dateTime": "2026-01-12T17:00:00Z"}, "end": {"dateTime": "2026-01-12T17:30:00Z"}})),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["hangoutLink"], link.as_str());
    assert_eq!(moved["start"]["dateTime"], "2026-01-12T17:00:00Z");
    let busy = free_busy(&w, json!([{"id": "primary"}])).await;
    assert_eq!(
        busy["calendars"]["primary"]["busy"],
        json!([{"start": "2026-01-12T17:00:00Z", "end": "2026-01-12T17:30:00Z"}])
    );

    assert_eq!(
        w.call(Method::DELETE, &format!("{path}?sendUpdates=all"), None)
            .await
            .0,
        204
    );
    let (status, gone) = w.call(Method::DELETE, path, None).await;
    assert_eq!(
        (status, gone["error"]["errors"][0]["reason"].as_str()),
        (410, Some("deleted"))
    );
    let (status, cancelled) = w.get(path).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    let busy = free_busy(&w, json!([{"id": "primary"}])).await;
    assert_eq!(busy["calendars"]["primary"]["busy"], json!([]));
    let (status, _) = insert(&w, WRITE, interview("booking0001", "req-2")).await;
    assert_eq!(status, 409, "a deleted event's id stays taken");

    let pushes = w.sandbox.pushes();
    assert_eq!(pushes.len(), 3, "created, moved, deleted");
    let mut numbers = Vec::new();
    for p in &pushes {
        let header = |name: &str| {
            p.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("x-goog-channel-id"), Some("channel-1"));
        assert_eq!(header("x-goog-channel-token"), Some("tok-1"));
        assert_eq!(header("x-goog-resource-id"), channel["resourceId"].as_str());
        assert_eq!(header("x-goog-resource-state"), Some("exists"));
        numbers.push(
            header("x-goog-message-number")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
        assert_eq!(p.body, "");
        assert_eq!(p.status, Some(202));
    }
    assert!(
        numbers.windows(2).all(|n| n[0] < n[1]) && numbers[0] > 1,
        "{numbers:?}"
    );

    let stop = w
        .call(
            Method::POST,
            "/calendar/channels/stop",
            Some(json!({"id": "channel-1", "resourceId": channel["resourceId"]})),
        )
        .await;
    assert_eq!(stop.0, 204);
    insert(&w, WRITE, interview("booking0002", "req-3")).await;
    assert_eq!(
        w.sandbox.pushes().len(),
        3,
        "a stopped channel hears nothing"
    );
}

#[tokio::test]
async fn ids_are_base32hex_and_conference_data_needs_version_one() {
    let w = world().await;
    for bad in ["abcd", "ABCDE", "abcdw", "abc-def", "booking_1"] {
        let (status, refused) = insert(&w, WRITE, interview(bad, "r")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(refused["error"]["errors"][0]["reason"], "invalid");
        assert_eq!(refused["error"]["message"], "Invalid resource id value.");
    }
    let (status, plain) = insert(&w, "sendUpdates=all", interview("plain0001", "r")).await;
    assert_eq!(status, 200);
    assert!(plain.get("conferenceData").is_none(), "{plain}");
    let mut fresh = interview("x", "r");
    fresh.as_object_mut().unwrap().remove("id");
    let (status, made) = insert(&w, WRITE, fresh).await;
    assert_eq!(status, 200);
    let id = made["id"].as_str().unwrap();
    assert!(
        id.len() >= 5 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v')),
        "{id}"
    );
    let (status, _) = insert(
        &w,
        "conferenceDataVersion=1&sendUpdates=some",
        interview("other0001", "r"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .call(
            Method::POST,
            "/calendar/calendars/someone@else.example/events",
            Some(interview("other0002", "r")),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w.get("/calendar/calendars/primary/events/nothing00").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn meet_refused_failing_or_slow() {
    let w = world().await;
    let (_, calendar) = w.get("/calendar/calendars/primary").await;
    assert_eq!(
        calendar["conferenceProperties"]["allowedConferenceSolutionTypes"],
        json!(["hangoutsMeet"])
    );

    settings(&w, json!({"meet": "refused"})).await;
    let (_, calendar) = w.get("/calendar/calendars/primary").await;
    assert_eq!(
        calendar["conferenceProperties"]["allowedConferenceSolutionTypes"],
        json!([])
    );
    let (status, refused) = insert(&w, WRITE, interview("refused01", "r1")).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["errors"][0]["reason"], "invalid");
    assert_eq!(
        refused["error"]["message"],
        "Invalid conference type value."
    );
    assert!(w.sandbox.events(ME).is_empty(), "no event is made");

    settings(&w, json!({"meet": "failing"})).await;
    let (_, made) = insert(&w, WRITE, interview("failing01", "r2")).await;
    assert_eq!(
        made["conferenceData"]["createRequest"]["status"]["statusCode"],
        "pending"
    );
    let (_, failed) = w.get("/calendar/calendars/primary/events/failing01").await;
    assert_eq!(
        failed["conferenceData"]["createRequest"]["status"]["statusCode"],
        "failure"
    );
    assert!(failed.get("hangoutLink").is_none());

    // Asking again with a new requestId once Meet works.
    settings(&w, json!({"meet": "allowed", "meet_pending_reads": 0})).await;
    let (status, retried) = w
        .call(
            Method::PATCH,
            &format!("/calendar/calendars/primary/events/failing01?{WRITE}"),
            Some(json!({"conferenceData": {"createRequest": {"requestId": "r3", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        retried["conferenceData"]["createRequest"]["status"]["statusCode"],
        "success"
    );

    settings(&w, json!({"meet_pending_reads": 3})).await;
    let (_, made) = insert(&w, WRITE, interview("slomeet01", "r4")).await;
    let mut statuses =
        vec![made["conferenceData"]["createRequest"]["status"]["statusCode"].clone()];
    for _ in 0..3 {
        let (_, read) = w.get("/calendar/calendars/primary/events/slomeet01").await;
        statuses.push(read["conferenceData"]["createRequest"]["status"]["statusCode"].clone());
    }
    assert_eq!(
        statuses,
        [
            json!("pending"),
            json!("pending"),
            json!("pending"),
            json!("success")
        ]
    );
}

#[tokio::test]
async fn free_busy_shows_every_event_and_errors_for_calendars_it_cannot_read() {
    let w = world().await;
    let other = "omar@contoso.example";
    w.sandbox
        .account(other, hiresync_sandbox::Behaviour::Normal);
    let seeded = w
        .call_as(
            "",
            Method::POST,
            &format!("/sandbox/calendars/{ME}/events"),
            Some(json!({"start": "2026-01-12T09:00:00Z", "end": "2026-01-12T10:00:00Z"})),
        )
        .await;
    assert_eq!(seeded.0, 201);
    // Made through Graph, busy for Google too; merged with what touches it.
    let (status, _) = w
        .call(
            Method::POST,
            "/graph/me/events",
            Some(json!({"subject": "s", "start": {"dateTime": "2026-01-12T10:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": "2026-01-12T11:00:00", "timeZone": "UTC"}})),
        )
        .await;
    assert_eq!(status, 201);
    settings(&w, json!({"unreadable": false})).await;
    let answer = free_busy(
        &w,
        json!([{"id": "primary"}, {"id": other}, {"id": "ghost@contoso.example"}]),
    )
    .await;
    assert_eq!(
        answer["calendars"]["primary"]["busy"],
        json!([{"start": "2026-01-12T09:00:00Z", "end": "2026-01-12T11:00:00Z"}])
    );
    assert_eq!(answer["calendars"][other]["busy"], json!([]));
    assert!(answer["calendars"][other].get("errors").is_none());
    let not_found = json!([{"domain": "global", "reason": "notFound"}]);
    assert_eq!(
        answer["calendars"]["ghost@contoso.example"]["errors"],
        not_found
    );

    settings(&w, json!({"unreadable": true})).await;
    let answer = free_busy(&w, json!([{"id": "primary"}, {"id": ME}])).await;
    assert_eq!(answer["calendars"]["primary"]["errors"], not_found);
    assert_eq!(answer["calendars"][ME]["errors"], not_found);

    let (status, _) = w
        .call(Method::POST, "/calendar/freeBusy", Some(json!({"timeMin": "2026-01-13T00:00:00Z", "timeMax": "2026-01-12T00:00:00Z", "items": []})))
        .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .call_as("", Method::POST, "/calendar/freeBusy", Some(json!({})))
        .await;
    assert_eq!(status, 401);
}
