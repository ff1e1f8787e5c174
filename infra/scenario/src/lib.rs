//! `make run`: one contract's life on the local AWS, through the real store and queues;
//! `make serve`: the same suite kept running. A library, so the end-to-end tests can link
//! the suite into a binary of their own package (see `tests/driver/suite_main.rs`).
//!
//! Every table and queue is created from template.yaml; every write goes through the
//! repositories to DynamoDB Local; the candidate event travels through the real SQS queue
//! (moto) to the real directory-events handler. The story has fixed instants, so the same
//! run prints the same tables.

mod connect;
/// The front end's part of a sign-in, for drivers of the suite (the end-to-end tests).
pub use connect::{carried, consent};
mod mail;
mod schedule;
mod suite;
/// The historical-sync benchmark's measurement, over the suite it starts.
pub use mail::throughput;
pub use suite::Suite;

use hiresync_domain::ports::{ConnectionStore, ContractStore, DirectoryReader};
use std::collections::BTreeSet;

use anyhow::Context;
use hiresync_domain::access::Effect;
use hiresync_domain::capability::{capabilities, Denial};
use hiresync_domain::connection::{Connection, ConnectionKind, ConnectionState, Grant};
use hiresync_domain::contract::{Contract, EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::seat::Seat;
use hiresync_domain::{scopes, Timestamp};
use hiresync_localstack::{poller, repository_template_path, Template};
use hiresync_store::{
    DynamoConnectionStore, DynamoContractStore, DynamoDirectoryStore, DynamoSeatStore,
};

struct Stores {
    contracts: DynamoContractStore,
    seats: DynamoSeatStore,
    connections: DynamoConnectionStore,
    directory: DynamoDirectoryStore,
}

fn at(s: &str) -> anyhow::Result<Timestamp> {
    s.parse().with_context(|| format!("bad instant {s}"))
}

pub(crate) fn heading(text: &str) {
    println!("\n== {text}");
}

fn show_effects(effects: &[Effect]) {
    if effects.is_empty() {
        println!("   effects: none");
    }
    for e in effects {
        println!(
            "   effect: {}",
            serde_json::to_string(e).unwrap_or_default()
        );
    }
}

fn denial(d: &Result<(), Denial>) -> String {
    match d {
        Ok(()) => "yes".to_owned(),
        Err(e) => format!("no ({e})"),
    }
}

async fn show_seats(stores: &Stores, contract: &Contract, seats: &[SeatId]) -> anyhow::Result<()> {
    println!(
        "   {:<8} {:<9} {:<34} {:<30}",
        "seat", "kind", "state", "address"
    );
    for seat in seats {
        let conns = stores.connections.list_for_seat(&contract.id, seat).await?;
        for c in &conns {
            let state = match c.value.state {
                ConnectionState::Authorized => "authorized".to_owned(),
                ConnectionState::Deauthorized { reason } => format!("deauthorized ({reason:?})"),
                ConnectionState::NeedsReconnect { reason } => match reason {
                    hiresync_domain::access::ReconnectReason::ProviderChanged { .. } => {
                        "needs reconnect (provider changed)".to_owned()
                    }
                    other => format!("needs reconnect ({other:?})"),
                },
            };
            println!(
                "   {:<8} {:<9} {:<34} {:<30}",
                seat.as_str(),
                c.value.kind.as_str(),
                state,
                c.value.grant.address.as_str()
            );
        }
        let email = conns.iter().find(|c| c.value.kind == ConnectionKind::Email);
        let cal = conns
            .iter()
            .find(|c| c.value.kind == ConnectionKind::Calendar);
        let caps = capabilities(contract, email.map(|c| &c.value), cal.map(|c| &c.value));
        println!(
            "   {:<8} may view email: {}; send: {}; use calendar: {}",
            "",
            denial(&caps.view_email),
            denial(&caps.send_email),
            denial(&caps.calendar)
        );
    }
    Ok(())
}

/// The admin changes settings: the contract is written first (versioned), then every
/// connection of the contract receives the effects, page by page.
async fn change_settings(
    stores: &Stores,
    contract_id: &ContractId,
    update: SettingsUpdate,
    now: Timestamp,
) -> anyhow::Result<Contract> {
    let read = stores
        .contracts
        .get(contract_id)
        .await?
        .context("contract missing")?;
    let mut contract = read.value.clone();
    let effects = contract.change_settings(update)?;
    stores.contracts.update(&read, &contract).await?;
    show_effects(&effects);
    let mut token = None;
    let mut lost = 0;
    loop {
        let page = stores
            .connections
            .list_by_contract(contract_id, 50, token.as_ref())
            .await?;
        for read in page.items {
            let mut c = read.value.clone();
            for effect in &effects {
                if c.apply(effect, now, now) {
                    lost += 1;
                }
            }
            if c != read.value {
                stores.connections.update(&read, &c).await?;
            }
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    println!("   connections that lost their authorization: {lost}");
    Ok(contract)
}

fn grant(
    provider: Provider,
    address: &str,
    kind: ConnectionKind,
    level: EmailAccess,
) -> anyhow::Result<Grant> {
    Ok(Grant {
        provider,
        address: EmailAddress::parse(address)?,
        scopes: scopes::feature_scopes(provider, kind, level)
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>(),
        organization: Some("acme.example".to_owned()),
    })
}

/// The command line of the suite's binaries: `run` (the default) or `serve`.
pub async fn cli(command: Option<&str>) -> anyhow::Result<()> {
    match command {
        None | Some("run") => run().await,
        Some("serve") => serve().await,
        Some(other) => anyhow::bail!("unknown command {other:?}: use `run` or `serve`"),
    }
}

/// `make serve`: the local suite stays up for a person to poke at, with the queues polled
/// and the renewal timer ticking as AWS would, until Ctrl-C. With `HIRESYNC_SUITE_INFO`
/// set, where everything is goes to that file as JSON once the suite is up: the API, the
/// sandbox, the signing key, and every queue and table by logical id (the end-to-end tests
/// read it).
async fn serve() -> anyhow::Result<()> {
    hiresync_localstack::require_local_endpoints()?;
    let template = Template::load(&repository_template_path())?;
    let config = hiresync_localstack::aws_config().await;
    let resources = hiresync_localstack::bootstrap(
        &template,
        &config,
        &hiresync_localstack::unique_prefix("serve"),
    )
    .await?;
    let suite = suite::Suite::start(&config, &template, &resources).await?;
    let seeded = mail::seed(&suite).await?;
    let admin = suite.token("globex", "ada", "admin-seat", "admin")?;
    let ana = suite.token("globex", "user-ana", "ana", "recruiter")?;
    println!("hiresync local suite");
    println!("  API + webhooks {}  (GET /healthz)", suite.api);
    println!(
        "  providers      {}  (sandbox accounts below; mail control under /sandbox/...)",
        suite.providers
    );
    for (address, behaviour) in suite::ACCOUNTS {
        println!("                 {address:<22} {behaviour:?}");
    }
    println!("  seeded         {seeded}");
    println!("  tokens         export ADMIN={admin}");
    println!("                 export ANA={ana}");
    println!();
    println!("  curl -s -X PUT {}/v1/contracts/globex/settings -H \"authorization: Bearer $ADMIN\" -H 'content-type: application/json' -d '{{\"provider\":\"microsoft365\",\"email_access\":\"view_only\"}}'", suite.api);
    println!("  curl -s -X POST {}/v1/contracts/globex/seats/ana/connections/email/authorize -H \"authorization: Bearer $ANA\" -H 'content-type: application/json' -d '{{\"login_hint\":\"ana@globex.example\"}}'", suite.api);
    println!(
        "  then open the authorization_url: the sandbox consents and redirects to the front end's page"
    );
    println!(
        "  (played by the sandbox), which shows the state and code; finish as the front end does:"
    );
    println!("  curl -s -X POST {}/v1/contracts/globex/seats/ana/connections/email/complete -H \"authorization: Bearer $ANA\" -H 'content-type: application/json' -d '{{\"state\":\"<state>\",\"code\":\"<code>\"}}'", suite.api);
    println!("  curl -s -X POST {}/sandbox/mailboxes/ana@globex.example/messages -H 'content-type: application/json' -d '{{\"thread\":\"t1\",\"from\":\"Jane <jane@talent.example>\",\"to\":[\"ana@globex.example\"],\"subject\":\"Hello\"}}'", suite.providers);
    println!(
        "  curl -s {}/v1/contracts/globex/seats/ana/threads -H \"authorization: Bearer $ANA\"",
        suite.api
    );
    println!("Ctrl-C stops everything.");
    if let Ok(path) = std::env::var("HIRESYNC_SUITE_INFO") {
        let info = serde_json::json!({
            "api": suite.api,
            "providers": suite.providers,
            "signing_key": suite.signing_key(),
            // Every queue (URL) and table (name) created, by the template's logical id.
            "queues": resources.queues,
            "tables": resources.tables,
        });
        // Written whole, then renamed: a reader never sees half a file.
        let partial = format!("{path}.partial");
        std::fs::write(&partial, info.to_string())?;
        std::fs::rename(&partial, &path)?;
    }
    suite.serve_forever().await
}

async fn run() -> anyhow::Result<()> {
    hiresync_localstack::require_local_endpoints()?;
    let template = Template::load(&repository_template_path())?;
    let config = hiresync_localstack::aws_config().await;
    let prefix = hiresync_localstack::unique_prefix("run");

    heading("Local AWS from template.yaml");
    let resources = hiresync_localstack::bootstrap(&template, &config, &prefix).await?;
    for (id, name) in &resources.tables {
        let def = template.table(id).context("table vanished")?;
        let indexes: Vec<&str> = def.indexes.iter().map(|i| i.name.as_str()).collect();
        println!(
            "   table {name}: key ({}, {}), indexes {:?}, ttl {:?}",
            def.key.hash,
            def.key.range.as_deref().unwrap_or("-"),
            indexes,
            def.ttl_attribute
        );
    }
    for def in &template.queues {
        println!(
            "   queue {}{}{}",
            def.logical_id,
            if def.fifo { " (FIFO)" } else { "" },
            def.redrive
                .as_ref()
                .map(|(dlq, n)| format!(" -> {dlq} after {n} receives"))
                .unwrap_or_default()
        );
    }

    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let tenancy = resources.table("TenancyTable")?.to_owned();
    let stores = Stores {
        contracts: DynamoContractStore::new(dynamo.clone(), tenancy.clone()),
        seats: DynamoSeatStore::new(dynamo.clone(), tenancy.clone()),
        connections: DynamoConnectionStore::new(dynamo.clone(), tenancy.clone()),
        directory: DynamoDirectoryStore::new(dynamo, tenancy),
    };

    let acme = ContractId::parse("acme")?;
    heading(
        "2026-03-02 09:00  A contract is created; nobody can connect before a provider is chosen",
    );
    stores
        .contracts
        .create(&Contract::new(acme.clone()))
        .await?;
    let seat_ids: Vec<SeatId> = ["alice", "bob", "carol"]
        .into_iter()
        .map(SeatId::parse)
        .collect::<Result<_, _>>()?;
    let seats: Vec<Seat> = seat_ids
        .iter()
        .map(|s| {
            Ok(Seat::new(
                s.clone(),
                acme.clone(),
                Some(UserId::parse(format!("user-{s}"))?),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    stores.seats.provision(&seats).await?;
    let fresh = stores
        .contracts
        .get(&acme)
        .await?
        .context("contract missing")?
        .value;
    println!(
        "   alice tries to connect her mailbox: {}",
        denial(
            &hiresync_domain::capability::may_authorize(&fresh, ConnectionKind::Email).map(|_| ())
        )
    );

    heading("09:05  The admin selects Microsoft 365, email Send & view, calendar on");
    let now = at("2026-03-02T09:05:00Z")?;
    let contract = change_settings(
        &stores,
        &acme,
        SettingsUpdate {
            provider: Some(Provider::Microsoft365),
            email_access: Some(EmailAccess::SendAndView),
            calendar_enabled: Some(true),
            video_meetings: None,
        },
        now,
    )
    .await?;

    heading("09:30  alice and bob connect mailbox and calendar; carol connects her calendar only");
    let now = at("2026-03-02T09:30:00Z")?;
    for (seat, kinds) in [
        ("alice", &ConnectionKind::ALL[..]),
        ("bob", &ConnectionKind::ALL[..]),
        ("carol", &[ConnectionKind::Calendar][..]),
    ] {
        for &kind in kinds {
            let g = grant(
                Provider::Microsoft365,
                &format!("{seat}@acme.example"),
                kind,
                EmailAccess::SendAndView,
            )?;
            stores
                .connections
                .create(&Connection::first(
                    acme.clone(),
                    SeatId::parse(seat)?,
                    kind,
                    g,
                    now,
                ))
                .await?;
        }
    }
    show_seats(&stores, &contract, &seat_ids).await?;

    heading("2026-03-09 14:00  The admin lowers email to View only: every email connection is deauthorized");
    let contract = change_settings(
        &stores,
        &acme,
        SettingsUpdate {
            email_access: Some(EmailAccess::ViewOnly),
            ..Default::default()
        },
        at("2026-03-09T14:00:00Z")?,
    )
    .await?;
    show_seats(&stores, &contract, &seat_ids).await?;

    heading("2026-03-10 10:00  alice reauthorizes at View only, a day later: syncing resumes from her cursor");
    let read = stores
        .connections
        .get(&acme, &SeatId::parse("alice")?, ConnectionKind::Email)
        .await?
        .context("alice's email connection")?;
    let mut alice = read.value.clone();
    let g = grant(
        Provider::Microsoft365,
        "alice@acme.example",
        ConnectionKind::Email,
        EmailAccess::ViewOnly,
    )?;
    // Her mailbox had been syncing before the downgrade; ingest keeps this cursor.
    alice
        .cursor
        .0
        .insert("inbox".into(), "delta-token-1".into());
    let start = alice.reauthorize(g, at("2026-03-10T10:00:00Z")?);
    stores.connections.update(&read, &alice).await?;
    println!("   sync starts: {start:?}");
    show_seats(&stores, &contract, &seat_ids[..1]).await?;

    heading(
        "2026-03-11 08:00  The admin turns the calendar off: the feature stops, nothing is revoked",
    );
    let contract = change_settings(
        &stores,
        &acme,
        SettingsUpdate {
            calendar_enabled: Some(false),
            ..Default::default()
        },
        at("2026-03-11T08:00:00Z")?,
    )
    .await?;
    show_seats(&stores, &contract, &seat_ids).await?;

    heading("2026-03-12 08:00  The admin switches to Google Workspace: everyone must reconnect");
    let contract = change_settings(
        &stores,
        &acme,
        SettingsUpdate {
            provider: Some(Provider::GoogleWorkspace),
            ..Default::default()
        },
        at("2026-03-12T08:00:00Z")?,
    )
    .await?;
    show_seats(&stores, &contract, &seat_ids).await?;

    heading(
        "The product publishes candidate events; they travel the real queue to directory-events",
    );
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = resources.queue("DirectoryEventsQueue")?;
    let events = [
        serde_json::json!({"detail-type": "candidate.upserted", "detail": {"contract_id": "acme", "profile_id": "p-jane", "emails": ["Jane.Doe@Example.org"], "discovery": "first_degree", "in_pipeline": true, "degrees": {"alice": "first"}, "version": 2}}),
        serde_json::json!({"detail-type": "candidate.upserted", "detail": {"contract_id": "acme", "profile_id": "p-jane", "emails": ["jane@old.example"], "discovery": "anyone", "in_pipeline": false, "version": 1}}),
        serde_json::json!({"detail-type": "candidate.upserted", "detail": {"contract_id": "acme", "profile_id": "p-jane", "emails": ["Jane.Doe@Example.org"], "discovery": "first_degree", "in_pipeline": true, "degrees": {"alice": "first"}, "version": 2}}),
    ];
    for e in &events {
        sqs.send_message()
            .queue_url(queue)
            .message_body(e.to_string())
            .send()
            .await?;
    }
    println!("   sent: version 2, a late version 1, a duplicate of version 2");
    let directory = &stores.directory;
    let mut total = poller::PollOutcome::default();
    loop {
        let outcome = poller::poll_once(&sqs, queue, |event| {
            directory_events::handle(directory, event)
        })
        .await?;
        if outcome.received == 0 {
            break;
        }
        total.received += outcome.received;
        total.succeeded += outcome.succeeded;
        total.failed += outcome.failed;
    }
    println!(
        "   directory-events handled {} messages: {} succeeded, {} failed",
        total.received, total.succeeded, total.failed
    );
    let jane = stores
        .directory
        .find_by_email(&acme, &EmailAddress::parse("jane.doe@example.org")?)
        .await?
        .context("jane should be in the directory")?;
    println!(
        "   jane.doe@example.org -> profile {} (version {}, discoverable by alice: {}, by bob: {})",
        jane.profile_id,
        jane.source_version,
        jane.discoverable_by(&SeatId::parse("alice")?),
        jane.discoverable_by(&SeatId::parse("bob")?)
    );

    let suite = suite::Suite::start(&config, &template, &resources).await?;
    connect::run(&suite).await?;
    mail::run(&suite).await?;
    schedule::run(&suite).await?;

    let report = suite.permissions.report();
    heading("Every AWS call each function made, held against its role in template.yaml");
    for (function, calls) in report["made"].as_object().into_iter().flatten() {
        let calls: Vec<String> = calls
            .as_object()
            .into_iter()
            .flatten()
            .map(|(op, n)| format!("{} x{n}", op.split('.').next_back().unwrap_or(op)))
            .collect();
        println!("   {function:<21} {}", calls.join(", "));
    }
    if std::env::var("HIRESYNC_AWS_CALLS").as_deref() == Ok("needed") {
        for n in report["needed"].as_array().into_iter().flatten() {
            println!("   needed: {}", n.as_str().unwrap_or_default());
        }
    }
    let refused = report["refused"].as_array().cloned().unwrap_or_default();
    for r in &refused {
        println!("   REFUSED {}", r.as_str().unwrap_or_default());
    }
    anyhow::ensure!(
        refused.is_empty(),
        "{} kinds of call the functions' roles would refuse",
        refused.len()
    );
    println!(
        "   all {} calls allowed: each role grants what its function uses, no more (see template.yaml)",
        report["calls"]
    );

    println!(
        "\nDone: every row above was read back from DynamoDB Local (tables prefixed {prefix})."
    );
    Ok(())
}
