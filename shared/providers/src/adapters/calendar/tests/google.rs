//! Google Calendar: `freeBusy` on the primary calendar, events under the booking's key
//! with Meet (pending, success, failure asked again, refused), duplicates, moves and
//! cancels.

use hiresync_domain::availability::Busy;
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::{CalendarEvents, CalendarSource, VideoState};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::Mock;

use super::*;

const GOOGLE: Provider = Provider::GoogleWorkspace;
const MEET: &str = "https://meet.google.com/abc-defg-hij";
const EVENTS: &str = "/calendar/calendars/primary/events";

fn event_path() -> String {
    format!("{EVENTS}/{KEY}")
}

fn free_busy_answer(key: &str, calendar: Value) -> Value {
    json!({
        "kind": "calendar#freeBusy",
        "timeMin": "2026-01-12T00:00:00.000Z",
        "timeMax": "2026-01-19T00:00:00.000Z",
        "calendars": {key: calendar}
    })
}

async fn free_busy_answers(server: &MockServer, answer: Value) {
    Mock::given(method("POST"))
        .and(path("/calendar/freeBusy"))
        .respond_with(ok(200, answer))
        .mount(server)
        .await;
}

/// An event as Google answers it, with a conference in `status` (or none).
fn event_json(status: Option<&str>, request_id: &str) -> Value {
    let mut e = json!({
        "kind": "calendar#event",
        "id": KEY,
        "status": "confirmed",
        "summary": "Interview: Jane Doe",
        "start": {"dateTime": "2026-01-12T16:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2026-01-12T16:45:00+01:00", "timeZone": "Europe/Paris"},
    });
    match status {
        Some("success") => {
            e["hangoutLink"] = json!(MEET);
            e["conferenceData"] = json!({
                "createRequest": {"requestId": request_id,
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"},
                                  "status": {"statusCode": "success"}},
                "entryPoints": [
                    {"entryPointType": "phone", "uri": "tel:+33-1-23-45-67-89"},
                    {"entryPointType": "video", "uri": MEET, "label": "meet.google.com/abc-defg-hij"}
                ],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": "abc-defg-hij"
            });
        }
        Some(code) => {
            e["conferenceData"] = json!({
                "createRequest": {"requestId": request_id,
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"},
                                  "status": {"statusCode": code}}
            });
        }
        None => {}
    }
    e
}

#[tokio::test]
async fn busy_time_is_free_busy_on_the_primary_calendar_answered_under_the_owners_address() {
    let (server, calendars) = calendars().await;
    free_busy_answers(
        &server,
        free_busy_answer(
            OWNER,
            json!({"busy": [
                {"start": "2026-01-12T09:00:00Z", "end": "2026-01-12T10:00:00Z"},
                {"start": "2026-01-13T10:00:00+01:00", "end": "2026-01-13T11:00:00+01:00"}
            ]}),
        ),
    )
    .await;

    let found = calendars
        .busy(
            GOOGLE,
            &owner(),
            &access(),
            t("2026-01-12T00:00:00Z"),
            t("2026-01-19T00:00:00Z"),
        )
        .await
        .unwrap();

    assert_eq!(
        found,
        vec![
            Busy {
                start: t("2026-01-12T09:00:00Z"),
                end: t("2026-01-12T10:00:00Z")
            },
            Busy {
                start: t("2026-01-13T09:00:00Z"),
                end: t("2026-01-13T10:00:00Z")
            },
        ]
    );
    let sent = body(&received(&server).await[0]);
    assert_eq!(sent["timeMin"], "2026-01-12T00:00:00Z");
    assert_eq!(sent["timeMax"], "2026-01-19T00:00:00Z");
    assert_eq!(sent["items"], json!([{"id": "primary"}]));
}

#[tokio::test]
async fn an_answer_keyed_primary_is_read_too() {
    let (server, calendars) = calendars().await;
    free_busy_answers(
        &server,
        free_busy_answer(
            "primary",
            json!({"busy": [{"start": "2026-01-12T09:00:00Z", "end": "2026-01-12T10:00:00Z"}]}),
        ),
    )
    .await;

    let found = calendars
        .busy(
            GOOGLE,
            &owner(),
            &access(),
            t("2026-01-12T00:00:00Z"),
            t("2026-01-19T00:00:00Z"),
        )
        .await
        .unwrap();

    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn a_calendar_answered_with_errors_or_not_at_all_is_unreadable() {
    let (server, calendars) = calendars().await;
    free_busy_answers(
        &server,
        free_busy_answer(
            OWNER,
            json!({"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}),
        ),
    )
    .await;
    let err = calendars
        .busy(
            GOOGLE,
            &owner(),
            &access(),
            t("2026-01-12T00:00:00Z"),
            t("2026-01-19T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert_kind(&err, CalendarErrorKind::Unreadable);

    let (server, calendars) = super::calendars().await;
    free_busy_answers(
        &server,
        free_busy_answer("someone@else.example", json!({"busy": []})),
    )
    .await;
    let err = calendars
        .busy(
            GOOGLE,
            &owner(),
            &access(),
            t("2026-01-12T00:00:00Z"),
            t("2026-01-19T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert_kind(&err, CalendarErrorKind::Unreadable);
}

#[tokio::test]
async fn create_inserts_under_the_key_with_conference_data_version_1_and_a_pending_meet() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .and(query_param("conferenceDataVersion", "1"))
        .and(query_param("sendUpdates", "all"))
        .respond_with(ok(200, event_json(Some("pending"), &format!("{KEY}-1"))))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap();

    assert_eq!(event.id, KEY);
    assert_eq!(event.start, t("2026-01-12T15:00:00Z"));
    assert_eq!(event.end, t("2026-01-12T15:45:00Z"));
    assert_eq!(event.video, VideoState::Pending);
    let sent = body(&received(&server).await[0]);
    assert_eq!(sent["id"], KEY);
    assert_eq!(sent["summary"], "Interview: Jane Doe");
    assert_eq!(sent["description"], "Second round with the hiring manager.");
    assert_eq!(
        sent["start"],
        json!({"dateTime": "2026-01-12T15:00:00Z", "timeZone": "Europe/Paris"})
    );
    assert_eq!(
        sent["end"],
        json!({"dateTime": "2026-01-12T15:45:00Z", "timeZone": "Europe/Paris"})
    );
    assert_eq!(
        sent["attendees"],
        json!([{"email": "jane@cand.example", "displayName": "Jane Doe"}])
    );
    assert_eq!(
        sent["conferenceData"],
        json!({"createRequest": {"requestId": format!("{KEY}-1"),
                                 "conferenceSolutionKey": {"type": "hangoutsMeet"}}})
    );
}

#[tokio::test]
async fn a_meet_made_at_once_is_ready_with_its_video_entry_point() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(200, event_json(Some("success"), &format!("{KEY}-1"))))
        .mount(&server)
        .await;

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap();

    assert_eq!(
        event.video,
        VideoState::Ready {
            join_url: MEET.to_owned()
        }
    );
}

#[tokio::test]
async fn a_failed_meet_is_asked_again_under_a_new_request_id_and_refused_when_it_fails_again() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(200, event_json(Some("failure"), &format!("{KEY}-1"))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(event_path()))
        .and(query_param("conferenceDataVersion", "1"))
        .respond_with(ok(200, event_json(Some("failure"), &format!("{KEY}-2"))))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap();

    assert!(
        matches!(event.video, VideoState::Refused { .. }),
        "{event:?}"
    );
    let requests = received(&server).await;
    assert_eq!(
        body(&requests[1]),
        json!({"conferenceData": {"createRequest": {"requestId": format!("{KEY}-2"),
                                                    "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})
    );
}

#[tokio::test]
async fn a_failed_meet_asked_again_can_come_back_pending() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(200, event_json(Some("failure"), &format!("{KEY}-1"))))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(event_path()))
        .respond_with(ok(200, event_json(Some("pending"), &format!("{KEY}-2"))))
        .mount(&server)
        .await;

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap();

    assert_eq!(event.video, VideoState::Pending);
}

#[tokio::test]
async fn a_calendar_without_meet_is_video_not_eligible() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(
            400,
            json!({"error": {"code": 400, "message": "Invalid conference type value.",
                             "errors": [{"domain": "global", "reason": "invalid",
                                         "message": "Invalid conference type value."}]}}),
        ))
        .mount(&server)
        .await;

    let err = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap_err();

    assert_kind(&err, CalendarErrorKind::VideoNotEligible);
}

#[tokio::test]
async fn a_duplicate_insert_reads_the_event_an_earlier_attempt_made() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(
            409,
            json!({"error": {"code": 409, "message": "The requested identifier already exists.",
                             "errors": [{"domain": "global", "reason": "duplicate"}]}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(event_path()))
        .respond_with(ok(200, event_json(Some("success"), &format!("{KEY}-1"))))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap();

    assert_eq!(event.id, KEY);
    assert_eq!(
        event.video,
        VideoState::Ready {
            join_url: MEET.to_owned()
        }
    );
}

#[tokio::test]
async fn a_key_that_is_not_a_google_event_id_fails_without_a_call() {
    let (server, calendars) = calendars().await;
    for key in ["abcd", "booking-42", "ABCDEF012345", "wxyz0123456"] {
        let mut request = interview(ProviderVideo::None);
        request.key = key.to_owned();
        let err = calendars
            .create(GOOGLE, &owner(), &access(), &request)
            .await
            .unwrap_err();
        assert_kind(&err, CalendarErrorKind::Failed);
    }
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn without_video_no_conference_is_asked_and_the_location_is_sent() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .and(body_partial_json(json!({"location": "+33 1 23 45 67 89"})))
        .respond_with(ok(200, event_json(None, "")))
        .expect(1)
        .mount(&server)
        .await;
    let mut request = interview(ProviderVideo::None);
    request.location = Some("+33 1 23 45 67 89".to_owned());

    let event = calendars
        .create(GOOGLE, &owner(), &access(), &request)
        .await
        .unwrap();

    assert_eq!(event.video, VideoState::NotAsked);
    assert!(body(&received(&server).await[0])
        .get("conferenceData")
        .is_none());
}

#[tokio::test]
async fn polling_reads_the_meet_state_and_a_deleted_event_is_none() {
    let (server, calendars) = calendars().await;
    Mock::given(method("GET"))
        .and(path(event_path()))
        .respond_with(ok(200, event_json(Some("pending"), &format!("{KEY}-1"))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS}/deleted0")))
        .respond_with(ok(
            200,
            json!({"kind": "calendar#event", "id": "deleted0", "status": "cancelled"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS}/gone00")))
        .respond_with(ok(
            410,
            json!({"error": {"code": 410, "message": "Resource has been deleted",
                             "errors": [{"domain": "global", "reason": "deleted"}]}}),
        ))
        .mount(&server)
        .await;

    let pending = calendars
        .get(GOOGLE, &owner(), &access(), KEY)
        .await
        .unwrap()
        .unwrap();
    let deleted = calendars
        .get(GOOGLE, &owner(), &access(), "deleted0")
        .await
        .unwrap();
    let gone = calendars
        .get(GOOGLE, &owner(), &access(), "gone00")
        .await
        .unwrap();

    assert_eq!(pending.video, VideoState::Pending);
    assert_eq!(deleted, None);
    assert_eq!(gone, None);
}

#[tokio::test]
async fn reschedule_patches_start_and_end_with_conference_data_version_1() {
    let (server, calendars) = calendars().await;
    let mut moved = event_json(Some("success"), &format!("{KEY}-1"));
    moved["start"] = json!({"dateTime": "2026-01-13T10:00:00+01:00", "timeZone": "Europe/Paris"});
    moved["end"] = json!({"dateTime": "2026-01-13T10:45:00+01:00", "timeZone": "Europe/Paris"});
    Mock::given(method("PATCH"))
        .and(path(event_path()))
        .and(query_param("conferenceDataVersion", "1"))
        .and(query_param("sendUpdates", "all"))
        .respond_with(ok(200, moved))
        .expect(1)
        .mount(&server)
        .await;

    let event = calendars
        .reschedule(
            GOOGLE,
            &owner(),
            &access(),
            KEY,
            t("2026-01-13T09:00:00Z"),
            t("2026-01-13T09:45:00Z"),
        )
        .await
        .unwrap();

    assert_eq!(event.start, t("2026-01-13T09:00:00Z"));
    assert!(matches!(event.video, VideoState::Ready { .. }));
    assert_eq!(
        body(&received(&server).await[0]),
        json!({"start": {"dateTime": "2026-01-13T09:00:00Z"},
               "end": {"dateTime": "2026-01-13T09:45:00Z"}})
    );
}

#[tokio::test]
async fn cancel_deletes_telling_the_guests_and_an_event_already_gone_is_cancelled() {
    let (server, calendars) = calendars().await;
    Mock::given(method("DELETE"))
        .and(path(event_path()))
        .and(query_param("sendUpdates", "all"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{EVENTS}/gone00")))
        .respond_with(ok(
            410,
            json!({"error": {"code": 410, "message": "Resource has been deleted"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{EVENTS}/never0")))
        .respond_with(ok(
            404,
            json!({"error": {"code": 404, "message": "Not Found"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    calendars
        .cancel(GOOGLE, &owner(), &access(), KEY)
        .await
        .unwrap();
    calendars
        .cancel(GOOGLE, &owner(), &access(), "gone00")
        .await
        .unwrap();
    calendars
        .cancel(GOOGLE, &owner(), &access(), "never0")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_teams_is_not_asked_of_google() {
    let (server, calendars) = calendars().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ok(
            401,
            json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                             "status": "UNAUTHENTICATED"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = calendars
        .create(GOOGLE, &owner(), &access(), &interview(ProviderVideo::Meet))
        .await
        .unwrap_err();
    assert_kind(&err, CalendarErrorKind::Unauthorized);

    let err = calendars
        .create(
            GOOGLE,
            &owner(),
            &access(),
            &interview(ProviderVideo::Teams),
        )
        .await
        .unwrap_err();
    assert_kind(&err, CalendarErrorKind::Failed);
}
