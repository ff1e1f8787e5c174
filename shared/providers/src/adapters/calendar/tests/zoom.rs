//! Zoom: scheduled meetings for a host of the account, each documented error code in the
//! port's kinds, moves read again, deletes of meetings already gone.

use hiresync_domain::ports::{ZoomMeetings, ZoomRequest};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::Mock;

use super::*;

const MEETING_ID: i64 = 85_746_065_432;
const JOIN: &str = "https://us05web.zoom.us/j/85746065432?pwd=abc";

fn request() -> ZoomRequest {
    ZoomRequest {
        host: owner(),
        topic: "Interview: Jane Doe".to_owned(),
        start: t("2026-01-12T15:00:00.250Z"),
        duration_minutes: 45,
        time_zone: "Europe/Paris".to_owned(),
    }
}

fn meeting_json(join_url: &str) -> Value {
    json!({
        "uuid": "aDYlohsHRtCd4ii1uC2+hA==", "id": MEETING_ID, "host_id": "KdYKjnimT4KPd8FFgQt9FQ",
        "topic": "Interview: Jane Doe", "type": 2, "start_time": "2026-01-12T15:00:00Z",
        "duration": 45, "timezone": "Europe/Paris",
        "start_url": "https://us05web.zoom.us/s/85746065432?zak=secret",
        "join_url": join_url, "password": "abc"
    })
}

fn zoom_error(status: u16, code: i64) -> ResponseTemplate {
    ok(status, json!({"code": code, "message": "refused"}))
}

#[tokio::test]
async fn create_schedules_a_type_2_meeting_for_the_host_in_utc() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path(format!("/zoom/users/{OWNER}/meetings")))
        .respond_with(ok(201, meeting_json(JOIN)))
        .expect(1)
        .mount(&server)
        .await;

    let meeting = zoom.create(&access(), &request()).await.unwrap();

    assert_eq!(meeting.id, "85746065432");
    assert_eq!(meeting.join_url, JOIN);
    let requests = received(&server).await;
    assert_eq!(
        requests[0].headers.get("authorization").unwrap(),
        &format!("Bearer {ACCESS}")
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "topic": "Interview: Jane Doe", "type": 2, "start_time": "2026-01-12T15:00:00Z",
            "duration": 45, "timezone": "Europe/Paris"
        })
    );
}

#[tokio::test]
async fn each_documented_error_is_the_kind_the_scheduler_acts_on() {
    let cases = [
        (404, 1001, CalendarErrorKind::VideoUserUnknown),
        (401, 124, CalendarErrorKind::VideoNotEligible),
        (400, 3161, CalendarErrorKind::VideoNotEligible),
        (400, 3000, CalendarErrorKind::VideoNotEligible),
        (400, 300, CalendarErrorKind::VideoNotEligible),
        (400, 4700, CalendarErrorKind::VideoNotEligible),
        (500, 500, CalendarErrorKind::Temporary),
        (400, 1010, CalendarErrorKind::Failed),
    ];
    for (status, code, kind) in cases {
        let (server, zoom) = zoom().await;
        Mock::given(method("POST"))
            .and(path(format!("/zoom/users/{OWNER}/meetings")))
            .respond_with(zoom_error(status, code))
            .mount(&server)
            .await;

        let err = zoom.create(&access(), &request()).await.unwrap_err();

        assert_eq!(err.kind, kind, "HTTP {status} code {code}: {err:?}");
        // A create is not repeated after a 5xx: Zoom may have made the meeting.
        assert_eq!(
            received(&server).await.len(),
            1,
            "HTTP {status} code {code}"
        );
    }
}

#[tokio::test]
async fn throttling_backs_off_within_the_policy_then_is_temporary() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path(format!("/zoom/users/{OWNER}/meetings")))
        .respond_with(zoom_error(429, 429))
        .mount(&server)
        .await;

    let err = zoom.create(&access(), &request()).await.unwrap_err();

    assert_kind(&err, CalendarErrorKind::Temporary);
    assert_eq!(err.retry_after, None);
    assert_eq!(
        received(&server).await.len(),
        2,
        "both attempts of the policy"
    );
}

#[tokio::test]
async fn throttling_once_is_retried_and_succeeds() {
    let (server, zoom) = zoom().await;
    Mock::given(method("POST"))
        .and(path(format!("/zoom/users/{OWNER}/meetings")))
        .respond_with(zoom_error(429, 429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/zoom/users/{OWNER}/meetings")))
        .respond_with(ok(201, meeting_json(JOIN)))
        .mount(&server)
        .await;

    let meeting = zoom.create(&access(), &request()).await.unwrap();

    assert_eq!(meeting.id, "85746065432");
}

#[tokio::test]
async fn reschedule_patches_the_meeting_then_reads_its_link_again() {
    let (server, zoom) = zoom().await;
    let moved = "https://us05web.zoom.us/j/85746065432?pwd=new";
    Mock::given(method("PATCH"))
        .and(path(format!("/zoom/meetings/{MEETING_ID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/zoom/meetings/{MEETING_ID}")))
        .respond_with(ok(200, meeting_json(moved)))
        .expect(1)
        .mount(&server)
        .await;
    let mut later = request();
    later.start = t("2026-01-13T09:00:00Z");

    let meeting = zoom
        .reschedule(&access(), &MEETING_ID.to_string(), &later)
        .await
        .unwrap();

    assert_eq!(meeting.join_url, moved);
    let requests = received(&server).await;
    assert_eq!(
        body(&requests[0]),
        json!({"topic": "Interview: Jane Doe", "start_time": "2026-01-13T09:00:00Z",
               "duration": 45, "timezone": "Europe/Paris"})
    );
}

#[tokio::test]
async fn delete_sends_no_reminder_and_a_meeting_already_gone_is_deleted() {
    let (server, zoom) = zoom().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/zoom/meetings/{MEETING_ID}")))
        .and(query_param("schedule_for_reminder", "false"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/zoom/meetings/1"))
        .respond_with(zoom_error(404, 3001))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/zoom/meetings/2"))
        .respond_with(zoom_error(404, 1001))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/zoom/meetings/3"))
        .respond_with(zoom_error(400, 3002))
        .expect(1)
        .mount(&server)
        .await;

    zoom.delete(&access(), &MEETING_ID.to_string())
        .await
        .unwrap();
    zoom.delete(&access(), "1").await.unwrap();
    zoom.delete(&access(), "2").await.unwrap();
    let in_progress = zoom.delete(&access(), "3").await.unwrap_err();
    assert_kind(&in_progress, CalendarErrorKind::Failed);
}
