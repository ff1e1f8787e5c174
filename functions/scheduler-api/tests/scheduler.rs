//! The scheduler as a recruiter and candidates use it: settings checked, links minted per
//! recipient, the booking page in the candidate's zone, booking (two candidates never hold
//! one time), the confirmation and its `.ics`, reschedule, and the pages for links that can
//! no longer be used. Against DynamoDB Local; run through `make test`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use axum::http::StatusCode;
use common::{form, recruiter, settings, ts, Api, ALICE};
use hiresync_domain::availability::Busy;
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use serde_json::json;

const PHONE: &str = r#"{"type": "phone", "number": "+33 1 23 45 67 89"}"#;

fn phone() -> serde_json::Value {
    serde_json::from_str(PHONE).unwrap()
}

#[tokio::test]
async fn settings_are_the_seats_own_need_its_calendar_and_are_checked() {
    let api = Api::new("sched-api-settings").await;
    let path = "/v1/contracts/acme/seats/s1/scheduler";
    let none = api.json("GET", path, &recruiter("s1"), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let mut bad = settings(phone());
    bad["time_zone"] = json!("Europe/Pariss");
    let refused = api.json("PUT", path, &recruiter("s1"), Some(bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["code"], "invalid_settings");
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("Europe/Pariss"));
    let mut backwards = settings(phone());
    backwards["windows"] = json!([{"weekday": "friday", "start": "17:00", "end": "09:00"}]);
    let refused = api
        .json("PUT", path, &recruiter("s1"), Some(backwards))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("ends at"),
        "{}",
        refused.body
    );
    let malformed = api
        .json(
            "PUT",
            path,
            &recruiter("s1"),
            Some(json!({"length_minutes": "long"})),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    // s2 has no calendar authorized.
    let s2 = api
        .json(
            "PUT",
            "/v1/contracts/acme/seats/s2/scheduler",
            &recruiter("s2"),
            Some(settings(phone())),
        )
        .await;
    assert_eq!(s2.status, StatusCode::CONFLICT);
    assert_eq!(s2.json()["code"], "calendar_not_authorized");
    // Another contract's seat of the same id, through this contract's token.
    let other_contract = api
        .json(
            "PUT",
            "/v1/contracts/globex/seats/s1/scheduler",
            &recruiter("s1"),
            Some(settings(phone())),
        )
        .await;
    assert_eq!(other_contract.status, StatusCode::FORBIDDEN);
    // Someone else's seat, or no token.
    let other = api
        .json("PUT", path, &recruiter("s2"), Some(settings(phone())))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let anonymous = api.get(path).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Nothing was saved by any refusal.
    assert_eq!(
        api.json("GET", path, &recruiter("s1"), None).await.status,
        StatusCode::NOT_FOUND
    );
    let saved = api
        .json("PUT", path, &recruiter("s1"), Some(settings(phone())))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let read = api.json("GET", path, &recruiter("s1"), None).await;
    assert_eq!(read.json()["meeting"]["number"], "+33 1 23 45 67 89");
    assert_eq!(read.json()["link_validity_days"], 7);
}

#[tokio::test]
async fn one_link_per_recipient_opens_a_page_of_times_in_the_candidates_zone() {
    let api = Api::new("sched-api-page").await;
    let links = api.links(phone(), &["conv-1", "conv-2", "conv-3"]).await;
    assert_eq!(links.len(), 3);
    assert_eq!(
        links
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3
    );
    // Monday 09:30 UTC: nothing today; Tuesday and Wednesday 09:00-11:00 Paris (UTC+1).
    let page = api.get(&links[0]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("lang=\"en\""));
    assert!(page.body.contains("Hello Candidate 0"));
    assert!(page.body.contains("Tuesday 3 March 2037"));
    assert!(
        page.body.contains(r#"value="2037-03-03T08:00:00Z""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("09:00–09:30"));
    assert!(!page.body.contains("Monday 2 March"));
    assert!(page
        .body
        .contains(r#"<option value="Europe/Paris" selected>"#));
    // The same times in New York, named.
    let ny = api.get(&format!("{}?tz=America/New_York", links[0])).await;
    assert!(ny.body.contains("03:00–03:30"), "{}", ny.body);
    assert!(ny
        .body
        .contains(r#"<option value="America/New_York" selected>"#));
    // The zone form keeps the page of days shown (a week past the last is the last).
    let far = api.get(&format!("{}?week=5", links[0])).await;
    assert!(far
        .body
        .contains(r#"<input type="hidden" name="week" value="0">"#));
    assert!(!far.body.contains(r#"id="later""#));
    // A zone we do not know: the seat's, and a notice (in the title too, for screen readers).
    let odd = api.get(&format!("{}?tz=Mars/Olympus", links[0])).await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(odd.body.contains("did not recognise that time zone"));
    assert!(odd.body.contains("<title>We did not recognise"));
    // Busy time is not offered (once the busy time read for pages is ten minutes old).
    api.calendar.busy.lock().unwrap().push(Busy {
        start: ts("2037-03-03T08:00:00Z"),
        end: ts("2037-03-03T09:00:00Z"),
    });
    api.at("2037-03-02T09:41:00Z");
    let busy = api.get(&links[1]).await;
    assert!(!busy.body.contains(r#"value="2037-03-03T08:00:00Z""#));
    assert!(busy.body.contains(r#"value="2037-03-03T09:00:00Z""#));
}

#[tokio::test]
async fn a_booking_holds_its_time_queues_the_confirmation_and_offers_the_ics() {
    let api = Api::new("sched-api-book").await;
    let links = api.links(phone(), &["conv-1", "conv-2"]).await;
    let booked = api
        .post_form(&links[0], &form("2037-03-03T08:30:00Z", "Asia/Tokyo"))
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    let confirmation_path = booked.location.clone().unwrap();
    assert_eq!(
        confirmation_path,
        format!("{}/booked?tz=Asia/Tokyo", links[0])
    );
    let confirmation = api.get(&confirmation_path).await;
    assert_eq!(confirmation.status, StatusCode::OK);
    assert!(
        confirmation
            .body
            .contains("Tuesday 3 March 2037, 17:30–18:00 (Asia/Tokyo, UTC+09:00)"),
        "{}",
        confirmation.body
    );
    assert!(confirmation.body.contains("+33 1 23 45 67 89"));
    let ics = api.get(&format!("{}/interview.ics", links[0])).await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(ics.content_type.starts_with("text/calendar"));
    assert!(ics.body.contains("DTSTART:20370303T083000Z\r\n"));
    assert!(ics.body.contains("DTEND:20370303T090000Z\r\n"));
    assert!(ics.body.contains("SEQUENCE:0\r\n"));
    assert!(ics.body.contains(&format!("Interview with {ALICE}")));
    let jobs = api.bookings.jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].revision, 0);
    // The same submit again (a double click): the same booking, the same job.
    let again = api
        .post_form(&links[0], &form("2037-03-03T08:30:00Z", "Asia/Tokyo"))
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let jobs = api.bookings.jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].dedup(), jobs[1].dedup());
    // Another candidate cannot take any of that half hour.
    let second = api.get(&links[1]).await;
    assert!(!second.body.contains(r#"value="2037-03-03T08:30:00Z""#));
    let refused = api
        .post_form(&links[1], &form("2037-03-03T08:30:00Z", "Europe/Paris"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("no longer available"));
    // A time that was never offered (a Monday, a time off the grid) is refused the same way.
    for start in ["2037-03-02T15:00:00Z", "2037-03-03T08:10:00Z"] {
        let refused = api.post_form(&links[1], &form(start, "Europe/Paris")).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{start}");
    }
    let empty = api.post_form(&links[1], "tz=Europe%2FParis").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.bookings.jobs.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn two_candidates_submitting_one_time_at_once_exactly_one_books_it() {
    let api = Api::new("sched-api-race").await;
    let links = api
        .links(phone(), &["conv-1", "conv-2", "conv-3", "conv-4"])
        .await;
    let body = form("2037-03-04T09:00:00Z", "Europe/Paris");
    let (a, b, c, d) = tokio::join!(
        api.post_form(&links[0], &body),
        api.post_form(&links[1], &body),
        api.post_form(&links[2], &body),
        api.post_form(&links[3], &body),
    );
    let statuses = [a.status, b.status, c.status, d.status];
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(api.bookings.jobs.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_daily_cap_of_one_lets_one_of_two_candidates_booking_that_day_at_once() {
    let api = Api::new("sched-api-cap").await;
    let mut capped = settings(phone());
    capped["daily_cap"] = json!(1);
    let saved = api
        .json(
            "PUT",
            "/v1/contracts/acme/seats/s1/scheduler",
            &recruiter("s1"),
            Some(capped),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let minted = api
        .json(
            "POST",
            "/v1/contracts/acme/seats/s1/scheduling-links",
            &recruiter("s1"),
            Some(json!({"recipients": [
                {"email": "a@mail.example", "conversation": "c-a"},
                {"email": "b@mail.example", "conversation": "c-b"},
            ]})),
        )
        .await;
    let links: Vec<String> = minted.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["url"]
                .as_str()
                .unwrap()
                .trim_start_matches("https://jobs.acme.example")
                .to_owned()
        })
        .collect();
    // Two different times of Tuesday, submitted at once.
    let (first, second) = (
        form("2037-03-03T08:00:00Z", "Europe/Paris"),
        form("2037-03-03T09:30:00Z", "Europe/Paris"),
    );
    let (a, b) = tokio::join!(
        api.post_form(&links[0], &first),
        api.post_form(&links[1], &second),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    // Wednesday is still open.
    let loser = if a.status == StatusCode::CONFLICT {
        &links[0]
    } else {
        &links[1]
    };
    let page = api.get(loser).await;
    assert!(!page.body.contains("Tuesday 3 March 2037"));
    assert!(page.body.contains("Wednesday 4 March 2037"));
    let wednesday = api
        .post_form(loser, &form("2037-03-04T08:00:00Z", "Europe/Paris"))
        .await;
    assert_eq!(wednesday.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_reschedule_moves_the_interview_and_frees_its_old_time() {
    let api = Api::new("sched-api-move").await;
    let links = api.links(phone(), &["conv-1", "conv-2"]).await;
    let first = api
        .post_form(&links[0], &form("2037-03-03T08:00:00Z", "Europe/Paris"))
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let page = api.get(&links[0]).await;
    assert!(page
        .body
        .contains("Your interview is booked for Tuesday 3 March 2037, 09:00–09:30"));
    assert!(page.body.contains("Move my interview to this time"));
    let moved = api
        .post_form(&links[0], &form("2037-03-04T09:30:00Z", "Europe/Paris"))
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let jobs = api.bookings.jobs.lock().unwrap().clone();
    assert_eq!(
        jobs.iter().map(|j| j.revision).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_ne!(jobs[0].dedup(), jobs[1].dedup());
    let ics = api.get(&format!("{}/interview.ics", links[0])).await;
    assert!(ics.body.contains("DTSTART:20370304T093000Z\r\n"));
    assert!(ics.body.contains("SEQUENCE:1\r\n"));
    // The old time is free for someone else.
    let other = api
        .post_form(&links[1], &form("2037-03-03T08:00:00Z", "Europe/Paris"))
        .await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn links_that_can_no_longer_be_used_tell_the_candidate_to_reply_to_the_inmail() {
    let api = Api::new("sched-api-gone").await;
    let links = api.links(phone(), &["conv-1", "conv-2"]).await;
    // Forged, mangled, unknown.
    for path in ["/s/not-a-token", &format!("{}x", links[0])] {
        let page = api.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.body.contains("reply to the recruiter&#x27;s InMail")
                || page.body.contains("reply to the recruiter&#39;s InMail"),
            "{}",
            page.body
        );
        let booking = api
            .post_form(path, &form("2037-03-03T08:00:00Z", "UTC"))
            .await;
        assert_eq!(booking.status, StatusCode::NOT_FOUND);
    }
    // The seat changed hands: no link of the former holder books anything.
    let acme = ContractId::parse("acme").unwrap();
    let s1 = SeatId::parse("s1").unwrap();
    let read = api.stores.seats.get(&acme, &s1).await.unwrap().unwrap();
    let mut seat = read.value.clone();
    seat.holder = Some(UserId::parse("bob").unwrap());
    api.stores.seats.update(&read, &seat).await.unwrap();
    let page = api.get(&links[0]).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains(r#"data-code="seat_changed""#));
    seat.holder = Some(UserId::parse("alice").unwrap());
    let read = api.stores.seats.get(&acme, &s1).await.unwrap().unwrap();
    api.stores.seats.update(&read, &seat).await.unwrap();
    assert_eq!(api.get(&links[0]).await.status, StatusCode::OK);
    // Expired: a week after minting.
    api.at("2037-03-09T09:30:00Z");
    let page = api.get(&links[1]).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains(r#"data-code="expired""#));
    assert!(
        page.body.contains("reply to the recruiter&#x27;s InMail")
            || page.body.contains("reply to the recruiter&#39;s InMail"),
        "{}",
        page.body
    );
    let booking = api
        .post_form(&links[1], &form("2037-03-10T08:00:00Z", "UTC"))
        .await;
    assert_eq!(booking.status, StatusCode::GONE);
    assert!(api.bookings.jobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_calendar_offers_no_time_and_books_nothing() {
    let api = Api::new("sched-api-unknown").await;
    let links = api.links(phone(), &["conv-1"]).await;
    *api.calendar.unreadable.lock().unwrap() = true;
    let page = api.get(&links[0]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!page.body.contains("type=\"radio\""));
    let booking = api
        .post_form(&links[0], &form("2037-03-03T08:00:00Z", "Europe/Paris"))
        .await;
    assert_eq!(booking.status, StatusCode::SERVICE_UNAVAILABLE);
    let availability = api
        .json(
            "GET",
            "/v1/contracts/acme/seats/s1/availability",
            &recruiter("s1"),
            None,
        )
        .await;
    assert_eq!(availability.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(availability.json()["code"], "calendar_unreadable");
    assert!(api.bookings.jobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn booking_reads_the_calendar_again_and_page_views_reuse_a_recent_read() {
    let api = Api::new("sched-api-fresh").await;
    let links = api.links(phone(), &["conv-1"]).await;
    api.get(&links[0]).await;
    // Five minutes on, another view: the busy time read then is reused.
    api.at("2037-03-02T09:35:00Z");
    api.get(&links[0]).await;
    assert_eq!(*api.calendar.reads.lock().unwrap(), 1);
    // The recruiter accepted a meeting since: the page still shows it for a few minutes,
    // but booking reads the calendar and refuses the time.
    api.calendar.busy.lock().unwrap().push(Busy {
        start: ts("2037-03-03T08:00:00Z"),
        end: ts("2037-03-03T08:30:00Z"),
    });
    let refused = api
        .post_form(&links[0], &form("2037-03-03T08:00:00Z", "Europe/Paris"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(*api.calendar.reads.lock().unwrap(), 2);
}

#[tokio::test]
async fn the_product_reads_a_seats_availability_and_video_needs_the_contract() {
    let api = Api::new("sched-api-json").await;
    api.links(json!({"type": "video"}), &["conv-1"]).await;
    let answer = api
        .json(
            "GET",
            "/v1/contracts/acme/seats/s1/availability?tz=America/New_York",
            &recruiter("s1"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["time_zone"], "Europe/Paris");
    assert_eq!(body["shown_in"], "America/New_York");
    assert_eq!(body["slots"][0]["start"], "2037-03-03T08:00:00Z");
    assert_eq!(body["slots"][0]["local_start"], "2037-03-03T03:00:00-05:00");
    assert_eq!(body["slots"].as_array().unwrap().len(), 2 * 2 * 4);
    let bad_zone = api
        .json(
            "GET",
            "/v1/contracts/acme/seats/s1/availability?tz=Nowhere",
            &recruiter("s1"),
            None,
        )
        .await;
    assert_eq!(bad_zone.status, StatusCode::BAD_REQUEST);
    let too_many: Vec<_> = (0..101)
        .map(|i| json!({"email": format!("c{i}@mail.example"), "conversation": format!("c{i}")}))
        .collect();
    let refused = api
        .json(
            "POST",
            "/v1/contracts/acme/seats/s1/scheduling-links",
            &recruiter("s1"),
            Some(json!({ "recipients": too_many })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

/// `(METHOD, path)` of every operation in the OpenAPI document.
fn documented() -> std::collections::BTreeSet<(String, String)> {
    let path = format!(
        "{}/../../docs/openapi/scheduler-api.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ops = std::collections::BTreeSet::new();
    for (p, item) in doc["paths"].as_mapping().unwrap() {
        for (m, _) in item.as_mapping().unwrap() {
            let m = m.as_str().unwrap();
            if ["get", "put", "post", "delete", "patch"].contains(&m) {
                ops.insert((m.to_uppercase(), p.as_str().unwrap().to_owned()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_the_router_serves() {
    let routes: std::collections::BTreeSet<(String, String)> = scheduler_api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented(), routes);
    let api = Api::new("sched-api-routes").await;
    for (m, p) in scheduler_api::ROUTES {
        let uri = p
            .replace("{contract}", "acme")
            .replace("{seat}", "s1")
            .replace("{token}", "t");
        let answer = api
            .send(
                axum::http::Request::builder()
                    .method(*m)
                    .uri(&uri)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
        assert!(!answer.body.contains("no such route"), "{m} {p}");
    }
}
