//! The settings API as the product calls it: configure a contract, connect a seat, read back
//! what sync stored, why a message was not synced, and the state of a seat's connection.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::{Result, Running};

impl Running {
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.send(method, format!("{}{path}", self.api), Some(bearer), body)
            .await
    }

    /// Puts a contract's settings as its admin.
    pub async fn settings(&self, contract: &str, settings: Value) -> Result<()> {
        let admin = self.token(contract, "admin-seat", "admin")?;
        let (status, body) = self
            .api(
                reqwest::Method::PUT,
                &format!("/v1/contracts/{contract}/settings"),
                &admin,
                Some(settings),
            )
            .await?;
        assert_eq!(status, 200, "settings: {body}");
        Ok(())
    }

    /// A seat connects its mailbox: the consent URL, the sandbox's redirect to the front end,
    /// and the front end finishing the sign-in with the seat's own token.
    pub async fn connect(&self, contract: &str, seat: &str, address: &str) -> Result<()> {
        self.connect_kind(contract, seat, address, "email").await
    }

    /// A seat connects its mailbox (`email`) or calendar (`calendar`).
    pub async fn connect_kind(
        &self,
        contract: &str,
        seat: &str,
        address: &str,
        kind: &str,
    ) -> Result<()> {
        let (status, _) = self
            .sandbox(
                reqwest::Method::POST,
                "/accounts",
                Some(json!({"address": address})),
            )
            .await?;
        assert_eq!(status, 204);
        let (status, start) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/seats/{seat}/connections/{kind}/authorize"),
                &self.token(contract, seat, "recruiter")?,
                Some(json!({"login_hint": address})),
            )
            .await?;
        assert_eq!(status, 200, "authorize: {start}");
        let bearer = self.token(contract, seat, "recruiter")?;
        let url = start["authorization_url"].as_str().unwrap_or_default();
        let back = hiresync_scenario::consent(&self.http, url).await?;
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                &format!("/v1/contracts/{contract}/seats/{seat}/connections/{kind}/complete"),
                &bearer,
                Some(hiresync_scenario::carried(&back)?),
            )
            .await?;
        assert_eq!(status, 200, "complete: {body}");
        self.settle().await
    }

    /// provider id -> counterpart, for every message the seat has stored.
    pub async fn stored(&self, contract: &str, seat: &str) -> Result<BTreeMap<String, String>> {
        let token = self.token(contract, seat, "recruiter")?;
        let mut stored = BTreeMap::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = format!("/v1/contracts/{contract}/seats/{seat}/threads?limit=100");
            if let Some(n) = &next {
                path.push_str(&format!("&next={}", encode(n)));
            }
            let (status, page) = self.api(reqwest::Method::GET, &path, &token, None).await?;
            assert_eq!(status, 200, "threads: {page}");
            for t in page["threads"].as_array().into_iter().flatten() {
                assert_eq!(
                    t["visibility"], "private",
                    "synced mail is private by default"
                );
                for m in t["messages"].as_array().into_iter().flatten() {
                    stored.insert(
                        m["provider_id"].as_str().unwrap_or_default().to_owned(),
                        t["counterpart"].as_str().unwrap_or_default().to_owned(),
                    );
                }
            }
            match page["next"].as_str() {
                Some(n) => next = Some(n.to_owned()),
                None => return Ok(stored),
            }
        }
    }

    /// The provider ids of every message the seat has stored.
    pub async fn stored_ids(&self, contract: &str, seat: &str) -> Result<BTreeSet<String>> {
        Ok(self.stored(contract, seat).await?.into_keys().collect())
    }

    /// The recorded reason a message was not synced, asked under `counterpart`.
    pub async fn why(
        &self,
        contract: &str,
        seat: &str,
        counterpart: &str,
        id: &str,
    ) -> Result<Option<String>> {
        let (status, body) = self
            .api(
                reqwest::Method::GET,
                &format!(
                    "/v1/contracts/{contract}/seats/{seat}/skips?counterpart={}&message={}",
                    encode(counterpart),
                    encode(id)
                ),
                &self.token(contract, seat, "recruiter")?,
                None,
            )
            .await?;
        assert_eq!(status, 200, "skips: {body}");
        Ok(body["decisions"][0]["code"].as_str().map(str::to_owned))
    }

    /// The seat's email connection state (`authorized`, ...).
    pub async fn email_state(&self, contract: &str, seat: &str) -> Result<String> {
        let email = self.email_connection(contract, seat).await?;
        Ok(email["state"].as_str().unwrap_or_default().to_owned())
    }

    /// The seat's email sync status as the API shows it.
    pub async fn sync_status(&self, contract: &str, seat: &str) -> Result<Value> {
        Ok(self.email_connection(contract, seat).await?["sync"].clone())
    }

    async fn email_connection(&self, contract: &str, seat: &str) -> Result<Value> {
        let (status, body) = self
            .api(
                reqwest::Method::GET,
                &format!("/v1/contracts/{contract}/seats/{seat}/connections"),
                &self.token(contract, seat, "recruiter")?,
                None,
            )
            .await?;
        assert_eq!(status, 200, "connections: {body}");
        let email = body["connections"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["kind"] == "email")
            .cloned()
            .ok_or("no email connection")?;
        Ok(email)
    }
}

/// Percent-encodes a query value (addresses and cursors carry `@`, `+`, `/`, `=`).
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
