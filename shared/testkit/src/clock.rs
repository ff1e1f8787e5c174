//! Fixed instants: tests never read the clock.

use jiff::Timestamp;

/// The instant an RFC 3339 string names; panics on a malformed one (a test's typo).
pub fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is not an RFC 3339 instant: {e}"))
}
