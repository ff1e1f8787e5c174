//! Availability over 14 days against 200 busy intervals: a bench binary that prints its
//! figures (`cargo bench -p hiresync-domain --bench availability`). Not a test: nothing
//! here asserts on time.

use std::hint::black_box;
use std::time::Instant;

use hiresync_domain::availability::{Busy, Calendar, Day, SchedulerSettings, WeeklyWindow};
use jiff::{SignedDuration, Timestamp};

fn main() {
    let parse = |s: &str| s.parse().unwrap_or_else(|e| panic!("{e}"));
    let days = [
        Day::Monday,
        Day::Tuesday,
        Day::Wednesday,
        Day::Thursday,
        Day::Friday,
    ];
    // Two windows a weekday, 30-minute slots every 15 minutes, buffers, a cap.
    let windows = days
        .iter()
        .flat_map(|d| {
            [
                WeeklyWindow {
                    weekday: *d,
                    start: parse("08:00"),
                    end: parse("12:00"),
                },
                WeeklyWindow {
                    weekday: *d,
                    start: parse("13:00"),
                    end: parse("18:30"),
                },
            ]
        })
        .collect();
    let schedule = SchedulerSettings {
        length_minutes: 30,
        time_zone: "America/New_York".into(),
        windows,
        buffer_before_minutes: 10,
        buffer_after_minutes: 10,
        slot_interval_minutes: Some(15),
        max_days_ahead: 14,
        daily_cap: Some(8),
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"));
    // Around the spring transition; 200 busy intervals spread over the fortnight.
    let now: Timestamp = "2026-03-02T15:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let busy: Vec<Busy> = (0..200i64)
        .map(|n| {
            let start = now + SignedDuration::from_mins(n * 97 % (14 * 24 * 60));
            Busy {
                start,
                end: start + SignedDuration::from_mins(20 + n % 5 * 15),
            }
        })
        .collect();
    let calendar = Calendar::Read(busy);
    let booked = [now + SignedDuration::from_hours(30)];
    let rounds = 2_000u32;
    let mut offered = 0usize;
    let started = Instant::now();
    for _ in 0..rounds {
        let slots = schedule
            .slots(black_box(&calendar), black_box(&booked), black_box(now))
            .unwrap_or_default();
        offered = slots.len();
    }
    let each = started.elapsed() / rounds;
    println!(
        "availability: 14 days, 200 busy intervals, {offered} slots offered: {:.1} µs per computation ({rounds} rounds)",
        each.as_secs_f64() * 1e6
    );
}
