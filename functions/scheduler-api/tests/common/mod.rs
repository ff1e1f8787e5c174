//! The scheduler API over its router, against DynamoDB Local, with the seat's calendar and
//! the bookings queue in memory: a contract on Google Workspace with calendar and video on,
//! seat `s1` held by alice with her calendar authorized, seat `s2` with none.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use hiresync_domain::availability::Busy;
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{Contract, EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{CalendarError, CalendarErrorKind, CalendarSource, TenancyStores};
use hiresync_domain::seat::Seat;
use hiresync_domain::Timestamp;
use hiresync_messages::{BookingJob, BookingQueue, QueueError};
use hiresync_scheduling::{LinkSigner, Scheduler, SchedulingPorts};
use hiresync_store::DynamoSchedulingStore;
use hiresync_testkit::fakes::mailbox::FakeAccessTokens;
use hiresync_wiring::auth::Authenticator;
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header};
use scheduler_api::{router, App};
use serde_json::{json, Value};
use tower::ServiceExt;

/// A Monday. Far enough ahead that DynamoDB Local's TTL never deletes what a test wrote
/// (links and bookings expire weeks after their instants).
pub const NOW: &str = "2037-03-02T09:30:00Z";
const KEY: [u8; 32] = [9u8; 32];
pub const ALICE: &str = "alice@acme.example";

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The seat's calendar: busy intervals, or unreadable.
#[derive(Default)]
pub struct Calendar {
    pub busy: Mutex<Vec<Busy>>,
    pub unreadable: Mutex<bool>,
    pub reads: Mutex<u32>,
}

#[async_trait]
impl CalendarSource for Calendar {
    async fn busy(
        &self,
        _provider: Provider,
        _owner: &EmailAddress,
        _access: &secrecy::SecretString,
        _from: Timestamp,
        _to: Timestamp,
    ) -> Result<Vec<Busy>, CalendarError> {
        *self.reads.lock().unwrap() += 1;
        if *self.unreadable.lock().unwrap() {
            return Err(CalendarError::new(
                "free/busy",
                CalendarErrorKind::Unreadable,
                std::io::Error::other("notFound"),
            ));
        }
        Ok(self.busy.lock().unwrap().clone())
    }
}

#[derive(Default)]
pub struct Bookings {
    pub jobs: Mutex<Vec<BookingJob>>,
}

#[async_trait]
impl BookingQueue for Bookings {
    async fn booking(&self, job: &BookingJob) -> Result<(), QueueError> {
        self.jobs.lock().unwrap().push(job.clone());
        Ok(())
    }
}

pub struct Api {
    pub router: axum::Router,
    pub stores: TenancyStores,
    pub calendar: Arc<Calendar>,
    pub bookings: Arc<Bookings>,
    pub now: Arc<Mutex<Timestamp>>,
}

pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn sign(claims: Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&KEY)).unwrap()
}

/// The bearer token of the holder of `seat` (`user-<seat>`; alice holds s1).
pub fn recruiter(seat: &str) -> String {
    let user = if seat == "s1" { "alice" } else { seat };
    sign(json!({
        "sub": user, "contract": "acme", "seat": seat, "role": "recruiter",
        "aud": "hiresync", "exp": ts("2037-12-31T00:00:00Z").as_second()
    }))
}

pub fn settings(meeting: Value) -> Value {
    json!({
        "length_minutes": 30,
        "time_zone": "Europe/Paris",
        "windows": [
            {"weekday": "tuesday", "start": "09:00", "end": "11:00"},
            {"weekday": "wednesday", "start": "09:00", "end": "11:00"}
        ],
        "max_days_ahead": 14,
        "meeting": meeting,
        "link_validity_days": 7,
    })
}

impl Api {
    pub async fn new(label: &str) -> Self {
        let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
        let client = aws_sdk_dynamodb::Client::new(&config);
        let stores =
            hiresync_store::tenancy_stores(&client, resources.table("TenancyTable").unwrap());
        let scheduling = Arc::new(DynamoSchedulingStore::new(
            client,
            resources.table("SchedulingTable").unwrap(),
        ));
        let acme = ContractId::parse("acme").unwrap();
        let mut contract = Contract::new(acme.clone());
        contract
            .change_settings(SettingsUpdate {
                provider: Some(Provider::GoogleWorkspace),
                email_access: Some(EmailAccess::ViewOnly),
                calendar_enabled: Some(true),
                video_meetings: Some(true),
            })
            .unwrap();
        stores.contracts.create(&contract).await.unwrap();
        for (seat, holder) in [("s1", "alice"), ("s2", "s2")] {
            stores
                .seats
                .create(&Seat {
                    id: SeatId::parse(seat).unwrap(),
                    contract_id: acme.clone(),
                    holder: Some(UserId::parse(holder).unwrap()),
                    changed_at: None,
                })
                .await
                .unwrap();
        }
        stores
            .connections
            .create(&Connection::first(
                acme,
                SeatId::parse("s1").unwrap(),
                ConnectionKind::Calendar,
                Grant {
                    provider: Provider::GoogleWorkspace,
                    address: EmailAddress::parse(ALICE).unwrap(),
                    scopes: BTreeSet::new(),
                    organization: Some("acme.example".into()),
                },
                ts("2037-03-01T09:00:00Z"),
            ))
            .await
            .unwrap();
        let calendar = Arc::new(Calendar::default());
        let bookings = Arc::new(Bookings::default());
        let scheduler = Scheduler::new(
            SchedulingPorts {
                contracts: stores.contracts.clone(),
                seats: stores.seats.clone(),
                connections: stores.connections.clone(),
                settings: scheduling.clone(),
                store: scheduling,
                calendars: calendar.clone(),
                tokens: Arc::new(FakeAccessTokens::default()),
                bookings: bookings.clone(),
            },
            LinkSigner::new(vec![3u8; 32]).unwrap(),
        );
        let now = Arc::new(Mutex::new(ts(NOW)));
        let clock = now.clone();
        let spec = format!(
            "k1:{}",
            base64::engine::general_purpose::STANDARD.encode(KEY)
        );
        let app = Arc::new(App {
            scheduler,
            auth: Authenticator::from_spec(&spec).unwrap(),
            public_base_url: "https://jobs.acme.example".into(),
            clock: Arc::new(move || *clock.lock().unwrap()),
        });
        Self {
            router: router(app),
            stores,
            calendar,
            bookings,
            now,
        }
    }

    pub fn at(&self, instant: &str) {
        *self.now.lock().unwrap() = ts(instant);
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let location = header("location");
        let content_type = header("content-type").unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            location,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn json(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> Answer {
        self.send(
            Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// Saves `meeting` settings for s1 and mints one link per conversation; the links' paths.
    pub async fn links(&self, meeting: Value, conversations: &[&str]) -> Vec<String> {
        let saved = self
            .json(
                "PUT",
                "/v1/contracts/acme/seats/s1/scheduler",
                &recruiter("s1"),
                Some(settings(meeting)),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let recipients: Vec<Value> = conversations
            .iter()
            .enumerate()
            .map(|(i, c)| json!({"email": format!("candidate{i}@mail.example"), "name": format!("Candidate {i}"), "conversation": c}))
            .collect();
        let minted = self
            .json(
                "POST",
                "/v1/contracts/acme/seats/s1/scheduling-links",
                &recruiter("s1"),
                Some(json!({ "recipients": recipients })),
            )
            .await;
        assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.body);
        minted.json()["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l["url"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("https://jobs.acme.example")
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }
}

/// The form of a booking at `start` shown in `zone`.
pub fn form(start: &str, zone: &str) -> String {
    format!(
        "start={}&tz={}",
        start.replace(':', "%3A"),
        zone.replace('/', "%2F")
    )
}
