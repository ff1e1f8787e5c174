//! A Google Workspace calendar through Google Calendar.
//!
//! Busy time is `freeBusy` on the primary calendar, whose answer Google may key by
//! `primary` or by the owner's address; a calendar answered with `errors` is unreadable.
//!
//! The event's id is the booking's key. A Meet conference is asked under the request id
//! `<key>-<attempt>` and made asynchronously: `pending` until Google is done, then a join
//! link or `failure`. A failure seen while creating is asked again once under the next
//! attempt, up to [`MEET_ATTEMPTS`]; a calendar that cannot have Meet at all (400, reason
//! `invalid`, "Invalid conference type value.") is [`CalendarErrorKind::VideoNotEligible`].

use hiresync_domain::availability::Busy;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, CalendarEvent, EventRequest, ProviderVideo, VideoState,
};
use jiff::Timestamp;

use super::{api_error, with_kind, Fault};
use crate::calendar_events::GoogleEvent;
use crate::{ApiError, GoogleCalendarClient};

/// Meet requests made for one event, the first included.
pub(super) const MEET_ATTEMPTS: u32 = 3;

/// What `freeBusy` is asked about and may answer under.
const PRIMARY: &str = "primary";

pub(super) async fn busy(
    calendar: &GoogleCalendarClient,
    owner: &EmailAddress,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Busy>, CalendarError> {
    const OP: &str = "calendar.free_busy";
    let calendars = calendar
        .free_busy(&[PRIMARY], from, to)
        .await
        .map_err(|e| api_error(OP, e))?;
    let found = calendars.get(PRIMARY).or_else(|| {
        calendars
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(owner.as_str()))
            .map(|(_, c)| c)
    });
    let Some(found) = found else {
        return Err(
            Fault::Unreadable("no calendar".into()).during(OP, CalendarErrorKind::Unreadable)
        );
    };
    if !found.errors.is_empty() {
        let reasons: Vec<&str> = found.errors.iter().map(|e| e.reason.as_str()).collect();
        return Err(Fault::Unreadable(reasons.join(", ")).during(OP, CalendarErrorKind::Unreadable));
    }
    Ok(found
        .busy
        .iter()
        .map(|b| Busy {
            start: b.start,
            end: b.end,
        })
        .collect())
}

/// A Google event id: base32hex digits (`0-9`, `a-v`), 5 to 1024 of them.
pub(super) fn is_event_id(key: &str) -> bool {
    (5..=1024).contains(&key.len()) && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'))
}

/// The Meet request id of an event's `attempt`-th conference request.
pub(super) fn meet_request_id(event_id: &str, attempt: u32) -> String {
    format!("{event_id}-{attempt}")
}

/// Which attempt a request id made by [`meet_request_id`] was; 1 for any other.
fn attempt_of(event_id: &str, request_id: Option<&str>) -> u32 {
    request_id
        .and_then(|r| r.strip_prefix(event_id)?.strip_prefix('-')?.parse().ok())
        .unwrap_or(1)
}

/// Google's answer when the calendar cannot have the conference type asked.
fn meet_refused(e: &ApiError) -> bool {
    match e {
        ApiError::Status {
            status: 400,
            reason: Some(reason),
            message,
            ..
        } => {
            reason == "invalid"
                && message
                    .as_deref()
                    .is_none_or(|m| m.to_ascii_lowercase().contains("conference"))
        }
        _ => false,
    }
}

pub(super) async fn create(
    calendar: &GoogleCalendarClient,
    event: &EventRequest,
) -> Result<CalendarEvent, CalendarError> {
    const OP: &str = "calendar.insert_event";
    if !is_event_id(&event.key) {
        return Err(Fault::InvalidEventId.during(OP, CalendarErrorKind::Failed));
    }
    let meet = match event.video {
        ProviderVideo::None => false,
        ProviderVideo::Meet => true,
        ProviderVideo::Teams => {
            return Err(Fault::ForeignVideo(event.video).during(OP, CalendarErrorKind::Failed))
        }
    };
    let request_id = meet.then(|| meet_request_id(&event.key, 1));
    let created = match calendar.insert_event(event, request_id.as_deref()).await {
        Ok(created) => created,
        // An earlier attempt made it: the event as it is now.
        Err(e) if e.status() == Some(409) => match calendar.event(&event.key).await {
            Ok(Some(found)) if !found.cancelled => found,
            Ok(_) => return Err(Fault::IdTaken.during(OP, CalendarErrorKind::Failed)),
            Err(e) => return Err(api_error("calendar.event", e)),
        },
        Err(e) if meet && meet_refused(&e) => {
            return Err(with_kind(OP, CalendarErrorKind::VideoNotEligible, e))
        }
        Err(e) => return Err(api_error(OP, e)),
    };
    let created = if meet {
        ask_again_if_failed(calendar, created).await
    } else {
        created
    };
    calendar_event(created, Some(meet)).map_err(|f| f.during(OP, CalendarErrorKind::Failed))
}

/// When the event's Meet request failed, asks once more under the next request id, as
/// long as attempts remain; the event as it then is (still failed when the new request
/// could not be made).
async fn ask_again_if_failed(calendar: &GoogleCalendarClient, event: GoogleEvent) -> GoogleEvent {
    let Some(conference) = &event.conference else {
        return event;
    };
    if conference.status.as_deref() != Some("failure") {
        return event;
    }
    let attempt = attempt_of(&event.id, conference.request_id.as_deref());
    if attempt >= MEET_ATTEMPTS {
        return event;
    }
    let next = meet_request_id(&event.id, attempt + 1);
    match calendar.request_meet(&event.id, &next).await {
        Ok(patched) => patched,
        Err(e) => {
            tracing::warn!(error = %e, "asking Google for Meet again failed");
            event
        }
    }
}

pub(super) async fn get(
    calendar: &GoogleCalendarClient,
    event_id: &str,
) -> Result<Option<CalendarEvent>, CalendarError> {
    const OP: &str = "calendar.event";
    match calendar
        .event(event_id)
        .await
        .map_err(|e| api_error(OP, e))?
    {
        Some(e) if !e.cancelled => calendar_event(e, None)
            .map(Some)
            .map_err(|f| f.during(OP, CalendarErrorKind::Failed)),
        _ => Ok(None),
    }
}

pub(super) async fn reschedule(
    calendar: &GoogleCalendarClient,
    event_id: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<CalendarEvent, CalendarError> {
    const OP: &str = "calendar.move_event";
    let moved = calendar
        .move_event(event_id, start, end)
        .await
        .map_err(|e| api_error(OP, e))?;
    calendar_event(moved, None).map_err(|f| f.during(OP, CalendarErrorKind::Failed))
}

pub(super) async fn cancel(
    calendar: &GoogleCalendarClient,
    event_id: &str,
) -> Result<(), CalendarError> {
    calendar
        .delete_event(event_id)
        .await
        .map_err(|e| api_error("calendar.delete_event", e))
}

/// `meet_asked` is known at creation; reading an event later, Meet was asked for when
/// the event has conference data or a Meet link.
fn calendar_event(e: GoogleEvent, meet_asked: Option<bool>) -> Result<CalendarEvent, Fault> {
    let video = meet_state(&e, meet_asked);
    match (e.start, e.end) {
        (Some(start), Some(end)) if !e.cancelled => Ok(CalendarEvent {
            id: e.id,
            start,
            end,
            video,
        }),
        _ => Err(Fault::Cancelled),
    }
}

fn meet_state(e: &GoogleEvent, meet_asked: Option<bool>) -> VideoState {
    let link = e
        .conference
        .as_ref()
        .and_then(|c| c.video_uri.clone())
        .or_else(|| e.hangout_link.clone());
    let Some(conference) = &e.conference else {
        return match (link, meet_asked) {
            (Some(join_url), _) => VideoState::Ready { join_url },
            (None, Some(true)) => VideoState::Refused {
                detail: "Google answered without conference data".into(),
            },
            (None, _) => VideoState::NotAsked,
        };
    };
    match (conference.status.as_deref(), link) {
        (Some("pending"), _) => VideoState::Pending,
        (Some("failure"), _) => VideoState::Refused {
            detail: "Google could not create the Meet conference".into(),
        },
        (_, Some(join_url)) => VideoState::Ready { join_url },
        (Some("success"), None) => VideoState::Refused {
            detail: "Meet conference created without a join link".into(),
        },
        (_, None) => VideoState::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_base32hex_of_5_to_1024_characters() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(is_event_id(sha));
        assert!(is_event_id("0123456789abcdefghijklmnopqrstuv"));
        assert!(is_event_id(&"v".repeat(1024)));
        assert!(!is_event_id("abcd"));
        assert!(!is_event_id(&"a".repeat(1025)));
        assert!(!is_event_id("booking-42"));
        assert!(!is_event_id("ABCDEF0123"));
        assert!(!is_event_id("abcdefw123"));
    }

    #[test]
    fn request_ids_count_attempts() {
        assert_eq!(meet_request_id("abc12", 2), "abc12-2");
        assert_eq!(attempt_of("abc12", Some("abc12-2")), 2);
        assert_eq!(attempt_of("abc12", Some("someone-else")), 1);
        assert_eq!(attempt_of("abc12", None), 1);
    }
}
