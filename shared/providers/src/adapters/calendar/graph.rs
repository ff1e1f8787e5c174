//! A Microsoft 365 calendar through Graph.
//!
//! Busy time is read with `getSchedule` on the owner's own address, in windows under
//! Graph's 62-day limit: busy, tentative and out-of-office items are busy, and so is any
//! status Graph may add later; only `free` and `workingElsewhere` are free. A schedule
//! Graph answers with an `error` is unreadable, never empty.
//!
//! A Teams meeting counts only with a `teams.microsoft.com` join URL: without a licence
//! Graph still answers 201, with no meeting (`isOnlineMeeting: false`), and some tenants
//! get a Skype meeting instead. Either is [`VideoState::Refused`].

use hiresync_domain::availability::Busy;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, CalendarEvent, EventRequest, ProviderVideo, VideoState,
};
use jiff::Timestamp;
use reqwest::Url;

use super::{api_error, Fault};
use crate::free_busy::{ScheduleInformation, SCHEDULE_WINDOW};
use crate::graph_events::GraphEvent;
use crate::GraphClient;

/// Statuses that leave the owner free; any other, `unknown` included, is busy.
const FREE: [&str; 2] = ["free", "workingelsewhere"];

pub(super) async fn busy(
    graph: &GraphClient,
    owner: &EmailAddress,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Busy>, CalendarError> {
    const OP: &str = "graph.get_schedule";
    let mut busy = Vec::new();
    let mut start = from;
    while start < to {
        let end = start
            .checked_add(SCHEDULE_WINDOW)
            .map_or(to, |end| end.min(to));
        let schedules = graph
            .get_schedule(owner.as_str(), start, end)
            .await
            .map_err(|e| api_error(OP, e))?;
        let schedule = owners(schedules, owner)
            .ok_or_else(|| Fault::Unreadable("no schedule".into()))
            .map_err(|f| f.during(OP, CalendarErrorKind::Unreadable))?;
        if let Some(code) = schedule.error {
            return Err(Fault::Unreadable(code).during(OP, CalendarErrorKind::Unreadable));
        }
        busy.extend(
            schedule
                .items
                .into_iter()
                .filter(|i| !FREE.contains(&i.status.to_ascii_lowercase().as_str()))
                .map(|i| Busy {
                    start: i.start,
                    end: i.end,
                }),
        );
        start = end;
    }
    Ok(busy)
}

/// The owner's schedule among those answered (the only one asked for).
fn owners(
    schedules: Vec<ScheduleInformation>,
    owner: &EmailAddress,
) -> Option<ScheduleInformation> {
    if schedules.len() == 1 {
        return schedules.into_iter().next();
    }
    schedules
        .into_iter()
        .find(|s| s.schedule_id.eq_ignore_ascii_case(owner.as_str()))
}

pub(super) async fn create(
    graph: &GraphClient,
    event: &EventRequest,
) -> Result<CalendarEvent, CalendarError> {
    const OP: &str = "graph.create_event";
    let teams = match event.video {
        ProviderVideo::None => false,
        ProviderVideo::Teams => true,
        ProviderVideo::Meet => {
            return Err(Fault::ForeignVideo(event.video).during(OP, CalendarErrorKind::Failed))
        }
    };
    let created = graph
        .create_event(event, teams)
        .await
        .map_err(|e| api_error(OP, e))?;
    Ok(calendar_event(created, Some(teams)))
}

pub(super) async fn get(
    graph: &GraphClient,
    event_id: &str,
) -> Result<Option<CalendarEvent>, CalendarError> {
    let found = graph
        .event(event_id)
        .await
        .map_err(|e| api_error("graph.event", e))?;
    Ok(found
        .filter(|e| !e.is_cancelled)
        .map(|e| calendar_event(e, None)))
}

pub(super) async fn reschedule(
    graph: &GraphClient,
    event_id: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<CalendarEvent, CalendarError> {
    let moved = graph
        .move_event(event_id, start, end)
        .await
        .map_err(|e| api_error("graph.move_event", e))?;
    Ok(calendar_event(moved, None))
}

pub(super) async fn cancel(graph: &GraphClient, event_id: &str) -> Result<(), CalendarError> {
    graph
        .cancel_event(event_id)
        .await
        .map_err(|e| api_error("graph.cancel_event", e))
}

/// `teams_asked` is known at creation; reading an event later, a Teams meeting was asked
/// for when the event has one (a refused one leaves no trace, so reads as not asked).
fn calendar_event(e: GraphEvent, teams_asked: Option<bool>) -> CalendarEvent {
    let asked = teams_asked.unwrap_or(e.is_online_meeting || e.join_url.is_some());
    let video = if !asked {
        VideoState::NotAsked
    } else {
        match e.join_url.as_deref().filter(|u| is_teams_url(u)) {
            Some(url) => VideoState::Ready {
                join_url: url.to_owned(),
            },
            None => VideoState::Refused {
                detail: format!(
                    "no Teams meeting (isOnlineMeeting {}, onlineMeetingProvider {}, join URL {})",
                    e.is_online_meeting,
                    e.online_meeting_provider.as_deref().unwrap_or("absent"),
                    if e.join_url.is_some() {
                        "not Teams"
                    } else {
                        "absent"
                    },
                ),
            },
        }
    };
    CalendarEvent {
        id: e.id,
        start: e.start,
        end: e.end,
        video,
    }
}

/// An HTTPS link on `teams.microsoft.com` (or one of its hosts).
fn is_teams_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| {
        u.scheme() == "https"
            && u.host_str().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h == "teams.microsoft.com" || h.ends_with(".teams.microsoft.com")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_teams_links_count_as_teams() {
        assert!(is_teams_url(
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0"
        ));
        assert!(is_teams_url(
            "https://gov.teams.microsoft.com/l/meetup-join/1"
        ));
        assert!(!is_teams_url("https://meet.lync.com/acme/rita/ABC"));
        assert!(!is_teams_url("https://teams.microsoft.com.evil.example/x"));
        assert!(!is_teams_url("http://teams.microsoft.com/l/meetup-join/1"));
        assert!(!is_teams_url("not a url"));
    }
}
