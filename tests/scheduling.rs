//! The scheduler end to end, from outside the suite: a recruiter connects a (sandbox)
//! Google calendar and sets the scheduler up; two candidates open their own links, see the
//! calendar's real free time (a meeting added meanwhile disappears from the page once the
//! provider pushes the change), book, collide, reschedule and download the `.ics`; a
//! deauthorized calendar's links say to reply to the InMail. Video interviews get Teams
//! links, or Zoom meetings once the contract's admin has connected Zoom. Every AWS call
//! the functions made is one their roles allow.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_e2e::{start_suite, Result};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::json;

use hiresync_e2e::scheduling_fixtures::{every_day, RITA};

/// `hh:mm` UTC on the day after today (UTC).
fn tomorrow(at: &str) -> String {
    let day = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(1.day())
        .unwrap();
    format!("{day}T{at}:00Z")
}

/// The InMail messages by their `id`, once each, as the product keeps them.
fn distinct(messages: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let mut seen = std::collections::BTreeMap::new();
    for m in messages {
        seen.entry(m["id"].as_str().unwrap_or_default().to_owned())
            .or_insert(m);
    }
    seen.into_values().collect()
}

#[tokio::test]
async fn candidates_book_and_reschedule_against_the_recruiters_real_calendar() -> Result<()> {
    let suite = start_suite!("scheduling").await?;
    let (noor, jane) = suite.rita_sends_links().await?;
    let links = [noor, jane];
    assert!(links[0].starts_with(&format!("{}/s/", suite.api)));

    let page = suite.open_page(&links[0]).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.offered().contains(&tomorrow("09:00")),
        "{:?}",
        page.offered()
    );

    // Rita accepts a meeting: Google pushes, ingest forgets the cached busy time, and the
    // page no longer offers that hour (long before the cache would have expired).
    suite
        .busy(RITA, &tomorrow("09:00"), &tomorrow("10:00"))
        .await?;
    suite.settle().await?;
    let page = suite.open_page(&links[0]).await?;
    assert!(!page.offered().contains(&tomorrow("09:00")));
    assert!(!page.offered().contains(&tomorrow("09:30")));
    assert!(page.offered().contains(&tomorrow("10:00")));

    let booked = suite
        .book(&links[0], &tomorrow("10:00"), "Europe/Paris")
        .await?;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let confirmation = suite
        .open_page(&format!(
            "{}{}",
            suite.api,
            booked.location.clone().unwrap()
        ))
        .await?;
    assert_eq!(confirmation.status, 200);
    assert!(confirmation.body.contains("Europe/Paris"));
    assert!(confirmation.body.contains("+44 20 7946 0000"));
    // booking-confirmation puts it in rita's calendar and confirms it in noor's conversation.
    suite.drained("BookingsQueue").await?;
    let interviews = suite.interviews(RITA).await?;
    assert_eq!(interviews.len(), 1, "{interviews:?}");
    assert_eq!(interviews[0].0, "noor@talent.example");
    assert_eq!(interviews[0].2["location"], "+44 20 7946 0000");
    // The product drops repeats by `id` (a send to SQS may be repeated); so does the test.
    let mut outbox = suite.inmail().await?;
    let posted = distinct(outbox.clone());
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["type"], "interview_confirmed");
    assert_eq!(posted[0]["conversation"], "conv-noor");
    assert_eq!(posted[0]["time_zone"], "Europe/Paris");
    assert_eq!(posted[0]["meeting"]["number"], "+44 20 7946 0000");

    // Jane cannot take that time; she takes another.
    let refused = suite.book(&links[1], &tomorrow("10:00"), "UTC").await?;
    assert_eq!(refused.status, 409);
    assert!(!suite
        .open_page(&links[1])
        .await?
        .offered()
        .contains(&tomorrow("10:00")));

    // Noor moves her interview; her old time becomes free for Jane.
    let moved = suite
        .book(&links[0], &tomorrow("11:00"), "Europe/Paris")
        .await?;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let ics = suite
        .open_page(&format!("{}/interview.ics", links[0]))
        .await?;
    assert_eq!(ics.status, 200);
    let start: Timestamp = tomorrow("11:00").parse()?;
    assert!(ics
        .body
        .contains(&format!("DTSTART:{}\r\n", start.strftime("%Y%m%dT%H%M%SZ"))));
    assert!(ics.body.contains("SEQUENCE:1\r\n"));
    // The old time is free once the recruiter's event has moved (booking reads her calendar).
    suite.drained("BookingsQueue").await?;
    let jane = suite.book(&links[1], &tomorrow("10:00"), "UTC").await?;
    assert_eq!(jane.status, 303, "{}", jane.body);
    // One event each: noor's moved (not a second one), jane's new; each told in their own
    // conversation.
    suite.drained("BookingsQueue").await?;
    let mut interviews = suite.interviews(RITA).await?;
    interviews.sort_by(|a, b| a.0.cmp(&b.0));
    let who_when: Vec<(&str, Timestamp)> = interviews
        .iter()
        .map(|(who, start, _)| (who.as_str(), start.parse::<Timestamp>().unwrap()))
        .collect();
    assert_eq!(
        who_when,
        vec![
            ("jane@talent.example", tomorrow("10:00").parse()?),
            ("noor@talent.example", tomorrow("11:00").parse()?),
        ]
    );
    outbox.extend(suite.inmail().await?);
    let all = distinct(outbox);
    let mut posted: Vec<(String, String)> = all
        .iter()
        .map(|m| {
            (
                m["conversation"].as_str().unwrap().to_owned(),
                m["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    posted.sort();
    assert_eq!(
        posted,
        vec![
            ("conv-jane".to_owned(), "interview_confirmed".to_owned()),
            ("conv-noor".to_owned(), "interview_confirmed".to_owned()),
            ("conv-noor".to_owned(), "interview_rescheduled".to_owned()),
        ],
        "{all:#?}"
    );
    let end = start + SignedDuration::from_mins(30);
    assert!(ics
        .body
        .contains(&format!("DTEND:{}\r\n", end.strftime("%Y%m%dT%H%M%SZ"))));

    // Rita deauthorizes her calendar: her links book nothing and say to reply.
    let (status, body) = suite
        .api(
            reqwest::Method::DELETE,
            "/v1/contracts/acme/seats/rita/connections/calendar",
            &suite.token("acme", "rita", "recruiter")?,
            None,
        )
        .await?;
    assert_eq!(status, 204, "{body}");
    let gone = suite.open_page(&links[1]).await?;
    assert_eq!(gone.status, 410);
    assert_eq!(gone.problem().as_deref(), Some("calendar_gone"));
    let forged = suite.open_page(&format!("{}/s/forged", suite.api)).await?;
    assert_eq!(forged.status, 404);

    suite.assert_aws_calls_allowed().await
}

/// Sets up `seat` of `contract` on Microsoft 365 with video meetings, one link for noor;
/// returns the link and the first time it offers.
async fn microsoft_video_link(
    suite: &hiresync_e2e::Running,
    contract: &str,
    address: &str,
) -> Result<(String, String)> {
    suite
        .settings(
            contract,
            json!({"provider": "microsoft365", "email_access": "view_only", "calendar_enabled": true, "video_meetings": true}),
        )
        .await?;
    suite
        .connect_kind(contract, "sam", address, "calendar")
        .await?;
    suite
        .scheduler(
            contract,
            "sam",
            json!({
                "length_minutes": 30, "time_zone": "America/Chicago", "windows": every_day("14:00", "16:00"),
                "max_days_ahead": 5, "meeting": {"type": "video"},
            }),
        )
        .await?;
    let links = suite
        .links(contract, "sam", &[("noor@talent.example", "conv-noor")])
        .await?;
    let page = suite.open_page(&links[0]).await?;
    let first = page.offered().first().cloned().expect("a time is offered");
    Ok((links[0].clone(), first))
}

#[tokio::test]
async fn a_teams_interview_gets_its_link_and_a_refused_one_tells_each_side_what_it_should_know(
) -> Result<()> {
    let suite = start_suite!("scheduling-teams").await?;
    // Sam's tenant makes Teams meetings: the event carries the join link, and so does the
    // confirmation.
    let (link, first) = microsoft_video_link(&suite, "contoso", "sam@contoso.example").await?;
    let booked = suite.book(&link, &first, "Europe/Berlin").await?;
    assert_eq!(booked.status, 303, "{}", booked.body);
    suite.drained("BookingsQueue").await?;
    let interviews = suite.interviews("sam@contoso.example").await?;
    assert_eq!(interviews.len(), 1, "{interviews:?}");
    let event = &interviews[0].2;
    assert_eq!(event["video"], "teams");
    let join = event["join_url"].as_str().unwrap_or_default().to_owned();
    assert!(join.starts_with("https://teams.microsoft.com/"), "{event}");
    let posted = distinct(suite.inmail().await?);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["meeting"]["type"], "video");
    assert_eq!(posted[0]["meeting"]["join_url"], join.as_str());
    assert!(suite.notices().await?.is_empty());

    // Another tenant has no Teams: the interview still goes in the calendar, the candidate
    // reads only that the video conference went wrong, the recruiter gets the table's row.
    let (link, first) = microsoft_video_link(&suite, "fabrikam", "sam@fabrikam.example").await?;
    let (status, body) = suite
        .sandbox(
            reqwest::Method::PUT,
            "/calendars/sam@fabrikam.example/settings",
            Some(json!({"teams_available": false})),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let booked = suite.book(&link, &first, "Europe/Berlin").await?;
    assert_eq!(booked.status, 303, "{}", booked.body);
    suite.drained("BookingsQueue").await?;
    let interviews = suite.interviews("sam@fabrikam.example").await?;
    assert_eq!(interviews.len(), 1, "{interviews:?}");
    assert_ne!(interviews[0].2["video"], "teams");
    let posted = distinct(suite.inmail().await?);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["meeting"]["type"], "video_failed");
    let candidate_text = posted[0]["meeting"]["text"].as_str().unwrap_or_default();
    assert!(
        candidate_text.contains("video") && candidate_text.contains("recruiter"),
        "{candidate_text}"
    );
    assert!(!candidate_text.contains("Teams"), "{candidate_text}");
    let notices = suite.notices().await?;
    let failed: Vec<_> = notices
        .iter()
        .filter(|n| n["type"] == "video_link_failed")
        .collect();
    assert!(!failed.is_empty(), "{notices:?}");
    assert!(failed.iter().all(|n| n["reason"] == "account_not_eligible"
        && n["contract"] == "fabrikam"
        && n["seat"] == "sam"));
    suite.assert_aws_calls_allowed().await
}

#[tokio::test]
async fn a_contract_that_connected_zoom_holds_its_video_interviews_on_zoom() -> Result<()> {
    let suite = start_suite!("scheduling-zoom").await?;
    let (link, first) = microsoft_video_link(&suite, "initech", "sam@initech.example").await?;
    let connected = suite
        .connect_zoom(
            "initech",
            "initech-zoom",
            &["ada@initech.example", "sam@initech.example"],
        )
        .await?;
    assert_eq!(connected["state"], "connected", "{connected}");
    assert_eq!(connected["account_id"], "initech-zoom");
    assert_eq!(connected["authorized_as"], "ada@initech.example");

    // The interview's meeting is made on the contract's Zoom account, hosted by the
    // recruiter (a user of that account); the recruiter's event and the candidate's
    // confirmation carry its join link instead of a Teams one.
    let booked = suite.book(&link, &first, "Asia/Tokyo").await?;
    assert_eq!(booked.status, 303, "{}", booked.body);
    suite.drained("BookingsQueue").await?;
    let meetings = suite.zoom_meetings("initech-zoom").await?;
    assert_eq!(meetings.len(), 1, "{:?}", suite.notices().await?);
    let meeting = &meetings[0];
    assert_eq!(meeting["host_email"], "sam@initech.example");
    assert_eq!(
        meeting["start_time"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()?,
        first.parse::<Timestamp>()?
    );
    assert_eq!(meeting["duration"], 30);
    let join = meeting["join_url"].as_str().unwrap().to_owned();
    assert!(join.starts_with("https://zoom.us/j/"), "{meeting}");
    let interviews = suite.interviews("sam@initech.example").await?;
    assert_eq!(interviews.len(), 1, "{interviews:?}");
    let event = &interviews[0].2;
    assert_eq!(
        event["video"], "none",
        "no Teams meeting beside the Zoom one"
    );
    assert_eq!(event["location"], join.as_str());
    let posted = distinct(suite.inmail().await?);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["meeting"]["type"], "video");
    assert_eq!(posted[0]["meeting"]["join_url"], join.as_str());

    // Moving the interview moves the same meeting and the same event.
    let page = suite.open_page(&link).await?;
    let later = page
        .offered()
        .into_iter()
        .rev()
        .find(|t| t != &first)
        .expect("another time is offered");
    let moved = suite.book(&link, &later, "Asia/Tokyo").await?;
    assert_eq!(moved.status, 303, "{}", moved.body);
    suite.drained("BookingsQueue").await?;
    let meetings = suite.zoom_meetings("initech-zoom").await?;
    assert_eq!(meetings.len(), 1, "{meetings:?}");
    assert_eq!(meetings[0]["id"], meeting["id"]);
    assert_eq!(
        meetings[0]["start_time"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()?,
        later.parse::<Timestamp>()?
    );
    let interviews = suite.interviews("sam@initech.example").await?;
    assert_eq!(interviews.len(), 1, "{interviews:?}");
    assert_eq!(interviews[0].2["id"], event["id"]);
    assert_eq!(
        interviews[0].1.parse::<Timestamp>()?,
        later.parse::<Timestamp>()?
    );
    assert!(suite.notices().await?.is_empty());
    suite.assert_aws_calls_allowed().await
}
