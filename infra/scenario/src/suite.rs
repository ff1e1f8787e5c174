//! The local suite: every function wired to the local AWS and triggered as AWS would.
//!
//! - HTTP on 127.0.0.1:${HIRESYNC_PORT:-3000}: settings-api (`/v1/...`), scheduler-api (a
//!   seat's scheduler routes and the candidates' pages under `/s/...`), webhook-intake
//!   (`/webhooks/...`) and `GET /healthz`, one listener as API Gateway would route them.
//! - A provider sandbox on its own port, playing Microsoft, Google and Zoom: OAuth, Graph, Gmail,
//!   Calendar, and Pub/Sub pushes signed with its own key, to the intake above.
//! - Queue polling as Lambda's event sources do: settings-fanout on the deauthorizations
//!   queue, directory-events on its queue, contract-purge on the purge queue, ingest on the
//!   FIFO sync-jobs queue and booking-confirmation on the FIFO bookings queue (failures
//!   come back after a second here, so a poison job reaches its dead-letter queue quickly).
//! - The subscription-renewal and retention-sweep timers: every minute, or every `HIRESYNC_RENEWAL_SECONDS`
//!   (the end-to-end tests make it a second, so a deauthorization's provider clean-up is
//!   seen quickly).
//!
//! Every function is built by the same `build(config)` its `main.rs` calls, from its own
//! `Config` read out of one local environment: the template's variables resolved to the
//! local resources, with the providers pointed at the sandbox. What runs here is what is
//! deployed.
//!
//! `make run` drives it step by step ([`Suite::pump`]); `make serve` and the end-to-end
//! tests run it continuously ([`Suite::serve_forever`]).

use std::collections::BTreeMap;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hiresync_localstack::permissions::{check_calls, needed};
use hiresync_localstack::poller::{self, PollOutcome, Redelivery};
use hiresync_localstack::recorder::Recorder;
use hiresync_localstack::{create_secrets, unique_prefix, Resources, Template};
use hiresync_runtime::config::{ConfigError, DynLookup, Env};
use hiresync_runtime::secrets::read_named;
use hiresync_sandbox::push::PubSubPush;
use hiresync_sandbox::{Behaviour, Sandbox};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

/// The accounts the sandbox knows from the start, with how each behaves.
pub const ACCOUNTS: &[(&str, Behaviour)] = &[
    ("ana@globex.example", Behaviour::Normal),
    ("ben@globex.example", Behaviour::Normal),
    ("cleo@globex.example", Behaviour::NeedsAdminApproval),
    ("dev@globex.example", Behaviour::InactiveMailbox),
    ("eve@globex.example", Behaviour::PartialConsent),
    ("rita@initech.example", Behaviour::Normal),
    ("gus@umbrella.example", Behaviour::Normal),
];

/// Who the sandbox's Pub/Sub push says it is, and whom it addresses.
const PUSH_AUDIENCE: &str = "https://hiresync.local/webhooks/gmail";
const PUSH_ACCOUNT: &str = "gmail-push@sandbox.iam.gserviceaccount.com";

fn random_key() -> Vec<u8> {
    // Development keys for this run only: derived from the unique prefix's randomness.
    let id = hiresync_localstack::unique_prefix("k");
    let mut key = id.into_bytes();
    key.resize(32, b'#');
    key
}

struct Queues {
    fan_out: String,
    directory: String,
    sync_jobs: String,
    purge: String,
    bookings: String,
    inmail: String,
}

/// What one [`Suite::pump`] did, per function.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pumped {
    pub fan_out: PollOutcome,
    pub directory: PollOutcome,
    pub ingest: PollOutcome,
    pub purge: PollOutcome,
    pub bookings: PollOutcome,
}

fn add(total: &mut PollOutcome, more: PollOutcome) {
    total.received += more.received;
    total.succeeded += more.succeeded;
    total.failed += more.failed;
}

/// The functions the suite runs on queues and timers (the HTTP ones serve on their own).
struct Functions {
    fan_out: settings_fanout::App,
    directory: directory_events::App,
    ingest: ingest::App,
    renewal: subscription_renewal::App,
    sweep: retention_sweep::App,
    purge: contract_purge::App,
    bookings: booking_confirmation::App,
}

/// How the suite starts each function, as Lambda would: with the variables the template
/// gives that function (and the suite's own overrides, which the template does not name),
/// its secrets read at "cold start" through its own AWS configuration, whose calls the
/// recorder notes for the permission check.
struct ColdStart<'a> {
    template: &'a Template,
    env: BTreeMap<String, String>,
    base: &'a aws_config::SdkConfig,
    recorder: Recorder,
}

impl ColdStart<'_> {
    /// `binary`'s configuration and AWS configuration, failing with every missing or
    /// invalid variable named, as the function would.
    async fn start<T>(
        &self,
        binary: &str,
        from_env: impl FnOnce(Env<DynLookup>) -> Result<T, ConfigError>,
    ) -> anyhow::Result<(T, aws_config::SdkConfig)> {
        let aws = self.recorder.config_for(self.base, binary).await?;
        let given = self
            .template
            .variables_of(binary)
            .with_context(|| format!("template.yaml has no function running {binary}"))?;
        let named = self.template.all_variables();
        let vars: BTreeMap<String, String> = self
            .env
            .iter()
            .filter(|(k, _)| given.contains(*k) || !named.contains_key(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let secrets = read_named(&aws_sdk_secretsmanager::Client::new(&aws), vars.clone())
            .await
            .with_context(|| format!("{binary}'s secrets"))?;
        let lookup: DynLookup = Box::new(move |k| vars.get(k).cloned());
        let config = from_env(Env::new(lookup).with_secrets(secrets))
            .with_context(|| format!("{binary}'s configuration"))?;
        Ok((config, aws))
    }
}

pub struct Suite {
    pub api: String,
    pub providers: String,
    pub sandbox: Sandbox,
    functions: Functions,
    sqs: aws_sdk_sqs::Client,
    queues: Queues,
    signing: Vec<u8>,
    /// Every AWS call each function made, and the check of them against template.yaml.
    pub permissions: Permissions,
}

/// The functions' AWS calls so far, held against their roles in template.yaml.
#[derive(Clone)]
pub struct Permissions {
    template: Template,
    resources: Resources,
    recorder: Recorder,
}

impl Permissions {
    /// What each function called, and every call its role would refuse.
    pub fn report(&self) -> serde_json::Value {
        let calls = self.recorder.calls();
        let refused = check_calls(&self.template, &self.resources, &calls);
        let mut made = BTreeMap::<String, BTreeMap<String, usize>>::new();
        for c in &calls {
            *made
                .entry(c.function.clone())
                .or_default()
                .entry(c.target.clone())
                .or_default() += 1;
        }
        let needed = needed(&self.template, &self.resources, &calls);
        json!({"calls": calls.len(), "made": made, "refused": refused, "needed": needed})
    }
}

impl Suite {
    pub async fn start(
        config: &aws_config::SdkConfig,
        template: &Template,
        resources: &Resources,
    ) -> anyhow::Result<Suite> {
        let sandbox = Sandbox::new();
        // Zoom takes only our app's credentials: the ones the template's secret holds.
        sandbox.zoom_oauth_client("local-zoom-client", "local-zoom-secret");
        for (address, behaviour) in ACCOUNTS {
            sandbox.account(address, *behaviour);
        }
        let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let providers = format!("http://{}", sandbox_listener.local_addr()?);
        tokio::spawn(sandbox.clone().serve(sandbox_listener));

        let port = std::env::var("HIRESYNC_PORT").unwrap_or_else(|_| "3000".into());
        let api_listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .with_context(|| {
                format!("127.0.0.1:{port} is taken; set HIRESYNC_PORT to a free port")
            })?;
        let api = format!("http://{}", api_listener.local_addr()?);
        sandbox.pubsub(PubSubPush {
            endpoint: format!("{api}/webhooks/gmail"),
            audience: PUSH_AUDIENCE.to_owned(),
            service_account: PUSH_ACCOUNT.to_owned(),
        });

        // The template's secrets, made in moto with the values a deployer would give (the
        // state key is generated), then read back at "cold start" as every function does.
        let signing = random_key();
        let mut resources = resources.clone();
        let parameters = BTreeMap::from([
            (
                "MicrosoftClientSecret".to_owned(),
                "local-ms-secret".to_owned(),
            ),
            (
                "GoogleClientSecret".to_owned(),
                "local-google-secret".to_owned(),
            ),
            (
                "ZoomClientSecret".to_owned(),
                "local-zoom-secret".to_owned(),
            ),
            (
                "ApiAuthKeys".to_owned(),
                format!("local:{}", B64.encode(&signing)),
            ),
        ]);
        create_secrets(
            template,
            config,
            &unique_prefix("suite"),
            &parameters,
            &mut resources,
        )
        .await?;
        let mut env: BTreeMap<String, String> = resources.environment(template);
        for (k, v) in [
            // The product's front end receives the redirect; the sandbox stands in for it.
            ("OAUTH_REDIRECT_URL", format!("{providers}/front-end/oauth")),
            ("WEBHOOK_BASE_URL", api.clone()),
            // Candidates open their scheduling links on the same listener.
            ("PUBLIC_BASE_URL", api.clone()),
            ("MICROSOFT_CLIENT_ID", "local-ms-client".to_owned()),
            (
                "MICROSOFT_AUTHORIZE_URL",
                format!("{providers}/ms/authorize"),
            ),
            ("MICROSOFT_TOKEN_URL", format!("{providers}/ms/token")),
            ("GOOGLE_CLIENT_ID", "local-google-client".to_owned()),
            (
                "GOOGLE_AUTHORIZE_URL",
                format!("{providers}/google/authorize"),
            ),
            ("GOOGLE_TOKEN_URL", format!("{providers}/google/token")),
            ("GOOGLE_REVOKE_URL", format!("{providers}/google/revoke")),
            ("GRAPH_BASE_URL", format!("{providers}/graph")),
            ("GMAIL_BASE_URL", format!("{providers}/gmail")),
            ("CALENDAR_BASE_URL", format!("{providers}/calendar")),
            ("ZOOM_BASE_URL", format!("{providers}/zoom")),
            ("ZOOM_CLIENT_ID", "local-zoom-client".to_owned()),
            (
                "ZOOM_AUTHORIZE_URL",
                format!("{providers}/zoom-oauth/authorize"),
            ),
            ("ZOOM_TOKEN_URL", format!("{providers}/zoom-oauth/token")),
            ("ZOOM_REVOKE_URL", format!("{providers}/zoom-oauth/revoke")),
            // The front end's page for Zoom's redirect; the sandbox stands in for it too.
            ("ZOOM_REDIRECT_URL", format!("{providers}/front-end/zoom")),
            (
                "GMAIL_PUBSUB_TOPIC",
                "projects/local/topics/gmail-push".to_owned(),
            ),
            ("PUBSUB_PUSH_AUDIENCE", PUSH_AUDIENCE.to_owned()),
            ("PUBSUB_PUSH_SERVICE_ACCOUNT", PUSH_ACCOUNT.to_owned()),
            ("GOOGLE_JWKS_URL", format!("{providers}/pubsub/certs")),
        ] {
            env.insert(k.to_owned(), v);
        }
        let recorder = Recorder::new();
        let cold = ColdStart {
            template,
            env,
            base: config,
            recorder: recorder.clone(),
        };
        let queues = Queues {
            fan_out: resources.queue("DeauthorizationsQueue")?.to_owned(),
            directory: resources.queue("DirectoryEventsQueue")?.to_owned(),
            sync_jobs: resources.queue("SyncJobsQueue")?.to_owned(),
            purge: resources.queue("PurgeQueue")?.to_owned(),
            bookings: resources.queue("BookingsQueue")?.to_owned(),
            inmail: resources.queue("InmailOutboxQueue")?.to_owned(),
        };

        let (c, aws) = cold
            .start("settings-api", settings_api::Config::from_env)
            .await?;
        let api_app = settings_api::build(c, &aws)?;
        let (c, aws) = cold
            .start("scheduler-api", scheduler_api::Config::from_env)
            .await?;
        let scheduler_app = scheduler_api::build(c, &aws)?;
        let (c, aws) = cold
            .start("webhook-intake", webhook_intake::Config::from_env)
            .await?;
        let intake = webhook_intake::build(c, &aws);
        let permissions = Permissions {
            template: template.clone(),
            resources: resources.clone(),
            recorder: recorder.clone(),
        };
        // Where each of the template's secrets is in moto (its ARN, by logical id), for a
        // test that must sign as a function does; the values stay in moto.
        let secret_arns = resources.secrets.clone();
        let routes = settings_api::router(api_app)
            .merge(webhook_intake::router(intake))
            .merge(scheduler_api::routes(scheduler_app))
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route(
                "/suite/aws-calls",
                axum::routing::get(move || {
                    let permissions = permissions.clone();
                    async move { axum::Json(permissions.report()) }
                }),
            )
            .route(
                "/suite/secrets",
                axum::routing::get(move || {
                    let arns = secret_arns.clone();
                    async move { axum::Json(arns) }
                }),
            );
        tokio::spawn(async move { axum::serve(api_listener, routes).await });

        let (c, aws) = cold
            .start("settings-fanout", settings_fanout::Config::from_env)
            .await?;
        let fan_out = settings_fanout::build(c, &aws)?;
        let (c, aws) = cold
            .start("directory-events", directory_events::Config::from_env)
            .await?;
        let directory = directory_events::build(c, &aws);
        let (c, aws) = cold.start("ingest", ingest::Config::from_env).await?;
        let ingest = ingest::build(c, &aws)?;
        let (c, aws) = cold
            .start(
                "subscription-renewal",
                subscription_renewal::Config::from_env,
            )
            .await?;
        let renewal = subscription_renewal::build(c, &aws)?;
        let (c, aws) = cold
            .start("retention-sweep", retention_sweep::Config::from_env)
            .await?;
        let sweep = retention_sweep::build(c, &aws);
        let (c, aws) = cold
            .start("contract-purge", contract_purge::Config::from_env)
            .await?;
        let purge = contract_purge::build(c, &aws)?;
        let (c, aws) = cold
            .start(
                "booking-confirmation",
                booking_confirmation::Config::from_env,
            )
            .await?;
        let bookings = booking_confirmation::build(c, &aws)?;
        let functions = Functions {
            fan_out,
            directory,
            ingest,
            renewal,
            sweep,
            purge,
            bookings,
        };
        let sqs = aws_sdk_sqs::Client::new(config);
        Ok(Suite {
            api,
            providers,
            sandbox,
            functions,
            sqs,
            queues,
            signing,
            permissions: Permissions {
                template: template.clone(),
                resources,
                recorder,
            },
        })
    }

    /// A bearer token for the local API, as the product's identity system would mint it.
    pub fn token(
        &self,
        contract: &str,
        user: &str,
        seat: &str,
        role: &str,
    ) -> anyhow::Result<String> {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("local".into());
        let exp = jiff::Timestamp::now().as_second() + 12 * 3600;
        Ok(jsonwebtoken::encode(
            &header,
            &json!({"sub": user, "contract": contract, "seat": seat, "role": role, "aud": "hiresync", "exp": exp}),
            &EncodingKey::from_secret(&self.signing),
        )?)
    }

    /// The API's signing key, for a client (the end-to-end tests) that mints its own tokens.
    pub fn signing_key(&self) -> String {
        B64.encode(&self.signing)
    }

    /// Publishes a directory event (as the product does through EventBridge) onto the
    /// directory-events queue; [`Suite::pump`] delivers it.
    pub async fn publish(&self, event: serde_json::Value) -> anyhow::Result<()> {
        self.send(&self.queues.directory, &event).await
    }

    async fn send(&self, queue: &str, body: &serde_json::Value) -> anyhow::Result<()> {
        self.sqs
            .send_message()
            .queue_url(queue)
            .message_body(body.to_string())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Publishes a contract lifecycle event (`contract.suspended`, `contract.reactivated`)
    /// as the product's rule delivers it: its detail alone, onto the purge queue.
    pub async fn lifecycle(&self, detail: serde_json::Value) -> anyhow::Result<()> {
        self.send(&self.queues.purge, &detail).await
    }

    /// Publishes a seat event (`seat.transferred`, `seat.parked`) as the product's rule
    /// delivers it: its detail alone, onto the deauthorizations queue.
    pub async fn seat_event(&self, detail: serde_json::Value) -> anyhow::Result<()> {
        self.send(&self.queues.fan_out, &detail).await
    }

    /// The receipt of the contract's latest purge.
    pub async fn purge_receipt(
        &self,
        contract: &str,
    ) -> anyhow::Result<Option<hiresync_domain::purge::PurgeReceipt>> {
        let contract = hiresync_domain::ids::ContractId::parse(contract)?;
        Ok(self
            .functions
            .purge
            .purger
            .store
            .latest_run(&contract)
            .await?)
    }

    /// The messages on the InMail outbox (what the product would post in candidates'
    /// conversations), received and deleted, as the product's consumer would.
    pub async fn inmail(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queues.inmail)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(out);
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap_or("null"))?);
                if let Some(receipt) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queues.inmail)
                        .receipt_handle(receipt)
                        .send()
                        .await?;
                }
            }
        }
    }

    /// Runs every queue-triggered function until its queue has nothing visible left.
    pub async fn pump(&self) -> anyhow::Result<Pumped> {
        let mut total = Pumped::default();
        loop {
            let f = &self.functions;
            let fan_out = poller::poll_once(&self.sqs, &self.queues.fan_out, |event| {
                f.fan_out.handle(event, jiff::Timestamp::now())
            })
            .await?;
            let directory = poller::poll_once(&self.sqs, &self.queues.directory, |event| {
                f.directory.handle(event)
            })
            .await?;
            let ingest = poller::poll(
                &self.sqs,
                &self.queues.sync_jobs,
                Redelivery::After(1),
                |event| ingest::handle(&f.ingest, event, jiff::Timestamp::now(), None),
            )
            .await?;
            let purge = poller::poll_once(&self.sqs, &self.queues.purge, |event| {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
                f.purge.handle(event, jiff::Timestamp::now(), deadline)
            })
            .await?;
            let bookings = poller::poll(
                &self.sqs,
                &self.queues.bookings,
                Redelivery::After(1),
                |event| f.bookings.handle(event, jiff::Timestamp::now()),
            )
            .await?;
            let idle = fan_out.received
                + directory.received
                + ingest.received
                + purge.received
                + bookings.received
                == 0;
            add(&mut total.fan_out, fan_out);
            add(&mut total.directory, directory);
            add(&mut total.ingest, ingest);
            add(&mut total.purge, purge);
            add(&mut total.bookings, bookings);
            if idle {
                return Ok(total);
            }
        }
    }

    /// The subscription-renewal run (renewals, provider clean-ups, catch-ups), as if it
    /// were `now`.
    pub async fn renewal(
        &self,
        now: jiff::Timestamp,
    ) -> anyhow::Result<subscription_renewal::RunReport> {
        self.functions
            .renewal
            .handle(now, None)
            .await
            .map_err(|e| anyhow::anyhow!("renewal failed: {e:?}"))
    }

    /// The retention sweep, run as if it were `now`.
    pub async fn sweep(
        &self,
        now: jiff::Timestamp,
    ) -> anyhow::Result<retention_sweep::SweepReport> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        Ok(self.functions.sweep.handle(now, deadline).await?)
    }

    /// Keeps every function running until Ctrl-C: the queues polled every quarter second,
    /// the renewal timer every minute (or every `HIRESYNC_RENEWAL_SECONDS`).
    pub async fn serve_forever(&self) -> anyhow::Result<()> {
        let every = match std::env::var("HIRESYNC_RENEWAL_SECONDS") {
            Ok(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .with_context(|| {
                    format!("HIRESYNC_RENEWAL_SECONDS={raw:?} is not a number of seconds")
                })?,
            Err(_) => 60,
        };
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        let mut renewal = tokio::time::interval(std::time::Duration::from_secs(every));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = tick.tick() => {
                    if let Err(e) = self.pump().await {
                        eprintln!("queue polling failed (will retry): {e:#}");
                    }
                }
                _ = renewal.tick() => {
                    match self.functions.renewal.handle(jiff::Timestamp::now(), None).await {
                        Ok(report) if report != Default::default() => println!("renewal: {report:?}"),
                        Ok(_) => {}
                        Err(e) => eprintln!("renewal failed (will retry): {e:?}"),
                    }
                    // The hourly sweep rides the same timer here: it reads only what is due.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                    match self.functions.sweep.handle(jiff::Timestamp::now(), deadline).await {
                        Ok(report) if report.threads_removed > 0 => println!("retention sweep: {report:?}"),
                        Ok(_) => {}
                        Err(e) => eprintln!("retention sweep failed (will retry): {e:?}"),
                    }
                }
            }
        }
    }
}
