//! The purge on the local AWS: two contracts filled with every class of data, one suspended
//! and purged through its queue, then every table scanned (here only, to prove it): nothing
//! of the purged contract's third-party data is left, the other contract is untouched, and
//! first-party data stays.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/connect/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{consent, sign_in_to, ts, Harness};
use hiresync_connect::Purger;
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{ConnectionKind, SyncStart};
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::mail::{Direction, Message, Thread, Visibility};
use hiresync_domain::ports::{PurgeStore, ThreadStore};
use hiresync_domain::purge::DataClass;
use hiresync_domain::sync_status::{SyncStage, SyncStatus};
use hiresync_messages::{
    ContractReactivated, ContractSuspended, PurgeMessage, PurgeQueue, PurgeStep,
};
use hiresync_runtime::outbox::SqsQueue;
use hiresync_store::{DynamoMailStore, DynamoPurgeStore};

const FILLED: &str = "2026-03-02T09:00:00Z";
const SUSPENDED: &str = "2026-03-05T12:00:00Z";
const PURGING: &str = "2026-03-05T12:00:05Z";
const REACTIVATED: &str = "2026-03-20T08:00:00Z";

fn contract(id: &str) -> ContractId {
    ContractId::parse(id).unwrap()
}

fn seat(id: &str) -> SeatId {
    SeatId::parse(id).unwrap()
}

type Item = std::collections::HashMap<String, AttributeValue>;

fn s(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    }
}

struct World {
    h: Harness,
    purger: Purger,
    store: DynamoPurgeStore,
    mail: DynamoMailStore,
    tables: BTreeMap<&'static str, String>,
    queue: String,
}

impl World {
    async fn new(label: &str) -> Self {
        let h = Harness::new(label).await;
        let ddb = aws_sdk_dynamodb::Client::new(&h.aws);
        let mut tables = BTreeMap::new();
        for t in ["TenancyTable", "MailTable", "SchedulingTable"] {
            tables.insert(t, h.resources.table(t).unwrap().to_owned());
        }
        let queue = h.resources.queue("PurgeQueue").unwrap().to_owned();
        let store = DynamoPurgeStore::new(
            ddb.clone(),
            &tables["TenancyTable"],
            &tables["MailTable"],
            &tables["SchedulingTable"],
        );
        let purger = Purger {
            connector: h.connector.clone(),
            store: Arc::new(store.clone()),
            queue: Arc::new(SqsQueue::new(h.sqs.clone(), &queue)),
            integrations: Arc::new(h.zoom_connections()),
        };
        let mail = DynamoMailStore::new(ddb, &tables["MailTable"]);
        Self {
            h,
            purger,
            store,
            mail,
            tables,
            queue,
        }
    }

    async fn enable(&self, c: &ContractId) {
        self.h
            .connector
            .change_settings(
                c,
                SettingsUpdate {
                    provider: Some(Provider::Microsoft365),
                    email_access: Some(EmailAccess::SendAndView),
                    calendar_enabled: Some(false),
                    video_meetings: None,
                },
                ts(FILLED),
            )
            .await
            .unwrap();
    }

    /// `seat` of `c` connects the mailbox `address`.
    async fn connect(
        &self,
        c: &ContractId,
        s: &str,
        address: &str,
        at: &str,
    ) -> Result<SyncStart, Failure> {
        self.h.mailbox_is(address);
        let user = UserId::parse(format!("u-{s}")).unwrap();
        let start = self
            .h
            .connector
            .start_authorization(c, &seat(s), &user, ConnectionKind::Email, None, ts(at))
            .await?;
        let connected = self
            .h
            .connector
            .complete_authorization(
                &sign_in_to(c.clone(), seat(s), user, ConnectionKind::Email),
                &consent(&start.url, &format!("code-{c}-{s}")),
                ts(at),
            )
            .await?;
        self.h
            .first_sync_job(c.as_str(), s, ConnectionKind::Email, at)
            .await;
        Ok(connected.sync)
    }

    /// Every class of data a seat can have: a connection with its token, subscription and
    /// claim (connected above), sync status, threads with messages, their guards and
    /// pointers, a skip decision, a tombstone, a link and a booking.
    async fn fill_seat(&self, c: &ContractId, s: &str) {
        let stores = &self.h.connector.stores;
        stores
            .sync_status
            .put(
                c,
                &seat(s),
                ConnectionKind::Email,
                &SyncStatus::new(SyncStage::Historical, ts(FILLED)),
            )
            .await
            .unwrap();
        for (thread, counterpart) in [("t1", "jane@talent.example"), ("t2", "joe@talent.example")] {
            let t = Thread {
                contract_id: c.clone(),
                seat_id: seat(s),
                thread_id: thread.into(),
                counterpart: EmailAddress::parse(counterpart).unwrap(),
                visibility: Visibility::Private,
                holder: None,
                profile: None,
                started_from_product: false,
                last_activity_at: ts(FILLED),
            };
            for n in 0..2 {
                let m = Message {
                    contract_id: c.clone(),
                    seat_id: seat(s),
                    thread_id: thread.into(),
                    provider_id: format!("{thread}-m{n}"),
                    internet_message_id: Some(format!("<{thread}.{n}@talent.example>")),
                    direction: Direction::Received,
                    from: t.counterpart.clone(),
                    to: vec![EmailAddress::parse(format!("{s}@{c}.example")).unwrap()],
                    cc: vec![],
                    bcc: vec![],
                    subject: "Interview".into(),
                    sent_at: ts(FILLED) - jiff::SignedDuration::from_hours(n),
                };
                self.mail.store_message(&t, &m).await.unwrap();
            }
        }
        let pk = format!("SEAT#{c}#{s}");
        for (table, sk) in [
            ("MailTable", "SKIP#bob@else.example#2026-03-01T00:00:00Z#x1"),
            ("MailTable", "GONE#t-old"),
            ("SchedulingTable", "LINK#l1"),
            ("SchedulingTable", "BOOKING#b1"),
        ] {
            self.put(table, &pk, sk).await;
        }
    }

    async fn put(&self, table: &str, pk: &str, sk: &str) {
        aws_sdk_dynamodb::Client::new(&self.h.aws)
            .put_item()
            .table_name(&self.tables[table])
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S(sk.into()))
            .send()
            .await
            .unwrap();
    }

    /// Every item of every table (a Scan: in this test only), as (table, item).
    async fn everything(&self) -> Vec<(&'static str, Item)> {
        let ddb = aws_sdk_dynamodb::Client::new(&self.h.aws);
        let mut all = Vec::new();
        for (logical, name) in &self.tables {
            let mut start = None;
            loop {
                let out = ddb
                    .scan()
                    .table_name(name)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap();
                all.extend(out.items().iter().cloned().map(|i| (*logical, i)));
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        all
    }

    /// The items of `c`, by any key or attribute that names it, as "table pk sk".
    async fn of(&self, c: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .everything()
            .await
            .into_iter()
            .filter(|(_, item)| {
                let pk = s(item, "pk");
                pk == format!("CONTRACT#{c}")
                    || pk.starts_with(&format!("SEAT#{c}#"))
                    || pk == format!("DIR#{c}")
                    || s(item, "contract_id") == c
                    || s(item, "contract") == c
            })
            .map(|(table, item)| format!("{table} {} {}", s(&item, "pk"), s(&item, "sk")))
            .collect();
        keys.sort();
        keys
    }

    /// Works the purge queue until it is empty, verifications after every other step that
    /// was waiting with them.
    async fn drain(&self, now: &str) -> usize {
        let mut handled = 0;
        let mut idle = 0;
        while idle < 2 {
            let out = self
                .h
                .sqs
                .receive_message()
                .queue_url(&self.queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let mut batch: Vec<(PurgeMessage, String)> = out
                .messages()
                .iter()
                .map(|m| {
                    (
                        serde_json::from_str(m.body().unwrap()).unwrap(),
                        m.receipt_handle().unwrap().to_owned(),
                    )
                })
                .collect();
            if batch.is_empty() {
                idle += 1;
                continue;
            }
            idle = 0;
            batch.sort_by_key(|(m, _)| matches!(m, PurgeMessage::Step(PurgeStep::Verify { .. })));
            for (message, receipt) in batch {
                self.purger
                    .handle(message, ts(now), &|| false)
                    .await
                    .unwrap();
                handled += 1;
                self.h
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .unwrap();
            }
        }
        handled
    }
}

/// acme's s1 step of the run of `SUSPENDED`, at `now`, with no time left if `out_of_time`.
async fn s1_step(w: &World, now: &str, out_of_time: bool) {
    let step = PurgeMessage::Step(PurgeStep::Seat {
        contract: contract("acme"),
        suspended_at: ts(SUSPENDED),
        seat: seat("s1"),
        deleted: Default::default(),
    });
    w.purger
        .handle(step, ts(now), &move || out_of_time)
        .await
        .unwrap();
}

fn reactivated(c: &str, at: &str) -> PurgeMessage {
    PurgeMessage::Reactivated(ContractReactivated {
        contract_id: contract(c),
        reactivated_at: ts(at),
    })
}

fn suspended(c: &str, at: &str) -> PurgeMessage {
    PurgeMessage::Suspended(ContractSuspended {
        contract_id: contract(c),
        suspended_at: ts(at),
    })
}

/// Two contracts with the same seat id and the same candidates, each with every class of
/// data (a Zoom connection included); `acme` has a second seat whose earlier
/// deauthorization still owes the provider.
async fn filled(label: &str) -> World {
    let w = World::new(label).await;
    w.h.zoom_answers("zoom-account", "admin@example.com").await;
    let zoom = w.h.zoom_connections();
    let admin = UserId::parse("admin").unwrap();
    w.h.microsoft_tenant(
        "ms-refresh-token-purge",
        "Mail.Read Mail.Send User.Read openid profile email",
        "s1@acme.example",
    )
    .await;
    for c in ["acme", "globex"] {
        let c = contract(c);
        w.enable(&c).await;
        w.connect(&c, "s1", &format!("s1@{c}.example"), FILLED)
            .await
            .unwrap();
        w.fill_seat(&c, "s1").await;
        w.h.connector
            .stores
            .contracts
            .remember_graph_ceiling(&c, 4230)
            .await
            .unwrap();
        w.put("TenancyTable", &format!("DIR#{c}"), "CAND#p1").await;
        let start = zoom.start(&c, &admin, ts(FILLED)).await.unwrap();
        let state = common::query(&start.url)["state"].clone();
        let callback = hiresync_scheduling::zoom::ZoomCallback {
            state,
            code: Some("zoom-code".into()),
            error: None,
        };
        zoom.complete(&c, &admin, &callback, ts(FILLED))
            .await
            .unwrap();
    }
    let acme = contract("acme");
    w.connect(&acme, "s2", "s2@acme.example", FILLED)
        .await
        .unwrap();
    w.fill_seat(&acme, "s2").await;
    w.h.connector
        .deauthorize(&acme, &seat("s2"), ConnectionKind::Email, ts(FILLED))
        .await
        .unwrap();
    w
}

#[tokio::test]
async fn a_suspended_contract_loses_all_its_third_party_data_and_nothing_else() {
    let w = filled("purge-all").await;
    let acme = contract("acme");
    let globex_before = w.of("globex").await;
    let acme_before = w.of("acme").await;
    for class in [
        "T#t1", "MID#", "PID#", "SKIP#", "GONE#", "LINK#", "TOKEN#", "SYNC#", "SUBREF#", "RETIRE#",
        "LEARNED#", "ZOOM",
    ] {
        assert!(
            acme_before.iter().any(|k| k.contains(class)),
            "the fill has {class}: {acme_before:#?}"
        );
    }
    let claims = |all: Vec<(&'static str, Item)>| {
        all.iter()
            .filter(|(_, i)| s(i, "pk").starts_with("MAILBOX#") && s(i, "contract_id") == "acme")
            .count()
    };
    assert_eq!(claims(w.everything().await), 1, "s1 holds its mailbox");

    // WHEN the product suspends acme
    w.purger
        .handle(suspended("acme", SUSPENDED), ts(PURGING), &|| false)
        .await
        .unwrap();

    // THEN it is suspended at once: no seat can connect
    let contract_now = w.h.connector.settings(&acme).await.unwrap();
    assert!(!contract_now.is_active());
    let refused = w.connect(&acme, "s3", "s3@acme.example", PURGING).await;
    assert!(
        matches!(
            refused,
            Err(Failure::Refused(ConnectError::NotAllowed(
                Denial::ContractSuspended
            )))
        ),
        "{refused:?}"
    );

    // AND once its queue is worked, none of its third-party data is left in any table
    assert!(
        w.drain(PURGING).await >= 4,
        "suspension, a page, two seats and the verification"
    );
    let acme_after = w.of("acme").await;
    let first_party = |k: &String| {
        let sk = k.rsplit(' ').next().unwrap();
        sk == "CONTRACT"
            || sk.starts_with("SEAT#")
            || sk.starts_with("CAND#")
            || sk.starts_with("PURGE#")
            || sk.starts_with("PURGESEAT#")
    };
    let left: Vec<&String> = acme_after.iter().filter(|k| !first_party(k)).collect();
    assert_eq!(claims(w.everything().await), 0, "no claim of acme is left");
    assert!(left.is_empty(), "third-party data left: {left:#?}");
    // first-party data stays: the contract, its seats, the directory
    for kept in [
        "CONTRACT#acme CONTRACT",
        "CONTRACT#acme SEAT#s1",
        "CONTRACT#acme SEAT#s2",
        "DIR#acme CAND#p1",
    ] {
        assert!(
            acme_after.iter().any(|k| k.ends_with(kept)),
            "{kept} kept: {acme_after:#?}"
        );
    }
    // and the other contract, with the same seat id and candidates, is untouched
    assert_eq!(w.of("globex").await, globex_before);

    // AND the provider was told: each seat's subscription stopped
    let stops =
        w.h.requests()
            .await
            .into_iter()
            .filter(|r| {
                r.method.as_str() == "DELETE" && r.url.path().starts_with("/graph/subscriptions/")
            })
            .count();
    let per_mailbox = acme_before
        .iter()
        .filter(|k| k.contains(" SUBREF#s1#"))
        .count();
    assert!(per_mailbox > 0);
    assert_eq!(
        stops,
        2 * per_mailbox,
        "s2's kept by its deauthorization, s1's: all stopped by the purge"
    );
    // and acme's Zoom grant given back (globex's stays)
    assert_eq!(w.h.requests_to("POST", "/zoom-oauth/revoke").await.len(), 1);

    // AND the receipt counts what went, per class and seat, and found nothing afterwards
    let receipt = w.store.latest_run(&acme).await.unwrap().unwrap();
    assert_eq!(receipt.suspended_at, ts(SUSPENDED));
    assert!(receipt.is_finished());
    let verification = receipt.verification.clone().unwrap();
    assert!(verification.is_clean(), "{verification:?}");
    assert_eq!(receipt.seats.len(), 2);
    for seat_receipt in &receipt.seats {
        let d = &seat_receipt.deleted;
        assert_eq!(d.get(DataClass::Threads), 2, "{:?}", seat_receipt);
        assert_eq!(d.get(DataClass::Messages), 4);
        assert_eq!(d.get(DataClass::MessageIds), 4);
        assert_eq!(d.get(DataClass::ProviderIds), 4);
        assert_eq!(d.get(DataClass::SkipDecisions), 1);
        assert_eq!(d.get(DataClass::Tombstones), 1);
        assert_eq!(d.get(DataClass::Scheduling), 2);
        assert_eq!(d.get(DataClass::SyncStatus), 1);
        assert_eq!(d.get(DataClass::Connections), 1);
        assert_eq!(d.get(DataClass::Tokens), 1, "revoked, then deleted");
        assert_eq!(seat_receipt.awaiting_provider, 0);
        let claims = if seat_receipt.seat == seat("s1") {
            1
        } else {
            0
        };
        assert_eq!(
            d.get(DataClass::MailboxClaims),
            claims,
            "s2's went at its deauthorization"
        );
    }
    let s2 = receipt.seats.iter().find(|r| r.seat == seat("s2")).unwrap();
    assert_eq!(
        s2.deleted.get(DataClass::Retirements),
        1,
        "the earlier deauthorization finished"
    );
    assert_eq!(receipt.deleted.get(DataClass::ProviderLimits), 1);
    assert_eq!(receipt.deleted.get(DataClass::Zoom), 1, "the connection");
    assert_eq!(receipt.deleted.get(DataClass::Messages), 8);

    // AND the same event again changes nothing and queues nothing
    w.purger
        .handle(suspended("acme", SUSPENDED), ts(REACTIVATED), &|| false)
        .await
        .unwrap();
    assert_eq!(w.drain(REACTIVATED).await, 0);
    assert_eq!(w.store.latest_run(&acme).await.unwrap().unwrap(), receipt);

    // WHEN the contract is reactivated, a seat connects again from scratch
    w.purger
        .handle(reactivated("acme", REACTIVATED), ts(REACTIVATED), &|| false)
        .await
        .unwrap();
    assert!(w.h.connector.settings(&acme).await.unwrap().is_active());
    let sync = w
        .connect(&acme, "s1", "s1@acme.example", REACTIVATED)
        .await
        .unwrap();
    assert_eq!(sync, SyncStart::Historical);

    // AND a step of the finished run delivered late touches nothing of the new connection
    s1_step(&w, REACTIVATED, false).await;
    let stores = &w.h.connector.stores;
    let email = stores
        .connections
        .get(&acme, &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .unwrap();
    assert!(email.value.is_authorized());
    assert!(stores
        .tokens
        .get(&acme, &seat("s1"), ConnectionKind::Email)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_seat_step_out_of_time_continues_in_a_new_step_and_lifecycle_events_out_of_order_converge(
) {
    let w = filled("purge-resume").await;
    let acme = contract("acme");

    // A reactivation delivered before the suspension it follows changes nothing, and the
    // suspension still applies.
    w.purger
        .handle(reactivated("acme", REACTIVATED), ts(PURGING), &|| false)
        .await
        .unwrap();
    assert!(w.h.connector.settings(&acme).await.unwrap().is_active());
    w.purger
        .handle(suspended("acme", SUSPENDED), ts(PURGING), &|| false)
        .await
        .unwrap();
    assert!(!w.h.connector.settings(&acme).await.unwrap().is_active());

    // A reactivation while the purge has not finished waits on the queue.
    w.purger
        .handle(reactivated("acme", REACTIVATED), ts(PURGING), &|| false)
        .await
        .unwrap();
    assert!(!w.h.connector.settings(&acme).await.unwrap().is_active());

    // A seat step that has no time left deletes nothing and queues its continuation.
    s1_step(&w, PURGING, true).await;
    assert!(
        w.of("acme")
            .await
            .iter()
            .any(|k| k.contains("SEAT#acme#s1 T#t1")),
        "nothing of the mail deleted yet"
    );

    // Working the queue finishes everything.
    w.drain(PURGING).await;
    let receipt = w.store.latest_run(&acme).await.unwrap().unwrap();
    assert!(receipt.verification.unwrap().is_clean());
    let s1 = receipt.seats.iter().find(|r| r.seat == seat("s1")).unwrap();
    assert_eq!(s1.deleted.get(DataClass::Messages), 4, "counted once");
    assert!(!w.of("acme").await.iter().any(|k| k.contains("SEAT#acme#")));

    // The waiting reactivation, delivered again, now applies.
    w.purger
        .handle(reactivated("acme", REACTIVATED), ts(REACTIVATED), &|| false)
        .await
        .unwrap();
    assert!(w.h.connector.settings(&acme).await.unwrap().is_active());
}

#[tokio::test]
async fn the_purge_queue_adapter_delays_what_must_wait() {
    let w = World::new("purge-delay").await;
    let queue = SqsQueue::new(w.h.sqs.clone(), &w.queue);
    queue
        .purge(&suspended("acme", SUSPENDED), Duration::from_secs(5))
        .await
        .unwrap();
    let out =
        w.h.sqs
            .receive_message()
            .queue_url(&w.queue)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
    assert!(out.messages().is_empty(), "not before its delay");
}
