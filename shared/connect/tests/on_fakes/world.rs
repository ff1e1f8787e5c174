//! A connector over fakes, and the steps the tests share.

use std::sync::Arc;

use hiresync_connect::{
    Callback, ConnectPorts, Connected, Connector, Failure, PushSettings, RetirementReport,
    SettingsChange, SignIn,
};
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::subscription::Lifetimes;
use hiresync_domain::Timestamp;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::providers::{FakeProviders, ScriptedProvider};
use hiresync_testkit::fakes::queues::InMemoryQueues;
use hiresync_testkit::fakes::sealer::InMemorySealer;
use hiresync_testkit::fakes::tenancy::InMemoryTenancy;
use hiresync_testkit::logs::LogCapture;

pub const NOW: &str = "2026-03-02T09:00:00Z";

pub fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}

pub fn seat(s: &str) -> SeatId {
    SeatId::parse(s).unwrap()
}

pub fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

pub fn push_settings() -> PushSettings {
    PushSettings {
        graph_notification_url: "https://hooks.example/webhooks/graph".into(),
        graph_lifecycle_url: "https://hooks.example/webhooks/graph/lifecycle".into(),
        calendar_notification_url: "https://hooks.example/webhooks/calendar".into(),
        gmail_topic: "projects/hiresync/topics/gmail-push".into(),
        lifetimes: Lifetimes::default(),
    }
}

/// The connector and every fake behind it. Every log line is captured; when the world is
/// dropped, no token the providers handed out may appear in any.
pub struct World {
    pub connector: Connector,
    pub tenancy: InMemoryTenancy,
    pub queues: Arc<InMemoryQueues>,
    pub sealer: Arc<InMemorySealer>,
    pub providers: Arc<FakeProviders>,
    pub logs: LogCapture,
}

impl World {
    pub fn new() -> Self {
        let logs = LogCapture::start(&[]);
        let tenancy = InMemoryTenancy::default();
        let queues = Arc::new(InMemoryQueues::default());
        let sealer = Arc::new(InMemorySealer::default());
        let providers = Arc::new(FakeProviders::default());
        let ports = ConnectPorts {
            stores: tenancy.stores(),
            sealer: sealer.clone(),
            queues: hiresync_messages::Queues::all(queues.clone()),
            providers: providers.clone(),
        };
        let signer = hiresync_connect::state::StateSigner::new(vec![42; 32]).unwrap();
        Self {
            connector: Connector::new(ports)
                .with_push(push_settings())
                .with_signer(signer),
            tenancy,
            queues,
            sealer,
            providers,
            logs,
        }
    }

    pub fn provider(&self, provider: Provider) -> &ScriptedProvider {
        self.providers.of(provider)
    }

    /// The admin picks `provider`, an email level and the calendar.
    pub async fn enable(&self, provider: Provider, level: EmailAccess, calendar: bool) {
        self.connector
            .change_settings(
                &acme(),
                SettingsUpdate {
                    provider: Some(provider),
                    email_access: Some(level),
                    calendar_enabled: Some(calendar),
                    video_meetings: None,
                },
                ts(NOW),
            )
            .await
            .unwrap();
    }

    /// The admin turns email off at `at`.
    pub async fn turn_email_off(&self, at: &str) -> SettingsChange {
        self.connector
            .change_settings(
                &acme(),
                SettingsUpdate {
                    email_access: Some(EmailAccess::Off),
                    ..SettingsUpdate::default()
                },
                ts(at),
            )
            .await
            .unwrap()
    }

    /// The renewal job's clean-up run at `at`: what deauthorizations left at the providers.
    pub async fn clean_up(&self, at: &str) -> RetirementReport {
        self.connector.retire_due(ts(at), 50).await.unwrap()
    }

    /// The seat starts signing in at `at`; the URL to send it to.
    pub async fn start(&self, s: &str, kind: ConnectionKind, at: &str) -> String {
        self.connector
            .start_authorization(&acme(), &seat(s), &user(s), kind, None, ts(at))
            .await
            .unwrap()
            .url
    }

    /// The front end finishes a sign-in with `callback`, for seat `s` (its holder, user
    /// `s`) and `kind`; then the connection's first sync job sets up its push subscriptions.
    pub async fn complete(
        &self,
        s: &str,
        kind: ConnectionKind,
        callback: &Callback,
        at: Timestamp,
    ) -> Result<Connected, Failure> {
        let holder = SignIn {
            contract: acme(),
            seat: seat(s),
            user: user(s),
            kind,
        };
        let connected = self
            .connector
            .complete_authorization(&holder, callback, at)
            .await?;
        // The connection's first sync job creates the push subscriptions the sign-in left
        // as placeholders.
        self.connector
            .set_up_push(&holder.contract, &holder.seat, kind, at)
            .await?;
        Ok(connected)
    }

    /// A seat signs in and consents, all at `at`.
    /// Seat `s` connects its own account, `<s>@acme.example`.
    pub async fn connect(&self, s: &str, kind: ConnectionKind, at: &str) -> Connected {
        for provider in [Provider::Microsoft365, Provider::GoogleWorkspace] {
            self.provider(provider)
                .address(&format!("{s}@acme.example"));
        }
        let url = self.start(s, kind, at).await;
        self.come_back(s, kind, &url, "code", ts(at)).await.unwrap()
    }

    /// Seat `s` signs in to whatever account the provider is scripted with, at `at`.
    pub async fn sign_in(
        &self,
        s: &str,
        kind: ConnectionKind,
        at: &str,
    ) -> Result<Connected, Failure> {
        let url = self.start(s, kind, at).await;
        self.come_back(s, kind, &url, "code", ts(at)).await
    }

    /// Seat `s` comes back from the consent page of `url` with `code`.
    pub async fn come_back(
        &self,
        s: &str,
        kind: ConnectionKind,
        url: &str,
        code: &str,
        at: Timestamp,
    ) -> Result<Connected, Failure> {
        self.complete(s, kind, &consent(url, code), at).await
    }

    pub fn connection(&self, s: &str, kind: ConnectionKind) -> Connection {
        self.tenancy
            .connections
            .stored(&acme(), &seat(s), kind)
            .unwrap()
            .value
    }

    pub fn is_token_stored(&self, s: &str, kind: ConnectionKind) -> bool {
        self.tenancy
            .tokens
            .stored(&acme(), &seat(s), kind)
            .is_some()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for name in ["microsoft", "google"] {
            for n in 1..=30 {
                self.logs.watch(&format!("{name}-refresh-token-{n}"));
                self.logs.watch(&format!("{name}-access-token-{n}"));
            }
        }
    }
}

/// The `state` an authorization URL carries.
pub fn state_of(url: &str) -> String {
    let (_, query) = url.split_once('?').unwrap();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("state="))
        .unwrap()
        .to_owned()
}

/// What the provider sends back when the seat consents.
pub fn consent(url: &str, code: &str) -> Callback {
    Callback {
        state: Some(state_of(url)),
        code: Some(code.to_owned()),
        ..Callback::default()
    }
}

pub fn refused<T: std::fmt::Debug>(result: Result<T, Failure>) -> ConnectError {
    match result {
        Err(Failure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
