//! Free/busy: Graph's `calendar/getSchedule` (protocols.md §1.13) and Google Calendar's
//! `freeBusy` (§3.1), one call each; splitting a range and deciding what is busy is the
//! calendar adapter's work.
//!
//! Graph writes times as `{dateTime, timeZone}` pairs with up to seven fractional digits
//! (`2026-01-12T15:00:00.0000000`, UTC unless asked otherwise); [`GraphTime`] reads and
//! writes them. Google writes RFC 3339 instants.

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::graph::GraphClient;
use crate::http::{ApiError, Repeat};
use crate::GoogleCalendarClient;

/// The longest window one `getSchedule` call may cover: Graph wants it under 62 days.
pub const SCHEDULE_WINDOW: SignedDuration = SignedDuration::from_hours(61 * 24);

/// The slot length of `availabilityView` (5 to 1,440 minutes). Only `scheduleItems` is
/// read, so this only keeps the view string short.
pub const AVAILABILITY_VIEW_INTERVAL: u32 = 60;

/// Graph's `dateTimeTimeZone`: a wall-clock time and the zone it is read in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphTime {
    pub date_time: String,
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// The names Graph gives UTC besides `UTC` itself.
const UTC_NAMES: [&str; 4] = ["utc", "etc/utc", "coordinated universal time", "gmt"];

impl GraphTime {
    /// `t` in UTC, to whole seconds (Graph's .NET parser takes at most seven digits).
    pub fn utc(t: Timestamp) -> Self {
        GraphTime {
            date_time: t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            time_zone: Some("UTC".to_owned()),
        }
    }

    /// The instant, when the zone is UTC (Graph's default) or an IANA name; `None` for a
    /// zone we cannot read (a Windows name, which only an `outlook.timezone` preference
    /// would make Graph send).
    pub fn instant(&self) -> Option<Timestamp> {
        let text = self.date_time.trim();
        if let Ok(t) = text.parse::<Timestamp>() {
            return Some(t);
        }
        let civil: DateTime = text.parse().ok()?;
        let zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => TimeZone::UTC,
            Some(name) if UTC_NAMES.contains(&name.to_ascii_lowercase().as_str()) => TimeZone::UTC,
            Some(name) => TimeZone::get(name).ok()?,
        };
        zone.to_timestamp(civil).ok()
    }
}

/// One item of a schedule: an event's time and how it shows the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleItem {
    /// `free`, `tentative`, `busy`, `oof`, `workingElsewhere` or `unknown`.
    pub status: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// One schedule of a `getSchedule` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInformation {
    /// The address asked about, as Graph echoes it.
    pub schedule_id: String,
    pub items: Vec<ScheduleItem>,
    /// Set when Graph could not resolve this schedule: its `responseCode`, or `error`
    /// when it gave none. The message is left out: it can quote addresses.
    pub error: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleBody<'a> {
    schedules: [&'a str; 1],
    start_time: GraphTime,
    end_time: GraphTime,
    availability_view_interval: u32,
}

#[derive(Deserialize)]
struct ScheduleAnswer {
    #[serde(default)]
    value: Vec<ScheduleWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleWire {
    #[serde(default)]
    schedule_id: String,
    #[serde(default)]
    schedule_items: Vec<ItemWire>,
    error: Option<FreeBusyErrorWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FreeBusyErrorWire {
    response_code: Option<String>,
}

#[derive(Deserialize)]
struct ItemWire {
    #[serde(default)]
    status: String,
    start: GraphTime,
    end: GraphTime,
}

fn unreadable_time(operation: &'static str) -> ApiError {
    ApiError::Decode {
        operation,
        source: <serde_json::Error as serde::de::Error>::custom("a time in an unknown zone"),
    }
}

impl GraphClient {
    /// The schedule of `schedule` (an address; the signed-in user's own for its calendar)
    /// over `[start, end)`, which must be under 62 days ([`SCHEDULE_WINDOW`]).
    pub async fn get_schedule(
        &self,
        schedule: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<ScheduleInformation>, ApiError> {
        const OP: &str = "graph.get_schedule";
        let url = self.base.join(&["me", "calendar", "getSchedule"], None);
        let body = ScheduleBody {
            schedules: [schedule],
            start_time: GraphTime::utc(start),
            end_time: GraphTime::utc(end),
            availability_view_interval: AVAILABILITY_VIEW_INTERVAL,
        };
        let answer: ScheduleAnswer = self
            .api
            .send(OP, Repeat::Safe, |h| {
                h.request(Method::POST, url.clone()).json(&body)
            })
            .await?
            .json(OP)?;
        answer
            .value
            .into_iter()
            .map(|s| {
                let items = s
                    .schedule_items
                    .into_iter()
                    .map(|i| {
                        Ok(ScheduleItem {
                            status: i.status,
                            start: i.start.instant().ok_or_else(|| unreadable_time(OP))?,
                            end: i.end.instant().ok_or_else(|| unreadable_time(OP))?,
                        })
                    })
                    .collect::<Result<_, ApiError>>()?;
                Ok(ScheduleInformation {
                    schedule_id: s.schedule_id,
                    items,
                    error: s
                        .error
                        .map(|e| e.response_code.unwrap_or_else(|| "error".to_owned())),
                })
            })
            .collect()
    }
}

/// One calendar of a `freeBusy` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FreeBusyCalendar {
    #[serde(default)]
    pub busy: Vec<BusyRange>,
    /// Why the calendar could not be read (`notFound`, ...): its busy list means nothing.
    #[serde(default)]
    pub errors: Vec<FreeBusyError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BusyRange {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FreeBusyError {
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FreeBusyBody<'a> {
    time_min: String,
    time_max: String,
    time_zone: &'static str,
    items: Vec<FreeBusyItem<'a>>,
}

#[derive(Serialize)]
struct FreeBusyItem<'a> {
    id: &'a str,
}

#[derive(Deserialize)]
struct FreeBusyAnswer {
    #[serde(default)]
    calendars: BTreeMap<String, FreeBusyCalendar>,
}

/// An instant as Google and Zoom take it: UTC, whole seconds, `Z`.
pub(crate) fn utc_text(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl GoogleCalendarClient {
    /// The busy ranges of `calendar_ids` (`primary`, or addresses) over `[from, to)`, by
    /// the key Google answers under (the id asked, or for `primary` possibly the owner's
    /// address).
    pub async fn free_busy(
        &self,
        calendar_ids: &[&str],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<BTreeMap<String, FreeBusyCalendar>, ApiError> {
        const OP: &str = "calendar.free_busy";
        let url = self.base.join(&["freeBusy"], None);
        let body = FreeBusyBody {
            time_min: utc_text(from),
            time_max: utc_text(to),
            time_zone: "UTC",
            items: calendar_ids.iter().map(|id| FreeBusyItem { id }).collect(),
        };
        let answer: FreeBusyAnswer = self
            .api
            .send(OP, Repeat::Safe, |h| h.post(url.clone()).json(&body))
            .await?
            .json(OP)?;
        Ok(answer.calendars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn graph_times_with_seven_fractional_digits_read_as_utc() {
        let g = GraphTime {
            date_time: "2026-01-12T15:00:00.0000000".into(),
            time_zone: Some("UTC".into()),
        };
        assert_eq!(g.instant(), Some(t("2026-01-12T15:00:00Z")));
        let g = GraphTime {
            date_time: "2026-01-12T15:30:00.5".into(),
            time_zone: None,
        };
        assert_eq!(g.instant(), Some(t("2026-01-12T15:30:00.5Z")));
    }

    #[test]
    fn graph_times_in_an_iana_zone_are_converted_and_windows_names_are_not_guessed() {
        let g = GraphTime {
            date_time: "2026-01-12T16:00:00.0000000".into(),
            time_zone: Some("Europe/Paris".into()),
        };
        assert_eq!(g.instant(), Some(t("2026-01-12T15:00:00Z")));
        let g = GraphTime {
            date_time: "2026-01-12T16:00:00".into(),
            time_zone: Some("Romance Standard Time".into()),
        };
        assert_eq!(g.instant(), None);
    }

    #[test]
    fn graph_times_are_written_in_utc_whole_seconds() {
        let g = GraphTime::utc(t("2026-01-12T15:00:00.987Z"));
        assert_eq!(g.date_time, "2026-01-12T15:00:00");
        assert_eq!(g.time_zone.as_deref(), Some("UTC"));
        assert_eq!(
            utc_text(t("2026-01-12T15:00:00.987Z")),
            "2026-01-12T15:00:00Z"
        );
    }
}
