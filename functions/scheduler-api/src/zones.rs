//! The time zones a candidate can pick from on the booking page: the recruiter's, the one
//! being shown, and the zones most people live in, by IANA name.

pub const COMMON: &[&str] = &[
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Reykjavik",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
];

/// The zones to offer: `shown` and `seat` first (once each), then the common ones.
pub fn choices(shown: &str, seat: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(COMMON.len() + 2);
    for z in [shown, seat].into_iter().chain(COMMON.iter().copied()) {
        if !out.iter().any(|o| o == z) {
            out.push(z.to_owned());
        }
    }
    out
}
