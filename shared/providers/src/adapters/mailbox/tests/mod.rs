//! The mailbox adapters against a stub speaking Graph's and Gmail's documented shapes: the
//! streams in order, their cursor keys, the steps that only move cursors, what a removal
//! means, and what each message becomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hiresync_domain::connection::Cursor;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    ChangePage, CursorUpdate, MailChange, MailItem, MailboxChanges, MailboxSource,
};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::ProviderMailboxes;
use crate::{http_client, RetryPolicy};

const OWNER: &str = "rita@acme.example";

pub(super) fn lookback() -> Timestamp {
    "2025-03-02T09:00:00Z".parse().unwrap()
}

pub(super) async fn open(provider: Provider) -> (MockServer, Box<dyn MailboxChanges>) {
    let server = MockServer::start().await;
    let mailboxes = ProviderMailboxes {
        http: http_client().unwrap(),
        graph_base: format!("{}/graph", server.uri()),
        gmail_base: format!("{}/gmail", server.uri()),
        retry: RetryPolicy {
            max_attempts: 1,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
        },
    };
    let mailbox = mailboxes
        .open(
            provider,
            &EmailAddress::parse(OWNER).unwrap(),
            &SecretString::from("access"),
        )
        .unwrap();
    (server, mailbox)
}

pub(super) async fn get(server: &MockServer, p: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(response)
        .mount(server)
        .await;
}

pub(super) fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub(super) fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404)
        .set_body_json(json!({"error": {"code": "ErrorItemNotFound", "message": "gone"}}))
}

/// Applies a step's cursor updates, as the sync does once the step's changes are stored.
pub(super) fn store(cursors: &mut Cursor, page: &ChangePage) {
    for CursorUpdate { key, value } in &page.cursor {
        match value {
            Some(v) => cursors.0.insert(key.clone(), v.clone()),
            None => cursors.0.remove(key),
        };
    }
}

pub(super) async fn step(mailbox: &mut dyn MailboxChanges, cursors: &mut Cursor) -> ChangePage {
    let page = mailbox.next_page(cursors, lookback(), 50).await.unwrap();
    store(cursors, &page);
    page
}

/// The provider ids of a step's changes, deletes marked with a leading `-`.
pub(super) fn ids(page: &ChangePage) -> Vec<String> {
    page.changes
        .iter()
        .map(|c| match c {
            MailChange::Message(MailItem::Conversation(m)) => m.facts.provider_id.clone(),
            MailChange::Message(MailItem::NotConversation) => "(not a conversation)".into(),
            MailChange::Message(MailItem::Unreadable { code }) => format!("(unreadable {code})"),
            MailChange::Deleted { provider_id } => format!("-{provider_id}"),
        })
        .collect()
}

mod gmail;
mod graph;
