//! The providers' settings as a function reads them from its environment, and the clients
//! built from them once per cold start.
//!
//! What a function reads depends on what it does with the providers: only a function that
//! starts sign-ins ([`ProviderUse::SignIn`]) has a redirect URL; every function that calls
//! a provider on a seat's behalf has the OAuth applications' credentials (to refresh and
//! revoke) and the API endpoints (Zoom's included). Our Zoom app is read on its own
//! ([`read_zoom_settings`]), by the functions that connect or use the contract's Zoom
//! account. Endpoints default to the providers' own; the local suite and tests point them
//! at a sandbox.

use hiresync_domain::contract::Provider;
use hiresync_domain::ports::PushSettings;
use hiresync_domain::subscription::Lifetimes;
use hiresync_runtime::config::Env;
use jiff::SignedDuration;

use crate::oauth::{
    token_http_client, OAuthApp, OAuthError, OAuthSettings, GOOGLE_AUTHORIZE, GOOGLE_TOKEN,
    MICROSOFT_AUTHORIZE, MICROSOFT_TOKEN,
};
use crate::zoom_oauth::{
    ZoomOAuth, ZoomOAuthSettings, ZoomOAuthSetupError, ZOOM_AUTHORIZE, ZOOM_REVOKE, ZOOM_TOKEN,
};
use crate::{
    http_client, ProviderClients, RetryPolicy, CALENDAR_BASE, GMAIL_BASE, GOOGLE_REVOKE_URL,
    GRAPH_BASE, ZOOM_BASE,
};

/// What a function does with the providers, and so what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderUse {
    /// Starts and completes sign-ins: also reads `OAUTH_REDIRECT_URL` (and, for Zoom,
    /// `ZOOM_REDIRECT_URL`).
    SignIn,
    /// Only calls the providers on a seat's behalf (refresh, revoke, APIs).
    OnBehalf,
}

/// The OAuth applications and API endpoints of both providers.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub microsoft: OAuthSettings,
    pub google: OAuthSettings,
    pub graph_base: String,
    pub gmail_base: String,
    pub calendar_base: String,
    pub google_revoke_url: String,
    pub zoom_base: String,
}

fn or_default<L: Fn(&str) -> Option<String>>(env: &Env<L>, name: &str, default: &str) -> String {
    env.optional(name).unwrap_or_else(|| default.to_owned())
}

impl ProviderSettings {
    /// Reads `MICROSOFT_*` and `GOOGLE_*` (client id required, and the client secret from
    /// Secrets Manager, named by `<PROVIDER>_CLIENT_SECRET_ARN`; authorize and token URLs
    /// optional), the optional API base URLs (`GRAPH_BASE_URL`, `GMAIL_BASE_URL`,
    /// `CALENDAR_BASE_URL`, `ZOOM_BASE_URL`, `GOOGLE_REVOKE_URL`), and for
    /// [`ProviderUse::SignIn`] the required `OAUTH_REDIRECT_URL`.
    pub fn read<L: Fn(&str) -> Option<String>>(env: &mut Env<L>, usage: ProviderUse) -> Self {
        let redirect = match usage {
            ProviderUse::SignIn => Some(env.required("OAUTH_REDIRECT_URL")),
            ProviderUse::OnBehalf => None,
        };
        let mut app = |prefix: &str, authorize: &str, token: &str| OAuthSettings {
            client_id: env.required(&format!("{prefix}_CLIENT_ID")),
            client_secret: env.secret(&format!("{prefix}_CLIENT_SECRET")),
            authorize_url: or_default(env, &format!("{prefix}_AUTHORIZE_URL"), authorize),
            token_url: or_default(env, &format!("{prefix}_TOKEN_URL"), token),
            redirect_url: redirect.clone(),
        };
        let microsoft = app("MICROSOFT", MICROSOFT_AUTHORIZE, MICROSOFT_TOKEN);
        let google = app("GOOGLE", GOOGLE_AUTHORIZE, GOOGLE_TOKEN);
        Self {
            microsoft,
            google,
            graph_base: or_default(env, "GRAPH_BASE_URL", GRAPH_BASE),
            gmail_base: or_default(env, "GMAIL_BASE_URL", GMAIL_BASE),
            calendar_base: or_default(env, "CALENDAR_BASE_URL", CALENDAR_BASE),
            google_revoke_url: or_default(env, "GOOGLE_REVOKE_URL", GOOGLE_REVOKE_URL),
            zoom_base: or_default(env, "ZOOM_BASE_URL", ZOOM_BASE),
        }
    }
}

/// Reads our Zoom app: `ZOOM_CLIENT_ID` required, the client secret from Secrets Manager
/// (named by `ZOOM_CLIENT_SECRET_ARN`), the optional `ZOOM_AUTHORIZE_URL`, `ZOOM_TOKEN_URL`
/// and `ZOOM_REVOKE_URL`, and for [`ProviderUse::SignIn`] the required `ZOOM_REDIRECT_URL`.
/// Zoom's API base is [`ProviderSettings::zoom_base`] (`ZOOM_BASE_URL`).
pub fn read_zoom_settings<L: Fn(&str) -> Option<String>>(
    env: &mut Env<L>,
    usage: ProviderUse,
) -> ZoomOAuthSettings {
    ZoomOAuthSettings {
        client_id: env.required("ZOOM_CLIENT_ID"),
        client_secret: env.secret("ZOOM_CLIENT_SECRET"),
        authorize_url: or_default(env, "ZOOM_AUTHORIZE_URL", ZOOM_AUTHORIZE),
        token_url: or_default(env, "ZOOM_TOKEN_URL", ZOOM_TOKEN),
        revoke_url: or_default(env, "ZOOM_REVOKE_URL", ZOOM_REVOKE),
        redirect_url: match usage {
            ProviderUse::SignIn => Some(env.required("ZOOM_REDIRECT_URL")),
            ProviderUse::OnBehalf => None,
        },
    }
}

/// Reads where providers push and how long subscriptions live: `WEBHOOK_BASE_URL` and
/// `GMAIL_PUBSUB_TOPIC` required; `GRAPH_SUBSCRIPTION_MINUTES`, `CALENDAR_CHANNEL_TTL_HOURS`
/// and `RENEW_BEFORE_HOURS` optional.
pub fn read_push_settings<L: Fn(&str) -> Option<String>>(env: &mut Env<L>) -> PushSettings {
    let webhooks = env.required("WEBHOOK_BASE_URL");
    let webhooks = webhooks.trim_end_matches('/');
    let defaults = Lifetimes::default();
    let lifetimes = Lifetimes {
        graph_minutes: env.parsed_or("GRAPH_SUBSCRIPTION_MINUTES", defaults.graph_minutes),
        calendar_ttl: SignedDuration::from_hours(env.parsed_or("CALENDAR_CHANNEL_TTL_HOURS", 168)),
        renew_before: SignedDuration::from_hours(env.parsed_or("RENEW_BEFORE_HOURS", 24)),
        gmail_rewatch_every: defaults.gmail_rewatch_every,
    };
    PushSettings {
        graph_notification_url: format!("{webhooks}/webhooks/graph"),
        graph_lifecycle_url: format!("{webhooks}/webhooks/graph/lifecycle"),
        calendar_notification_url: format!("{webhooks}/webhooks/calendar"),
        gmail_topic: env.required("GMAIL_PUBSUB_TOPIC"),
        lifetimes,
    }
}

/// The clients cannot be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("OAuth settings are invalid")]
    OAuth(#[from] OAuthError),
    #[error("HTTP client cannot be built")]
    Http(#[from] reqwest::Error),
    #[error("Zoom OAuth settings are invalid")]
    Zoom(#[from] ZoomOAuthSetupError),
}

impl ProviderClients {
    /// Both providers' OAuth applications, one HTTP client for their APIs and one for their
    /// token endpoints, with the default retry policy.
    pub fn new(settings: &ProviderSettings) -> Result<Self, ClientsError> {
        let token_http = token_http_client()?;
        Ok(ProviderClients {
            microsoft: OAuthApp::new(
                Provider::Microsoft365,
                &settings.microsoft,
                token_http.clone(),
            )?,
            google: OAuthApp::new(Provider::GoogleWorkspace, &settings.google, token_http)?,
            http: http_client()?,
            graph_base: settings.graph_base.clone(),
            gmail_base: settings.gmail_base.clone(),
            calendar_base: settings.calendar_base.clone(),
            google_revoke_url: settings.google_revoke_url.clone(),
            zoom_base: settings.zoom_base.clone(),
            retry: RetryPolicy::default(),
        })
    }
}

impl ZoomOAuth {
    /// Our Zoom app with a fresh token-endpoint client and, for `users/me`, the API client,
    /// Zoom base URL and retry policy of this cold start's provider clients.
    pub fn with_clients(
        settings: &ZoomOAuthSettings,
        clients: &ProviderClients,
    ) -> Result<Self, ClientsError> {
        Ok(ZoomOAuth::new(
            settings,
            token_http_client()?,
            clients.http.clone(),
            &clients.zoom_base,
        )?
        .with_retry(clients.retry))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use hiresync_runtime::secrets::Secrets;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::new(move |k: &str| map.get(k).cloned()).with_secrets(Secrets::given([
            ("MICROSOFT_CLIENT_SECRET", "ms-secret"),
            ("GOOGLE_CLIENT_SECRET", "g-secret"),
            ("ZOOM_CLIENT_SECRET", "zoom-secret"),
        ]))
    }

    const CREDENTIALS: &[(&str, &str)] = &[
        ("MICROSOFT_CLIENT_ID", "ms"),
        ("MICROSOFT_CLIENT_SECRET_ARN", "arn:ms"),
        ("GOOGLE_CLIENT_ID", "g"),
        ("GOOGLE_CLIENT_SECRET_ARN", "arn:g"),
    ];

    #[test]
    fn a_function_that_only_acts_on_behalf_needs_no_redirect_and_gets_the_providers_endpoints() {
        let mut env = env(CREDENTIALS);
        let settings = ProviderSettings::read(&mut env, ProviderUse::OnBehalf);
        assert!(env.finish(()).is_ok());
        assert_eq!(settings.microsoft.redirect_url, None);
        assert_eq!(settings.google.token_url, GOOGLE_TOKEN);
        assert_eq!(settings.graph_base, GRAPH_BASE);
        assert_eq!(settings.zoom_base, ZOOM_BASE);
        assert!(ProviderClients::new(&settings).is_ok());
    }

    #[test]
    fn zoom_is_pointed_at_a_sandbox_like_the_other_apis() {
        let mut vars = CREDENTIALS.to_vec();
        vars.push(("ZOOM_BASE_URL", "http://localhost:4010/zoom"));
        let mut env = env(&vars);
        let settings = ProviderSettings::read(&mut env, ProviderUse::OnBehalf);
        assert!(env.finish(()).is_ok());
        assert_eq!(settings.zoom_base, "http://localhost:4010/zoom");
        let clients = ProviderClients::new(&settings).unwrap();
        assert_eq!(clients.zoom_base, "http://localhost:4010/zoom");
        assert!(clients.zoom(&secrecy::SecretString::from("t")).is_ok());
    }

    #[test]
    fn a_sign_in_function_names_every_missing_variable() {
        let mut env = env(&[("GOOGLE_CLIENT_ID", "g")]);
        ProviderSettings::read(&mut env, ProviderUse::SignIn);
        let missing = env.finish(()).unwrap_err().missing;
        assert_eq!(
            missing,
            vec![
                "OAUTH_REDIRECT_URL",
                "MICROSOFT_CLIENT_ID",
                "MICROSOFT_CLIENT_SECRET_ARN",
                "GOOGLE_CLIENT_SECRET_ARN"
            ]
        );
    }

    #[test]
    fn zoom_oauth_defaults_to_zooms_endpoints_and_needs_no_redirect_on_behalf() {
        let mut on_behalf = env(&[
            ("ZOOM_CLIENT_ID", "zc"),
            ("ZOOM_CLIENT_SECRET_ARN", "arn:zoom"),
        ]);
        let zoom = read_zoom_settings(&mut on_behalf, ProviderUse::OnBehalf);
        assert!(on_behalf.finish(()).is_ok());
        assert_eq!(zoom.client_id, "zc");
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&zoom.client_secret),
            "zoom-secret"
        );
        assert_eq!(zoom.authorize_url, ZOOM_AUTHORIZE);
        assert_eq!(zoom.token_url, ZOOM_TOKEN);
        assert_eq!(zoom.revoke_url, ZOOM_REVOKE);
        assert_eq!(zoom.redirect_url, None);
        assert!(!format!("{zoom:?}").contains("zoom-secret"));

        let mut providers = env(CREDENTIALS);
        let clients = ProviderClients::new(&ProviderSettings::read(
            &mut providers,
            ProviderUse::OnBehalf,
        ))
        .unwrap();
        assert!(ZoomOAuth::with_clients(&zoom, &clients).is_ok());
    }

    #[test]
    fn a_zoom_sign_in_function_is_pointed_at_a_sandbox_and_names_what_is_missing() {
        let mut sandbox = env(&[
            ("ZOOM_CLIENT_ID", "zc"),
            ("ZOOM_CLIENT_SECRET_ARN", "arn:zoom"),
            (
                "ZOOM_AUTHORIZE_URL",
                "http://localhost:4010/zoom-oauth/authorize",
            ),
            ("ZOOM_TOKEN_URL", "http://localhost:4010/zoom-oauth/token"),
            ("ZOOM_REVOKE_URL", "http://localhost:4010/zoom-oauth/revoke"),
            ("ZOOM_REDIRECT_URL", "https://app.example/zoom/callback"),
        ]);
        let zoom = read_zoom_settings(&mut sandbox, ProviderUse::SignIn);
        assert!(sandbox.finish(()).is_ok());
        assert_eq!(zoom.token_url, "http://localhost:4010/zoom-oauth/token");
        assert_eq!(zoom.revoke_url, "http://localhost:4010/zoom-oauth/revoke");
        assert_eq!(
            zoom.redirect_url.as_deref(),
            Some("https://app.example/zoom/callback")
        );

        let mut bare = env(&[]);
        read_zoom_settings(&mut bare, ProviderUse::SignIn);
        let missing = bare.finish(()).unwrap_err().missing;
        assert_eq!(
            missing,
            vec![
                "ZOOM_CLIENT_ID",
                "ZOOM_CLIENT_SECRET_ARN",
                "ZOOM_REDIRECT_URL"
            ]
        );
    }

    #[test]
    fn push_urls_hang_off_the_webhook_origin() {
        let mut env = env(&[
            ("WEBHOOK_BASE_URL", "https://hooks.example/"),
            ("GMAIL_PUBSUB_TOPIC", "projects/p/topics/t"),
            ("GRAPH_SUBSCRIPTION_MINUTES", "4000"),
        ]);
        let push = read_push_settings(&mut env);
        assert!(env.finish(()).is_ok());
        assert_eq!(
            push.graph_lifecycle_url,
            "https://hooks.example/webhooks/graph/lifecycle"
        );
        assert_eq!(push.lifetimes.graph_minutes, 4000);
    }
}
