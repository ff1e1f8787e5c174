//! The booking confirmation: a booked (or moved) interview put in the recruiter's calendar,
//! with its video meeting, then confirmed to the candidate in their conversation.
//!
//! One [`BookingJob`] per revision arrives on the FIFO bookings queue, in order per
//! booking. The job only names the booking: what is done follows the booking as stored.
//!
//! - A booking that is gone or cancelled, or whose revision is newer than the job's (the
//!   newer job does the work), or already confirmed at this revision: nothing more.
//! - A seat that changed hands: nobody can vouch for the new holder's calendar, and the
//!   interview was with the former holder, so no event is made; the candidate is told in
//!   the conversation that the time is not confirmed and to reply there, and the booking is
//!   cancelled (it no longer holds the new holder's time). An event an earlier revision
//!   made stays in the former holder's calendar: their grants went with the seat.
//! - A calendar that is no longer usable (deauthorized, to be reconnected, another account,
//!   the contract's calendar integration off, its grant refused): no event; the candidate
//!   is told the same way. The booking stays as it is: once the recruiter reconnects, the
//!   candidate can book again through the same link while it is valid. The recruiter is not
//!   sent a notice: the message appears in their own conversation with the candidate, and
//!   losing the calendar already told them to reauthorize when that was not their doing.
//! - A suspended or unknown contract: nothing at all.
//!
//! Otherwise the event is made on the first confirmation, with a key derived from the
//! booking alone ([`event_key`]): every retry asks the provider with the same key and gets
//! the event the first attempt made, never a second one. A later revision moves that same
//! event. A Meet conference still being made is read again a few times; still pending, the
//! job comes back later ([`Outcome::RetryLater`]). A video meeting the provider refuses or
//! cannot make leaves the event without one (the interview still happens): the candidate
//! only reads that something went wrong with the video call and to contact the recruiter,
//! and the recruiter gets the precise reason ([`Notice::VideoLinkFailed`]). A temporary
//! failure is retried through the queue and reported only on the job's last attempt.
//!
//! The steps are ordered so that stopping anywhere and running again is safe:
//! 1. make or move the event (the same event for every attempt);
//! 2. tell the recruiter about a video failure (at least once: a crash before step 3 can
//!    repeat it, with the same booking and revision);
//! 3. record the event on the booking (`event.revision` = the job's, state still
//!    `Requested`): from here a retry goes straight to step 4;
//! 4. send the InMail, built from what step 3 recorded only, so a repeat is identical,
//!    `id` included, and the product drops it;
//! 5. mark the booking `Confirmed`: a later copy of the job does nothing.

mod event;
mod inmail;
mod zoom;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::booking::{BookedEvent, Booking, BookingState};
use hiresync_domain::connection::{Connection, ConnectionKind};
use hiresync_domain::contract::Contract;
use hiresync_domain::failure::{Failure, Throttled};
use hiresync_domain::ids::BookingId;
use hiresync_domain::ports::{
    AccessTokens, CalendarError, CalendarEvents, ConnectionStore, ContractStore, Raced,
    SchedulerSettingsStore, SchedulingStore, SeatStore, Versioned, ZoomMeetings, RACE_ATTEMPTS,
};
use hiresync_messages::{
    BookingJob, InmailQueue, NotConfirmedReason, Notice, NoticeQueue, VideoFailure,
};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::zoom::ZoomAccessTokens;
use event::{Placement, Target};

/// Waits between two reads of a pending video meeting. The function waits for real; tests
/// return at once.
#[async_trait]
pub trait Wait: Send + Sync {
    async fn wait(&self, duration: Duration);
}

/// How long a pending video meeting (Google Meet is made asynchronously) is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// Reads of the event while its meeting is pending, before the job is put back.
    pub reads: u32,
    /// The wait before each read.
    pub delay: Duration,
    /// Still pending after the reads: the job comes back after this.
    pub retry_after: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            reads: 5,
            delay: Duration::from_secs(2),
            retry_after: Duration::from_secs(30),
        }
    }
}

/// Which delivery of its job this is: the `number`th of at most `of` (the queue's
/// `maxReceiveCount`; after the last, the message goes to the dead-letter queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub number: u32,
    pub of: u32,
}

impl Attempt {
    pub fn new(number: u32, of: u32) -> Self {
        Self {
            number: number.max(1),
            of: of.max(1),
        }
    }

    /// No delivery follows this one: a temporary failure is reported now, not retried.
    pub fn is_last(self) -> bool {
        self.number >= self.of
    }
}

/// Why a job did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The booking is not stored (any more).
    Gone,
    Cancelled,
    /// The booking was moved again since: the newer revision's job does the work.
    Superseded,
    /// This revision is already confirmed (a repeated job).
    AlreadyConfirmed,
    /// The contract is suspended or unknown.
    ContractInactive,
}

/// What a confirmation job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event is in the calendar at the booked time and the InMail is sent.
    Confirmed {
        revision: u32,
        event_id: String,
        /// The video meeting could not be made for this reason (and the recruiter was
        /// told). `None` also when an earlier attempt of the job already told them.
        video_failure: Option<VideoFailure>,
    },
    /// No event was made: the candidate was told the time is not confirmed.
    NotConfirmed(NotConfirmedReason),
    Skipped(Skip),
    /// The video meeting is still being made: run the job again after `after`.
    RetryLater {
        after: Duration,
    },
}

impl Outcome {
    /// A short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Confirmed {
                video_failure: Some(_),
                ..
            } => "confirmed_without_video",
            Outcome::Confirmed { .. } => "confirmed",
            Outcome::NotConfirmed(NotConfirmedReason::SeatChanged) => "not_confirmed_seat_changed",
            Outcome::NotConfirmed(NotConfirmedReason::CalendarUnavailable) => {
                "not_confirmed_calendar_unavailable"
            }
            Outcome::Skipped(Skip::Gone) => "skipped_gone",
            Outcome::Skipped(Skip::Cancelled) => "skipped_cancelled",
            Outcome::Skipped(Skip::Superseded) => "skipped_superseded",
            Outcome::Skipped(Skip::AlreadyConfirmed) => "skipped_already_confirmed",
            Outcome::Skipped(Skip::ContractInactive) => "skipped_contract_inactive",
            Outcome::RetryLater { .. } => "video_pending",
        }
    }
}

/// The key of a booking's calendar event: the lowercase hex SHA-256 of the booking id. The
/// same for every attempt, and a valid Google event id and Graph `transactionId`.
pub fn event_key(booking: &BookingId) -> String {
    hex(&Sha256::digest(booking.as_str().as_bytes()))
}

/// The key of an event made again at `revision` because the recruiter deleted the one the
/// booking had.
fn event_key_after_removal(booking: &BookingId, revision: u32) -> String {
    hex(&Sha256::digest(format!("{booking}#r{revision}").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the confirmation needs from the world.
#[derive(Clone)]
pub struct ConfirmPorts {
    pub contracts: Arc<dyn ContractStore>,
    pub seats: Arc<dyn SeatStore>,
    pub connections: Arc<dyn ConnectionStore>,
    /// The seat's scheduler settings: the zone the event is shown in.
    pub settings: Arc<dyn SchedulerSettingsStore>,
    pub store: Arc<dyn SchedulingStore>,
    pub events: Arc<dyn CalendarEvents>,
    pub tokens: Arc<dyn AccessTokens>,
    pub notices: Arc<dyn NoticeQueue>,
    pub inmail: Arc<dyn InmailQueue>,
    pub wait: Arc<dyn Wait>,
    /// The contract's Zoom connection, and Zoom's meetings API: a contract with one has
    /// its video interviews on Zoom.
    pub zoom: Arc<dyn ZoomAccessTokens>,
    pub meetings: Arc<dyn ZoomMeetings>,
}

pub struct Confirmer {
    ports: ConfirmPorts,
    polling: Polling,
}

/// What a write to the booking should do, given the booking as it is now.
enum Amend {
    Write(Box<Booking>),
    /// Already as wanted.
    Keep,
    /// The booking moved on (another revision, cancelled): leave it.
    Stop,
}

/// A calendar failure as the job's: a provider's request to wait travels with it, so the
/// job waits that long before its next attempt.
fn calendar_failure(e: CalendarError) -> Failure {
    match e.retry_after {
        Some(retry_after) => Failure::internal(
            "calendar",
            Throttled {
                retry_after,
                source: Box::new(e),
            },
        ),
        None => Failure::internal("calendar", e),
    }
}

/// The candidate as the recruiter knows them: their name, or their address.
fn candidate(booking: &Booking) -> String {
    booking
        .invitee
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| booking.invitee.email.as_str().to_owned())
}

impl Confirmer {
    pub fn new(ports: ConfirmPorts) -> Self {
        Self {
            ports,
            polling: Polling::default(),
        }
    }

    pub fn with_polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// Confirms the booking `job` names, at `now`, on delivery `attempt` of the job. An
    /// error leaves the job for another attempt (a storage or queue failure, a calendar
    /// failure that may pass).
    pub async fn confirm(
        &self,
        job: &BookingJob,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<Outcome, Failure> {
        let Some(read) = self
            .ports
            .store
            .booking(&job.contract, &job.seat, &job.booking)
            .await?
        else {
            return Ok(Outcome::Skipped(Skip::Gone));
        };
        let booking = &read.value;
        if booking.state == BookingState::Cancelled {
            return Ok(Outcome::Skipped(Skip::Cancelled));
        }
        if job.revision < booking.revision {
            return Ok(Outcome::Skipped(Skip::Superseded));
        }
        if job.revision > booking.revision {
            // Only a stale read can show a booking older than its job: read it again later.
            return Err(Failure::gave_up(
                "booking confirmation",
                "the booking is older than its job",
            ));
        }
        let recorded = booking
            .event
            .as_ref()
            .is_some_and(|e| e.revision == booking.revision);
        if recorded && booking.state == BookingState::Confirmed {
            return Ok(Outcome::Skipped(Skip::AlreadyConfirmed));
        }
        if recorded {
            // An earlier attempt made and recorded the event: only the InMail may be missing.
            return self.announce(read, None).await;
        }
        let Some(contract) = self
            .ports
            .contracts
            .get(&job.contract)
            .await?
            .map(|v| v.value)
            .filter(Contract::is_active)
        else {
            return Ok(Outcome::Skipped(Skip::ContractInactive));
        };
        let seat = self.ports.seats.get(&job.contract, &job.seat).await?;
        if seat.and_then(|s| s.value.holder).as_ref() != Some(&booking.holder) {
            return self
                .not_confirmed(read, NotConfirmedReason::SeatChanged)
                .await;
        }
        let Some(calendar) = self.calendar(&contract, booking).await? else {
            return self
                .not_confirmed(read, NotConfirmedReason::CalendarUnavailable)
                .await;
        };
        let access = match self.ports.tokens.access_token(&calendar, now).await {
            Ok(access) => access,
            // The grant is refused: the connection now needs reconnecting (the seat was told).
            Err(Failure::Refused(_)) => {
                return self
                    .not_confirmed(read, NotConfirmedReason::CalendarUnavailable)
                    .await
            }
            Err(e) => return Err(e),
        };
        let zone = self
            .ports
            .settings
            .scheduler(&job.contract, &job.seat)
            .await?
            .map(|s| s.availability.time_zone)
            .unwrap_or_else(|| booking.invitee_zone.clone());
        let zoom = match self.on_zoom(&contract, booking).await? {
            true => Some(
                self.zoom_meeting(&read, &calendar.grant.address, &zone, attempt, now)
                    .await?,
            ),
            false => None,
        };
        let target = Target::new(&contract, &calendar, access, zone, booking, zoom);
        let placed = match self
            .place(&target, booking, attempt)
            .await
            .map_err(calendar_failure)?
        {
            Placement::Placed(placed) => placed,
            Placement::Pending => {
                info!(booking = %job.booking, revision = job.revision, attempt = attempt.number, "video meeting still pending; the job comes back");
                return Ok(Outcome::RetryLater {
                    after: self.polling.retry_after,
                });
            }
        };
        if let Some(reason) = placed.failure {
            warn!(booking = %job.booking, revision = job.revision, reason = reason.code(), "interview without its video meeting");
            let name = candidate(booking);
            self.ports
                .notices
                .notice(&Notice::VideoLinkFailed {
                    contract: job.contract.clone(),
                    seat: job.seat.clone(),
                    booking: job.booking.clone(),
                    revision: job.revision,
                    message: reason.message(&name),
                    candidate: name,
                    reason,
                    at: now,
                })
                .await?;
        }
        let event = BookedEvent {
            event_id: placed.event_id,
            join_url: placed.join_url,
            revision: job.revision,
        };
        let recorded = self
            .amend(read, |b| {
                if b.revision != job.revision || b.state == BookingState::Cancelled {
                    Amend::Stop
                } else if b.event.as_ref() == Some(&event) {
                    Amend::Keep
                } else {
                    let mut with_event = b.clone();
                    with_event.event = Some(event.clone());
                    Amend::Write(Box::new(with_event))
                }
            })
            .await?;
        match recorded {
            Some(recorded) => self.announce(recorded, placed.failure).await,
            // Moved again meanwhile: the next job finds this event by its key and moves it.
            None => Ok(Outcome::Skipped(Skip::Superseded)),
        }
    }

    /// The seat's calendar, when the booking's event can go in it.
    async fn calendar(
        &self,
        contract: &Contract,
        booking: &Booking,
    ) -> Result<Option<Connection>, Failure> {
        let settings = &contract.settings;
        Ok(self
            .ports
            .connections
            .get(
                &booking.contract_id,
                &booking.seat_id,
                ConnectionKind::Calendar,
            )
            .await?
            .map(|v| v.value)
            .filter(|c| {
                c.is_authorized()
                    && c.grant.address == booking.calendar
                    && settings.calendar_enabled
                    && settings.provider == Some(c.grant.provider)
            }))
    }

    /// Sends the InMail of the recorded revision, then marks it confirmed.
    async fn announce(
        &self,
        recorded: Versioned<Booking>,
        video_failure: Option<VideoFailure>,
    ) -> Result<Outcome, Failure> {
        let booking = &recorded.value;
        let Some(event) = booking.event.clone() else {
            return Err(Failure::gave_up(
                "booking confirmation",
                "no event is recorded",
            ));
        };
        self.ports
            .inmail
            .inmail(&inmail::confirmation(booking, &event))
            .await?;
        let revision = booking.revision;
        let (contract, seat, id) = (
            booking.contract_id.clone(),
            booking.seat_id.clone(),
            booking.id.clone(),
        );
        self.amend(recorded, |b| {
            if b.revision != revision || b.state == BookingState::Cancelled {
                Amend::Stop
            } else if b.state == BookingState::Confirmed {
                Amend::Keep
            } else {
                let mut confirmed = b.clone();
                confirmed.state = BookingState::Confirmed;
                Amend::Write(Box::new(confirmed))
            }
        })
        .await?;
        info!(
            contract = %contract, seat = %seat, booking = %id,
            revision, video_failure = video_failure.map(VideoFailure::code),
            "interview confirmed"
        );
        Ok(Outcome::Confirmed {
            revision,
            event_id: event.event_id,
            video_failure,
        })
    }

    /// Tells the candidate the time is not confirmed; a booking whose seat changed hands
    /// is cancelled after (so a retry in between tells them again, identically).
    async fn not_confirmed(
        &self,
        read: Versioned<Booking>,
        reason: NotConfirmedReason,
    ) -> Result<Outcome, Failure> {
        let b = &read.value;
        let message = inmail::not_confirmed(b, reason);
        self.ports.inmail.inmail(&message).await?;
        warn!(
            contract = %b.contract_id, seat = %b.seat_id, booking = %b.id,
            revision = b.revision, reason = ?reason, "interview not confirmed"
        );
        if reason == NotConfirmedReason::SeatChanged {
            let revision = b.revision;
            self.amend(read, |b| {
                if b.revision != revision || b.state == BookingState::Cancelled {
                    Amend::Stop
                } else {
                    let mut cancelled = b.clone();
                    cancelled.state = BookingState::Cancelled;
                    Amend::Write(Box::new(cancelled))
                }
            })
            .await?;
        }
        Ok(Outcome::NotConfirmed(reason))
    }

    /// Applies `change` to the booking, from `read` and, after a lost race, from a fresh
    /// read. `None`: the booking moved on (or is gone) and was left alone.
    async fn amend(
        &self,
        mut read: Versioned<Booking>,
        change: impl Fn(&Booking) -> Amend,
    ) -> Result<Option<Versioned<Booking>>, Failure> {
        for _ in 0..RACE_ATTEMPTS {
            let next = match change(&read.value) {
                Amend::Keep => return Ok(Some(read)),
                Amend::Stop => return Ok(None),
                Amend::Write(next) => *next,
            };
            if let Some(written) = self
                .ports
                .store
                .update_booking(&read, &next)
                .await
                .raced()?
            {
                return Ok(Some(written));
            }
            let b = &read.value;
            match self
                .ports
                .store
                .booking(&b.contract_id, &b.seat_id, &b.id)
                .await?
            {
                Some(fresh) => read = fresh,
                None => return Ok(None),
            }
        }
        Err(Failure::gave_up(
            "booking update",
            "the booking kept changing concurrently",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_key_is_the_lowercase_hex_sha256_of_the_booking_id() {
        let id = BookingId::parse("b-0123456789abcdef").unwrap();
        let key = event_key(&id);
        assert_eq!(key.len(), 64);
        // Google event ids are base32hex (0-9, a-v); lowercase hex is within it.
        assert!(key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(key, event_key(&id), "the same for every attempt");
        assert_eq!(
            event_key(&BookingId::parse("abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(event_key_after_removal(&id, 1), key);
    }

    #[test]
    fn the_last_attempt_is_the_queues_receive_count() {
        assert!(!Attempt::new(1, 5).is_last());
        assert!(!Attempt::new(4, 5).is_last());
        assert!(Attempt::new(5, 5).is_last());
        assert!(Attempt::new(7, 5).is_last());
        assert!(Attempt::new(0, 0).is_last());
    }
}
