//! Microsoft Graph: who the mailbox belongs to, whether it is usable, and the change
//! subscriptions that make Graph call our webhook (protocols.md §1.1-1.7).
//!
//! Every request carries `Prefer: IdType="ImmutableId"` so that ids stay the same when
//! messages move between folders (§1.10).

use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::http::{Api, ApiError, BaseUrl, InvalidBaseUrl, Repeat};

/// Graph v1.0 in the public cloud.
pub const GRAPH_BASE: &str = "https://graph.microsoft.com/v1.0";

/// Asks Graph for ids that survive moves between folders.
pub const PREFER_IMMUTABLE_ID: &str = "IdType=\"ImmutableId\"";

/// Subscription resources. Mail is watched mailbox-wide (`me/messages`: a change in any
/// folder), as the hint; per-folder delta is the truth (protocols-additions.md §3). The
/// per-folder resources are those of subscriptions earlier versions created, still
/// renewed or stopped under them until they are retired.
pub mod resources {
    pub const MESSAGES: &str = "me/messages";
    pub const INBOX_MESSAGES: &str = "me/mailFolders('Inbox')/messages";
    pub const SENT_ITEMS_MESSAGES: &str = "me/mailFolders('SentItems')/messages";
    pub const DELETED_ITEMS_MESSAGES: &str = "me/mailFolders('DeletedItems')/messages";
    pub const EVENTS: &str = "me/events";
}

/// Every change is a hint to sync; we want all of them.
pub const ALL_CHANGES: &str = "created,updated,deleted";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    /// The user's object id; stable across renames, unlike the addresses.
    pub id: String,
    /// The primary SMTP address; absent for accounts without an Exchange mailbox.
    pub mail: Option<String>,
    pub user_principal_name: String,
    /// `SMTP:primary@x`, `smtp:alias@x`, `x500:...`: the mailbox's addresses, returned
    /// only when selected; absent for personal accounts.
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
}

impl GraphUser {
    /// The SMTP addresses among [`GraphUser::proxy_addresses`] (primary and aliases),
    /// without their prefix; `x500:`, `sip:` and the like are not mail addresses.
    pub fn smtp_addresses(&self) -> impl Iterator<Item = &str> {
        self.proxy_addresses.iter().filter_map(|p| {
            let (kind, address) = p.split_once(':')?;
            kind.eq_ignore_ascii_case("smtp").then_some(address)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphCalendar {
    pub id: String,
    pub owner_address: Option<String>,
}

/// What to subscribe to. `client_state` is the secret Graph echoes in every notification,
/// the only proof a basic notification carries (§1.1): keep it at most 128 characters.
#[derive(Debug, Clone)]
pub struct SubscriptionRequest {
    /// A comma list such as [`ALL_CHANGES`].
    pub change_type: String,
    pub notification_url: String,
    /// Graph accepts it only at creation, so it is not optional here.
    pub lifecycle_notification_url: String,
    /// One of [`resources`], relative to the base URL.
    pub resource: String,
    /// Sent to whole seconds. Graph may refuse it as too far away: see
    /// [`GraphClient::create_subscription`].
    pub expiration: Timestamp,
    pub client_state: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub resource: String,
    #[serde(rename = "expirationDateTime")]
    pub expiration: Timestamp,
}

/// A subscription Graph accepted, and the lifetime ceiling it imposed on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    pub value: T,
    /// `Some(N)` when Graph refused the requested expiration as more than N minutes away
    /// and accepted `now + N`: remember N for the tenant and ask for no more next time.
    pub clamped_to_minutes: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct GraphClient {
    pub(crate) api: Api,
    pub(crate) base: BaseUrl,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    change_type: &'a str,
    notification_url: &'a str,
    lifecycle_notification_url: &'a str,
    resource: &'a str,
    expiration_date_time: Timestamp,
    client_state: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RenewBody {
    expiration_date_time: Timestamp,
}

#[derive(Deserialize)]
struct CalendarWire {
    id: String,
    owner: Option<EmailAddress>,
}

#[derive(Deserialize)]
struct EmailAddress {
    address: Option<String>,
}

impl GraphClient {
    /// `base` is [`GRAPH_BASE`] in production and a stub's URL in tests.
    pub fn new(api: Api, base: &str) -> Result<Self, InvalidBaseUrl> {
        Ok(Self {
            api,
            base: BaseUrl::parse(base)?,
        })
    }

    pub(crate) fn request(
        &self,
        http: &reqwest::Client,
        method: Method,
        url: &Url,
    ) -> RequestBuilder {
        http.request(method, url.clone())
            .header("Prefer", PREFER_IMMUTABLE_ID)
    }

    /// The signed-in user, to learn which mailbox a grant belongs to.
    pub async fn me(&self) -> Result<GraphUser, ApiError> {
        let url = self.base.join(
            &["me"],
            Some("$select=id,mail,userPrincipalName,proxyAddresses"),
        );
        self.api
            .send("graph.me", Repeat::Safe, |h| {
                self.request(h, Method::GET, &url)
            })
            .await?
            .json("graph.me")
    }

    /// Fails (e.g. `MailboxNotEnabledForRESTAPI`, `ErrorNonExistentMailbox`) when the
    /// user has no mailbox Graph can reach: on-premises, unlicensed or soft-deleted. A
    /// token alone does not tell us that, and subscriptions would fail later anyway.
    pub async fn mailbox_settings(&self) -> Result<(), ApiError> {
        let url = self.base.join(&["me", "mailboxSettings"], None);
        self.api
            .send("graph.mailbox_settings", Repeat::Safe, |h| {
                self.request(h, Method::GET, &url)
            })
            .await
            .map(drop)
    }

    /// The default calendar and its owner's address.
    pub async fn default_calendar(&self) -> Result<GraphCalendar, ApiError> {
        let url = self
            .base
            .join(&["me", "calendar"], Some("$select=id,owner"));
        let wire: CalendarWire = self
            .api
            .send("graph.default_calendar", Repeat::Safe, |h| {
                self.request(h, Method::GET, &url)
            })
            .await?
            .json("graph.default_calendar")?;
        Ok(GraphCalendar {
            id: wire.id,
            owner_address: wire.owner.and_then(|o| o.address),
        })
    }

    /// Creates a subscription with the requested expiration.
    ///
    /// Graph's ceiling for Outlook resources is disputed (4,230, 10,070 or 10,080 minutes,
    /// protocols.md §1.2), so none is assumed: when Graph answers 400 saying the
    /// expiration "can only be N minutes in the future", the call is repeated once with
    /// `now + N` and N is reported in [`Created::clamped_to_minutes`]. `now` is the
    /// caller's clock, read just before the call.
    ///
    /// A failed create is repeated only when Graph surely did nothing (no connection,
    /// 429, 503): after a timeout or a 500 it may already exist, and a blind retry could
    /// leave a duplicate firing twice.
    pub async fn create_subscription(
        &self,
        request: &SubscriptionRequest,
        now: Timestamp,
    ) -> Result<Created<Subscription>, ApiError> {
        let url = self.base.join(&["subscriptions"], None);
        with_clamp(request.expiration, now, |expiration| {
            let body = CreateBody {
                change_type: &request.change_type,
                notification_url: &request.notification_url,
                lifecycle_notification_url: &request.lifecycle_notification_url,
                resource: &request.resource,
                expiration_date_time: whole_seconds(expiration),
                client_state: request.client_state.expose_secret(),
            };
            let url = &url;
            async move {
                self.api
                    .send("graph.create_subscription", Repeat::Unsafe, |h| {
                        self.request(h, Method::POST, url).json(&body)
                    })
                    .await?
                    .json("graph.create_subscription")
            }
        })
        .await
    }

    /// Extends a subscription (and reauthorizes it, §1.6), with the same clamp-and-retry
    /// as [`Self::create_subscription`]. A 404 means Graph has dropped it: create a new
    /// one and delta-sync the gap.
    pub async fn renew_subscription(
        &self,
        id: &str,
        expiration: Timestamp,
        now: Timestamp,
    ) -> Result<Created<Subscription>, ApiError> {
        let url = self.base.join(&["subscriptions", id], None);
        with_clamp(expiration, now, |expiration| {
            let body = RenewBody {
                expiration_date_time: whole_seconds(expiration),
            };
            let url = &url;
            async move {
                self.api
                    .send("graph.renew_subscription", Repeat::Safe, |h| {
                        self.request(h, Method::PATCH, url).json(&body)
                    })
                    .await?
                    .json("graph.renew_subscription")
            }
        })
        .await
    }

    /// Deletes a subscription; one that is already gone counts as deleted.
    pub async fn delete_subscription(&self, id: &str) -> Result<(), ApiError> {
        let url = self.base.join(&["subscriptions", id], None);
        match self
            .api
            .send("graph.delete_subscription", Repeat::Safe, |h| {
                self.request(h, Method::DELETE, &url)
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

async fn with_clamp<F, Fut>(
    requested: Timestamp,
    now: Timestamp,
    call: F,
) -> Result<Created<Subscription>, ApiError>
where
    F: Fn(Timestamp) -> Fut,
    Fut: Future<Output = Result<Subscription, ApiError>>,
{
    let err = match call(requested).await {
        Ok(value) => {
            return Ok(Created {
                value,
                clamped_to_minutes: None,
            })
        }
        Err(err) => err,
    };
    let Some(minutes) = lifetime_ceiling(&err) else {
        return Err(err);
    };
    let Ok(clamped) = now.checked_add(SignedDuration::from_mins(i64::from(minutes))) else {
        return Err(err);
    };
    tracing::info!(
        minutes,
        "Graph refused the subscription lifetime; retrying with its ceiling"
    );
    let value = call(clamped).await?;
    Ok(Created {
        value,
        clamped_to_minutes: Some(minutes),
    })
}

/// The N of a 400 "Subscription expiration can only be N minutes in the future.".
fn lifetime_ceiling(err: &ApiError) -> Option<u32> {
    match err {
        ApiError::Status {
            status: 400,
            message: Some(message),
            ..
        } => minutes_in_message(message),
        _ => None,
    }
}

fn minutes_in_message(message: &str) -> Option<u32> {
    const MARKER: &str = "can only be";
    // ASCII lowering keeps byte offsets, so slices of `lower` line up with the original.
    let lower = message.to_ascii_lowercase();
    let rest = &lower[lower.find(MARKER)? + MARKER.len()..];
    // Tolerate a few words before the number ("can only be up to 4,230 minutes").
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    if start > 16 {
        return None;
    }
    let number = &rest[start..];
    let end = number
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(number.len());
    let minutes: u32 = number[..end].replace(',', "").parse().ok()?;
    let unit = number[end..].trim_start();
    (unit.starts_with("minute") && minutes > 0).then_some(minutes)
}

/// Graph parses expirations with .NET, which accepts at most 7 fractional digits; whole
/// seconds avoid the question (and truncating never goes past a ceiling).
fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ceiling_from_the_known_wordings() {
        for (message, expected) in [
            (
                "Subscription expiration can only be 4230 minutes in the future.",
                Some(4230),
            ),
            (
                "subscription expiration can only be 10070 minutes in the future",
                Some(10070),
            ),
            (
                "Expiration can only be up to 4,230 minutes from now.",
                Some(4230),
            ),
            ("The expiration can only be 1 minute in the future", Some(1)),
            (
                "Subscription expiration can only be 4230 hours in the future.",
                None,
            ),
            ("Subscription validation request failed.", None),
            ("can only be 0 minutes", None),
            ("can only be set by the owner, 4230 minutes", None),
        ] {
            assert_eq!(minutes_in_message(message), expected, "{message}");
        }
    }

    #[test]
    fn only_a_400_is_a_lifetime_refusal() {
        let err = |status| ApiError::Status {
            status,
            code: Some("ExtensionError".into()),
            message: Some("Subscription expiration can only be 4230 minutes in the future.".into()),
            reason: None,
            retry_after: None,
        };
        assert_eq!(lifetime_ceiling(&err(400)), Some(4230));
        assert_eq!(lifetime_ceiling(&err(403)), None);
    }

    #[test]
    fn expirations_are_sent_in_whole_seconds() {
        let t: Timestamp = "2026-01-05T10:00:00.987654321Z".parse().unwrap();
        assert_eq!(whole_seconds(t).to_string(), "2026-01-05T10:00:00Z");
    }
}
