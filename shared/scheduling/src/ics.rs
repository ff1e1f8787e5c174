//! The interview as an iCalendar file (RFC 5545) the candidate adds to their calendar in
//! one click from the confirmation page.
//!
//! A plain download: no `METHOD` (so no organizer or attendee rules apply), times in UTC
//! (self-contained, no `VTIMEZONE`), the booking's id as `UID` and its revision as
//! `SEQUENCE`, so a file downloaded after a reschedule updates the event a calendar already
//! holds. Lines end in CRLF and are folded at 75 octets.

use hiresync_domain::booking::Booking;
use hiresync_domain::scheduler::MeetingType;
use jiff::Timestamp;

/// The domain that makes the `UID`s ours.
pub const UID_DOMAIN: &str = "scheduler.hiresync";

/// The booking as a calendar file, stamped `now`. `with` names the recruiter.
pub fn calendar_file(booking: &Booking, with: &str, now: Timestamp) -> String {
    let location = match &booking.meeting {
        MeetingType::Phone { number } => format!("Phone: {number}"),
        MeetingType::Video => "Video meeting (the link is in the recruiter's confirmation)".into(),
    };
    let description = match &booking.meeting {
        MeetingType::Phone { number } => {
            format!("Initial interview with {with}. The call is on {number}.")
        }
        MeetingType::Video => format!(
            "Initial interview with {with}, by video. The meeting link is sent in your conversation with the recruiter."
        ),
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//hiresync//scheduler//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@{UID_DOMAIN}", booking.id),
        format!("SEQUENCE:{}", booking.revision),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(booking.start)),
        format!("DTEND:{}", utc(booking.end)),
        format!("SUMMARY:{}", text(&format!("Interview with {with}"))),
        format!("DESCRIPTION:{}", text(&description)),
        format!("LOCATION:{}", text(&location)),
        "STATUS:CONFIRMED".to_owned(),
        "TRANSP:OPAQUE".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// `20260112T150000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon, comma and newlines escaped; other control
/// characters dropped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (never inside a character), ending in CRLF.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut out = String::new();
        fold(&format!("DESCRIPTION:{}", "é".repeat(60)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        assert_eq!(
            out.replace("\r\n ", ""),
            format!("DESCRIPTION:{}\r\n", "é".repeat(60))
        );
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(text("a,b;c\\d\ne\u{7}"), "a\\,b\\;c\\\\d\\ne");
    }
}
