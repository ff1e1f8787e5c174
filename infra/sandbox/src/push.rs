//! Pushes, as the providers send them: Graph change notifications to a subscription's
//! notification URL (with its clientState), and Gmail changes through a Pub/Sub push
//! subscription, each request carrying an OIDC token the sandbox signs with its own key
//! (its public half is served at `/pubsub/certs`, as Google serves its own).
//!
//! Every push is recorded with its answer, so a test can read what was sent and replay it
//! (duplicated, shuffled) exactly as a provider redelivers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use serde_json::{json, Value};

use crate::mailbox::{Change, Folder};

/// The sandbox's Pub/Sub signing key (PKCS#1 DER), made for local development only.
const SIGNING_KEY: &[u8] = include_bytes!("../keys/pubsub-signing-key.der");
/// Its public half, as a JWK set.
pub const JWKS: &str = include_str!("../keys/pubsub-jwks.json");
const KEY_ID: &str = "sandbox-pubsub-1";

/// Where the sandbox's Pub/Sub subscription pushes, and who it says it is.
#[derive(Debug, Clone)]
pub struct PubSubPush {
    pub endpoint: String,
    pub audience: String,
    pub service_account: String,
}

/// One push as sent: where, what, and the answer.
#[derive(Debug, Clone, Serialize)]
pub struct Push {
    pub url: String,
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The HTTP status the receiver answered, `None` if it could not be reached.
    pub status: Option<u16>,
}

/// A Graph subscription as the sandbox keeps it.
#[derive(Debug, Clone)]
pub struct GraphSubscription {
    pub id: String,
    pub owner: String,
    pub resource: String,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub client_state: Option<String>,
    pub expiration: Value,
}

impl GraphSubscription {
    /// The mail folder the subscription watches, if it watches one.
    pub fn folder(&self) -> Option<Folder> {
        let inner = self.resource.split("('").nth(1)?.split("')").next()?;
        Folder::parse(inner)
    }

    /// Whether the subscription watches every message of the mailbox, whatever folder it
    /// is in: `me/messages` or `users/{id}/messages` (with or without a leading `/`).
    pub fn mailbox_wide(&self) -> bool {
        let resource = self.resource.trim_start_matches('/').to_ascii_lowercase();
        let parts: Vec<&str> = resource.split('/').collect();
        matches!(
            parts.as_slice(),
            ["me", "messages"] | ["users", _, "messages"]
        )
    }
}

/// What a Gmail watch asked to be told about: with no labels every change; otherwise
/// changes to a message that had or gets one of them, or with `exclude` changes touching
/// some label not among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GmailWatchFilter {
    pub labels: Vec<String>,
    pub exclude: bool,
}

impl GmailWatchFilter {
    /// Whether `change` is pushed to this watch.
    pub fn wants(&self, change: &Change) -> bool {
        if self.labels.is_empty() {
            return true;
        }
        if self.exclude {
            let mut touched = change.before.gmail_labels();
            touched.extend(change.after.gmail_labels());
            touched.iter().any(|l| !self.labels.contains(l))
        } else {
            change.touches_labels(&self.labels)
        }
    }
}

/// The notification a Graph subscription receives for `change`, if the change concerns
/// its folder (or the subscription watches the whole mailbox).
pub fn graph_notification(sub: &GraphSubscription, change: &Change) -> Option<(String, String)> {
    let change_type = if sub.mailbox_wide() {
        change.mailbox_change_type()
    } else {
        change.graph_change_type(sub.folder()?)?
    };
    let resource = format!("Users/oid-{}/Messages/{}", sub.owner, change.id);
    let body = json!({"value": [{
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": sub.expiration,
        "changeType": change_type,
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": resource,
            "@odata.etag": format!("W/\"{}\"", change.etag),
            "id": change.id,
        },
        "clientState": sub.client_state,
        "tenantId": "sandbox-tenant",
    }]});
    Some((sub.notification_url.clone(), body.to_string()))
}

/// A lifecycle notification (`missed`, `reauthorizationRequired`, `subscriptionRemoved`)
/// for a subscription that asked for them.
pub fn graph_lifecycle(sub: &GraphSubscription, event: &str) -> Option<(String, String)> {
    let body = json!({"value": [{
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": sub.expiration,
        "lifecycleEvent": event,
        "clientState": sub.client_state,
        "tenantId": "sandbox-tenant",
    }]});
    Some((sub.lifecycle_url.clone()?, body.to_string()))
}

/// The Pub/Sub push for a Gmail mailbox's new history id, with its signed token.
pub fn pubsub_push(
    config: &PubSubPush,
    address: &str,
    history_id: u64,
    message_id: &str,
    now: i64,
) -> Result<(Vec<(String, String)>, String), jsonwebtoken::errors::Error> {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KEY_ID.to_owned());
    let claims = json!({
        "iss": "https://accounts.google.com",
        "aud": config.audience,
        "azp": "sandbox-pubsub",
        "sub": "sandbox-pubsub",
        "email": config.service_account,
        "email_verified": true,
        "iat": now,
        "exp": now + 3600,
    });
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(SIGNING_KEY))?;
    let data = json!({"emailAddress": address, "historyId": history_id}).to_string();
    let body = json!({
        "message": {
            "data": STANDARD.encode(data),
            "messageId": message_id,
            "publishTime": jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_string(),
        },
        "subscription": "projects/sandbox/subscriptions/gmail-push",
    });
    Ok((
        vec![("authorization".to_owned(), format!("Bearer {token}"))],
        body.to_string(),
    ))
}

/// Sends one push and records the answer.
pub async fn send(
    http: &reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
) -> Push {
    let mut request = http
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone());
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let status = request.send().await.ok().map(|r| r.status().as_u16());
    Push {
        url,
        headers,
        body,
        status,
    }
}

/// Graph's validation handshake against a notification URL: the endpoint must echo the
/// token, as plain text, with 200.
pub async fn validate(http: &reqwest::Client, url: &str, token: &str) -> bool {
    let Ok(mut target) = url::Url::parse(url) else {
        return false;
    };
    target
        .query_pairs_mut()
        .append_pair("validationToken", token);
    match http
        .post(target)
        .header("content-type", "text/plain")
        .send()
        .await
    {
        Ok(r) if r.status().as_u16() == 200 => r.text().await.map(|t| t == token).unwrap_or(false),
        _ => false,
    }
}
