//! The provider sandbox: mailboxes a test changes as a person would, and which push to the
//! webhooks as Graph and Pub/Sub do.

use serde_json::{json, Value};

use crate::{Result, Running};

impl Running {
    /// Calls the sandbox's control API (`/sandbox{path}`).
    pub async fn sandbox(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.send(
            method,
            format!("{}/sandbox{path}", self.providers),
            None,
            body,
        )
        .await
    }

    /// Puts a message in a mailbox; the sandbox pushes before answering. Returns its id.
    pub async fn deliver(&self, address: &str, mail: Value) -> Result<String> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                &format!("/mailboxes/{address}/messages"),
                Some(mail),
            )
            .await?;
        assert_eq!(status, 201, "deliver: {body}");
        for answer in body["pushes"].as_array().into_iter().flatten() {
            assert!(
                matches!(answer.as_u64(), Some(202 | 204)),
                "a push was not accepted: {body}"
            );
        }
        Ok(body["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Moves a message to another folder (`deleteditems`, `archive`, `trash`, ...).
    pub async fn relocate(&self, address: &str, id: &str, folder: &str) -> Result<()> {
        let (status, body) = self
            .sandbox(
                reqwest::Method::POST,
                &format!("/mailboxes/{address}/messages/{id}/move"),
                Some(json!({"folder": folder})),
            )
            .await?;
        assert_eq!(status, 200, "move: {body}");
        Ok(())
    }
}
