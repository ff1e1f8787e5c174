//! Calendar arithmetic the product rules speak in ("six months", "one year").
//!
//! Months and years are calendar units, computed in UTC: six months after 31 August is
//! 28 (or 29) February, not a fixed number of days. Saturating at the ends of the
//! representable range keeps every rule total.

use jiff::{tz::TimeZone, Span, Timestamp};

fn shift(at: Timestamp, span: Span) -> Timestamp {
    at.to_zoned(TimeZone::UTC)
        .checked_add(span)
        .map(|z| z.timestamp())
        .unwrap_or(if span.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// `at` plus `n` calendar months (UTC).
pub fn add_months(at: Timestamp, n: i32) -> Timestamp {
    shift(at, Span::new().months(n))
}

/// `at` minus `n` calendar months (UTC).
pub fn sub_months(at: Timestamp, n: i32) -> Timestamp {
    shift(at, Span::new().months(-n))
}

/// `at` minus `n` calendar years (UTC).
pub fn sub_years(at: Timestamp, n: i16) -> Timestamp {
    shift(at, Span::new().years(-n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_month_end() {
        assert_eq!(
            add_months(ts("2025-08-31T10:00:00Z"), 6),
            ts("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            add_months(ts("2023-08-31T10:00:00Z"), 6),
            ts("2024-02-29T10:00:00Z")
        );
        assert_eq!(
            sub_months(ts("2026-03-15T00:00:00Z"), 6),
            ts("2025-09-15T00:00:00Z")
        );
    }

    #[test]
    fn a_year_back_from_a_leap_day_lands_on_the_last_of_february() {
        assert_eq!(
            sub_years(ts("2024-02-29T12:00:00Z"), 1),
            ts("2023-02-28T12:00:00Z")
        );
    }

    #[test]
    fn arithmetic_saturates_instead_of_failing() {
        assert_eq!(add_months(Timestamp::MAX, 6), Timestamp::MAX);
        assert_eq!(sub_years(Timestamp::MIN, 1), Timestamp::MIN);
    }
}
