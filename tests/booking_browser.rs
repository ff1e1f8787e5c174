//! The candidate's booking pages in a real browser (headless chromium), against a real
//! suite: a recruiter's Google calendar connected and the scheduler set up, a link minted
//! through the API. The candidate opens the link, finds the page usable with assistive
//! technology, shows the times in their own zone with the form's button (no JavaScript),
//! books, downloads the `.ics`, moves the interview and downloads it again; a link that has
//! expired says to reply to the InMail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use hiresync_e2e::browser::Browser;
use hiresync_e2e::{start_suite, Result, Running};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// The candidate's zone: half an hour off the hour, so a time shown in the wrong zone
/// cannot look right by accident.
const ZONE: &str = "Asia/Kolkata";
const LENGTH: SignedDuration = SignedDuration::from_mins(30);
/// How long a page reached by following a link gets to show up.
const PAGE: Duration = Duration::from_secs(30);

/// `hh:mm` UTC on the day after today (UTC).
fn tomorrow(at: &str) -> Timestamp {
    let day = Timestamp::now()
        .to_zoned(TimeZone::UTC)
        .date()
        .checked_add(1.day())
        .unwrap();
    format!("{day}T{at}:00Z").parse().unwrap()
}

/// An interview's time as the pages write it:
/// `Tuesday 3 March 2026, 15:30–16:00 (Asia/Kolkata, UTC+05:30)`.
fn label(start: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap();
    let from = start.to_zoned(tz.clone());
    let to = (start + LENGTH).to_zoned(tz);
    format!(
        "{}, {}–{} ({zone}, UTC{})",
        from.strftime("%A %-d %B %Y"),
        from.strftime("%H:%M"),
        to.strftime("%H:%M"),
        from.strftime("%:z"),
    )
}

/// The `DTSTART`/`DTEND` form of an instant.
fn ics_time(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The value of the `.ics` property `name` (its unfolded line).
fn ics_value<'a>(ics: &'a str, name: &str) -> Option<&'a str> {
    ics.split("\r\n")
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
}

/// The booking page shows every time in `zone`: each day a group named by its legend (the
/// day in `zone`), each time a radio button whose label is its start and end in `zone`.
/// Answers how many times are offered.
async fn assert_times_shown_in(browser: &Browser, zone: &str) -> Result<usize> {
    let tz = TimeZone::get(zone)?;
    let days = browser.find_all("#book-form fieldset").await?;
    assert!(!days.is_empty(), "no day offered");
    let mut offered = 0;
    for day in &days {
        let legend = day.find("legend").await?.text().await?;
        assert_eq!(day.role().await?, "group");
        assert_eq!(day.label().await?, legend, "a day is named by its legend");
        for radio in day.find_all("input[type=radio][name=start]").await? {
            let start: Timestamp = radio.attr("value").await?.unwrap().parse()?;
            let from = start.to_zoned(tz.clone());
            let to = (start + LENGTH).to_zoned(tz.clone());
            assert_eq!(
                from.strftime("%A %-d %B %Y").to_string(),
                legend,
                "{start} is under its day in {zone}"
            );
            assert_eq!(
                radio.attr("id").await?,
                Some(format!("slot-{}", start.as_second()))
            );
            assert_eq!(radio.role().await?, "radio");
            assert_eq!(
                radio.label().await?,
                format!("{}–{}", from.strftime("%H:%M"), to.strftime("%H:%M")),
                "the radio button of {start} is labelled with its time in {zone}"
            );
            offered += 1;
        }
    }
    assert_eq!(
        browser
            .find("#book-form input[name=tz]")
            .await?
            .attr("value")
            .await?
            .as_deref(),
        Some(zone),
        "the booking form carries the zone shown"
    );
    Ok(offered)
}

/// Chooses `start` as a person does (clicking its label) and submits the booking form.
async fn choose_and_book(browser: &Browser, start: Timestamp) -> Result<()> {
    let id = format!("slot-{}", start.as_second());
    browser.click(&format!("label[for={id}]")).await?;
    assert!(browser.find(&format!("#{id}")).await?.is_selected().await?);
    browser.submit("#book").await
}

/// Downloads the confirmation page's `.ics` as a browser would (its `href`, absolute):
/// its text, after checking it is served as a calendar file.
async fn download_ics(suite: &Running, browser: &Browser, link: &str) -> Result<String> {
    let ics = browser.find("#ics").await?;
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        ics.attr("href").await?,
        Some(format!("/s/{token}/interview.ics"))
    );
    assert_eq!(
        ics.attr("download").await?.as_deref(),
        Some("interview.ics")
    );
    assert_eq!(ics.role().await?, "link");
    assert_eq!(ics.label().await?, "Add to my calendar (.ics)");
    let href = ics.property("href").await?;
    let href = href.as_str().unwrap();
    assert_eq!(href, format!("{link}/interview.ics"));
    let response = suite.http.get(href).send().await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str()?,
        "text/calendar; charset=utf-8"
    );
    Ok(response.text().await?)
}

#[tokio::test]
async fn a_candidate_books_and_moves_an_interview_in_their_own_time_zone() -> Result<()> {
    let started = Instant::now();
    let (suite, browser) = tokio::try_join!(start_suite!("booking-browser"), Browser::start())?;
    let (link, jane) = suite.rita_sends_links().await?;
    let token = link.rsplit('/').next().unwrap().to_owned();
    // The times Noor books, then moves to (read once: a test running across midnight UTC
    // keeps its days).
    let (first, second) = (tomorrow("10:00"), tomorrow("11:00"));
    eprintln!(
        "suite, chromium {} and Rita's link ready in {:?}",
        browser.version(),
        started.elapsed()
    );
    let in_browser = Instant::now();

    // The page as a screen reader meets it: a language, a title and a heading, a labelled
    // zone select with its button, labelled times grouped by day, a labelled button.
    browser.goto(&link).await?;
    assert_eq!(browser.url().await?, link);
    assert_eq!(browser.lang().await?.as_deref(), Some("en"));
    assert_eq!(browser.title().await?, "Book your interview");
    let heading = browser.find("h1").await?;
    assert_eq!(heading.role().await?, "heading");
    assert_eq!(heading.text().await?, "Book your interview");
    let zone = browser.find("#zone-form select#tz").await?;
    assert_eq!(zone.role().await?, "combobox");
    assert_eq!(zone.label().await?, "Times are shown in");
    assert_eq!(
        zone.property("value").await?,
        "UTC",
        "the recruiter's zone first"
    );
    let change = browser.find("#zone-form #change-zone").await?;
    assert_eq!(change.role().await?, "button");
    assert_eq!(change.label().await?, "Show times in this zone");
    let book = browser.find("#book-form #book").await?;
    assert_eq!(book.role().await?, "button");
    assert_eq!(book.label().await?, "Book this time");
    assert!(browser.find_all("#current, #notice").await?.is_empty());
    let offered = assert_times_shown_in(&browser, "UTC").await?;
    assert_eq!(
        browser
            .find_all(&format!("#slot-{}", first.as_second()))
            .await?
            .len(),
        1,
        "tomorrow 10:00 UTC is offered"
    );
    let main = browser.text("main").await?;
    assert!(
        main.contains("a 30-minute phone call with rita@acme.example."),
        "{main}"
    );

    // The candidate shows the times in their zone, with the form's button.
    browser.select("#tz", ZONE).await?;
    browser.submit("#change-zone").await?;
    // The page of days shown is kept (the first here).
    assert_eq!(
        browser.url().await?,
        format!("{link}?week=0&tz=Asia%2FKolkata")
    );
    assert_eq!(browser.find("#tz").await?.property("value").await?, ZONE);
    assert!(
        browser
            .find("#tz option[value='Asia/Kolkata']")
            .await?
            .is_selected()
            .await?
    );
    assert_eq!(
        assert_times_shown_in(&browser, ZONE).await?,
        offered,
        "the same times, shown in another zone"
    );
    assert_eq!(
        browser
            .text(&format!("label[for=slot-{}]", first.as_second()))
            .await?,
        "15:30–16:00"
    );

    // A zone the page does not know says so, in an alert, and keeps the recruiter's.
    browser.goto(&format!("{link}?tz=Mars%2FOlympus")).await?;
    let notice = browser.find("#notice").await?;
    assert_eq!(notice.role().await?, "alert");
    assert_eq!(
        notice.text().await?,
        "We did not recognise that time zone, so times are shown in UTC."
    );
    assert_times_shown_in(&browser, "UTC").await?;
    browser.goto(&format!("{link}?tz=Asia%2FKolkata")).await?;

    // Book: the confirmation shows the time in the candidate's zone.
    choose_and_book(&browser, first).await?;
    assert_eq!(
        browser.url().await?,
        format!("{}/s/{token}/booked?tz=Asia/Kolkata", suite.api)
    );
    assert_eq!(browser.lang().await?.as_deref(), Some("en"));
    assert_eq!(browser.title().await?, "Your interview is booked");
    assert_eq!(browser.text("h1").await?, "Your interview is booked");
    assert_eq!(browser.text("#booked-time").await?, label(first, ZONE));
    let main = browser.text("main").await?;
    assert!(main.contains("The call is on +44 20 7946 0000."), "{main}");
    assert!(main.contains("Times are shown in Asia/Kolkata."), "{main}");

    let ics = download_ics(&suite, &browser, &link).await?;
    assert_eq!(
        ics_value(&ics, "DTSTART"),
        Some(ics_time(first).as_str()),
        "{ics}"
    );
    assert_eq!(
        ics_value(&ics, "DTEND"),
        Some(ics_time(first + LENGTH).as_str()),
        "{ics}"
    );
    assert_eq!(ics_value(&ics, "SEQUENCE"), Some("0"), "{ics}");
    let uid = ics_value(&ics, "UID").unwrap().to_owned();
    assert!(uid.ends_with("@scheduler.hiresync"), "{uid}");

    // "Choose a new time": back on the booking page, in the same zone, with the booking.
    let again = browser.find("#reschedule").await?;
    assert_eq!(again.role().await?, "link");
    assert_eq!(again.label().await?, "Choose a new time");
    again.click().await?;
    let current = browser.wait_for("#current", PAGE).await?;
    assert_eq!(
        current.text().await?,
        format!(
            "Your interview is booked for {}. Choose another time below to move it.",
            label(first, ZONE)
        )
    );
    assert_eq!(browser.url().await?, format!("{link}?tz=Asia/Kolkata"));
    assert_eq!(browser.find("#tz").await?.property("value").await?, ZONE);
    assert_eq!(
        browser.find("#book").await?.label().await?,
        "Move my interview to this time"
    );
    assert_times_shown_in(&browser, ZONE).await?;

    choose_and_book(&browser, second).await?;
    assert_eq!(
        browser.url().await?,
        format!("{}/s/{token}/booked?tz=Asia/Kolkata", suite.api)
    );
    assert_eq!(browser.text("#booked-time").await?, label(second, ZONE));
    let ics = download_ics(&suite, &browser, &link).await?;
    assert_eq!(
        ics_value(&ics, "DTSTART"),
        Some(ics_time(second).as_str()),
        "{ics}"
    );
    assert_eq!(
        ics_value(&ics, "DTEND"),
        Some(ics_time(second + LENGTH).as_str()),
        "{ics}"
    );
    assert_eq!(ics_value(&ics, "SEQUENCE"), Some("1"), "{ics}");
    assert_eq!(
        ics_value(&ics, "UID"),
        Some(uid.as_str()),
        "the same event, updated"
    );
    // Moving freed the first time for other candidates, and holds the second, once
    // booking-confirmation has moved the recruiter's event and her calendar's push has
    // reached ingest.
    suite.drained("BookingsQueue").await?;
    suite.settle().await?;
    let offered = suite.open_page(&jane).await?.offered();
    assert!(offered.contains(&first.to_string()), "{offered:?}");
    assert!(!offered.contains(&second.to_string()), "{offered:?}");
    eprintln!(
        "booked and moved in the browser in {:?}",
        in_browser.elapsed()
    );

    browser.close().await?;
    suite.assert_aws_calls_allowed().await
}

/// What scheduler-api has asked AWS so far, by target (`DynamoDB_20120810.GetItem`, ...).
async fn scheduler_calls(suite: &Running) -> Result<serde_json::Value> {
    Ok(suite.aws_calls().await?["made"]["scheduler-api"].clone())
}

#[tokio::test]
async fn an_expired_link_tells_the_candidate_to_reply_to_the_inmail() -> Result<()> {
    let started = Instant::now();
    let (suite, browser) = tokio::try_join!(start_suite!("expired-link"), Browser::start())?;
    let (link, _) = suite.rita_sends_links().await?;
    eprintln!(
        "suite, chromium {} and Rita's link ready in {:?}",
        browser.version(),
        started.elapsed()
    );
    let now = Timestamp::now();
    // Signed with the suite's own link key, read from its Secrets Manager: a token signed
    // with any other key would read as unknown, not expired.
    let expired = suite
        .signed_link("acme", "rita", now - SignedDuration::from_hours(1))
        .await?;
    let before = scheduler_calls(&suite).await?;

    let page = suite.open_page(&expired).await?;
    assert_eq!(page.status, 410, "{}", page.body);
    assert_eq!(page.problem().as_deref(), Some("expired"));

    browser.goto(&expired).await?;
    assert_eq!(browser.lang().await?.as_deref(), Some("en"));
    assert_eq!(browser.title().await?, "This link can no longer be used");
    let heading = browser.find("h1").await?;
    assert_eq!(heading.role().await?, "heading");
    assert_eq!(heading.text().await?, "This link can no longer be used");
    let problem = browser.find("#problem").await?;
    assert_eq!(problem.attr("data-code").await?.as_deref(), Some("expired"));
    assert_eq!(
        problem.text().await?,
        "This scheduling link has expired or is no longer active. Please reply to the recruiter's InMail to find a time together."
    );
    assert!(
        browser.find_all("form, input, select").await?.is_empty(),
        "nothing to book on an expired link"
    );
    // Its booking form and confirmation pages say the same.
    let booking = suite
        .book(&expired, &tomorrow("10:00").to_string(), ZONE)
        .await?;
    assert_eq!(booking.status, 410, "{}", booking.body);
    assert_eq!(booking.problem().as_deref(), Some("expired"));
    let ics = suite.open_page(&format!("{expired}/interview.ics")).await?;
    assert_eq!(ics.problem().as_deref(), Some("expired"));

    // Refused before anything is read: scheduler-api asked AWS nothing meanwhile.
    assert_eq!(scheduler_calls(&suite).await?, before);

    // The same key with a future expiry makes a well-signed token for a link never stored:
    // that one is looked up, and unknown. The link Rita sent still works.
    let never_stored = suite
        .signed_link("acme", "rita", now + SignedDuration::from_hours(1))
        .await?;
    let page = suite.open_page(&never_stored).await?;
    assert_eq!(page.status, 404, "{}", page.body);
    assert_eq!(page.problem().as_deref(), Some("unknown"));
    assert_ne!(scheduler_calls(&suite).await?, before);
    browser.goto(&link).await?;
    assert_eq!(browser.title().await?, "Book your interview");

    browser.close().await?;
    suite.assert_aws_calls_allowed().await
}
