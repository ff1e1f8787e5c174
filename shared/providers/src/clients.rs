//! Everything needed to call the providers on a seat's behalf, built once per cold start:
//! the OAuth applications, one HTTP client, the API base URLs (Zoom's among them) and the
//! retry policy.

use hiresync_domain::contract::Provider;
use secrecy::SecretString;

use crate::oauth::OAuthApp;
use crate::{
    Api, GmailClient, GoogleCalendarClient, GraphClient, InvalidBaseUrl, RetryPolicy, ZoomClient,
};

#[derive(Clone)]
pub struct ProviderClients {
    pub microsoft: OAuthApp,
    pub google: OAuthApp,
    pub http: reqwest::Client,
    pub graph_base: String,
    pub gmail_base: String,
    pub calendar_base: String,
    pub google_revoke_url: String,
    pub zoom_base: String,
    pub retry: RetryPolicy,
}

impl ProviderClients {
    /// The OAuth application registered with `provider`.
    pub fn oauth(&self, provider: Provider) -> &OAuthApp {
        match provider {
            Provider::Microsoft365 => &self.microsoft,
            Provider::GoogleWorkspace => &self.google,
        }
    }

    fn api(&self, token: &SecretString) -> Api {
        Api::new(self.http.clone(), token.clone()).with_retry(self.retry)
    }

    pub fn graph(&self, token: &SecretString) -> Result<GraphClient, InvalidBaseUrl> {
        GraphClient::new(self.api(token), &self.graph_base)
    }

    pub fn gmail(&self, token: &SecretString) -> Result<GmailClient, InvalidBaseUrl> {
        GmailClient::new(self.api(token), &self.gmail_base)
    }

    pub fn calendar(&self, token: &SecretString) -> Result<GoogleCalendarClient, InvalidBaseUrl> {
        GoogleCalendarClient::new(self.api(token), &self.calendar_base)
    }

    /// Zoom's API with the Zoom account's token.
    pub fn zoom(&self, token: &SecretString) -> Result<ZoomClient, InvalidBaseUrl> {
        ZoomClient::new(self.api(token), &self.zoom_base)
    }
}
