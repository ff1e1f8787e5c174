//! Part four of `make run`: the scheduler. A Google Workspace recruiter with video meetings
//! on connects her (sandbox) calendar and sets the scheduler up; a bulk InMail gives two
//! candidates their own links; they open the booking page over HTTP as a browser without
//! JavaScript would (a form post, a redirect), see her real free time in their own zone,
//! book, collide and reschedule. booking-confirmation puts each interview in her calendar
//! with a Meet link and posts the confirmations to the InMail outbox; a calendar change
//! reaches the page through Google's push. Once the admin connects the company's Zoom account,
//! the next interview is on Zoom.

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::connect::Client;
use crate::suite::Suite;

const IVY: &str = "ivy@hooli.example";
const ZONE: &str = "Europe/London";

/// A candidate's browser: no redirects followed, so the 303 after booking is seen.
struct Browser {
    http: reqwest::Client,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Page {
    /// The instants the page's radio buttons offer, in order.
    fn offered(&self) -> Vec<Timestamp> {
        self.body
            .split(r#"name="start" value=""#)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter_map(|t| t.parse().ok())
            .collect()
    }

    /// The text of the element with `id`, tags stripped.
    fn text_of(&self, id: &str) -> String {
        let Some(rest) = self.body.split(&format!("id=\"{id}\"")).nth(1) else {
            return String::new();
        };
        let inner = rest.split_once('>').map(|(_, r)| r).unwrap_or_default();
        let inner = inner.split("</").next().unwrap_or_default();
        inner.replace("&#x27;", "'").replace("&#39;", "'")
    }
}

impl Browser {
    async fn get(&self, url: &str) -> anyhow::Result<Page> {
        Self::page(self.http.get(url).send().await?).await
    }

    async fn post(&self, url: &str, start: Timestamp, zone: &str) -> anyhow::Result<Page> {
        let start = start.to_string();
        Self::page(
            self.http
                .post(url)
                .form(&[("start", start.as_str()), ("tz", zone)])
                .send()
                .await?,
        )
        .await
    }

    async fn page(response: reqwest::Response) -> anyhow::Result<Page> {
        Ok(Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: response.text().await?,
        })
    }
}

fn local(t: Timestamp, zone: &str) -> String {
    match jiff::tz::TimeZone::get(zone) {
        Ok(z) => t.to_zoned(z).strftime("%a %-d %b %H:%M").to_string(),
        Err(_) => t.to_string(),
    }
}

fn short(url: &str) -> String {
    let cut: String = url.chars().take(48).collect();
    format!("{cut}… ({} characters)", url.len())
}

/// Ivy's interviews as the sandbox calendar holds them.
fn show_calendar(suite: &Suite) {
    for e in suite.sandbox.events(IVY) {
        if e.attendees.is_empty() {
            println!(
                "      {:<22} {} ({ZONE}), {}",
                e.subject,
                local(e.start, ZONE),
                e.status
            );
            continue;
        }
        println!(
            "      {:<22} {} ({ZONE}), {} with {}, {}",
            e.subject,
            local(e.start, ZONE),
            e.status,
            e.attendees
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            e.join_url
                .as_deref()
                .or(e.location.as_deref().filter(|l| l.starts_with("https://")))
                .unwrap_or("no video link"),
        );
    }
}

async fn show_inmail(suite: &Suite) -> anyhow::Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for m in suite.inmail().await? {
        // The product drops a repeated send by its id.
        if !seen.insert(m["id"].as_str().unwrap_or_default().to_owned()) {
            continue;
        }
        let start: Timestamp = m["start"].as_str().unwrap_or_default().parse()?;
        let zone = m["time_zone"].as_str().unwrap_or("UTC");
        println!(
            "      {:<10} {:<22} r{} {} ({zone}) {}",
            m["conversation"].as_str().unwrap_or_default(),
            m["type"].as_str().unwrap_or_default(),
            m["revision"],
            local(start, zone),
            m["meeting"]["join_url"]
                .as_str()
                .or(m["meeting"]["number"].as_str())
                .unwrap_or_default(),
        );
    }
    Ok(())
}

pub async fn run(suite: &Suite) -> anyhow::Result<()> {
    crate::heading(
        "Scheduling: ivy (Google Workspace) shares her calendar with two candidates over InMail",
    );
    suite
        .sandbox
        .account(IVY, hiresync_sandbox::Behaviour::Normal);
    let c = Client::new(suite, "hooli")?;
    let admin = suite.token("hooli", "ada", "admin-seat", "admin")?;
    let (status, body) = c
        .call(
            reqwest::Method::PUT,
            "/v1/contracts/hooli/settings",
            &admin,
            Some(json!({"provider": "google_workspace", "email_access": "view_only", "calendar_enabled": true, "video_meetings": true})),
        )
        .await?;
    anyhow::ensure!(status == 200, "settings: {body}");
    println!("   admin: Google Workspace, calendar on, video meetings on (Google Meet)");
    let (status, body) = c.connect("ivy", IVY, "calendar").await?;
    anyhow::ensure!(status == 200, "connect: {body}");
    let ivy = suite.token("hooli", "user-ivy", "ivy", "recruiter")?;
    let weekdays: Vec<Value> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "12:30"}))
        .collect();
    let settings = json!({
        "length_minutes": 45, "time_zone": ZONE, "windows": weekdays,
        "buffer_after_minutes": 15, "slot_interval_minutes": 30, "max_days_ahead": 10,
        "daily_cap": 3, "meeting": {"type": "video"}, "link_validity_days": 14,
    });
    let (status, body) = c
        .call(
            reqwest::Method::PUT,
            "/v1/contracts/hooli/seats/ivy/scheduler",
            &ivy,
            Some(settings),
        )
        .await?;
    anyhow::ensure!(status == 200, "scheduler: {body}");
    println!("   ivy connects her calendar and sets her scheduler: 45-minute video interviews, {ZONE}, weekdays 09:00-12:30,");
    println!("   every 30 minutes, 15 minutes free after each, at most 3 a day, up to 10 days ahead, links valid 14 days");

    let (status, body) = c
        .call(
            reqwest::Method::POST,
            "/v1/contracts/hooli/seats/ivy/scheduling-links",
            &ivy,
            Some(json!({"recipients": [
                {"email": "noor@talent.example", "name": "Noor", "conversation": "conv-noor"},
                {"email": "jane@talent.example", "name": "Jane", "conversation": "conv-jane"},
            ]})),
        )
        .await?;
    anyhow::ensure!(status == 201, "links: {body}");
    let links: Vec<String> = body["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["url"].as_str().map(str::to_owned))
        .collect();
    let (noor, jane) = (
        links.first().context("noor's link")?,
        links.get(1).context("jane's link")?,
    );
    println!("   a bulk InMail: one link per recipient");
    println!("      noor {}", short(noor));
    println!("      jane {}", short(jane));

    let browser = Browser {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    };
    let ny = "America/New_York";
    let page = browser.get(&format!("{noor}?tz={ny}")).await?;
    anyhow::ensure!(page.status == 200, "noor's page: {}", page.status);
    let offered = page.offered();
    let first = *offered.first().context("nothing offered")?;
    println!(
        "   noor opens her link (times shown in {ny}): {} times on the page's first days, the first {}",
        offered.len(),
        offered
            .iter()
            .take(4)
            .map(|t| local(*t, ny))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let busy_start = first;
    let busy_end = first + SignedDuration::from_hours(1);
    suite
        .sandbox
        .seed_event(
            IVY,
            serde_json::from_value(json!({
                "subject": "Hiring committee", "start": busy_start, "end": busy_end,
            }))?,
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding ivy's meeting: {e:?}"))?;
    suite.pump().await?;
    let page = browser.get(&format!("{noor}?tz={ny}")).await?;
    let now_first = *page.offered().first().context("nothing offered")?;
    println!(
        "   ivy accepts a hiring committee at {} ({ZONE}); Google pushes, ingest forgets the cached busy time:",
        local(busy_start, ZONE)
    );
    println!(
        "      noor's page now starts at {} ({ny})",
        local(now_first, ny)
    );

    let booked = browser.post(noor, now_first, ny).await?;
    anyhow::ensure!(booked.status == 303, "noor books: {}", booked.status);
    let confirmation = browser
        .get(&format!(
            "{}{}",
            suite.api,
            booked.location.as_deref().unwrap_or_default()
        ))
        .await?;
    println!(
        "   noor books it: 303 -> {}",
        confirmation.text_of("booked-time")
    );
    let refused = browser.post(jane, now_first, "Europe/Paris").await?;
    println!(
        "   jane submits the same time: {} \"{}\"",
        refused.status,
        refused.text_of("notice")
    );
    let jane_page = browser.get(&format!("{jane}?tz=Europe/Paris")).await?;
    let jane_time = *jane_page.offered().first().context("nothing for jane")?;
    let booked = browser.post(jane, jane_time, "Europe/Paris").await?;
    println!(
        "   jane books {} (Europe/Paris): {}",
        local(jane_time, "Europe/Paris"),
        booked.status
    );

    suite.pump().await?;
    println!("   booking-confirmation runs: ivy's calendar holds");
    show_calendar(suite);
    println!("   and the InMail outbox (for the product to post in each conversation) holds");
    show_inmail(suite).await?;

    let later = *page
        .offered()
        .iter()
        .rev()
        .find(|t| **t > jane_time + SignedDuration::from_hours(24))
        .context("a later time")?;
    let moved = browser.post(noor, later, ny).await?;
    anyhow::ensure!(moved.status == 303, "noor moves: {}", moved.status);
    suite.pump().await?;
    println!(
        "   noor moves her interview to {} ({ny}): the same event moves, its Meet link stays",
        local(later, ny)
    );
    show_calendar(suite);
    show_inmail(suite).await?;
    let ics = browser.get(&format!("{noor}/interview.ics")).await?;
    let lines: Vec<&str> = ics
        .body
        .lines()
        .filter(|l| {
            ["UID:", "SEQUENCE:", "DTSTART:", "DTEND:"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    println!(
        "   noor's \"Add to my calendar\" file: {}",
        lines.join("  ")
    );
    zoom(suite, &c, &admin, &ivy, &browser).await?;
    let forged = browser.get(&format!("{}/s/not-a-link", suite.api)).await?;
    println!(
        "   a link that is not one of ours: {} \"{}\"",
        forged.status,
        forged.text_of("problem")
    );
    Ok(())
}

/// hooli's admin connects the company's Zoom account; the next interview is on Zoom.
async fn zoom(
    suite: &Suite,
    c: &Client<'_>,
    admin: &str,
    ivy: &str,
    browser: &Browser,
) -> anyhow::Result<()> {
    suite.sandbox.zoom_account(serde_json::from_value(json!({
        "account_id": "hooli-zoom", "users": ["ada@hooli.example", IVY],
    }))?);
    let (status, start) = c
        .call(
            reqwest::Method::POST,
            "/v1/contracts/hooli/zoom/authorize",
            admin,
            None,
        )
        .await?;
    anyhow::ensure!(status == 200, "zoom authorize: {start}");
    // Ada signs in to Zoom as herself (the sandbox reads who from `login_hint`).
    let mut url = reqwest::Url::parse(start["authorization_url"].as_str().unwrap_or_default())?;
    url.query_pairs_mut()
        .append_pair("login_hint", "ada@hooli.example");
    let back = crate::connect::consent(&browser.http, url.as_str()).await?;
    let (status, connected) = c
        .call(
            reqwest::Method::POST,
            "/v1/contracts/hooli/zoom/complete",
            admin,
            Some(crate::connect::carried(&back)?),
        )
        .await?;
    anyhow::ensure!(status == 200, "zoom complete: {connected}");
    println!(
        "   hooli's admin connects the company's Zoom account {} (as {}): video interviews move to Zoom",
        connected["account_id"].as_str().unwrap_or_default(),
        connected["authorized_as"].as_str().unwrap_or_default()
    );
    let (status, body) = c
        .call(
            reqwest::Method::POST,
            "/v1/contracts/hooli/seats/ivy/scheduling-links",
            ivy,
            Some(json!({"recipients": [
                {"email": "omar@talent.example", "name": "Omar", "conversation": "conv-omar"},
            ]})),
        )
        .await?;
    anyhow::ensure!(status == 201, "links: {body}");
    let omar = body["links"][0]["url"]
        .as_str()
        .context("omar's link")?
        .to_owned();
    let page = browser.get(&format!("{omar}?tz=Asia/Dubai")).await?;
    let time = *page.offered().first().context("nothing for omar")?;
    let booked = browser.post(&omar, time, "Asia/Dubai").await?;
    anyhow::ensure!(booked.status == 303, "omar books: {}", booked.status);
    suite.pump().await?;
    println!(
        "   omar books {} (Asia/Dubai); Zoom holds {} meeting(s) hosted by ivy, and her calendar",
        local(time, "Asia/Dubai"),
        suite
            .sandbox
            .zoom_meetings("hooli-zoom")
            .iter()
            .filter(|m| m.host_email == IVY && m.status != "deleted")
            .count()
    );
    show_calendar(suite);
    Ok(())
}
