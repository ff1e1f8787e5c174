//! The mailbox port ([`MailboxSource`], [`MailboxChanges`]) over the providers' APIs: one
//! adapter per provider, each walking its own streams and cursors.

mod facts;
mod gmail;
mod graph;

use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{MailboxChanges, MailboxError, MailboxSource};
use secrecy::SecretString;

use crate::ProviderClients;

/// Opens a seat's mailbox with the provider clients of this cold start.
#[derive(Clone)]
pub struct ProviderMailboxes {
    clients: ProviderClients,
}

impl ProviderMailboxes {
    pub fn new(clients: ProviderClients) -> Self {
        ProviderMailboxes { clients }
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
                let graph = self
                    .clients
                    .graph(access)
                    .map_err(|e| MailboxError::new("graph base URL", e))?;
                Box::new(graph::GraphMailbox::new(graph, owner.clone()))
            }
            Provider::GoogleWorkspace => {
                let gmail = self
                    .clients
                    .gmail(access)
                    .map_err(|e| MailboxError::new("gmail base URL", e))?;
                Box::new(gmail::GmailMailbox::new(gmail))
            }
        })
    }
}
