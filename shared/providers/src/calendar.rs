//! Google Calendar: the primary calendar and its push channels (protocols.md §3.3).
//!
//! Channels never renew: a new one (with a new id) replaces the old, the two overlap for
//! a while, and the old one is stopped.

use jiff::Timestamp;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::http::{google_json, Api, ApiError, BaseUrl, InvalidBaseUrl, Repeat};

pub const CALENDAR_BASE: &str = "https://www.googleapis.com/calendar/v3";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleCalendar {
    /// For the primary calendar, the owner's address.
    pub id: String,
    pub time_zone: Option<String>,
}

/// A channel to open. `token` comes back in `X-Goog-Channel-Token` on every notification
/// and is how we tell them from forgeries (at most 256 characters).
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// Unique per channel, at most 64 characters; a renewal needs a new one.
    pub channel_id: String,
    /// Our HTTPS webhook, with a publicly trusted certificate.
    pub address: String,
    pub token: SecretString,
    /// Always sent: the default lifetime is disputed (one hour or about a week, §3.3).
    pub ttl_seconds: u64,
}

/// An open channel. Both ids are needed to stop it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    pub resource_id: String,
    #[serde(deserialize_with = "google_json::epoch_ms")]
    pub expiration: Timestamp,
}

#[derive(Serialize)]
struct WatchBody<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    address: &'a str,
    token: &'a str,
    params: WatchParams,
}

#[derive(Serialize)]
struct WatchParams {
    ttl: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StopBody<'a> {
    id: &'a str,
    resource_id: &'a str,
}

#[derive(Debug, Clone)]
pub struct GoogleCalendarClient {
    pub(crate) api: Api,
    pub(crate) base: BaseUrl,
}

impl GoogleCalendarClient {
    /// `base` is [`CALENDAR_BASE`] in production and a stub's URL in tests.
    pub fn new(api: Api, base: &str) -> Result<Self, InvalidBaseUrl> {
        Ok(Self {
            api,
            base: BaseUrl::parse(base)?,
        })
    }

    /// The user's primary calendar; its id is the address the grant belongs to.
    pub async fn primary(&self) -> Result<GoogleCalendar, ApiError> {
        let url = self.base.join(&["calendars", "primary"], None);
        self.api
            .send("calendar.primary", Repeat::Safe, |h| h.get(url.clone()))
            .await?
            .json("calendar.primary")
    }

    /// Opens a push channel on a calendar's events.
    ///
    /// Repeated only when Google surely did nothing (no connection, 429, 503): after a
    /// timeout the channel may exist already, and the caller should stop it or open
    /// another with a fresh id.
    pub async fn watch(
        &self,
        calendar_id: &str,
        request: &WatchRequest,
    ) -> Result<Channel, ApiError> {
        let url = self
            .base
            .join(&["calendars", calendar_id, "events", "watch"], None);
        let body = WatchBody {
            id: &request.channel_id,
            kind: "web_hook",
            address: &request.address,
            token: request.token.expose_secret(),
            params: WatchParams {
                ttl: request.ttl_seconds.to_string(),
            },
        };
        self.api
            .send("calendar.watch", Repeat::Unsafe, |h| {
                h.post(url.clone()).json(&body)
            })
            .await?
            .json("calendar.watch")
    }

    /// Stops a channel; an unknown one (already stopped or expired) counts as stopped.
    /// Pings can still arrive for a short while afterwards.
    pub async fn stop(&self, channel_id: &str, resource_id: &str) -> Result<(), ApiError> {
        let url: Url = self.base.join(&["channels", "stop"], None);
        let body = StopBody {
            id: channel_id,
            resource_id,
        };
        match self
            .api
            .send("calendar.stop", Repeat::Safe, |h| {
                h.post(url.clone()).json(&body)
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
