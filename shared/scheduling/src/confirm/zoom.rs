//! A video interview on the contract's Zoom account: the meeting is hosted by the
//! recruiter's own Zoom user, found by the address of their connected calendar, and its
//! join URL goes in the calendar event's location.
//!
//! Zoom's create has no idempotency key, so the meeting is recorded on the booking as soon
//! as Zoom made it: every later attempt, and every reschedule, moves that meeting. Only a
//! crash between Zoom's answer and that write can leave a meeting nobody uses (without
//! invitations: Zoom sends none). Two attempts racing each make one; the one recorded
//! second deletes its own.

use hiresync_domain::booking::{BookedZoom, Booking, BookingState};
use hiresync_domain::contract::Contract;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, Versioned, ZoomMeeting, ZoomRequest,
};
use hiresync_domain::scheduler::MeetingType;
use hiresync_messages::VideoFailure;
use jiff::Timestamp;
use secrecy::SecretString;
use tracing::{info, warn};

use super::{calendar_failure, candidate, Amend, Attempt, Confirmer};
use crate::zoom::ZoomAccess;

/// The booking's Zoom meeting as it stands: its link, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ZoomPlaced {
    pub join_url: Option<String>,
    pub failure: Option<VideoFailure>,
}

impl ZoomPlaced {
    fn failed(failure: VideoFailure) -> Self {
        Self {
            join_url: None,
            failure: Some(failure),
        }
    }
}

impl Confirmer {
    /// Whether the booking's video meeting is Zoom's: a video interview while the contract
    /// makes video meetings, and it has a Zoom connection (or the booking already has a
    /// Zoom meeting to move).
    pub(super) async fn on_zoom(
        &self,
        contract: &Contract,
        booking: &Booking,
    ) -> Result<bool, Failure> {
        if booking.meeting != MeetingType::Video || !contract.settings.video_meetings {
            return Ok(false);
        }
        if booking.zoom.is_some() {
            return Ok(true);
        }
        self.ports.zoom.connected(&booking.contract_id).await
    }

    /// Makes the booking's Zoom meeting (recorded at once) or moves the one it has to the
    /// booked time. A meeting Zoom will not make is the error table's row for why; a
    /// temporary failure is the job's error until its last attempt.
    pub(super) async fn zoom_meeting(
        &self,
        read: &Versioned<Booking>,
        host: &EmailAddress,
        zone: &str,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<ZoomPlaced, Failure> {
        let booking = &read.value;
        let access = match self
            .ports
            .zoom
            .zoom_access(&booking.contract_id, now)
            .await?
        {
            ZoomAccess::Ready(access) => access,
            ZoomAccess::NotConnected | ZoomAccess::Refused => {
                return Ok(ZoomPlaced::failed(VideoFailure::AccountNotEligible))
            }
        };
        let request = ZoomRequest {
            host: host.clone(),
            topic: format!("Interview with {}", candidate(booking)),
            start: booking.start,
            duration_minutes: u32::try_from(booking.end.duration_since(booking.start).as_mins())
                .unwrap_or(0),
            time_zone: zone.to_owned(),
        };
        let made = match &booking.zoom {
            Some(made) => match self
                .ports
                .meetings
                .reschedule(&access, &made.meeting_id, &request)
                .await
            {
                Err(e) if e.kind == CalendarErrorKind::Failed => {
                    // Deleted at Zoom since: a new one replaces it.
                    info!(booking = %booking.id, error = %e, "the booking's Zoom meeting cannot be moved; making a new one");
                    self.new_zoom_meeting(read, &access, &request, true).await?
                }
                other => other,
            },
            None => {
                self.new_zoom_meeting(read, &access, &request, false)
                    .await?
            }
        };
        match made {
            Ok(meeting) => Ok(ZoomPlaced {
                join_url: Some(meeting.join_url),
                failure: None,
            }),
            Err(e) => {
                let failure = match VideoFailure::of_error(e.kind) {
                    Some(VideoFailure::Temporary) if !attempt.is_last() => {
                        return Err(calendar_failure(e))
                    }
                    Some(failure) => failure,
                    // Refused for a reason Zoom's table does not name: the account cannot
                    // make this meeting; retrying will not change it.
                    None => VideoFailure::AccountNotEligible,
                };
                warn!(booking = %booking.id, reason = failure.code(), error = %e, "Zoom meeting not made");
                Ok(ZoomPlaced::failed(failure))
            }
        }
    }

    /// Creates a Zoom meeting and records it on the booking before anything else; when
    /// another attempt recorded one first, this one is deleted and theirs used. The outer
    /// error is the booking's storage; the inner, Zoom's answer.
    async fn new_zoom_meeting(
        &self,
        read: &Versioned<Booking>,
        access: &SecretString,
        request: &ZoomRequest,
        replacing: bool,
    ) -> Result<Result<ZoomMeeting, CalendarError>, Failure> {
        let meetings = &self.ports.meetings;
        let made = match meetings.create(access, request).await {
            Ok(made) => made,
            Err(e) => return Ok(Err(e)),
        };
        let ours = BookedZoom {
            meeting_id: made.id.clone(),
            join_url: made.join_url.clone(),
        };
        let previous = read.value.zoom.clone();
        let recorded = self
            .amend(read.clone(), |b| {
                if b.state == BookingState::Cancelled {
                    Amend::Stop
                } else if b.zoom.is_some() && (!replacing || b.zoom != previous) {
                    Amend::Keep
                } else {
                    let mut with_zoom = b.clone();
                    with_zoom.zoom = Some(ours.clone());
                    Amend::Write(Box::new(with_zoom))
                }
            })
            .await?;
        let kept = recorded.and_then(|r| r.value.zoom);
        match kept {
            Some(kept) if kept == ours => Ok(Ok(made)),
            other => {
                if let Err(e) = meetings.delete(access, &made.id).await {
                    warn!(booking = %read.value.id, error = %e, "a Zoom meeting made twice could not be deleted");
                }
                match other {
                    Some(theirs) => Ok(Ok(ZoomMeeting {
                        id: theirs.meeting_id,
                        join_url: theirs.join_url,
                    })),
                    // The next attempt finds the booking cancelled and stops there.
                    None => Err(Failure::gave_up(
                        "Zoom meeting",
                        "the booking was cancelled meanwhile",
                    )),
                }
            }
        }
    }
}
