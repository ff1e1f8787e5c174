//! Making or moving a booking's calendar event, and settling its video meeting.

use hiresync_domain::booking::{BookedEvent, Booking};
use hiresync_domain::connection::Connection;
use hiresync_domain::contract::{Contract, Provider};
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, CalendarEvent, EventRequest, ProviderVideo, VideoState,
};
use hiresync_domain::scheduler::{MeetingType, VideoKind};
use hiresync_messages::VideoFailure;
use secrecy::SecretString;
use tracing::{info, warn};

use super::zoom::ZoomPlaced;
use super::{candidate, event_key, event_key_after_removal, Attempt, Confirmer};

/// The calendar the event goes in, and what is asked of it.
pub(super) struct Target {
    provider: Provider,
    owner: EmailAddress,
    access: SecretString,
    /// The zone the event is shown in (the recruiter's).
    zone: String,
    video: ProviderVideo,
    /// The booking is a video interview the contract no longer makes meetings for.
    video_off: bool,
    /// The interview's Zoom meeting, already made or moved, when its video is Zoom's.
    zoom: Option<ZoomPlaced>,
}

impl Target {
    pub(super) fn new(
        contract: &Contract,
        calendar: &Connection,
        access: SecretString,
        zone: String,
        booking: &Booking,
        zoom: Option<ZoomPlaced>,
    ) -> Self {
        let provider = calendar.grant.provider;
        let wants_video = booking.meeting == MeetingType::Video;
        let video_on = contract.settings.video_meetings;
        let video = match (
            wants_video && video_on && zoom.is_none(),
            VideoKind::of(provider),
        ) {
            (false, _) => ProviderVideo::None,
            (true, VideoKind::Teams) => ProviderVideo::Teams,
            (true, VideoKind::GoogleMeet) => ProviderVideo::Meet,
        };
        Self {
            provider,
            owner: calendar.grant.address.clone(),
            access,
            zone,
            video,
            video_off: wants_video && !video_on,
            zoom,
        }
    }
}

/// The event as it stands, with its meeting settled.
pub(super) struct Placed {
    pub event_id: String,
    pub join_url: Option<String>,
    /// Why a video interview has no meeting.
    pub failure: Option<VideoFailure>,
}

pub(super) enum Placement {
    Placed(Placed),
    /// The meeting is still being made.
    Pending,
}

/// The event made or moved, with the video failure already known from making it.
type Made = (CalendarEvent, Option<VideoFailure>);

impl Confirmer {
    /// Makes the booking's event (or moves the one it has) to the booked time, then settles
    /// its meeting.
    pub(super) async fn place(
        &self,
        target: &Target,
        booking: &Booking,
        attempt: Attempt,
    ) -> Result<Placement, CalendarError> {
        let (event, known) = match &booking.event {
            Some(previous) => self.move_event(target, booking, previous, attempt).await?,
            None => {
                self.create_event(target, booking, event_key(&booking.id), attempt)
                    .await?
            }
        };
        // The key found an event an earlier revision's attempt made but did not record: it is
        // still at that time.
        let event = if (event.start, event.end) == (booking.start, booking.end) {
            event
        } else {
            self.ports
                .events
                .reschedule(
                    target.provider,
                    &target.owner,
                    &target.access,
                    &event.id,
                    booking.start,
                    booking.end,
                )
                .await?
        };
        self.settle_video(target, booking, event, known, attempt)
            .await
    }

    /// Moves the event an earlier revision recorded; one the recruiter deleted is made
    /// again, under a key of its own.
    async fn move_event(
        &self,
        target: &Target,
        booking: &Booking,
        previous: &BookedEvent,
        attempt: Attempt,
    ) -> Result<Made, CalendarError> {
        let events = &self.ports.events;
        let (provider, owner, access) = (target.provider, &target.owner, &target.access);
        let moved = events
            .reschedule(
                provider,
                owner,
                access,
                &previous.event_id,
                booking.start,
                booking.end,
            )
            .await;
        match moved {
            Ok(event) => Ok((
                event,
                target.video_off.then_some(VideoFailure::AccountNotEligible),
            )),
            Err(e) if e.kind == CalendarErrorKind::Failed => {
                if events
                    .get(provider, owner, access, &previous.event_id)
                    .await?
                    .is_some()
                {
                    return Err(e);
                }
                info!(booking = %booking.id, revision = booking.revision, "the recorded event was deleted; making it again");
                let key = event_key_after_removal(&booking.id, booking.revision);
                self.create_event(target, booking, key, attempt).await
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the event under `key` (the provider hands back the one an earlier attempt
    /// made with it). A video meeting the provider will not make, or that kept failing
    /// until the last attempt, is dropped: the event is made without it.
    async fn create_event(
        &self,
        target: &Target,
        booking: &Booking,
        key: String,
        attempt: Attempt,
    ) -> Result<Made, CalendarError> {
        let request = request(target, booking, key);
        let events = &self.ports.events;
        let (provider, owner, access) = (target.provider, &target.owner, &target.access);
        let refused = match events.create(provider, owner, access, &request).await {
            Ok(event) => {
                return Ok((
                    event,
                    target.video_off.then_some(VideoFailure::AccountNotEligible),
                ))
            }
            Err(e) if request.video == ProviderVideo::None => return Err(e),
            Err(e) => e,
        };
        let failure = match VideoFailure::of_error(refused.kind) {
            Some(VideoFailure::Temporary) if !attempt.is_last() => return Err(refused),
            Some(failure) => failure,
            None => return Err(refused),
        };
        warn!(booking = %booking.id, reason = failure.code(), error = %refused, "video meeting not made; the event is made without it");
        let plain = EventRequest {
            video: ProviderVideo::None,
            ..request
        };
        let event = events.create(provider, owner, access, &plain).await?;
        Ok((event, Some(failure)))
    }

    /// The meeting's join URL, or why there is none. A pending meeting is read again a few
    /// times; still pending, the job is put back, or on its last attempt the meeting counts
    /// as failed for a temporary reason.
    async fn settle_video(
        &self,
        target: &Target,
        booking: &Booking,
        event: CalendarEvent,
        known: Option<VideoFailure>,
        attempt: Attempt,
    ) -> Result<Placement, CalendarError> {
        let placed = |join_url: Option<String>, failure: Option<VideoFailure>| {
            Placement::Placed(Placed {
                event_id: event.id.clone(),
                join_url,
                failure,
            })
        };
        if booking.meeting != MeetingType::Video {
            return Ok(placed(None, None));
        }
        if let Some(zoom) = &target.zoom {
            return Ok(placed(zoom.join_url.clone(), zoom.failure));
        }
        let mut state = event.video.clone();
        let mut reads = 0;
        while state == VideoState::Pending && reads < self.polling.reads {
            self.ports.wait.wait(self.polling.delay).await;
            reads += 1;
            state = match self
                .ports
                .events
                .get(target.provider, &target.owner, &target.access, &event.id)
                .await?
            {
                Some(read) => read.video,
                None => {
                    return Err(CalendarError::new(
                        "calendar.event",
                        CalendarErrorKind::Failed,
                        std::io::Error::other("the event disappeared while its meeting was made"),
                    ))
                }
            };
        }
        Ok(match state {
            VideoState::Ready { join_url } => placed(Some(join_url), None),
            VideoState::Pending if !attempt.is_last() => Placement::Pending,
            VideoState::Pending => placed(None, Some(VideoFailure::Temporary)),
            VideoState::Refused { detail } => {
                warn!(booking = %booking.id, detail = %detail, "the provider made the event without its video meeting");
                placed(
                    None,
                    Some(known.unwrap_or(VideoFailure::AccountNotEligible)),
                )
            }
            VideoState::NotAsked => placed(
                None,
                Some(known.unwrap_or(VideoFailure::AccountNotEligible)),
            ),
        })
    }
}

/// The event asked of the calendar.
fn request(target: &Target, booking: &Booking, key: String) -> EventRequest {
    let name = candidate(booking);
    let (location, how) = match &booking.meeting {
        MeetingType::Phone { number } => (
            Some(number.clone()),
            format!("A phone interview: {number}."),
        ),
        MeetingType::Video => match target.zoom.as_ref().and_then(|z| z.join_url.as_ref()) {
            Some(url) => (
                Some(url.clone()),
                format!("A video interview on Zoom: {url}."),
            ),
            None => (None, "A video interview.".to_owned()),
        },
    };
    EventRequest {
        key,
        subject: format!("Interview with {name}"),
        description: format!(
            "{how} {name} ({}) booked this time through your scheduling link.",
            booking.invitee.email.as_str()
        ),
        start: booking.start,
        end: booking.end,
        time_zone: target.zone.clone(),
        attendee: booking.invitee.email.clone(),
        attendee_name: booking.invitee.name.clone(),
        location,
        video: target.video,
    }
}
