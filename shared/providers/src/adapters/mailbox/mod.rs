//! The mailbox port ([`MailboxSource`], [`MailboxChanges`]) over the providers' APIs: one
//! adapter per provider, each walking its own streams and cursors.

mod facts;
mod gmail;
mod graph;
#[cfg(test)]
mod tests;

use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{MailboxChanges, MailboxError, MailboxSource};
use secrecy::SecretString;

use crate::{Api, GmailClient, GraphClient, ProviderClients, RetryPolicy};

/// Opens a seat's mailbox at its provider. Reading mail needs no OAuth application: one
/// HTTP client, the API base URLs and the retry policy.
#[derive(Clone)]
pub struct ProviderMailboxes {
    pub http: reqwest::Client,
    pub graph_base: String,
    pub gmail_base: String,
    pub retry: RetryPolicy,
}

impl ProviderMailboxes {
    /// With the provider clients of this cold start.
    pub fn new(clients: &ProviderClients) -> Self {
        ProviderMailboxes {
            http: clients.http.clone(),
            graph_base: clients.graph_base.clone(),
            gmail_base: clients.gmail_base.clone(),
            retry: clients.retry,
        }
    }

    fn api(&self, access: &SecretString) -> Api {
        Api::new(self.http.clone(), access.clone()).with_retry(self.retry)
    }
}

impl MailboxSource for ProviderMailboxes {
    fn open(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        access: &SecretString,
    ) -> Result<Box<dyn MailboxChanges>, MailboxError> {
        Ok(match provider {
            Provider::Microsoft365 => {
                let graph = GraphClient::new(self.api(access), &self.graph_base)
                    .map_err(|e| MailboxError::new("graph base URL", e))?;
                Box::new(graph::GraphMailbox::new(graph, owner.clone()))
            }
            Provider::GoogleWorkspace => {
                let gmail = GmailClient::new(self.api(access), &self.gmail_base)
                    .map_err(|e| MailboxError::new("gmail base URL", e))?;
                Box::new(gmail::GmailMailbox::new(gmail))
            }
        })
    }
}
