//! Who a mailbox is: its primary address and the alias addresses mail to it may carry
//! (Graph `proxyAddresses`, Gmail send-as addresses), so a sync can tell that mail to or
//! from an alias is the owner's own.
//!
//! Mail to an alias needs nothing more: the test delivers it to the owner's mailbox, as the
//! provider routes it, and the message keeps the alias in its recipients.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::{caller, unauthorized, Sandbox};

impl Sandbox {
    /// Sets `address`'s alias addresses, replacing any it had (none clears them).
    pub fn aliases(&self, address: &str, aliases: &[&str]) -> &Self {
        let aliases: Vec<String> = aliases
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        self.lock().aliases.insert(address.to_lowercase(), aliases);
        self
    }

    /// `address`'s alias addresses, in the order they were set.
    pub fn alias_addresses(&self, address: &str) -> Vec<String> {
        self.lock()
            .aliases
            .get(&address.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }
}

/// `GET /graph/me`: the signed-in user, with every address of the mailbox in
/// `proxyAddresses` (the primary one `SMTP:`, aliases `smtp:`, as Exchange writes them).
/// `$select` is ignored: the answer always has every field.
pub(crate) async fn graph_me(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    let Some((a, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    let proxies: Vec<String> = std::iter::once(format!("SMTP:{a}"))
        .chain(s.alias_addresses(&a).iter().map(|x| format!("smtp:{x}")))
        .collect();
    Json(json!({
        "id": format!("oid-{a}"),
        "mail": a,
        "userPrincipalName": a,
        "proxyAddresses": proxies,
    }))
    .into_response()
}

/// `GET /gmail/users/me/settings/sendAs`: the primary address, then each alias, all
/// verified.
pub(crate) async fn gmail_send_as(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    let Some((a, _)) = caller(&s, &headers) else {
        return unauthorized();
    };
    let primary = json!({
        "sendAsEmail": a, "isPrimary": true, "isDefault": true, "verificationStatus": "accepted",
    });
    let aliases = s
        .alias_addresses(&a)
        .into_iter()
        .map(|x| json!({"sendAsEmail": x, "verificationStatus": "accepted"}));
    let all: Vec<_> = std::iter::once(primary).chain(aliases).collect();
    Json(json!({"sendAs": all})).into_response()
}

#[derive(Deserialize)]
pub(crate) struct AliasesBody {
    aliases: Vec<String>,
}

/// `PUT /sandbox/accounts/{address}/aliases {"aliases": [...]}`: 204.
pub(crate) async fn put_aliases(
    State(s): State<Sandbox>,
    Path(address): Path<String>,
    Json(body): Json<AliasesBody>,
) -> StatusCode {
    let aliases: Vec<&str> = body.aliases.iter().map(String::as_str).collect();
    s.aliases(&address, &aliases);
    StatusCode::NO_CONTENT
}
