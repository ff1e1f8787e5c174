//! When a candidate may book an interview with a seat: the seat's weekly windows in its own
//! time zone, less what its calendar says is busy (widened by the buffers), less the days
//! already full, never the same day, within the days ahead the seat allows.
//!
//! Pure: the caller passes the settings, the calendar's busy time (or that it could not be
//! read: then nothing is offered, a calendar that cannot be read is never free), the
//! starts of the interviews already booked, and the instant it read the clock.
//!
//! # How time is read
//!
//! - A window is local wall-clock time on a weekday in the seat's IANA zone. Its bounds
//!   become instants with the zone's rules for that date; slots are stepped in real time
//!   from the first bound to the second, so a window on a daylight-saving day is as long as
//!   the clock says it is: on the day the clocks go back, 00:00 to 03:00 is four hours (the
//!   repeated hour's slots are distinct instants), on the day they go forward it is two; no
//!   instant is offered twice and none is lost. A bound in the skipped hour is read with the
//!   offset before the jump, as iCalendar reads it (01:30 on a day that jumps from 01:00 to
//!   02:00 is 02:30); one in the repeated hour is the first of the two.
//! - No same-day meetings: nothing starts before the next local midnight after `now` in
//!   the seat's zone.
//! - Days ahead: the last bookable day is `max_days_ahead` local days after today.
//! - Buffers: a slot is free when `[start - before, end + after)` overlaps no busy interval.
//! - The daily cap counts the interviews already booked that start on that local day.

use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest meeting a seat may offer (a booking holds its time in 5-minute buckets, all
/// written in one transaction of at most 100 items, a reschedule releasing as many).
pub const MAX_LENGTH_MINUTES: u32 = 4 * 60;
/// Times, lengths, buffers and intervals fall on this grid of minutes.
pub const GRID_MINUTES: u32 = 5;
/// The furthest ahead a seat may let candidates book.
pub const MAX_DAYS_AHEAD: u32 = 90;
/// The longest buffer before or after a meeting.
pub const MAX_BUFFER_MINUTES: u32 = 4 * 60;

/// A day of the week, as settings name it (`monday` ... `sunday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    pub fn weekday(self) -> Weekday {
        match self {
            Day::Monday => Weekday::Monday,
            Day::Tuesday => Weekday::Tuesday,
            Day::Wednesday => Weekday::Wednesday,
            Day::Thursday => Weekday::Thursday,
            Day::Friday => Weekday::Friday,
            Day::Saturday => Weekday::Saturday,
            Day::Sunday => Weekday::Sunday,
        }
    }
}

/// A weekly window of availability, local wall-clock time in the seat's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyWindow {
    pub weekday: Day,
    pub start: Time,
    pub end: Time,
}

/// A seat's scheduler settings, as the recruiter sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerSettings {
    pub length_minutes: u32,
    /// An IANA time zone name (`Europe/Paris`).
    pub time_zone: String,
    pub windows: Vec<WeeklyWindow>,
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    /// Slots start every this many minutes from a window's start; by default the length.
    #[serde(default)]
    pub slot_interval_minutes: Option<u32>,
    pub max_days_ahead: u32,
    /// At most this many interviews booked through the scheduler start on one local day.
    #[serde(default)]
    pub daily_cap: Option<u32>,
}

/// Why settings cannot be used, in words a recruiter can act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error("the meeting length must be between 5 and {MAX_LENGTH_MINUTES} minutes")]
    Length,
    #[error("{0:?} is not a time zone name (use an IANA name such as Europe/Paris)")]
    UnknownZone(String),
    #[error("add at least one weekly window of availability")]
    NoWindow,
    #[error("the {weekday:?} window ends at {end} before it starts at {start}")]
    WindowEndsBeforeItStarts {
        weekday: Day,
        start: Time,
        end: Time,
    },
    #[error("the {0:?} window is shorter than one meeting")]
    WindowTooShort(Day),
    #[error("the {0:?} windows overlap")]
    WindowsOverlap(Day),
    #[error("buffers must be at most {MAX_BUFFER_MINUTES} minutes")]
    Buffer,
    #[error("the slot interval must be between 5 minutes and the meeting length")]
    Interval,
    #[error("candidates may book from 1 to {MAX_DAYS_AHEAD} days ahead")]
    DaysAhead,
    #[error("the daily cap must be at least 1")]
    DailyCap,
    #[error(
        "times, lengths, buffers and intervals must be whole multiples of {GRID_MINUTES} minutes"
    )]
    OffGrid,
}

/// Settings checked once: the zone resolved, windows sorted by weekday and start.
#[derive(Debug, Clone)]
pub struct Schedule {
    settings: SchedulerSettings,
    zone: TimeZone,
}

impl SchedulerSettings {
    /// Checks the settings and resolves the zone.
    pub fn validate(self) -> Result<Schedule, SettingsError> {
        if !(5..=MAX_LENGTH_MINUTES).contains(&self.length_minutes) {
            return Err(SettingsError::Length);
        }
        let zone = TimeZone::get(&self.time_zone)
            .map_err(|_| SettingsError::UnknownZone(self.time_zone.clone()))?;
        if self.windows.is_empty() {
            return Err(SettingsError::NoWindow);
        }
        let length = SignedDuration::from_mins(i64::from(self.length_minutes));
        for w in &self.windows {
            if w.end <= w.start {
                return Err(SettingsError::WindowEndsBeforeItStarts {
                    weekday: w.weekday,
                    start: w.start,
                    end: w.end,
                });
            }
            if w.end.duration_since(w.start) < length {
                return Err(SettingsError::WindowTooShort(w.weekday));
            }
        }
        let on_grid = |minutes: u32| minutes % GRID_MINUTES == 0;
        let time_on_grid = |t: Time| {
            t.second() == 0
                && t.subsec_nanosecond() == 0
                && on_grid(t.minute().unsigned_abs().into())
        };
        let grid = on_grid(self.length_minutes)
            && on_grid(self.buffer_before_minutes)
            && on_grid(self.buffer_after_minutes)
            && self.slot_interval_minutes.is_none_or(on_grid)
            && self
                .windows
                .iter()
                .all(|w| time_on_grid(w.start) && time_on_grid(w.end));
        if !grid {
            return Err(SettingsError::OffGrid);
        }
        let mut windows = self.windows.clone();
        windows.sort_by_key(|w| (w.weekday, w.start));
        if let Some(pair) = windows
            .windows(2)
            .find(|p| p[0].weekday == p[1].weekday && p[1].start < p[0].end)
        {
            return Err(SettingsError::WindowsOverlap(pair[0].weekday));
        }
        if self.buffer_before_minutes > MAX_BUFFER_MINUTES
            || self.buffer_after_minutes > MAX_BUFFER_MINUTES
        {
            return Err(SettingsError::Buffer);
        }
        if self
            .slot_interval_minutes
            .is_some_and(|i| i < 5 || i > self.length_minutes)
        {
            return Err(SettingsError::Interval);
        }
        if !(1..=MAX_DAYS_AHEAD).contains(&self.max_days_ahead) {
            return Err(SettingsError::DaysAhead);
        }
        if self.daily_cap == Some(0) {
            return Err(SettingsError::DailyCap);
        }
        Ok(Schedule {
            settings: SchedulerSettings { windows, ..self },
            zone,
        })
    }
}

/// A time the calendar says is taken, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// What the calendar said about busy time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calendar {
    /// Read: these intervals are busy, in any order.
    Read(Vec<Busy>),
    /// It could not be read (an error, a lost authorization): nothing is known to be free.
    Unknown,
}

/// A bookable time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Why no time can be offered at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Unavailable {
    #[error("the calendar could not be read, so no time is known to be free")]
    CalendarUnknown,
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Schedule {
    pub fn settings(&self) -> &SchedulerSettings {
        &self.settings
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The first instant that may be offered at `now`: the next local midnight.
    pub fn earliest(&self, now: Timestamp) -> Timestamp {
        let today = now.to_zoned(self.zone.clone()).date();
        self.start_of(today.tomorrow().unwrap_or(today))
    }

    /// The local day's first instant (a skipped midnight is read as for any skipped time).
    fn start_of(&self, date: Date) -> Timestamp {
        self.instant(date, Time::midnight())
    }

    /// A local date and time as an instant; in a skipped hour, read with the offset before
    /// the jump; in a repeated hour, the first of the two.
    fn instant(&self, date: Date, time: Time) -> Timestamp {
        match date.to_datetime(time).to_zoned(self.zone.clone()) {
            Ok(z) => z.timestamp(),
            Err(_) => date
                .to_datetime(time)
                .to_zoned(TimeZone::UTC)
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// Every slot a candidate may book at `now`, in order.
    ///
    /// `booked` are the starts of interviews already booked through the scheduler (they
    /// count towards the daily cap; their time is in the calendar's busy time too).
    pub fn slots(
        &self,
        calendar: &Calendar,
        booked: &[Timestamp],
        now: Timestamp,
    ) -> Result<Vec<Slot>, Unavailable> {
        let Calendar::Read(busy) = calendar else {
            return Err(Unavailable::CalendarUnknown);
        };
        let s = &self.settings;
        let length = SignedDuration::from_mins(i64::from(s.length_minutes));
        let step = SignedDuration::from_mins(i64::from(
            s.slot_interval_minutes.unwrap_or(s.length_minutes),
        ));
        let before = SignedDuration::from_mins(i64::from(s.buffer_before_minutes));
        let after = SignedDuration::from_mins(i64::from(s.buffer_after_minutes));
        let mut busy: Vec<Busy> = busy.iter().copied().filter(|b| b.end > b.start).collect();
        busy.sort_by_key(|b| b.start);
        let today = now.to_zoned(self.zone.clone()).date();
        let earliest = self.earliest(now);
        let mut slots = Vec::new();
        // Busy intervals that start before the slot being looked at; the sweep only moves on.
        let mut first_relevant = 0usize;
        let mut max_end_before: Option<Timestamp> = None;
        for offset in 1..=i64::from(s.max_days_ahead) {
            let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else {
                break;
            };
            let day_start = self.start_of(date);
            let next_day = self.start_of(date.tomorrow().unwrap_or(date));
            let already = booked
                .iter()
                .filter(|b| **b >= day_start && **b < next_day)
                .count();
            if s.daily_cap.is_some_and(|cap| already >= cap as usize) {
                continue;
            }
            for w in s
                .windows
                .iter()
                .filter(|w| w.weekday.weekday() == date.weekday())
            {
                let open = self.instant(date, w.start);
                let close = self.instant(date, w.end);
                let mut start = open;
                loop {
                    let Ok(end) = start.checked_add(length) else {
                        break;
                    };
                    if end > close {
                        break;
                    }
                    if start >= earliest {
                        let from = start.checked_sub(before).unwrap_or(start);
                        let to = end.checked_add(after).unwrap_or(end);
                        // Advance past busy time that ends before this slot's reach.
                        while first_relevant < busy.len() && busy[first_relevant].start < from {
                            let e = busy[first_relevant].end;
                            max_end_before = Some(max_end_before.map_or(e, |m| m.max(e)));
                            first_relevant += 1;
                        }
                        let covered_from_before = max_end_before.is_some_and(|e| e > from);
                        let overlaps_next = busy.get(first_relevant).is_some_and(|b| b.start < to);
                        if !covered_from_before && !overlaps_next {
                            slots.push(Slot { start, end });
                        }
                    }
                    let Ok(next) = start.checked_add(step) else {
                        break;
                    };
                    start = next;
                }
            }
        }
        Ok(slots)
    }

    /// The slots of `slots` shown in `zone` (the candidate's), with the zone named.
    pub fn shown_in(slots: &[Slot], zone: &TimeZone) -> Vec<(Zoned, Zoned)> {
        slots
            .iter()
            .map(|s| (s.start.to_zoned(zone.clone()), s.end.to_zoned(zone.clone())))
            .collect()
    }
}
