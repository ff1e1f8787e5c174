//! Availability: settings checked with clear errors; the windows in the seat's zone less
//! busy time, buffers and full days; no same-day meetings; daylight-saving days neither
//! lose nor duplicate an hour; a calendar that cannot be read is never free. Fixed instants
//! and real IANA zones; property tests against a naive reference.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hiresync_domain::availability::{
    Busy, Calendar, Day, Schedule, SchedulerSettings, SettingsError, Slot, Unavailable,
    WeeklyWindow,
};
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn t(s: &str) -> Time {
    s.parse().unwrap()
}

fn window(day: Day, start: &str, end: &str) -> WeeklyWindow {
    WeeklyWindow {
        weekday: day,
        start: t(start),
        end: t(end),
    }
}

fn settings(zone: &str, windows: Vec<WeeklyWindow>) -> SchedulerSettings {
    SchedulerSettings {
        length_minutes: 60,
        time_zone: zone.into(),
        windows,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        slot_interval_minutes: None,
        max_days_ahead: 14,
        daily_cap: None,
    }
}

fn every_day(start: &str, end: &str) -> Vec<WeeklyWindow> {
    [
        Day::Monday,
        Day::Tuesday,
        Day::Wednesday,
        Day::Thursday,
        Day::Friday,
        Day::Saturday,
        Day::Sunday,
    ]
    .into_iter()
    .map(|d| window(d, start, end))
    .collect()
}

fn starts(slots: &[Slot]) -> Vec<String> {
    slots.iter().map(|s| s.start.to_string()).collect()
}

fn busy(start: &str, end: &str) -> Busy {
    Busy {
        start: ts(start),
        end: ts(end),
    }
}

#[test]
fn settings_are_checked_with_errors_a_recruiter_can_act_on() {
    let ok = settings("Europe/Paris", vec![window(Day::Monday, "09:00", "12:00")]);
    let cases: Vec<(&str, SchedulerSettings, SettingsError)> = vec![
        (
            "a window that ends before it starts",
            settings("Europe/Paris", vec![window(Day::Monday, "12:00", "09:00")]),
            SettingsError::WindowEndsBeforeItStarts {
                weekday: Day::Monday,
                start: t("12:00"),
                end: t("09:00"),
            },
        ),
        (
            "an unknown zone",
            settings("Mars/Olympus", ok.windows.clone()),
            SettingsError::UnknownZone("Mars/Olympus".into()),
        ),
        (
            "no window",
            settings("Europe/Paris", vec![]),
            SettingsError::NoWindow,
        ),
        (
            "a window shorter than a meeting",
            settings("Europe/Paris", vec![window(Day::Friday, "09:00", "09:30")]),
            SettingsError::WindowTooShort(Day::Friday),
        ),
        (
            "overlapping windows",
            settings(
                "Europe/Paris",
                vec![
                    window(Day::Monday, "13:00", "17:00"),
                    window(Day::Monday, "09:00", "14:00"),
                ],
            ),
            SettingsError::WindowsOverlap(Day::Monday),
        ),
        (
            "a zero length",
            SchedulerSettings {
                length_minutes: 0,
                ..ok.clone()
            },
            SettingsError::Length,
        ),
        (
            "a long buffer",
            SchedulerSettings {
                buffer_after_minutes: 600,
                ..ok.clone()
            },
            SettingsError::Buffer,
        ),
        (
            "an interval longer than a meeting",
            SchedulerSettings {
                slot_interval_minutes: Some(90),
                ..ok.clone()
            },
            SettingsError::Interval,
        ),
        (
            "a year ahead",
            SchedulerSettings {
                max_days_ahead: 365,
                ..ok.clone()
            },
            SettingsError::DaysAhead,
        ),
        (
            "a cap of zero",
            SchedulerSettings {
                daily_cap: Some(0),
                ..ok.clone()
            },
            SettingsError::DailyCap,
        ),
    ];
    for (name, s, expected) in cases {
        assert_eq!(s.validate().unwrap_err(), expected, "{name}");
    }
    assert!(ok.validate().is_ok());
    assert_eq!(
        SettingsError::UnknownZone("Mars/Olympus".into()).to_string(),
        "\"Mars/Olympus\" is not a time zone name (use an IANA name such as Europe/Paris)"
    );
}

#[test]
fn nothing_is_offered_the_same_day_and_windows_are_read_in_the_seats_zone() {
    // Monday 2 March 2026, 15:00 in New York; windows 09:00 to 11:00 every weekday.
    let schedule = settings("America/New_York", every_day("09:00", "11:00"))
        .validate()
        .unwrap();
    let now = ts("2026-03-02T20:00:00Z");
    let slots = schedule.slots(&Calendar::Read(vec![]), &[], now).unwrap();
    assert_eq!(
        starts(&slots[..2]),
        ["2026-03-03T14:00:00Z", "2026-03-03T15:00:00Z"],
        "Tuesday 09:00 and 10:00 EST, nothing on Monday"
    );
    // Even at 23:59 local the next slot is tomorrow's; at 00:00 the day itself is today.
    let late = schedule
        .slots(&Calendar::Read(vec![]), &[], ts("2026-03-03T04:59:00Z"))
        .unwrap();
    assert_eq!(late[0].start, ts("2026-03-03T14:00:00Z"));
    let midnight = schedule
        .slots(&Calendar::Read(vec![]), &[], ts("2026-03-03T05:00:00Z"))
        .unwrap();
    assert_eq!(midnight[0].start, ts("2026-03-04T14:00:00Z"));
    // Fourteen days ahead: the last is 16 March's.
    assert_eq!(slots.len(), 28);
    assert_eq!(slots.last().unwrap().start, ts("2026-03-16T14:00:00Z"));
    // Shown to a candidate in Tokyo, named.
    let shown = Schedule::shown_in(&slots[..1], &TimeZone::get("Asia/Tokyo").unwrap());
    assert_eq!(
        shown[0].0.to_string(),
        "2026-03-03T23:00:00+09:00[Asia/Tokyo]"
    );
}

#[test]
fn daylight_saving_days_neither_lose_nor_duplicate_an_hour() {
    let cases = [
        // Clocks go forward at 02:00 in New York on 8 March 2026: 00:00-04:00 is 3 hours.
        (
            "America/New_York",
            "2026-03-07T12:00:00Z",
            "00:00",
            "04:00",
            vec![
                "2026-03-08T05:00:00Z",
                "2026-03-08T06:00:00Z",
                "2026-03-08T07:00:00Z",
            ],
        ),
        // Back at 02:00 on 1 November 2026: 00:00-03:00 is 4 hours, 01:00 twice.
        (
            "America/New_York",
            "2026-10-31T12:00:00Z",
            "00:00",
            "03:00",
            vec![
                "2026-11-01T04:00:00Z",
                "2026-11-01T05:00:00Z",
                "2026-11-01T06:00:00Z",
                "2026-11-01T07:00:00Z",
            ],
        ),
        // London goes forward at 01:00 on 29 March 2026: 00:00-03:00 is 2 hours.
        (
            "Europe/London",
            "2026-03-28T12:00:00Z",
            "00:00",
            "03:00",
            vec!["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"],
        ),
        // A window that starts in the skipped hour starts as far after the jump as it
        // reads after the old hour (01:30 is read 02:30 BST, as iCalendar reads it): 1.5 h.
        (
            "Europe/London",
            "2026-03-28T12:00:00Z",
            "01:30",
            "04:00",
            vec!["2026-03-29T01:30:00Z"],
        ),
    ];
    for (zone, now, open, close, expected) in cases {
        let mut s = settings(zone, every_day(open, close));
        s.max_days_ahead = 1;
        let slots = s
            .validate()
            .unwrap()
            .slots(&Calendar::Read(vec![]), &[], ts(now))
            .unwrap();
        assert_eq!(starts(&slots), expected, "{zone} {open}-{close}");
    }
}

#[test]
fn busy_time_widened_by_the_buffers_is_never_offered() {
    let mut s = settings("Europe/Paris", every_day("09:00", "13:00"));
    s.max_days_ahead = 1;
    s.buffer_before_minutes = 15;
    s.buffer_after_minutes = 15;
    s.slot_interval_minutes = Some(30);
    let schedule = s.validate().unwrap();
    // Tuesday 3 March 2026 in Paris (UTC+1): busy 10:30-11:00 local.
    let slots = schedule
        .slots(
            &Calendar::Read(vec![busy("2026-03-03T09:30:00Z", "2026-03-03T10:00:00Z")]),
            &[],
            ts("2026-03-02T12:00:00Z"),
        )
        .unwrap();
    assert_eq!(
        starts(&slots),
        [
            // 09:00-10:00 local ends 30 minutes before the busy time
            "2026-03-03T08:00:00Z",
            // 09:30-10:30 ends as it starts (15 after), 10:00-11:00 and 10:30-11:30
            // overlap it, 11:00-12:00 starts as it ends (15 before): none offered
            "2026-03-03T10:30:00Z",
            "2026-03-03T11:00:00Z",
        ]
    );
}

#[test]
fn a_calendar_that_cannot_be_read_is_never_free() {
    let schedule = settings("Europe/Paris", every_day("09:00", "17:00"))
        .validate()
        .unwrap();
    assert_eq!(
        schedule.slots(&Calendar::Unknown, &[], ts("2026-03-02T12:00:00Z")),
        Err(Unavailable::CalendarUnknown)
    );
}

#[test]
fn a_full_day_offers_nothing_and_the_others_everything_free() {
    let mut s = settings("Europe/Paris", every_day("09:00", "12:00"));
    s.max_days_ahead = 2;
    s.daily_cap = Some(2);
    let schedule = s.validate().unwrap();
    let booked = [ts("2026-03-03T08:00:00Z"), ts("2026-03-03T10:00:00Z")];
    let slots = schedule
        .slots(&Calendar::Read(vec![]), &booked, ts("2026-03-02T12:00:00Z"))
        .unwrap();
    assert_eq!(
        starts(&slots),
        [
            "2026-03-04T08:00:00Z",
            "2026-03-04T09:00:00Z",
            "2026-03-04T10:00:00Z"
        ],
        "Tuesday has its two interviews; Wednesday offers all three free hours"
    );
}

// ----------------------------------------------------------------------- properties

const ZONES: [&str; 4] = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];

/// The slots the settings allow, found the slow way: every step of every window checked
/// against every busy interval.
fn naive(schedule: &Schedule, busy: &[Busy], booked: &[Timestamp], now: Timestamp) -> Vec<Slot> {
    let s = schedule.settings();
    let zone = schedule.zone();
    let length = SignedDuration::from_mins(i64::from(s.length_minutes));
    let step = SignedDuration::from_mins(i64::from(
        s.slot_interval_minutes.unwrap_or(s.length_minutes),
    ));
    let before = SignedDuration::from_mins(i64::from(s.buffer_before_minutes));
    let after = SignedDuration::from_mins(i64::from(s.buffer_after_minutes));
    let today = now.to_zoned(zone.clone()).date();
    let instant = |d: jiff::civil::Date, t: Time| {
        d.to_datetime(t).to_zoned(zone.clone()).unwrap().timestamp()
    };
    let mut out = Vec::new();
    for offset in 1..=i64::from(s.max_days_ahead) {
        let date = today.checked_add(jiff::Span::new().days(offset)).unwrap();
        let (from, to) = (
            instant(date, Time::midnight()),
            instant(date.tomorrow().unwrap(), Time::midnight()),
        );
        let taken = booked.iter().filter(|b| **b >= from && **b < to).count();
        if s.daily_cap.is_some_and(|c| taken >= c as usize) {
            continue;
        }
        for w in s
            .windows
            .iter()
            .filter(|w| w.weekday.weekday() == date.weekday())
        {
            let close = instant(date, w.end);
            let mut start = instant(date, w.start);
            while start + length <= close {
                let (a, b) = (start - before, start + length + after);
                if busy.iter().all(|x| x.end <= a || x.start >= b) {
                    out.push(Slot {
                        start,
                        end: start + length,
                    });
                }
                start += step;
            }
        }
    }
    out
}

prop_compose! {
    fn a_window()(day in 0u8..7, from in 0i8..22, hours in 1i8..6, half in any::<bool>()) -> WeeklyWindow {
        let days = [Day::Monday, Day::Tuesday, Day::Wednesday, Day::Thursday, Day::Friday, Day::Saturday, Day::Sunday];
        let start = Time::new(from, if half { 30 } else { 0 }, 0, 0).unwrap();
        let end_hour = (from + hours).min(23);
        WeeklyWindow { weekday: days[day as usize], start, end: Time::new(end_hour, 59, 0, 0).unwrap() }
    }
}

fn settings_strategy() -> impl Strategy<Value = SchedulerSettings> {
    (
        prop::sample::select(ZONES.to_vec()),
        prop::collection::vec(a_window(), 1..6),
        prop::sample::select(vec![15u32, 30, 45, 60]),
        0u32..30,
        0u32..30,
        1u32..20,
        prop::option::of(1u32..4),
    )
        .prop_map(|(zone, windows, length, before, after, days, cap)| {
            // One window per weekday keeps them from overlapping.
            let mut seen = std::collections::BTreeSet::new();
            let windows = windows
                .into_iter()
                .filter(|w| seen.insert(w.weekday))
                .collect();
            SchedulerSettings {
                length_minutes: length,
                time_zone: zone.to_owned(),
                windows,
                buffer_before_minutes: before,
                buffer_after_minutes: after,
                slot_interval_minutes: Some(length.clamp(15, 30)),
                max_days_ahead: days,
                daily_cap: cap,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn slots_are_exactly_the_free_steps_of_the_windows_and_never_today(
        s in settings_strategy(),
        now_offset in 0i64..(365 * 24 * 3600),
        busy in prop::collection::vec((0i64..(30 * 24 * 60), 5i64..300), 0..40),
        booked in prop::collection::vec(0i64..(30 * 24 * 60), 0..6),
    ) {
        let Ok(schedule) = s.validate() else { return Ok(()); };
        // Around the 2026 transitions of every zone above.
        let now = ts("2026-01-15T00:00:00Z") + SignedDuration::from_secs(now_offset);
        let busy: Vec<Busy> = busy
            .iter()
            .map(|(at, mins)| {
                let start = now + SignedDuration::from_mins(*at);
                Busy { start, end: start + SignedDuration::from_mins(*mins) }
            })
            .collect();
        let booked: Vec<Timestamp> = booked
            .iter()
            .map(|at| now + SignedDuration::from_mins(*at))
            .collect();
        let slots = schedule.slots(&Calendar::Read(busy.clone()), &booked, now).unwrap();
        prop_assert_eq!(&slots, &naive(&schedule, &busy, &booked, now));
        let earliest = schedule.earliest(now);
        let s = schedule.settings();
        let before = SignedDuration::from_mins(i64::from(s.buffer_before_minutes));
        let after = SignedDuration::from_mins(i64::from(s.buffer_after_minutes));
        for pair in slots.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "in order, no instant twice");
        }
        for slot in &slots {
            prop_assert!(slot.start >= earliest, "nothing today");
            prop_assert!(busy.iter().all(|b| b.end <= slot.start - before || b.start >= slot.end + after));
            let local = slot.start.to_zoned(schedule.zone().clone());
            prop_assert!(s.windows.iter().any(|w| w.weekday.weekday() == local.date().weekday()
                || w.weekday.weekday() == local.date().yesterday().unwrap().weekday()));
        }
    }
}
