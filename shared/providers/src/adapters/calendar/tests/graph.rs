//! Graph: `getSchedule` in windows under 62 days, events with `transactionId` and Teams,
//! moves, cancels, and the kinds of failure.

use hiresync_domain::availability::Busy;
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::{CalendarEvents, CalendarSource, VideoState};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::Mock;

use super::*;

const MS: Provider = Provider::Microsoft365;
const JOIN: &str = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0";

fn item(status: &str, start: &str, end: &str) -> Value {
    json!({
        "isPrivate": false, "status": status,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"}
    })
}

fn schedule(items: Vec<Value>) -> Value {
    json!({"value": [{
        "scheduleId": OWNER,
        "availabilityView": "0120",
        "scheduleItems": items,
        "workingHours": {"daysOfWeek": ["monday"], "startTime": "08:00:00.0000000",
                         "endTime": "17:00:00.0000000", "timeZone": {"name": "UTC"}}
    }]})
}

fn busy(start: &str, end: &str) -> Busy {
    Busy {
        start: t(start),
        end: t(end),
    }
}

async fn schedule_answers(server: &MockServer, answer: Value) {
    Mock::given(method("POST"))
        .and(path("/graph/me/calendar/getSchedule"))
        .respond_with(ok(200, answer))
        .mount(server)
        .await;
}

fn event_json(online: bool, join_url: Option<&str>) -> Value {
    let mut e = json!({
        "id": "AAMkAGI2-event",
        "subject": "Interview: Jane Doe",
        "start": {"dateTime": "2026-01-12T15:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-01-12T15:45:00.0000000", "timeZone": "UTC"},
        "isOnlineMeeting": online,
        "onlineMeetingProvider": if online { "teamsForBusiness" } else { "unknown" },
        "isCancelled": false,
        "transactionId": KEY
    });
    if let Some(url) = join_url {
        e["onlineMeeting"] = json!({"joinUrl": url, "conferenceId": "123"});
    }
    e
}

#[tokio::test]
async fn busy_time_is_read_with_get_schedule_in_utc_and_tentative_oof_and_unknown_are_busy() {
    let (server, calendars) = calendars().await;
    schedule_answers(
        &server,
        schedule(vec![
            item(
                "busy",
                "2026-01-12T09:00:00.0000000",
                "2026-01-12T10:00:00.0000000",
            ),
            item(
                "tentative",
                "2026-01-12T11:00:00.0000000",
                "2026-01-12T11:30:00.0000000",
            ),
            item(
                "free",
                "2026-01-12T12:00:00.0000000",
                "2026-01-12T13:00:00.0000000",
            ),
            item(
                "oof",
                "2026-01-13T00:00:00.0000000",
                "2026-01-14T00:00:00.0000000",
            ),
            item(
                "workingElsewhere",
                "2026-01-14T09:00:00.0000000",
                "2026-01-14T17:00:00.0000000",
            ),
            item(
                "unknown",
                "2026-01-15T09:00:00.0000000",
                "2026-01-15T09:30:00.0000000",
            ),
        ]),
    )
    .await;

    let found = calendars
        .busy(
            MS,
            &owner(),
            &access(),
            t("2026-01-12T08:00:00Z"),
            t("2026-01-19T08:00:00Z"),
        )
        .await
        .unwrap();

    assert_eq!(
        found,
        vec![
            busy("2026-01-12T09:00:00Z", "2026-01-12T10:00:00Z"),
            busy("2026-01-12T11:00:00Z", "2026-01-12T11:30:00Z"),
            busy("2026-01-13T00:00:00Z", "2026-01-14T00:00:00Z"),
            busy("2026-01-15T09:00:00Z", "2026-01-15T09:30:00Z"),
        ]
    );
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers.get("authorization").unwrap(),
        &format!("Bearer {ACCESS}")
    );
    let sent = body(&requests[0]);
    assert_eq!(sent["schedules"], json!([OWNER]));
    assert_eq!(
        sent["startTime"],
        json!({"dateTime": "2026-01-12T08:00:00", "timeZone": "UTC"})
    );
    assert_eq!(
        sent["endTime"],
        json!({"dateTime": "2026-01-19T08:00:00", "timeZone": "UTC"})
    );
    assert!(sent["availabilityViewInterval"].as_u64().is_some());
}

#[tokio::test]
async fn a_range_of_62_days_or_more_is_read_in_windows_under_62_days_and_merged() {
    let (server, calendars) = calendars().await;
    // The same answer for every window: an event across the first boundary shows in both.
    schedule_answers(
        &server,
        schedule(vec![
            item(
                "busy",
                "2026-01-01T10:00:00.0000000",
                "2026-01-01T11:00:00.0000000",
            ),
            item(
                "busy",
                "2026-03-02T23:00:00.0000000",
                "2026-03-03T01:00:00.0000000",
            ),
        ]),
    )
    .await;
    let from = t("2026-01-01T00:00:00Z");
    let to = t("2026-04-11T00:00:00Z"); // 100 days

    let found = calendars
        .busy(MS, &owner(), &access(), from, to)
        .await
        .unwrap();

    assert_eq!(
        found,
        vec![
            busy("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"),
            busy("2026-03-02T23:00:00Z", "2026-03-03T01:00:00Z"),
        ]
    );
    let windows: Vec<(Value, Value)> = received(&server)
        .await
        .iter()
        .map(|r| {
            let b = body(r);
            (
                b["startTime"]["dateTime"].clone(),
                b["endTime"]["dateTime"].clone(),
            )
        })
        .collect();
    assert_eq!(
        windows,
        vec![
            (json!("2026-01-01T00:00:00"), json!("2026-03-03T00:00:00")),
            (json!("2026-03-03T00:00:00"), json!("2026-04-11T00:00:00")),
        ]
    );
}

#[tokio::test]
async fn a_schedule_graph_cannot_resolve_is_unreadable_not_free() {
    let (server, calendars) = calendars().await;
    schedule_answers(
        &server,
        json!({"value": [{
            "scheduleId": OWNER,
            "error": {"message": "rita@acme.example cannot be found", "responseCode": "ErrorMailRecipientNotFound"}
        }]}),
    )
    .await;

    let err = calendars
        .busy(
            MS,
            &owner(),
            &access(),
            t("2026-01-12T08:00:00Z"),
            t("2026-01-13T08:00:00Z"),
        )
        .await
        .unwrap_err();

    assert_kind(&err, CalendarErrorKind::Unreadable);
    assert!(!format!("{err:?}").contains(OWNER), "{err:?}");
}

#[tokio::test]
async fn an_empty_range_asks_nothing() {
    let (server, calendars) = calendars().await;
    let at = t("2026-01-12T08:00:00Z");
    assert!(calendars
        .busy(MS, &owner(), &access(), at, at)
        .await
        .unwrap()
        .is_empty());
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn create_sends_the_transaction_id_teams_no_time_proposals_and_utc_times() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path("/graph/me/events"))
        .and(header("Prefer", "IdType=\"ImmutableId\""))
        .respond_with(ok(201, event_json(true, Some(JOIN))))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .create(MS, &owner(), &access(), &interview(ProviderVideo::Teams))
        .await
        .unwrap();

    assert_eq!(event.id, "AAMkAGI2-event");
    assert_eq!(event.start, t("2026-01-12T15:00:00Z"));
    assert_eq!(event.end, t("2026-01-12T15:45:00Z"));
    assert_eq!(
        event.video,
        VideoState::Ready {
            join_url: JOIN.to_owned()
        }
    );
    let sent = body(&received(&server).await[0]);
    assert_eq!(sent["transactionId"], KEY);
    assert_eq!(sent["isOnlineMeeting"], true);
    assert_eq!(sent["onlineMeetingProvider"], "teamsForBusiness");
    assert_eq!(sent["allowNewTimeProposals"], false);
    assert_eq!(
        sent["start"],
        json!({"dateTime": "2026-01-12T15:00:00", "timeZone": "UTC"})
    );
    assert_eq!(
        sent["end"],
        json!({"dateTime": "2026-01-12T15:45:00", "timeZone": "UTC"})
    );
    assert_eq!(sent["subject"], "Interview: Jane Doe");
    assert_eq!(
        sent["body"],
        json!({"contentType": "text", "content": "Second round with the hiring manager."})
    );
    assert_eq!(
        sent["attendees"],
        json!([{"emailAddress": {"address": "jane@cand.example", "name": "Jane Doe"}, "type": "required"}])
    );
    assert!(sent.get("location").is_none());
}

#[tokio::test]
async fn without_video_the_location_carries_the_meeting_and_no_online_meeting_is_asked() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path("/graph/me/events"))
        .respond_with(ok(201, event_json(false, None)))
        .mount(&server)
        .await;
    let mut request = interview(ProviderVideo::None);
    request.location = Some("https://acme.zoom.us/j/85746065432".to_owned());

    let event = calendars
        .create(MS, &owner(), &access(), &request)
        .await
        .unwrap();

    assert_eq!(event.video, VideoState::NotAsked);
    let sent = body(&received(&server).await[0]);
    assert_eq!(
        sent["location"],
        json!({"displayName": "https://acme.zoom.us/j/85746065432"})
    );
    assert!(sent.get("isOnlineMeeting").is_none());
    assert!(sent.get("onlineMeetingProvider").is_none());
    assert_eq!(sent["transactionId"], KEY);
}

#[tokio::test]
async fn teams_unavailable_is_a_created_event_with_its_video_refused() {
    let (server, calendars) = calendars().await;
    // No licence: 201, isOnlineMeeting false, provider unknown, no onlineMeeting.
    Mock::given(method("POST"))
        .and(path("/graph/me/events"))
        .respond_with(ok(201, event_json(false, None)))
        .mount(&server)
        .await;

    let event = calendars
        .create(MS, &owner(), &access(), &interview(ProviderVideo::Teams))
        .await
        .unwrap();

    assert_eq!(event.id, "AAMkAGI2-event");
    assert!(
        matches!(event.video, VideoState::Refused { .. }),
        "{event:?}"
    );
}

#[tokio::test]
async fn a_skype_meeting_instead_of_teams_is_refused() {
    let (server, calendars) = calendars().await;
    let mut answer = event_json(true, Some("https://meet.lync.com/acme/rita/ABC123"));
    answer["onlineMeetingProvider"] = json!("skypeForBusiness");
    Mock::given(method("POST"))
        .and(path("/graph/me/events"))
        .respond_with(ok(201, answer))
        .mount(&server)
        .await;

    let event = calendars
        .create(MS, &owner(), &access(), &interview(ProviderVideo::Teams))
        .await
        .unwrap();

    assert!(
        matches!(event.video, VideoState::Refused { .. }),
        "{event:?}"
    );
}

#[tokio::test]
async fn meet_is_not_asked_of_graph() {
    let (server, calendars) = calendars().await;
    let err = calendars
        .create(MS, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap_err();
    assert_kind(&err, CalendarErrorKind::Failed);
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn get_reads_the_event_and_a_missing_one_is_none() {
    let (server, calendars) = calendars().await;
    Mock::given(method("GET"))
        .and(path("/graph/me/events/AAMkAGI2-event"))
        .respond_with(ok(200, event_json(true, Some(JOIN))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/events/gone"))
        .respond_with(ok(
            404,
            json!({"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}),
        ))
        .mount(&server)
        .await;

    let found = calendars
        .get(MS, &owner(), &access(), "AAMkAGI2-event")
        .await
        .unwrap()
        .unwrap();
    let gone = calendars
        .get(MS, &owner(), &access(), "gone")
        .await
        .unwrap();

    assert_eq!(
        found.video,
        VideoState::Ready {
            join_url: JOIN.to_owned()
        }
    );
    assert_eq!(gone, None);
}

#[tokio::test]
async fn reschedule_patches_only_start_and_end() {
    let (server, calendars) = calendars().await;
    let mut moved = event_json(true, Some(JOIN));
    moved["start"] = json!({"dateTime": "2026-01-13T09:00:00.0000000", "timeZone": "UTC"});
    moved["end"] = json!({"dateTime": "2026-01-13T09:45:00.0000000", "timeZone": "UTC"});
    Mock::given(method("PATCH"))
        .and(path("/graph/me/events/AAMkAGI2-event"))
        .respond_with(ok(200, moved))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .reschedule(
            MS,
            &owner(),
            &access(),
            "AAMkAGI2-event",
            t("2026-01-13T09:00:00Z"),
            t("2026-01-13T09:45:00Z"),
        )
        .await
        .unwrap();

    assert_eq!(event.start, t("2026-01-13T09:00:00Z"));
    assert!(matches!(event.video, VideoState::Ready { .. }));
    assert_eq!(
        body(&received(&server).await[0]),
        json!({
            "start": {"dateTime": "2026-01-13T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-01-13T09:45:00", "timeZone": "UTC"}
        })
    );
}

#[tokio::test]
async fn cancel_posts_to_cancel_and_an_event_already_gone_is_cancelled() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path("/graph/me/events/AAMkAGI2-event/cancel"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graph/me/events/gone/cancel"))
        .respond_with(ok(
            404,
            json!({"error": {"code": "ErrorItemNotFound", "message": "not found"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    calendars
        .cancel(MS, &owner(), &access(), "AAMkAGI2-event")
        .await
        .unwrap();
    calendars
        .cancel(MS, &owner(), &access(), "gone")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_token_is_unauthorized() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path("/graph/me/calendar/getSchedule"))
        .respond_with(ok(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}}),
        ))
        .mount(&server)
        .await;

    let err = calendars
        .busy(
            MS,
            &owner(),
            &access(),
            t("2026-01-12T08:00:00Z"),
            t("2026-01-13T08:00:00Z"),
        )
        .await
        .unwrap_err();

    assert_kind(&err, CalendarErrorKind::Unauthorized);
}

#[tokio::test]
async fn throttling_past_the_retries_is_temporary_with_the_wait_graph_asked() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path("/graph/me/events"))
        .and(body_partial_json(json!({"transactionId": KEY})))
        .respond_with(
            ok(
                429,
                json!({"error": {"code": "ApplicationThrottled", "message": "over its MailboxConcurrency limit"}}),
            )
            .insert_header("Retry-After", "30"),
        )
        .mount(&server)
        .await;

    let err = calendars
        .create(MS, &owner(), &access(), &interview(ProviderVideo::Teams))
        .await
        .unwrap_err();

    assert_kind(&err, CalendarErrorKind::Temporary);
    assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn a_5xx_is_retried_then_temporary_and_another_4xx_is_failed() {
    let (server, calendars) = calendars().await;
    Mock::given(method("GET"))
        .and(path("/graph/me/events/busy-server"))
        .and(query_param(
            "$select",
            "id,start,end,isOnlineMeeting,onlineMeetingProvider,onlineMeeting,isCancelled",
        ))
        .respond_with(ResponseTemplate::new(503))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/graph/me/events/occurrence"))
        .respond_with(ok(
            400,
            json!({"error": {"code": "ErrorOccurrenceCrossingBoundary", "message": "crossing"}}),
        ))
        .mount(&server)
        .await;

    let temporary = calendars
        .get(MS, &owner(), &access(), "busy-server")
        .await
        .unwrap_err();
    let failed = calendars
        .reschedule(
            MS,
            &owner(),
            &access(),
            "occurrence",
            t("2026-01-13T09:00:00Z"),
            t("2026-01-13T09:45:00Z"),
        )
        .await
        .unwrap_err();

    assert_kind(&temporary, CalendarErrorKind::Temporary);
    assert_eq!(temporary.retry_after, None);
    assert_kind(&failed, CalendarErrorKind::Failed);
}
