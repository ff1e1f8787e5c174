//! A connector wired to the local AWS (fresh tables, queues and key per test) and to a
//! wiremock server speaking the providers' documented shapes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hiresync_connect::state::StateSigner;
use hiresync_connect::{Callback, Connector};
use hiresync_localstack::{Resources, Template};
use hiresync_providers::settings::{read_push_settings, ProviderSettings, ProviderUse};
use hiresync_providers::ProviderClients;
use hiresync_providers::RetryPolicy;
use hiresync_runtime::config::Env;
use hiresync_runtime::outbox::QueueUrls;
use hiresync_runtime::secrets::Secrets;
use hiresync_testkit::logs::LogCapture;
use hiresync_wiring::{connect_ports, ConnectWiring};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const NOW: &str = "2026-03-02T09:00:00Z";

pub fn ts(s: &str) -> hiresync_domain::Timestamp {
    s.parse().unwrap()
}

/// Secrets every harness knows; each test's own tokens are added as it mounts them.
const KNOWN_SECRETS: &[&str] = &[
    "ms-client-secret-value",
    "google-client-secret-value",
    "zoom-client-secret-value",
    "zoom-access-1",
    "zoom-refresh-1",
];

/// Every test that builds a harness captures its log lines at trace level (the SDK's and
/// the HTTP stack's included) and fails if a token or client secret appears in any.
pub struct Harness {
    pub connector: Connector,
    pub server: MockServer,
    pub resources: Resources,
    pub sqs: aws_sdk_sqs::Client,
    /// The local AWS every client of the harness talks to.
    pub aws: aws_config::SdkConfig,
    /// The provider clients the connector was built with (Zoom's base at `/zoom`).
    pub clients: ProviderClients,
    /// The account behind every grant the mocked providers hand out from now on.
    mailbox: Arc<Mutex<String>>,
    logs: LogCapture,
}

impl Harness {
    pub async fn new(label: &str) -> Self {
        let logs = LogCapture::start(KNOWN_SECRETS);
        let (config, resources) = hiresync_localstack::fresh_stack(label).await.unwrap();
        let server = MockServer::start().await;
        let template = Template::load(&hiresync_localstack::repository_template_path()).unwrap();
        let mut env = resources.environment(&template);
        let base = server.uri();
        for (k, v) in [
            (
                "OAUTH_REDIRECT_URL",
                "https://app.example/v1/oauth/callback".to_owned(),
            ),
            ("MICROSOFT_CLIENT_ID", "ms-client".to_owned()),
            ("MICROSOFT_CLIENT_SECRET_ARN", "arn:test:ms".to_owned()),
            ("MICROSOFT_AUTHORIZE_URL", format!("{base}/ms/authorize")),
            ("MICROSOFT_TOKEN_URL", format!("{base}/ms/token")),
            ("GOOGLE_CLIENT_ID", "google-client".to_owned()),
            ("GOOGLE_CLIENT_SECRET_ARN", "arn:test:google".to_owned()),
            ("GOOGLE_AUTHORIZE_URL", format!("{base}/google/authorize")),
            ("GOOGLE_TOKEN_URL", format!("{base}/google/token")),
            ("GOOGLE_REVOKE_URL", format!("{base}/google/revoke")),
            ("GRAPH_BASE_URL", format!("{base}/graph")),
            ("GMAIL_BASE_URL", format!("{base}/gmail")),
            ("CALENDAR_BASE_URL", format!("{base}/calendar")),
            ("ZOOM_BASE_URL", format!("{base}/zoom")),
            ("WEBHOOK_BASE_URL", "https://hooks.example".to_owned()),
            (
                "GMAIL_PUBSUB_TOPIC",
                "projects/hiresync/topics/gmail-push".to_owned(),
            ),
        ] {
            env.insert(k.to_owned(), v);
        }
        // Wired as the settings API wires it (every queue, sign-ins, push settings), with
        // retries made quick.
        let mut vars = Env::new(move |k: &str| env.get(k).cloned()).with_secrets(Secrets::given([
            ("MICROSOFT_CLIENT_SECRET", "ms-client-secret-value"),
            ("GOOGLE_CLIENT_SECRET", "google-client-secret-value"),
        ]));
        let settings = ProviderSettings::read(&mut vars, ProviderUse::SignIn);
        let push = read_push_settings(&mut vars);
        let tenancy = vars.required("TENANCY_TABLE");
        let key = vars.required("TOKEN_KEY_ID");
        let mut queue = |name: &str| Some(vars.required(name));
        let queues = QueueUrls {
            sync_jobs: queue("SYNC_JOBS_QUEUE_URL"),
            deauthorizations: queue("DEAUTHORIZATIONS_QUEUE_URL"),
            notifications: queue("NOTIFICATIONS_QUEUE_URL"),
        };
        vars.finish(()).unwrap();
        let mut clients = ProviderClients::new(&settings).unwrap();
        clients.retry = RetryPolicy {
            max_attempts: 2,
            base: std::time::Duration::from_millis(1),
            cap: std::time::Duration::from_millis(5),
        };
        let wiring = ConnectWiring {
            tenancy_table: &tenancy,
            token_key_id: &key,
            queues,
        };
        let connector = Connector::new(connect_ports(&config, &wiring, clients.clone()))
            .with_push(push)
            .with_signer(StateSigner::new(vec![42u8; 32]).unwrap());
        Self {
            connector,
            server,
            resources,
            sqs: aws_sdk_sqs::Client::new(&config),
            aws: config,
            clients,
            mailbox: Arc::default(),
            logs,
        }
    }

    /// Our Zoom app pointed at this harness's stub (`/zoom-oauth/...`).
    pub fn zoom_settings(&self) -> hiresync_providers::zoom_oauth::ZoomOAuthSettings {
        let base = self.server.uri();
        hiresync_providers::zoom_oauth::ZoomOAuthSettings {
            client_id: "zoom-client".into(),
            client_secret: "zoom-client-secret-value".to_owned().into(),
            authorize_url: format!("{base}/zoom-oauth/authorize"),
            token_url: format!("{base}/zoom-oauth/token"),
            revoke_url: format!("{base}/zoom-oauth/revoke"),
            redirect_url: Some("https://app.example/zoom/callback".into()),
        }
    }

    /// The contract's Zoom connections as deployed, against this harness's AWS and stub.
    pub fn zoom_connections(&self) -> hiresync_wiring::ZoomConnections {
        hiresync_wiring::zoom_connections(
            &self.aws,
            self.resources.table("TenancyTable").unwrap(),
            self.resources.key("TokenKey").unwrap(),
            &self.zoom_settings(),
            &self.clients,
        )
        .unwrap()
    }

    /// Zoom answering our app (Basic client credentials): the code `zoom-code` with tokens
    /// `zoom-access-1` / `zoom-refresh-1`, `users/me` as `email` of account `account`, and
    /// the revocation of that refresh token.
    pub async fn zoom_answers(&self, account: &str, email: &str) {
        use wiremock::matchers::{body_string_contains, header};
        // base64 of "zoom-client:zoom-client-secret-value"
        let basic = "Basic em9vbS1jbGllbnQ6em9vbS1jbGllbnQtc2VjcmV0LXZhbHVl";
        Mock::given(method("POST"))
            .and(path("/zoom-oauth/token"))
            .and(header("authorization", basic))
            .and(body_string_contains("grant_type=authorization_code"))
            .and(body_string_contains("code=zoom-code"))
            .and(body_string_contains("code_verifier="))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "zoom-access-1",
                "token_type": "bearer",
                "refresh_token": "zoom-refresh-1",
                "expires_in": 3599,
                "scope": "meeting:write:meeting user:read:user",
            })))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/zoom/users/me"))
            .and(header("authorization", "Bearer zoom-access-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "KDcuGIm1QgePTO8WbOqwIQ",
                "email": email,
                "account_id": account,
                "status": "active",
            })))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/zoom-oauth/revoke"))
            .and(header("authorization", basic))
            .and(body_string_contains("token=zoom-refresh-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
            .mount(&self.server)
            .await;
    }

    /// Everything logged so far.
    /// What a connection's first sync job does before reading the mailbox: create the
    /// push subscriptions its sign-in left as placeholders.
    pub async fn first_sync_job(
        &self,
        contract: &str,
        seat: &str,
        kind: hiresync_domain::connection::ConnectionKind,
        at: &str,
    ) {
        self.connector
            .set_up_push(
                &hiresync_domain::ids::ContractId::parse(contract).unwrap(),
                &hiresync_domain::ids::SeatId::parse(seat).unwrap(),
                kind,
                ts(at),
            )
            .await
            .unwrap();
    }

    pub fn logs(&self) -> String {
        self.logs.text()
    }

    /// A secret the logs must never contain.
    pub fn secret(&self, value: &str) {
        self.logs.watch(value);
    }

    /// Every message waiting on a queue (received and deleted).
    pub async fn drain(&self, queue: &str) -> Vec<Value> {
        let url = self.resources.queue(queue).unwrap();
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let mut v: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
                if let Some(group) = m.attributes.as_ref().and_then(|a| {
                    a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                }) {
                    v["_group"] = json!(group);
                }
                out.push(v);
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap()
    }

    /// A Graph mailbox's folders, at a low priority (a test's own mocks win): every
    /// well-known folder answers by name with the id `<name>-id`, and the folder list holds
    /// Inbox and Sent Items, then `extra` (`(id, display name)`).
    pub async fn graph_folders(&self, extra: &[(&str, &str)]) {
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(
                "^/graph/me/mailFolders/[a-z]+$",
            ))
            .respond_with(|r: &Request| {
                let name = r.url.path().rsplit('/').next().unwrap_or_default();
                ResponseTemplate::new(200).set_body_json(json!({"id": format!("{name}-id")}))
            })
            .with_priority(10)
            .mount(&self.server)
            .await;
        let mut folders = vec![
            json!({"id": "inbox-id", "displayName": "Inbox", "childFolderCount": 0}),
            json!({"id": "sentitems-id", "displayName": "Sent Items", "childFolderCount": 0}),
        ];
        folders.extend(
            extra
                .iter()
                .map(|(id, name)| json!({"id": id, "displayName": name, "childFolderCount": 0})),
        );
        Mock::given(method("GET"))
            .and(path("/graph/me/mailFolders"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": folders})))
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    pub async fn requests_to(&self, verb: &str, p: &str) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == p)
            .collect()
    }

    pub async fn mount(&self, verb: &str, p: &str, response: ResponseTemplate) {
        Mock::given(method(verb))
            .and(path(p))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    pub async fn mount_with(&self, verb: &str, p: &str, responder: impl Respond + 'static) {
        Mock::given(method(verb))
            .and(path(p))
            .respond_with(responder)
            .mount(&self.server)
            .await;
    }

    /// From now on, the providers' grants are for `mail`'s account.
    pub fn mailbox_is(&self, mail: &str) {
        *self.mailbox.lock().unwrap() = mail.to_owned();
    }

    /// A Microsoft 365 tenant that grants `scope` and whose user has `mail`.
    pub async fn microsoft_tenant(&self, refresh: &str, scope: &str, mail: &str) {
        let refresh = &distinctive(refresh);
        self.secret(refresh);
        self.secret("ms-access-token-1");
        self.mount(
            "POST",
            "/ms/token",
            ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "scope": scope,
                "access_token": "ms-access-token-1", "refresh_token": refresh,
                "id_token": id_token(&json!({"tid": "5f1e0c2a-acme", "preferred_username": mail}))
            })),
        )
        .await;
        self.mailbox_is(mail);
        self.mount_with(
            "GET",
            "/graph/me",
            Mailbox(
                self.mailbox.clone(),
                |mail| json!({"id": "0f1e2d3c", "mail": mail, "userPrincipalName": mail}),
            ),
        )
        .await;
        self.mount(
            "GET",
            "/graph/me/mailboxSettings",
            ResponseTemplate::new(200).set_body_json(json!({"timeZone": "UTC"})),
        )
        .await;
        self.mount_with(
            "GET",
            "/graph/me/calendar",
            Mailbox(
                self.mailbox.clone(),
                |mail| json!({"id": "cal-1", "owner": {"name": "R", "address": mail}}),
            ),
        )
        .await;
        self.mount_with(
            "POST",
            "/graph/subscriptions",
            GraphSubscriptions::default(),
        )
        .await;
        Mock::given(method("DELETE"))
            .and(wiremock::matchers::path_regex(
                r"^/graph/subscriptions/[^/]+$",
            ))
            .respond_with(ResponseTemplate::new(204))
            .mount(&self.server)
            .await;
    }

    /// A Google Workspace account that grants `scope` and whose address is `mail`.
    pub async fn google_account(&self, refresh: &str, scope: &str, mail: &str) {
        let refresh = &distinctive(refresh);
        self.secret(refresh);
        self.secret("google-access-token-1");
        self.mount(
            "POST",
            "/google/token",
            ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "scope": scope,
                "access_token": "google-access-token-1", "refresh_token": refresh,
                "id_token": id_token(&json!({"hd": "acme.example", "email": mail}))
            })),
        )
        .await;
        self.mailbox_is(mail);
        self.mount_with(
            "GET",
            "/gmail/users/me/profile",
            Mailbox(self.mailbox.clone(), |mail| {
                json!({"emailAddress": mail, "historyId": "1234", "messagesTotal": 1, "threadsTotal": 1})
            }),
        )
        .await;
        self.mount(
            "POST",
            "/gmail/users/me/watch",
            ResponseTemplate::new(200)
                .set_body_json(json!({"historyId": "1234", "expiration": "1773046800000"})),
        )
        .await;
        self.mount("POST", "/gmail/users/me/stop", ResponseTemplate::new(204))
            .await;
        self.mount_with(
            "GET",
            "/calendar/calendars/primary",
            Mailbox(
                self.mailbox.clone(),
                |mail| json!({"id": mail, "timeZone": "Europe/Berlin"}),
            ),
        )
        .await;
        self.mount_with(
            "POST",
            "/calendar/calendars/primary/events/watch",
            CalendarChannels::default(),
        )
        .await;
        self.mount(
            "POST",
            "/calendar/channels/stop",
            ResponseTemplate::new(204),
        )
        .await;
        self.mount("POST", "/google/revoke", ResponseTemplate::new(200))
            .await;
    }
}

/// An OpenID Connect ID token with `claims`, as a token endpoint hands it out (read over
/// TLS, so its signature is not checked).
pub fn id_token(claims: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as JWT;
    use base64::Engine;
    format!(
        "{}.{}.sig",
        JWT.encode(br#"{"alg":"RS256"}"#),
        JWT.encode(claims.to_string())
    )
}

/// A token long enough that finding it in a log line means it leaked (a one-letter test
/// token would match any log line).
fn distinctive(token: &str) -> String {
    if token.len() >= 8 {
        token.to_owned()
    } else {
        format!("refresh-token-{token}-value")
    }
}

/// An account read (profile, calendar) answering for the harness's current mailbox.
pub struct Mailbox(Arc<Mutex<String>>, fn(&str) -> Value);

impl Respond for Mailbox {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mail = self.0.lock().unwrap().clone();
        ResponseTemplate::new(200).set_body_json((self.1)(&mail))
    }
}

/// Graph's subscription create: echoes the resource with a fresh id, expiring as asked.
#[derive(Default)]
pub struct GraphSubscriptions(AtomicUsize);

impl Respond for GraphSubscriptions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        ResponseTemplate::new(201).set_body_json(json!({
            "id": format!("graph-sub-{n}"),
            "resource": body["resource"],
            "expirationDateTime": body["expirationDateTime"],
            "changeType": body["changeType"],
            "notificationUrl": body["notificationUrl"],
        }))
    }
}

/// Calendar's events.watch: echoes the channel id with a resource id.
#[derive(Default)]
pub struct CalendarChannels(AtomicUsize);

impl Respond for CalendarChannels {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        ResponseTemplate::new(200).set_body_json(json!({
            "kind": "api#channel",
            "id": body["id"],
            "resourceId": format!("resource-{n}"),
            "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/primary/events",
            "expiration": "1773046800000",
        }))
    }
}

/// The query parameters of an authorization URL.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// What the provider sends back when the seat consents.
pub fn consent(authorization_url: &str, code: &str) -> Callback {
    Callback {
        state: query(authorization_url).get("state").cloned(),
        code: Some(code.to_owned()),
        error: None,
        error_description: None,
    }
}

/// Seat `seat` of contract `acme`, held by `user`, finishing a sign-in of `kind`.
pub fn sign_in(
    seat: hiresync_domain::ids::SeatId,
    user: hiresync_domain::ids::UserId,
    kind: hiresync_domain::connection::ConnectionKind,
) -> hiresync_connect::SignIn {
    sign_in_to(
        hiresync_domain::ids::ContractId::parse("acme").unwrap(),
        seat,
        user,
        kind,
    )
}

/// Seat `seat` of `contract`, held by `user`, finishing a sign-in of `kind`.
pub fn sign_in_to(
    contract: hiresync_domain::ids::ContractId,
    seat: hiresync_domain::ids::SeatId,
    user: hiresync_domain::ids::UserId,
    kind: hiresync_domain::connection::ConnectionKind,
) -> hiresync_connect::SignIn {
    hiresync_connect::SignIn {
        contract,
        seat,
        user,
        kind,
    }
}
