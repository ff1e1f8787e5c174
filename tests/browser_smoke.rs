//! The browser harness itself (`hiresync_e2e::browser`), proved on a tiny server-rendered
//! page served from this test over loopback: no JavaScript, a GET form whose `<select>`
//! changes the page, a POST form answered with a 303 to a confirmation page, and a download
//! link fetched with reqwest. Runs in `make test` and fails when no browser can be started
//! (it is installed on first use; see `infra/scripts/browser.sh`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hiresync_e2e::browser::{Browser, WebDriverError};
use hiresync_e2e::Result;

#[tokio::test]
async fn a_browser_fills_forms_follows_redirects_and_reads_links() -> Result<()> {
    let site = Site::start()?;
    let base = site.base.clone();
    let started = Instant::now();
    let browser = Browser::start().await?;
    eprintln!(
        "chromedriver and a headless chromium {} up in {:?}",
        browser.version(),
        started.elapsed()
    );

    // The page as served, with what a page test checks for accessibility.
    browser.goto(&format!("{base}/")).await?;
    assert_eq!(browser.title().await?, "Smoke booking");
    assert_eq!(browser.lang().await?.as_deref(), Some("en"));
    assert_eq!(browser.text("#shown").await?, "Times in UTC");
    let select = browser.find("select[name=tz]").await?;
    assert_eq!(select.role().await?, "combobox");
    assert_eq!(select.label().await?, "Time zone");
    assert_eq!(select.attr("id").await?.as_deref(), Some("tz"));
    assert_eq!(select.find_all("option").await?.len(), 3);
    let name = browser.find("#name").await?;
    assert_eq!(name.attr("required").await?.as_deref(), Some("true"));
    assert_eq!(name.attr("placeholder").await?, None);
    assert_eq!(name.label().await?, "Your name");
    assert_eq!(
        site.seen()[0].accept_language,
        "en-US,en;q=0.9",
        "the browser's language is fixed, not the machine's"
    );

    // The GET form: the chosen time zone changes the page after submitting.
    browser.select("select[name=tz]", "Europe/Berlin").await?;
    browser.submit("#times button").await?;
    assert_eq!(browser.url().await?, format!("{base}/?tz=Europe%2FBerlin"));
    assert_eq!(browser.text("#shown").await?, "Times in Europe/Berlin");
    assert_eq!(browser.text("#slots li").await?, "10:00");
    let select = browser.find("select[name=tz]").await?;
    assert_eq!(select.property("value").await?, "Europe/Berlin");
    assert!(
        browser
            .find("option[value='Europe/Berlin']")
            .await?
            .is_selected()
            .await?
    );
    let unknown = browser.select("select[name=tz]", "Mars/Olympus").await;
    let unknown = unknown.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(unknown.contains("Mars/Olympus"), "{unknown}");
    assert!(unknown.contains("America/New_York"), "{unknown}");

    // The POST form: its 303 is followed to the confirmation page, with a GET.
    browser.type_into("#name", "Ada Lovelace").await?;
    assert_eq!(
        browser.find("#name").await?.property("value").await?,
        "Ada Lovelace"
    );
    let before = site.seen().len();
    browser.submit("#book button").await?;
    assert_eq!(
        browser.url().await?,
        format!("{base}/booked?name=Ada%20Lovelace&tz=Europe%2FBerlin")
    );
    assert_eq!(browser.title().await?, "Booked");
    assert_eq!(
        browser.text("#confirmation").await?,
        "Booked for Ada Lovelace at 10:00 (Europe/Berlin)"
    );
    let after: Vec<String> = site.seen()[before..]
        .iter()
        .map(|s| format!("{} {}", s.method, s.target))
        .filter(|s| !s.ends_with("/favicon.ico"))
        .collect();
    assert_eq!(
        after,
        [
            "POST /book",
            "GET /booked?name=Ada%20Lovelace&tz=Europe%2FBerlin"
        ]
    );
    assert_eq!(
        site.seen()[before].body,
        "tz=Europe%2FBerlin&name=Ada+Lovelace"
    );
    assert!(browser.source().await?.contains("<h1>Booked</h1>"));

    // A download link: read its href, then fetch it as a file.
    let link = browser.wait_for("a#invite", Duration::from_secs(5)).await?;
    assert_eq!(
        link.attr("href").await?.as_deref(),
        Some("/files/invite.ics")
    );
    assert_eq!(link.role().await?, "link");
    assert_eq!(link.text().await?, "Add to calendar");
    let href = link.property("href").await?;
    let href = href.as_str().unwrap_or_default().to_owned();
    assert_eq!(href, format!("{base}/files/invite.ics"));
    let file = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(&href)
        .send()
        .await?;
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(
        file.headers()["content-type"].to_str()?,
        "text/calendar; charset=utf-8"
    );
    let body = file.text().await?;
    assert!(
        body.starts_with("BEGIN:VCALENDAR\r\n") && body.contains("SUMMARY:Interview"),
        "{body}"
    );

    // Errors say what was asked and what chromedriver answered; waits are bounded.
    let missing = browser.find("#nowhere").await.err();
    let missing = missing
        .as_deref()
        .and_then(|e| e.downcast_ref::<WebDriverError>());
    let missing = missing.cloned();
    assert_eq!(
        missing.as_ref().map(|e| e.code.as_str()),
        Some("no such element")
    );
    assert_eq!(missing.as_ref().and_then(|e| e.status), Some(404));
    let text = missing.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.starts_with("find css \"#nowhere\""), "{text}");
    let waited = Instant::now();
    let timed_out = browser
        .wait_for("#nowhere", Duration::from_millis(500))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        waited.elapsed() < Duration::from_secs(5),
        "{:?}",
        waited.elapsed()
    );
    assert!(
        timed_out.contains("#nowhere") && timed_out.contains("/booked"),
        "{timed_out}"
    );

    browser.close().await?;
    Ok(())
}

/// One request the site answered.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    accept_language: String,
    body: String,
}

/// The page under test: plain HTTP/1.1 on a loopback port, one thread per connection, each
/// answer closing its connection. Lives as long as the test process.
struct Site {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Site {
    fn start() -> Result<Site> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let base = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Ok(Site { base, seen })
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Reads one request from the connection and answers it.
fn serve(mut stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return; // a speculative connection the browser opened and never used
    };
    let answer = route(&request);
    if let Ok(mut seen) = log.lock() {
        seen.push(request);
    }
    let _ = stream.write_all(&answer);
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        target,
        accept_language: headers.get("accept-language").cloned().unwrap_or_default(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The site: `/` (the GET form picks the time zone, the POST form books), `POST /book`
/// (303 to the confirmation), `/booked`, and the calendar file.
fn route(request: &Seen) -> Vec<u8> {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let query = form(query);
    let tz = query.get("tz").map(String::as_str).unwrap_or("UTC");
    match (request.method.as_str(), path) {
        ("GET", "/") => html(200, &index(tz)),
        ("POST", "/book") => {
            let booked = form(&request.body);
            let name = booked.get("name").map(String::as_str).unwrap_or_default();
            let tz = booked.get("tz").map(String::as_str).unwrap_or("UTC");
            let location = format!("/booked?name={}&tz={}", encode(name), encode(tz));
            response(303, "See Other", &[("Location", &location)], b"")
        }
        ("GET", "/booked") => {
            let name = query.get("name").map(String::as_str).unwrap_or_default();
            html(
                200,
                &page(
                    "Booked",
                    &format!(
                        "<h1>Booked</h1>\n<p id=\"confirmation\">Booked for {} at {} ({})</p>\n\
                         <p><a id=\"invite\" href=\"/files/invite.ics\" download>Add to calendar</a></p>",
                        escape(name),
                        slot(tz),
                        escape(tz)
                    ),
                ),
            )
        }
        ("GET", "/files/invite.ics") => response(
            200,
            "OK",
            &[
                ("Content-Type", "text/calendar; charset=utf-8"),
                ("Content-Disposition", "attachment; filename=\"invite.ics\""),
            ],
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Interview\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        _ => html(404, &page("Not found", "<h1>Not found</h1>")),
    }
}

fn index(tz: &str) -> String {
    let options: String = [
        ("UTC", "UTC"),
        ("Europe/Berlin", "Berlin"),
        ("America/New_York", "New York"),
    ]
    .iter()
    .map(|(value, name)| {
        let selected = if *value == tz { " selected" } else { "" };
        format!("<option value=\"{value}\"{selected}>{name}</option>")
    })
    .collect();
    page(
        "Smoke booking",
        &format!(
            "<h1>Pick a time</h1>\n\
             <form id=\"times\" method=\"get\" action=\"/\">\n\
             <label for=\"tz\">Time zone</label>\n\
             <select id=\"tz\" name=\"tz\">{options}</select>\n\
             <button type=\"submit\">Show times</button>\n\
             </form>\n\
             <p id=\"shown\">Times in {tz}</p>\n\
             <ul id=\"slots\"><li>{slot}</li></ul>\n\
             <form id=\"book\" method=\"post\" action=\"/book\">\n\
             <input type=\"hidden\" name=\"tz\" value=\"{tz}\">\n\
             <label for=\"name\">Your name</label>\n\
             <input id=\"name\" name=\"name\" type=\"text\" required>\n\
             <button type=\"submit\">Book</button>\n\
             </form>",
            tz = escape(tz),
            slot = slot(tz),
        ),
    )
}

/// The one bookable slot, 09:00 UTC, as shown in `tz` (on a winter day).
fn slot(tz: &str) -> &'static str {
    match tz {
        "Europe/Berlin" => "10:00",
        "America/New_York" => "04:00",
        _ => "09:00",
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body><main>\n{body}\n</main></body>\n</html>\n"
    )
}

fn html(status: u16, body: &str) -> Vec<u8> {
    let reason = if status == 200 { "OK" } else { "Not Found" };
    response(
        status,
        reason,
        &[("Content-Type", "text/html; charset=utf-8")],
        body.as_bytes(),
    )
}

fn response(status: u16, reason: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// An `application/x-www-form-urlencoded` string (a query or a form body), decoded.
fn form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match text.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                Some(Ok(b)) => {
                    out.push(b);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|c| match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (c as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
