//! Graph's calendar over HTTP: events with Teams meetings, a retried create deduplicated by
//! its `transactionId`, reschedule, cancel and delete, `getSchedule` with its limits and
//! its per-schedule errors, and the change notifications an events subscription gets.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{receiver, world, World, ME};
use reqwest::Method;
use serde_json::{json, Value};

fn interview(transaction_id: &str) -> Value {
    json!({
        "subject": "Interview: Jane Doe",
        "body": {"contentType": "HTML", "content": "<p>Looking forward to it.</p>"},
        "start": {"dateTime": "2026-01-12T16:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-01-12T16:45:00.0000000", "timeZone": "Europe/Berlin"},
        "location": {"displayName": "Room 4"},
        "attendees": [{"emailAddress": {"address": "jane@fabrikam.example", "name": "Jane Doe"}, "type": "required"}],
        "allowNewTimeProposals": false,
        "isOnlineMeeting": true,
        "onlineMeetingProvider": "teamsForBusiness",
        "transactionId": transaction_id,
    })
}

async fn schedule(
    w: &World,
    schedules: Value,
    start: &str,
    end: &str,
    interval: u32,
) -> (u16, Value) {
    w.call(
        Method::POST,
        "/graph/me/calendar/getSchedule",
        Some(json!({
            "schedules": schedules,
            "startTime": {"dateTime": start, "timeZone": "UTC"},
            "endTime": {"dateTime": end, "timeZone": "UTC"},
            "availabilityViewInterval": interval,
        })),
    )
    .await
}

/// ME's availability view on 2026-01-12 from 09:00 to 18:00 UTC, by the hour.
async fn my_day(w: &World) -> String {
    let (status, answer) = schedule(
        w,
        json!([ME]),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        60,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["value"][0]["availabilityView"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_interview_with_teams_is_made_once_moved_cancelled_and_deleted() {
    let w = world().await;
    let hook = receiver().await;
    let (status, sub) = w
        .call(
            Method::POST,
            "/graph/subscriptions",
            Some(
                json!({"changeType": "created,updated,deleted", "notificationUrl": hook,
                        "resource": "me/events", "clientState": "secret",
                        "expirationDateTime": "2026-01-05T10:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{sub}");

    let (status, made) = w
        .call(
            Method::POST,
            "/graph/me/events",
            Some(interview("booking-1")),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let join = made["onlineMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        join.starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "{join}"
    );
    assert_eq!(made["isOnlineMeeting"], true);
    assert_eq!(made["onlineMeetingProvider"], "teamsForBusiness");
    assert_eq!(made["transactionId"], "booking-1");
    assert_eq!(made["allowNewTimeProposals"], false);
    assert_eq!(
        made["start"],
        json!({"dateTime": "2026-01-12T15:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(
        made["end"],
        json!({"dateTime": "2026-01-12T15:45:00.0000000", "timeZone": "UTC"})
    );
    assert!(made["body"]["content"].as_str().unwrap().contains(&join));

    // A retry after a timeout: the same event, 201 again, nothing new on the calendar.
    let (status, again) = w
        .call(
            Method::POST,
            "/graph/me/calendar/events",
            Some(interview("booking-1")),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], made["id"]);
    assert_eq!(
        again["onlineMeeting"]["joinUrl"],
        made["onlineMeeting"]["joinUrl"]
    );
    let events = w.sandbox.events(ME);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].join_url.as_deref(), Some(join.as_str()));
    assert_eq!(events[0].location.as_deref(), Some("Room 4"));
    assert_eq!(events[0].attendees[0].address, "jane@fabrikam.example");
    assert_eq!(my_day(&w).await, "000000200");

    let (status, moved) = w
        .call(
            Method::PATCH,
            &format!("/graph/me/events/{id}"),
            Some(
                json!({"start": {"dateTime": "2026-01-12T16:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": "2026-01-12T16:45:00", "timeZone": "UTC"}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["onlineMeeting"]["joinUrl"], join.as_str());
    assert_eq!(moved["start"]["dateTime"], "2026-01-12T16:00:00.0000000");
    assert_eq!(my_day(&w).await, "000000020");
    let (status, read) = w.get(&format!("/graph/me/events/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(read["end"]["dateTime"], "2026-01-12T16:45:00.0000000");

    let cancel = format!("/graph/me/events/{id}/cancel");
    let (status, _) = w
        .call(Method::POST, &cancel, Some(json!({"Comment": "Sorry"})))
        .await;
    assert_eq!(status, 202);
    let (_, read) = w.get(&format!("/graph/me/events/{id}")).await;
    assert_eq!(read["isCancelled"], true);
    assert_eq!(my_day(&w).await, "000000000");

    assert_eq!(
        w.call(Method::DELETE, &format!("/graph/me/events/{id}"), None)
            .await
            .0,
        204
    );
    let (status, gone) = w.get(&format!("/graph/me/events/{id}")).await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (404, Some("ErrorItemNotFound"))
    );
    assert_eq!(
        w.call(Method::DELETE, &format!("/graph/me/events/{id}"), None)
            .await
            .0,
        404
    );

    let changes: Vec<(String, u16)> = w
        .sandbox
        .pushes()
        .iter()
        .map(|p| {
            let body: Value = serde_json::from_str(&p.body).unwrap();
            let n = &body["value"][0];
            assert_eq!(n["subscriptionId"], sub["id"]);
            assert_eq!(n["clientState"], "secret");
            assert_eq!(n["resourceData"]["@odata.type"], "#Microsoft.Graph.Event");
            assert_eq!(n["resourceData"]["id"], id.as_str());
            (
                n["changeType"].as_str().unwrap().to_owned(),
                p.status.unwrap(),
            )
        })
        .collect();
    let expected = [
        ("created", 202),
        ("updated", 202),
        ("deleted", 202),
        ("deleted", 202),
    ];
    let expected: Vec<(String, u16)> = expected
        .iter()
        .map(|(c, s)| ((*c).to_owned(), *s))
        .collect();
    assert_eq!(changes, expected);
}

#[tokio::test]
async fn without_teams_the_event_is_made_with_no_meeting_and_no_error() {
    let w = world().await;
    let (status, settings) = w
        .call_as(
            "",
            Method::PUT,
            &format!("/sandbox/calendars/{ME}/settings"),
            Some(json!({"teams_available": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(settings["teams_available"], false);
    let (_, calendar) = w.get("/graph/me/calendar").await;
    assert_eq!(calendar["allowedOnlineMeetingProviders"], json!([]));

    let (status, made) = w
        .call(
            Method::POST,
            "/graph/me/events",
            Some(interview("booking-2")),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(made["isOnlineMeeting"], false);
    assert_eq!(made["onlineMeetingProvider"], "unknown");
    assert_eq!(made["onlineMeeting"], Value::Null);
    let (_, listed) = w
        .call_as(
            "",
            Method::GET,
            &format!("/sandbox/calendars/{ME}/events"),
            None,
        )
        .await;
    assert_eq!(listed["events"][0]["video"], "teams_refused");
    assert_eq!(listed["events"][0]["join_url"], Value::Null);
}

#[tokio::test]
async fn get_schedule_answers_each_schedule_within_its_limits() {
    let w = world().await;
    let seeds = format!("/sandbox/calendars/{ME}/events");
    let seed = |subject: &str, start: &str, end: &str, show_as: &str| {
        w.call_as(
            "",
            Method::POST,
            &seeds,
            Some(json!({"subject": subject, "start": start, "end": end, "show_as": show_as})),
        )
    };
    assert_eq!(
        seed(
            "Dentist",
            "2026-01-12T10:00:00Z",
            "2026-01-12T11:00:00Z",
            "tentative"
        )
        .await
        .0,
        201
    );
    assert_eq!(
        seed(
            "Away",
            "2026-01-12T12:00:00Z",
            "2026-01-12T13:30:00Z",
            "oof"
        )
        .await
        .0,
        201
    );
    assert_eq!(
        seed(
            "Focus",
            "2026-01-12T14:00:00Z",
            "2026-01-12T15:00:00Z",
            "free"
        )
        .await
        .0,
        201
    );
    assert_eq!(
        seed(
            "Backwards",
            "2026-01-12T15:00:00Z",
            "2026-01-12T14:00:00Z",
            "busy"
        )
        .await
        .0,
        400
    );
    let other = "omar@contoso.example";
    w.sandbox
        .account(other, hiresync_sandbox::Behaviour::Normal);

    let (status, answer) = schedule(
        &w,
        json!([ME, other, "nobody@contoso.example"]),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        60,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let mine = &answer["value"][0];
    assert_eq!(mine["scheduleId"], ME);
    assert_eq!(mine["availabilityView"], "010330000");
    let statuses: Vec<&str> = mine["scheduleItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["tentative", "oof", "free"]);
    assert_eq!(
        mine["scheduleItems"][0]["start"],
        json!({"dateTime": "2026-01-12T10:00:00.0000000", "timeZone": "UTC"})
    );
    assert!(mine.get("error").is_none());
    assert_eq!(answer["value"][1]["availabilityView"], "000000000");
    assert_eq!(
        answer["value"][2]["error"]["responseCode"],
        "ErrorMailRecipientNotFound"
    );

    let unreadable = w
        .call_as(
            "",
            Method::PUT,
            &format!("/sandbox/calendars/{other}/settings"),
            Some(json!({"unreadable": true})),
        )
        .await;
    assert_eq!(unreadable.0, 200);
    let (_, answer) = schedule(
        &w,
        json!([other]),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        30,
    )
    .await;
    assert_eq!(
        answer["value"][0]["error"]["responseCode"],
        "ErrorNoFreeBusyAccess"
    );
    assert_eq!(answer["value"][0]["availabilityView"], "");

    let many: Vec<String> = (0..21).map(|i| format!("p{i}@contoso.example")).collect();
    let (status, _) = schedule(
        &w,
        json!(&many),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        30,
    )
    .await;
    assert_eq!(status, 400, "more than 20 schedules");
    let (status, _) = schedule(
        &w,
        json!(&many[..20]),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        30,
    )
    .await;
    assert_eq!(status, 200);
    let (status, too_long) = schedule(
        &w,
        json!([ME]),
        "2026-01-01T00:00:00",
        "2026-03-04T00:00:00",
        30,
    )
    .await;
    assert_eq!(status, 400, "62 days");
    assert_eq!(too_long["error"]["code"], "ErrorTimeIntervalTooBig");
    let (status, _) = schedule(
        &w,
        json!([ME]),
        "2026-01-01T00:00:00",
        "2026-03-03T23:00:00",
        1440,
    )
    .await;
    assert_eq!(status, 200, "under 62 days");
    let (status, _) = schedule(
        &w,
        json!([ME]),
        "2026-01-12T09:00:00",
        "2026-01-12T18:00:00",
        4,
    )
    .await;
    assert_eq!(status, 400, "an interval under 5 minutes");
    let (status, _) = w
        .call(
            Method::POST,
            &format!("/graph/users/{ME}/calendar/getSchedule"),
            Some(json!({"schedules": [ME], "startTime": {"dateTime": "2026-01-12T09:00:00", "timeZone": "Pacific Standard Time"},
                        "endTime": {"dateTime": "2026-01-12T18:00:00", "timeZone": "Pacific Standard Time"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = w
        .call_as(
            "",
            Method::POST,
            "/graph/me/calendar/getSchedule",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn only_the_organizer_cancels_and_zones_must_be_known() {
    let w = world().await;
    let (status, seeded) = w
        .call_as(
            "",
            Method::POST,
            &format!("/sandbox/calendars/{ME}/events"),
            Some(json!({"subject": "Their meeting", "start": "2026-01-13T10:00:00Z", "end": "2026-01-13T11:00:00Z",
                        "organizer": "boss@contoso.example", "attendees": ["Rita <rita@contoso.example>"]})),
        )
        .await;
    assert_eq!(status, 201, "{seeded}");
    let id = seeded["id"].as_str().unwrap();
    let (status, refused) = w
        .call(
            Method::POST,
            &format!("/graph/me/events/{id}/cancel"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("ErrorAccessDenied"))
    );

    let mut odd = interview("booking-3");
    odd["start"]["timeZone"] = json!("Mars Standard Time");
    let (status, refused) = w.call(Method::POST, "/graph/me/events", Some(odd)).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("TimeZoneNotSupportedException"))
    );
    let (status, _) = w
        .call(
            Method::POST,
            "/graph/users/someone@else.example/events",
            Some(interview("b4")),
        )
        .await;
    assert_eq!(status, 403);
}
