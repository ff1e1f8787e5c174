//! The scheduler as the product and a candidate use it: a seat's settings, links minted for
//! recipients, the candidate's pages over plain HTTP (a form post, a redirect), and the
//! seat's calendar in the sandbox.

use serde_json::{json, Value};

use crate::{Result, Running};

/// A candidate's page: its status, where it redirects, and its HTML.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The times the page offers, as the instants its radio buttons carry, in order.
    pub fn offered(&self) -> Vec<String> {
        self.body
            .split(r#"name="start" value=""#)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect()
    }

    /// The `data-code` of a problem page.
    pub fn problem(&self) -> Option<String> {
        self.body
            .split(r#"data-code=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    }
}

impl Running {
    /// Saves the seat's scheduler settings as the seat.
    pub async fn scheduler(&self, contract: &str, seat: &str, settings: Value) -> Result<()> {
        let (status, body) = self
            .api(
                reqwest::Method::PUT,
                &format!("/v1/contracts/{contract}/seats/{seat}/scheduler"),
                &self.token(contract, seat, "recruiter")?,
                Some(settings),
            )
            .await?;
        assert_eq!(status, 200, "scheduler settings: {body}");
        Ok(())
    }

    /// One link per `(email, conversation)`, as the seat's bulk InMail asks; their URLs.
    pub async fn links(
        &self,
        contract: &str,
        seat: &str,
        recipients: &[(&str, &str)],
    ) -> Result<Vec<String>> {
        let recipients: Vec<Value> = recipients
            .iter()
            .map(|(email, conversation)| json!({"email": email, "conversation": conversation}))
            .collect();
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/seats/{seat}/scheduling-links"),
                &self.token(contract, seat, "recruiter")?,
                Some(json!({ "recipients": recipients })),
            )
            .await?;
        assert_eq!(status, 201, "links: {body}");
        Ok(body["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["url"].as_str().map(str::to_owned))
            .collect())
    }

    async fn page_of(&self, request: reqwest::RequestBuilder) -> Result<Page> {
        let response = request.send().await?;
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

    /// A candidate opens `url` (a link, or a page under it).
    pub async fn open_page(&self, url: &str) -> Result<Page> {
        self.page_of(self.http.get(url)).await
    }

    /// A candidate submits the booking form of `link` for `start`, seeing times in `zone`.
    pub async fn book(&self, link: &str, start: &str, zone: &str) -> Result<Page> {
        self.page_of(self.http.post(link).form(&[("start", start), ("tz", zone)]))
            .await
    }

    /// Puts a busy event in `address`'s calendar; the sandbox pushes before answering.
    pub async fn busy(&self, address: &str, start: &str, end: &str) -> Result<()> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                &format!("/calendars/{address}/events"),
                Some(json!({"subject": "Busy", "start": start, "end": end})),
            )
            .await?;
        assert_eq!(status, 201, "busy: {body}");
        Ok(())
    }

    /// The events in `address`'s calendar, as the sandbox lists them.
    pub async fn calendar_events(&self, address: &str) -> Result<Vec<Value>> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::GET,
                &format!("/calendars/{address}/events"),
                None,
            )
            .await?;
        assert_eq!(status, 200, "events: {body}");
        Ok(body["events"].as_array().cloned().unwrap_or_default())
    }
}

impl Running {
    /// What the InMail outbox holds (the messages the product would post in candidates'
    /// conversations), received and deleted as the product's consumer would.
    pub async fn inmail(&self) -> Result<Vec<Value>> {
        self.take_all("InmailOutboxQueue").await
    }

    /// The notices to recruiters (`NotificationsQueue`), received and deleted.
    pub async fn notices(&self) -> Result<Vec<Value>> {
        self.take_all("NotificationsQueue").await
    }

    /// Every message on `queue`, received and deleted.
    async fn take_all(&self, queue: &str) -> Result<Vec<Value>> {
        let url = self.queue_url(queue).to_owned();
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(out);
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap_or("null"))?);
                if let Some(receipt) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&url)
                        .receipt_handle(receipt)
                        .send()
                        .await?;
                }
            }
        }
    }

    /// The contract's admin connects Zoom account `account` (made in the sandbox with
    /// `users`, the first its owner): the consent URL, Zoom's redirect to the front end (the
    /// admin signing in as the owner), and the front end finishing with the admin's token.
    /// Returns what the completion answered.
    pub async fn connect_zoom(
        &self,
        contract: &str,
        account: &str,
        users: &[&str],
    ) -> Result<Value> {
        let admin_email = users.first().copied().unwrap_or_default();
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                "/zoom/accounts",
                Some(json!({"account_id": account, "users": users})),
            )
            .await?;
        assert_eq!(status, 201, "zoom account: {body}");
        let admin = self.token(contract, "admin-seat", "admin")?;
        let (status, start) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/zoom/authorize"),
                &admin,
                None,
            )
            .await?;
        assert_eq!(status, 200, "zoom authorize: {start}");
        let mut url = reqwest::Url::parse(start["authorization_url"].as_str().unwrap_or_default())?;
        url.query_pairs_mut().append_pair("login_hint", admin_email);
        let back = hiresync_scenario::consent(&self.http, url.as_str()).await?;
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/zoom/complete"),
                &admin,
                Some(hiresync_scenario::carried(&back)?),
            )
            .await?;
        assert_eq!(status, 200, "zoom complete: {body}");
        Ok(body)
    }

    /// The meetings of Zoom account `account`, as the sandbox lists them.
    pub async fn zoom_meetings(&self, account: &str) -> Result<Vec<Value>> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::GET,
                &format!("/zoom/accounts/{account}/meetings"),
                None,
            )
            .await?;
        assert_eq!(status, 200, "zoom meetings: {body}");
        Ok(body["meetings"].as_array().cloned().unwrap_or_default())
    }

    /// The interviews in `address`'s calendar (events the scheduler made), by attendee.
    pub async fn interviews(&self, address: &str) -> Result<Vec<(String, String, Value)>> {
        Ok(self
            .calendar_events(address)
            .await?
            .into_iter()
            .filter(|e| {
                e["status"] != "cancelled" && !e["attendees"].as_array().is_none_or(Vec::is_empty)
            })
            .map(|e| {
                let who = e["attendees"][0]["address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let start = e["start"].as_str().unwrap_or_default().to_owned();
                (who, start, e)
            })
            .collect())
    }
}

/// The recruiter of the scheduling tests, on Google Workspace.
pub const RITA: &str = "rita@acme.example";

/// A window from `start` to `end` on every day of the week.
pub fn every_day(start: &str, end: &str) -> Vec<Value> {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| json!({"weekday": d, "start": start, "end": end}))
    .collect()
}

impl Running {
    /// Rita's Google calendar connected (contract `acme`, seat `rita`), her scheduler set up
    /// (09:00–12:00 UTC every day, 30 minutes, by phone) and links minted for Noor and
    /// Jane; their URLs.
    pub async fn rita_sends_links(&self) -> Result<(String, String)> {
        self.settings(
            "acme",
            json!({"provider": "google_workspace", "email_access": "view_only", "calendar_enabled": true}),
        )
        .await?;
        self.connect_kind("acme", "rita", RITA, "calendar").await?;
        self.scheduler(
            "acme",
            "rita",
            json!({
                "length_minutes": 30, "time_zone": "UTC", "windows": every_day("09:00", "12:00"),
                "max_days_ahead": 3, "meeting": {"type": "phone", "number": "+44 20 7946 0000"},
            }),
        )
        .await?;
        let links = self
            .links(
                "acme",
                "rita",
                &[
                    ("noor@talent.example", "conv-noor"),
                    ("jane@talent.example", "conv-jane"),
                ],
            )
            .await?;
        assert_eq!(links.len(), 2, "{links:?}");
        Ok((links[0].clone(), links[1].clone()))
    }
}
