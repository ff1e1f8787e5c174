//! Gmail: the mailbox's identity and history cursor, and the `users.watch` that makes
//! Gmail publish changes to our Pub/Sub topic (protocols.md §2.2).

use jiff::Timestamp;
use reqwest::header::CONTENT_LENGTH;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};

use crate::http::{google_json, Api, ApiError, BaseUrl, InvalidBaseUrl, Repeat};

pub const GMAIL_BASE: &str = "https://gmail.googleapis.com/gmail/v1";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GmailProfile {
    pub email_address: String,
    /// The mailbox's current history id: where incremental sync starts for a new
    /// connection. Opaque text; ids grow but have gaps, so never do arithmetic on them.
    #[serde(deserialize_with = "google_json::id_text")]
    pub history_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GmailWatch {
    /// Changes after this id will be notified.
    #[serde(deserialize_with = "google_json::id_text")]
    pub history_id: String,
    /// Gmail stops notifying after this unless `watch` is called again (daily is the
    /// recommendation, every 7 days the minimum).
    #[serde(deserialize_with = "google_json::epoch_ms")]
    pub expiration: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WatchBody<'a> {
    topic_name: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    label_ids: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    label_filter_behavior: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct GmailClient {
    pub(crate) api: Api,
    pub(crate) base: BaseUrl,
}

/// One send-as address of a Gmail mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendAs {
    pub send_as_email: String,
    #[serde(default)]
    pub is_primary: bool,
    /// `accepted` or `pending` for a custom address; absent for the primary one.
    pub verification_status: Option<String>,
}

impl GmailClient {
    /// `base` is [`GMAIL_BASE`] in production and a stub's URL in tests.
    pub fn new(api: Api, base: &str) -> Result<Self, InvalidBaseUrl> {
        Ok(Self {
            api,
            base: BaseUrl::parse(base)?,
        })
    }

    fn url(&self, last: &str) -> Url {
        self.base.join(&["users", "me", last], None)
    }

    pub async fn profile(&self) -> Result<GmailProfile, ApiError> {
        let url = self.url("profile");
        self.api
            .send("gmail.profile", Repeat::Safe, |h| h.get(url.clone()))
            .await?
            .json("gmail.profile")
    }

    /// Starts or refreshes the mailbox's watch (calling it again only refreshes it).
    ///
    /// `topic_name` is `projects/<proj>/topics/<topic>`, in the project that owns the
    /// OAuth client. With `label_ids` (e.g. `["INBOX", "SENT"]`) only changes to those
    /// labels are pushed; empty means every change.
    pub async fn watch(
        &self,
        topic_name: &str,
        label_ids: &[&str],
    ) -> Result<GmailWatch, ApiError> {
        let url = self.url("watch");
        let body = WatchBody {
            topic_name,
            label_ids,
            // `labelFilterAction` is deprecated in favour of this.
            label_filter_behavior: (!label_ids.is_empty()).then_some("INCLUDE"),
        };
        self.api
            .send("gmail.watch", Repeat::Safe, |h| {
                h.post(url.clone()).json(&body)
            })
            .await?
            .json("gmail.watch")
    }

    /// The mailbox's send-as addresses, the primary one included
    /// (`users.settings.sendAs.list`; `gmail.readonly` may read it, 1 quota unit).
    pub async fn send_as(&self) -> Result<Vec<SendAs>, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            #[serde(default)]
            send_as: Vec<SendAs>,
        }
        let url = self.base.join(&["users", "me", "settings", "sendAs"], None);
        let wire: Wire = self
            .api
            .send("gmail.send_as", Repeat::Safe, |h| h.get(url.clone()))
            .await?
            .json("gmail.send_as")?;
        Ok(wire.send_as)
    }

    /// Stops the mailbox's watch; notifications cease within minutes.
    pub async fn stop(&self) -> Result<(), ApiError> {
        let url = self.url("stop");
        self.api
            .send("gmail.stop", Repeat::Safe, |h| {
                // Google's front ends answer 411 to a POST without a length.
                h.request(Method::POST, url.clone())
                    .header(CONTENT_LENGTH, 0)
            })
            .await
            .map(drop)
    }
}
