//! The scheduler's use cases: a seat's settings, the links minted for candidates, the times
//! a link offers (the seat's windows less its real calendar), booking and rescheduling.
//!
//! Booking re-reads the calendar (never the cached copy), checks the time is still offered,
//! then holds it with one all-or-nothing write over every 5-minute bucket the meeting
//! covers, so two candidates can never hold one time, and only then queues the booking for
//! its calendar event. A repeated request (a double submit, a retry after a lost answer)
//! finds its own booking at that time and queues the same job again, which the FIFO queue
//! drops.

pub mod confirm;
pub mod ics;
mod offer;
pub mod token;
pub mod zoom;

use std::sync::Arc;

use hiresync_domain::availability::Slot;
use hiresync_domain::booking::{Booking, BookingError, BookingState};
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Contract;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::ports::{
    AccessTokens, CalendarSource, ConnectionStore, ContractStore, Hold, SchedulerSettingsStore,
    SchedulingStore, SeatStore, StoreError, Versioned,
};
use hiresync_domain::scheduler::link::{
    Invitee, LinkState, SchedulingLink, MAX_CONVERSATION_CHARS, MAX_NAME_CHARS,
};
use hiresync_domain::scheduler::{Plan, SchedulerError, SeatScheduler};
use hiresync_domain::seat::Seat;
use hiresync_messages::{BookingJob, BookingQueue};
use jiff::{SignedDuration, Timestamp};
use tracing::{info, warn};

pub use token::{LinkSigner, TokenClaims, TokenError};

/// At most this many links are minted by one request (one bulk InMail's recipients).
pub const MAX_LINKS_PER_REQUEST: usize = 100;
/// How long a seat's busy time read for a page view is reused. Booking never uses it, and a
/// calendar change pushed by the provider forgets it at once.
pub const BUSY_CACHE: SignedDuration = SignedDuration::from_mins(10);
/// At most this many of a seat's upcoming bookings count towards its caps and busy time.
pub const MAX_BOOKINGS_READ: usize = 500;

/// What the scheduler needs from the world.
#[derive(Clone)]
pub struct SchedulingPorts {
    pub contracts: Arc<dyn ContractStore>,
    pub seats: Arc<dyn SeatStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub settings: Arc<dyn SchedulerSettingsStore>,
    pub store: Arc<dyn SchedulingStore>,
    pub calendars: Arc<dyn CalendarSource>,
    pub tokens: Arc<dyn AccessTokens>,
    pub bookings: Arc<dyn BookingQueue>,
}

pub struct Scheduler {
    ports: SchedulingPorts,
    signer: LinkSigner,
}

/// Why a link books nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not a link of ours (or its record is gone).
    Unknown,
    Expired,
    SeatChanged,
    CalendarGone,
}

impl LinkProblem {
    pub fn code(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "unknown",
            LinkProblem::Expired => "expired",
            LinkProblem::SeatChanged => "seat_changed",
            LinkProblem::CalendarGone => "calendar_gone",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Settings(#[from] SchedulerError),
    #[error("authorize your work calendar before using the scheduler")]
    CalendarNotAuthorized,
    #[error("the calendar integration is not on for your contract: ask your Recruiter admin")]
    CalendarOff,
    #[error("set up your scheduler settings first")]
    NotSetUp,
    #[error("this seat has no holder")]
    NoHolder,
    #[error("the scheduling link cannot be used ({})", .0.code())]
    Link(LinkProblem),
    #[error("that time is no longer available")]
    TimeUnavailable,
    #[error("the calendar could not be read, so no time can be offered right now")]
    CalendarUnknown,
    /// The seat offers video meetings the contract no longer activates.
    #[error("something went wrong with the video conference")]
    Video,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<StoreError> for ScheduleError {
    fn from(e: StoreError) -> Self {
        ScheduleError::Failure(e.into())
    }
}

/// A link a candidate may use, with what it needs to show times.
#[derive(Debug, Clone)]
pub struct Opened {
    pub link: SchedulingLink,
    pub plan: Plan,
    /// The interview booked through it, if any.
    pub booking: Option<Versioned<Booking>>,
}

/// A minted link: the token goes in the candidate's URL and nowhere else.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub invitee: Invitee,
    pub conversation: String,
    pub expires_at: Timestamp,
}

/// One recipient of a link.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub invitee: Invitee,
    pub conversation: String,
}

/// A seat with what the scheduler reads of it.
struct SeatContext {
    contract: Contract,
    seat: Seat,
    calendar: Connection,
}

impl Scheduler {
    pub fn new(ports: SchedulingPorts, signer: LinkSigner) -> Self {
        Self { ports, signer }
    }

    pub fn signer(&self) -> &LinkSigner {
        &self.signer
    }

    /// The seat's settings, if it set them.
    pub async fn settings(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<SeatScheduler>, ScheduleError> {
        Ok(self.ports.settings.scheduler(contract, seat).await?)
    }

    /// Checks and saves the seat's settings; the seat must have authorized its calendar.
    pub async fn save_settings(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        settings: SeatScheduler,
        now: Timestamp,
    ) -> Result<SeatScheduler, ScheduleError> {
        let ctx = self.seat_context(contract, seat).await?;
        settings.validate(&ctx.contract.settings)?;
        self.ports
            .settings
            .save_scheduler(contract, seat, &settings, now)
            .await?;
        info!(contract = %contract, seat = %seat, "scheduler settings saved");
        Ok(settings)
    }

    /// Mints one link per invitation, for the seat's holder `caller`.
    pub async fn mint(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        caller: &UserId,
        invitations: Vec<Invitation>,
        now: Timestamp,
    ) -> Result<Vec<Minted>, ScheduleError> {
        if invitations.is_empty() || invitations.len() > MAX_LINKS_PER_REQUEST {
            return Err(ScheduleError::Invalid(format!(
                "give from 1 to {MAX_LINKS_PER_REQUEST} recipients"
            )));
        }
        for i in &invitations {
            check_invitation(i)?;
        }
        let ctx = self.seat_context(contract, seat).await?;
        let plan = self.plan(&ctx).await?;
        let holder = ctx.seat.holder.clone().ok_or(ScheduleError::NoHolder)?;
        if &holder != caller {
            return Err(ScheduleError::NoHolder);
        }
        let expires_at = now
            .checked_add(plan.link_validity)
            .map_err(|e| ScheduleError::Invalid(e.to_string()))?;
        let mut minted = Vec::with_capacity(invitations.len());
        for invitation in invitations {
            let token = self.signer.mint(contract, seat, expires_at);
            let link = SchedulingLink {
                contract_id: contract.clone(),
                seat_id: seat.clone(),
                token_hash: token::token_hash(&token),
                invitee: invitation.invitee.clone(),
                conversation: invitation.conversation.clone(),
                holder: holder.clone(),
                calendar: ctx.calendar.grant.address.clone(),
                created_at: now,
                expires_at,
            };
            self.ports.store.put_link(&link).await?;
            minted.push(Minted {
                token,
                invitee: invitation.invitee,
                conversation: invitation.conversation,
                expires_at,
            });
        }
        info!(contract = %contract, seat = %seat, links = minted.len(), "links minted");
        Ok(minted)
    }

    /// The link behind `token`, if a candidate may use it at `now`.
    pub async fn open(&self, token: &str, now: Timestamp) -> Result<Opened, ScheduleError> {
        let claims = self.signer.verify(token, now).map_err(|e| match e {
            TokenError::Expired => ScheduleError::Link(LinkProblem::Expired),
            TokenError::Unknown => ScheduleError::Link(LinkProblem::Unknown),
        })?;
        let link = self
            .ports
            .store
            .link(&claims.contract, &claims.seat, &claims.hash)
            .await?
            .ok_or(ScheduleError::Link(LinkProblem::Unknown))?;
        let seat = self
            .ports
            .seats
            .get(&link.contract_id, &link.seat_id)
            .await?
            .ok_or(ScheduleError::Link(LinkProblem::SeatChanged))?
            .value;
        let calendar = self
            .ports
            .connections
            .get(&link.contract_id, &link.seat_id, ConnectionKind::Calendar)
            .await?
            .map(|v| v.value);
        match link.state(now, &seat, calendar.as_ref()) {
            LinkState::Usable => {}
            LinkState::Expired => return Err(ScheduleError::Link(LinkProblem::Expired)),
            LinkState::SeatChanged => return Err(ScheduleError::Link(LinkProblem::SeatChanged)),
            LinkState::CalendarGone => return Err(ScheduleError::Link(LinkProblem::CalendarGone)),
        }
        let contract = self.contract(&link.contract_id).await?;
        if !contract.is_active() || !contract.settings.calendar_enabled {
            return Err(ScheduleError::Link(LinkProblem::CalendarGone));
        }
        let settings = self
            .ports
            .settings
            .scheduler(&link.contract_id, &link.seat_id)
            .await?
            .ok_or(ScheduleError::NotSetUp)?;
        let plan = settings.validate(&contract.settings).map_err(|e| match e {
            SchedulerError::VideoNotActivated => ScheduleError::Video,
            other => ScheduleError::Settings(other),
        })?;
        let booking = match Booking::id_for(&link) {
            Ok(id) => {
                self.ports
                    .store
                    .booking(&link.contract_id, &link.seat_id, &id)
                    .await?
            }
            Err(_) => None,
        };
        Ok(Opened {
            link,
            plan,
            booking,
        })
    }

    /// The times `opened` offers at `now`, from the busy time read in the last few minutes
    /// (or read now).
    pub async fn offered(
        &self,
        opened: &Opened,
        now: Timestamp,
    ) -> Result<Vec<Slot>, ScheduleError> {
        let calendar = self
            .ports
            .connections
            .get(
                &opened.link.contract_id,
                &opened.link.seat_id,
                ConnectionKind::Calendar,
            )
            .await?
            .ok_or(ScheduleError::Link(LinkProblem::CalendarGone))?
            .value;
        let own = opened.booking.as_ref().map(|b| b.value.id.clone());
        self.slots(&calendar, &opened.plan, own.as_ref(), now, false)
            .await
    }

    /// The times the seat offers at `now`, for the product (read through the cache).
    pub async fn seat_availability(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        now: Timestamp,
    ) -> Result<(Plan, Vec<Slot>), ScheduleError> {
        let ctx = self.seat_context(contract, seat).await?;
        let plan = self.plan(&ctx).await?;
        let slots = self.slots(&ctx.calendar, &plan, None, now, false).await?;
        Ok((plan, slots))
    }

    /// Books the interview at `start` through `token` (or moves the one booked through it),
    /// the candidate seeing times in `zone`.
    pub async fn book(
        &self,
        token: &str,
        start: Timestamp,
        zone: &str,
        now: Timestamp,
    ) -> Result<Booking, ScheduleError> {
        let opened = self.open(token, now).await?;
        if let Some(current) = &opened.booking {
            if current.value.start == start && current.value.state != BookingState::Cancelled {
                // The same request again: make sure its job is queued, change nothing.
                self.queue(&current.value, now).await?;
                return Ok(current.value.clone());
            }
        }
        let calendar = self
            .ports
            .connections
            .get(
                &opened.link.contract_id,
                &opened.link.seat_id,
                ConnectionKind::Calendar,
            )
            .await?
            .ok_or(ScheduleError::Link(LinkProblem::CalendarGone))?
            .value;
        let own = opened.booking.as_ref().map(|b| b.value.id.clone());
        let fresh = self
            .slots(&calendar, &opened.plan, own.as_ref(), now, true)
            .await?;
        let slot = fresh
            .iter()
            .find(|s| s.start == start)
            .copied()
            .ok_or(ScheduleError::TimeUnavailable)?;
        let mut booking = match &opened.booking {
            None => Booking::request(
                &opened.link,
                slot,
                opened.plan.meeting.clone(),
                zone.to_owned(),
                now,
            ),
            Some(current) => {
                let mut moved = current.value.clone();
                moved.reschedule(slot, zone.to_owned(), now).map(|()| moved)
            }
        }
        .map_err(|e| match e {
            BookingError::Cancelled(_) | BookingError::SameTime => ScheduleError::TimeUnavailable,
            other => ScheduleError::Invalid(other.to_string()),
        })?;
        // The day the seat's daily cap counts it on, held with the time.
        booking.local_day = Some(
            slot.start
                .to_zoned(opened.plan.schedule.zone().clone())
                .date(),
        );
        let cap = opened.plan.schedule.settings().daily_cap;
        match self
            .ports
            .store
            .hold(&booking, opened.booking.as_ref(), cap)
            .await?
        {
            Hold::Held(stored) => {
                info!(
                    contract = %booking.contract_id, seat = %booking.seat_id,
                    booking = %booking.id, revision = booking.revision,
                    "interview time held"
                );
                self.queue(&stored.value, now).await?;
                Ok(stored.value)
            }
            Hold::Taken | Hold::Changed => {
                warn!(booking = %booking.id, "the time was taken meanwhile");
                Err(ScheduleError::TimeUnavailable)
            }
        }
    }

    async fn queue(&self, booking: &Booking, now: Timestamp) -> Result<(), ScheduleError> {
        let job = BookingJob {
            contract: booking.contract_id.clone(),
            seat: booking.seat_id.clone(),
            booking: booking.id.clone(),
            revision: booking.revision,
            requested_at: now,
        };
        self.ports
            .bookings
            .booking(&job)
            .await
            .map_err(|e| ScheduleError::Failure(e.into()))
    }

    async fn contract(&self, id: &ContractId) -> Result<Contract, ScheduleError> {
        Ok(self
            .ports
            .contracts
            .get(id)
            .await?
            .ok_or(Failure::NotFound("contract"))?
            .value)
    }

    /// The seat, its contract and its authorized calendar, as the recruiter's routes need.
    async fn seat_context(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<SeatContext, ScheduleError> {
        let c = self.contract(contract).await?;
        if !c.is_active() || !c.settings.calendar_enabled || c.settings.provider.is_none() {
            return Err(ScheduleError::CalendarOff);
        }
        let s = self
            .ports
            .seats
            .get(contract, seat)
            .await?
            .ok_or(Failure::NotFound("seat"))?
            .value;
        let calendar = self
            .ports
            .connections
            .get(contract, seat, ConnectionKind::Calendar)
            .await?
            .map(|v| v.value)
            .filter(Connection::is_authorized)
            .ok_or(ScheduleError::CalendarNotAuthorized)?;
        Ok(SeatContext {
            contract: c,
            seat: s,
            calendar,
        })
    }

    async fn plan(&self, ctx: &SeatContext) -> Result<Plan, ScheduleError> {
        let settings = self
            .ports
            .settings
            .scheduler(&ctx.contract.id, &ctx.seat.id)
            .await?
            .ok_or(ScheduleError::NotSetUp)?;
        Ok(settings.validate(&ctx.contract.settings)?)
    }
}

fn check_invitation(i: &Invitation) -> Result<(), ScheduleError> {
    if i.conversation.trim().is_empty() || i.conversation.chars().count() > MAX_CONVERSATION_CHARS {
        return Err(ScheduleError::Invalid(format!(
            "each recipient needs the conversation the link is sent in (1 to {MAX_CONVERSATION_CHARS} characters)"
        )));
    }
    if i.invitee
        .name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
    {
        return Err(ScheduleError::Invalid(format!(
            "a recipient's name is at most {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(())
}
