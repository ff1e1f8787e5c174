//! A seat ready to confirm interviews, on in-memory fakes: an active contract with the
//! calendar and video meetings on, a seat held by Rita, her authorized calendar, and a
//! candidate's link. Shared by the use-case tests and the function's handler tests.
#![allow(dead_code)] // each test crate uses part of it

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::availability::Slot;
use hiresync_domain::booking::Booking;
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{Contract, Provider};
use hiresync_domain::ids::{BookingId, ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::ports::{
    ConnectionStore, ContractStore, Hold, SchedulingStore, SeatStore, Versioned,
};
use hiresync_domain::scheduler::link::{Invitee, SchedulingLink};
use hiresync_domain::scheduler::MeetingType;
use hiresync_domain::seat::Seat;
use hiresync_messages::BookingJob;
use hiresync_scheduling::confirm::{Attempt, ConfirmPorts, Confirmer, Outcome, Polling, Wait};
use hiresync_scheduling::zoom::{ZoomCallback, ZoomConnections, ZoomPorts};
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::calendar_events::FakeCalendarEvents;
use hiresync_testkit::fakes::inmail::InMemoryInmail;
use hiresync_testkit::fakes::mailbox::FakeAccessTokens;
use hiresync_testkit::fakes::queues::InMemoryQueues;
use hiresync_testkit::fakes::scheduling::InMemoryScheduling;
use hiresync_testkit::fakes::sealer::InMemorySealer;
use hiresync_testkit::fakes::tenancy::InMemoryTenancy;
use hiresync_testkit::fakes::zoom::InMemoryZoomStore;
use hiresync_testkit::fakes::zoom_api::{FakeZoomMeetings, FakeZoomOAuth};

pub const NOW: &str = "2026-03-02T09:00:00Z";
pub const MONDAY_9: &str = "2026-03-09T09:00:00Z";
pub const TUESDAY_14: &str = "2026-03-10T14:00:00Z";
pub const CALENDAR: &str = "rita@acme.example";
pub const CANDIDATE: &str = "dana@candidate.example";

/// Records every wait and returns at once.
#[derive(Default)]
pub struct Waits(pub Mutex<Vec<Duration>>);

#[async_trait]
impl Wait for Waits {
    async fn wait(&self, duration: Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

impl Waits {
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

pub struct World {
    pub tenancy: InMemoryTenancy,
    pub scheduling: Arc<InMemoryScheduling>,
    pub calendar: Arc<FakeCalendarEvents>,
    pub tokens: Arc<FakeAccessTokens>,
    pub queues: Arc<InMemoryQueues>,
    pub inmail: Arc<InMemoryInmail>,
    pub waits: Arc<Waits>,
    /// The contract's Zoom connection (none until [`World::connect_zoom`]) and Zoom.
    pub zoom_store: Arc<InMemoryZoomStore>,
    pub zoom_oauth: Arc<FakeZoomOAuth>,
    pub meetings: Arc<FakeZoomMeetings>,
    pub sealer: Arc<InMemorySealer>,
    pub contract: ContractId,
    pub seat: SeatId,
    pub holder: UserId,
    /// How many links were minted (each books its own interview).
    links: Mutex<u32>,
}

impl World {
    /// The contract on `provider`, with the calendar and video meetings on.
    pub async fn new(provider: Provider) -> Self {
        let world = Self {
            tenancy: InMemoryTenancy::default(),
            scheduling: Arc::default(),
            calendar: Arc::default(),
            tokens: Arc::default(),
            queues: Arc::default(),
            inmail: Arc::default(),
            waits: Arc::default(),
            zoom_store: Arc::default(),
            zoom_oauth: Arc::default(),
            meetings: Arc::default(),
            sealer: Arc::default(),
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("seat-1").unwrap(),
            holder: UserId::parse("rita").unwrap(),
            links: Mutex::new(0),
        };
        let mut contract = Contract::new(world.contract.clone());
        contract.settings.provider = Some(provider);
        contract.settings.calendar_enabled = true;
        contract.settings.video_meetings = true;
        world.tenancy.contracts.create(&contract).await.unwrap();
        let seat = Seat::new(
            world.seat.clone(),
            world.contract.clone(),
            Some(world.holder.clone()),
        );
        world.tenancy.seats.create(&seat).await.unwrap();
        let grant = Grant {
            provider,
            address: EmailAddress::parse(CALENDAR).unwrap(),
            scopes: Default::default(),
            organization: None,
        };
        let calendar = Connection::first(
            world.contract.clone(),
            world.seat.clone(),
            ConnectionKind::Calendar,
            grant,
            ts(NOW),
        );
        world.tenancy.connections.create(&calendar).await.unwrap();
        world
    }

    pub fn ports(&self) -> ConfirmPorts {
        ConfirmPorts {
            contracts: self.tenancy.contracts.clone(),
            seats: self.tenancy.seats.clone(),
            connections: self.tenancy.connections.clone(),
            settings: self.scheduling.clone(),
            store: self.scheduling.clone(),
            events: self.calendar.clone(),
            tokens: self.tokens.clone(),
            notices: self.queues.clone(),
            inmail: self.inmail.clone(),
            wait: self.waits.clone(),
            zoom: Arc::new(self.zoom()),
            meetings: self.meetings.clone(),
        }
    }

    /// The contract's Zoom connections over the world's fakes.
    pub fn zoom(&self) -> ZoomConnections {
        ZoomConnections::new(ZoomPorts {
            contracts: self.tenancy.contracts.clone(),
            store: self.zoom_store.clone(),
            sealer: self.sealer.clone(),
            oauth: self.zoom_oauth.clone(),
            wait: self.waits.clone(),
        })
    }

    /// An admin connects the contract's Zoom account at `NOW`.
    pub async fn connect_zoom(&self) {
        let zoom = self.zoom();
        let admin = UserId::parse("ada").unwrap();
        let start = zoom.start(&self.contract, &admin, ts(NOW)).await.unwrap();
        let state = start.url.split("state=").nth(1).unwrap().to_owned();
        let callback = ZoomCallback {
            state,
            code: Some("code-1".into()),
            error: None,
        };
        zoom.complete(&self.contract, &admin, &callback, ts(NOW))
            .await
            .unwrap();
    }

    /// Reads a pending meeting 3 times, 2 seconds apart (the waits return at once).
    pub fn confirmer(&self) -> Confirmer {
        Confirmer::new(self.ports()).with_polling(Polling {
            reads: 3,
            delay: Duration::from_secs(2),
            retry_after: Duration::from_secs(30),
        })
    }

    /// booking-confirmation runs `booking`'s job as `attempt`, at `NOW`.
    pub async fn confirm(
        &self,
        booking: &Booking,
        attempt: Attempt,
    ) -> Result<Outcome, hiresync_domain::failure::Failure> {
        self.confirmer()
            .confirm(&self.job(booking), attempt, ts(NOW))
            .await
    }

    fn link(&self) -> SchedulingLink {
        let mut n = self.links.lock().unwrap();
        *n += 1;
        SchedulingLink {
            contract_id: self.contract.clone(),
            seat_id: self.seat.clone(),
            token_hash: format!("{:02x}{}", *n, "a".repeat(62)),
            invitee: Invitee {
                email: EmailAddress::parse(CANDIDATE).unwrap(),
                name: Some("Dana Lee".into()),
                profile: None,
            },
            conversation: format!("conversation-{n}"),
            holder: self.holder.clone(),
            calendar: EmailAddress::parse(CALENDAR).unwrap(),
            created_at: ts(NOW),
            expires_at: ts("2026-03-30T00:00:00Z"),
        }
    }

    /// A candidate books 30 minutes at `start` through a new link.
    pub async fn book(&self, meeting: MeetingType, start: &str) -> Booking {
        let slot = half_hour(start);
        let booking = Booking::request(
            &self.link(),
            slot,
            meeting,
            "America/New_York".into(),
            ts(NOW),
        )
        .unwrap();
        match self.scheduling.hold(&booking, None, None).await.unwrap() {
            Hold::Held(stored) => stored.value,
            other => panic!("the time was not held: {other:?}"),
        }
    }

    /// The candidate moves the interview to `start`.
    pub async fn reschedule(&self, id: &BookingId, start: &str) -> Booking {
        let read = self.stored(id);
        let mut moved = read.value.clone();
        moved
            .reschedule(half_hour(start), "Europe/Paris".into(), ts(NOW))
            .unwrap();
        match self
            .scheduling
            .hold(&moved, Some(&read), None)
            .await
            .unwrap()
        {
            Hold::Held(stored) => stored.value,
            other => panic!("the time was not held: {other:?}"),
        }
    }

    pub fn stored(&self, id: &BookingId) -> Versioned<Booking> {
        self.scheduling
            .stored_booking(&self.contract, &self.seat, id)
            .expect("the booking is stored")
    }

    /// The job the booking (at its current revision) queued.
    pub fn job(&self, booking: &Booking) -> BookingJob {
        BookingJob {
            contract: booking.contract_id.clone(),
            seat: booking.seat_id.clone(),
            booking: booking.id.clone(),
            revision: booking.revision,
            requested_at: ts(NOW),
        }
    }
}

pub fn half_hour(start: &str) -> Slot {
    let start = ts(start);
    Slot {
        start,
        end: start + jiff::SignedDuration::from_mins(30),
    }
}
