//! Every account's calendar, read and written through Graph (`graph_calendar`,
//! `graph_schedule`) and Google Calendar (`calendar_api`) alike: its events (with their
//! Teams or Meet meeting), the free/busy time they make, and how the calendar misbehaves
//! when a test asks it to ([`CalendarSettings`]: unreadable for free/busy, no Teams, Meet
//! refused or failing, Meet slow to be ready).
//!
//! An event is busy time from its start to its end unless it shows as free or is
//! cancelled. Graph's `DELETE` removes an event; Graph's `cancel` and Google's `DELETE`
//! keep it, cancelled (Google answers a deleted event's id with `status: cancelled`, and
//! its id stays taken).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How an event shows on its owner's free/busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowAs {
    Free,
    Tentative,
    #[default]
    Busy,
    Oof,
}

impl ShowAs {
    /// Graph's `showAs` / `scheduleItem.status`.
    pub fn graph(self) -> &'static str {
        match self {
            ShowAs::Free => "free",
            ShowAs::Tentative => "tentative",
            ShowAs::Busy => "busy",
            ShowAs::Oof => "oof",
        }
    }

    /// Graph's `showAs` value, any case (`workingElsewhere` and `unknown` show as free).
    pub fn parse_graph(text: &str) -> Option<ShowAs> {
        match text.to_ascii_lowercase().as_str() {
            "free" | "workingelsewhere" | "unknown" => Some(ShowAs::Free),
            "tentative" => Some(ShowAs::Tentative),
            "busy" => Some(ShowAs::Busy),
            "oof" => Some(ShowAs::Oof),
            _ => None,
        }
    }

    /// The digit of Graph's `availabilityView`.
    pub fn digit(self) -> u8 {
        match self {
            ShowAs::Free => 0,
            ShowAs::Tentative => 1,
            ShowAs::Busy => 2,
            ShowAs::Oof => 3,
        }
    }
}

/// Someone invited to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendee {
    pub address: String,
    pub name: Option<String>,
}

/// Which API made an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Seeded through the control API (the owner's own appointments).
    Sandbox,
    Graph,
    Google,
}

/// How a Meet conference ends once it is no longer pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetOutcome {
    Success,
    Failure,
}

/// A Meet conference asked for with `conferenceData.createRequest`.
#[derive(Debug, Clone)]
pub struct Meet {
    pub request_id: String,
    /// `abc-defg-hij`: the conference id, and the path of its link.
    pub code: String,
    pub outcome: MeetOutcome,
    /// How many more answers say `pending` before the outcome shows.
    pub pending_reads: u32,
}

impl Meet {
    /// The status as it stands, without counting a read.
    pub fn status(&self) -> &'static str {
        match (self.pending_reads, self.outcome) {
            (1.., _) => "pending",
            (0, MeetOutcome::Success) => "success",
            (0, MeetOutcome::Failure) => "failure",
        }
    }

    /// The status one more answer shows, counting it.
    pub fn read(&mut self) -> &'static str {
        let status = self.status();
        self.pending_reads = self.pending_reads.saturating_sub(1);
        status
    }

    pub fn join_url(&self) -> String {
        format!("https://meet.google.com/{}", self.code)
    }
}

/// An event's video meeting.
#[derive(Debug, Clone)]
pub enum Video {
    None,
    /// A Teams meeting made by Graph.
    Teams {
        join_url: String,
        conference_id: String,
    },
    /// Graph was asked for Teams and made none (the account has no Teams).
    TeamsRefused,
    Meet(Meet),
}

/// One event of a calendar.
#[derive(Debug, Clone)]
pub struct CalEvent {
    pub id: String,
    pub subject: String,
    pub body: String,
    /// `text` or `html` (Graph `body.contentType`).
    pub body_type: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The zone the client asked for (echoed; every instant is answered in UTC).
    pub time_zone: String,
    pub show_as: ShowAs,
    pub attendees: Vec<Attendee>,
    pub location: Option<String>,
    pub organizer: String,
    pub video: Video,
    pub cancelled: bool,
    pub origin: Origin,
    /// Graph's `transactionId`, when the create carried one.
    pub transaction_id: Option<String>,
    /// Google's `sendUpdates` of the last write, when it carried one.
    pub send_updates: Option<String>,
    pub allow_new_time_proposals: bool,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// Bumped by every change (etags, notifications).
    pub version: u64,
}

impl CalEvent {
    /// Whether the event makes its owner busy (or tentative, or away) at some time.
    pub fn blocks(&self) -> bool {
        !self.cancelled && self.show_as != ShowAs::Free
    }

    pub fn overlaps(&self, from: Timestamp, to: Timestamp) -> bool {
        self.start < to && from < self.end
    }

    /// The link to join, once there is one.
    pub fn join_url(&self) -> Option<String> {
        match &self.video {
            Video::Teams { join_url, .. } => Some(join_url.clone()),
            Video::Meet(m) if m.status() == "success" => Some(m.join_url()),
            _ => None,
        }
    }

    pub fn touch(&mut self) {
        self.version += 1;
        self.modified = Timestamp::now();
    }
}

/// What Meet does for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeetMode {
    /// Conferences are made (pending first).
    #[default]
    Allowed,
    /// 400 `invalid` "Invalid conference type value." and no event; the calendar's
    /// `allowedConferenceSolutionTypes` lacks `hangoutsMeet`.
    Refused,
    /// The event is made; its conference ends in `failure`.
    Failing,
}

/// How an account's calendar behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarSettings {
    /// Free/busy answers a per-calendar error for it (Graph `error`, Google `errors`).
    pub unreadable: bool,
    /// Graph makes Teams meetings; without, events come out with no online meeting.
    pub teams_available: bool,
    pub meet: MeetMode,
    /// How many answers show a new Meet conference `pending` (the insert's included).
    pub meet_pending_reads: u32,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        Self {
            unreadable: false,
            teams_available: true,
            meet: MeetMode::Allowed,
            meet_pending_reads: 1,
        }
    }
}

/// A change of settings: what is absent stays as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    pub unreadable: Option<bool>,
    pub teams_available: Option<bool>,
    pub meet: Option<MeetMode>,
    pub meet_pending_reads: Option<u32>,
}

impl CalendarSettings {
    pub fn apply(&mut self, change: &SettingsChange) {
        if let Some(v) = change.unreadable {
            self.unreadable = v;
        }
        if let Some(v) = change.teams_available {
            self.teams_available = v;
        }
        if let Some(v) = change.meet {
            self.meet = v;
        }
        if let Some(v) = change.meet_pending_reads {
            self.meet_pending_reads = v;
        }
    }
}

/// An account's calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub events: Vec<CalEvent>,
    pub settings: CalendarSettings,
}

impl Calendar {
    pub fn get(&self, id: &str) -> Option<&CalEvent> {
        self.events.iter().find(|e| e.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut CalEvent> {
        self.events.iter_mut().find(|e| e.id == id)
    }

    /// The events that block time in `[from, to)`, by start.
    pub fn blocking(&self, from: Timestamp, to: Timestamp) -> Vec<&CalEvent> {
        let mut found: Vec<&CalEvent> = self
            .events
            .iter()
            .filter(|e| e.blocks() && e.overlaps(from, to))
            .collect();
        found.sort_by_key(|e| (e.start, e.end));
        found
    }

    /// Google's busy ranges in `[from, to)`: blocking events merged where they overlap or
    /// touch, clipped to the window.
    pub fn busy_ranges(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let mut ranges: Vec<(Timestamp, Timestamp)> = Vec::new();
        for e in self.blocking(from, to) {
            let (start, end) = (e.start.max(from), e.end.min(to));
            match ranges.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        ranges
    }

    /// Graph's `availabilityView`: one digit per `interval` from `from` until `to`, the
    /// strongest status of the events overlapping that slot.
    pub fn availability_view(&self, from: Timestamp, to: Timestamp, interval_min: i64) -> String {
        let step = interval_min.max(1) * 60;
        let blocking = self.blocking(from, to);
        let mut view = String::new();
        let mut slot = from;
        while slot < to {
            let next = Timestamp::from_second(slot.as_second() + step).unwrap_or(to);
            let digit = blocking
                .iter()
                .filter(|e| e.overlaps(slot, next))
                .map(|e| e.show_as.digit())
                .max()
                .unwrap_or(0);
            view.push(char::from(b'0' + digit));
            slot = next;
        }
        view
    }
}

/// A fresh id in Google's base32hex alphabet (`0-9a-v`), 26 characters: valid for both
/// providers (Graph's ids are opaque).
pub fn base32hex_id(seed: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut rng = fastrand::Rng::with_seed(seed ^ fastrand::u64(..));
    let mut id: String = (0..20)
        .map(|_| char::from(ALPHABET[rng.usize(..32)]))
        .collect();
    let mut n = seed;
    for _ in 0..6 {
        let digit = usize::try_from(n % 32).unwrap_or(0);
        id.push(char::from(ALPHABET[digit]));
        n /= 32;
    }
    id
}

/// Whether `id` is a valid Google event id: base32hex (`a-v`, `0-9`), 5 to 1024 characters.
pub fn valid_google_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'))
}

/// A few Windows zone names Graph accepts, with their IANA names.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Eastern Standard Time", "America/New_York"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("Lord Howe Standard Time", "Australia/Lord_Howe"),
];

/// The zone a provider names: `UTC`, an IANA name, or (Graph) one of a few Windows names.
pub fn zone(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("utc") {
        return Some(TimeZone::UTC);
    }
    let iana = WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(name))
        .map_or(name, |(_, iana)| iana);
    TimeZone::get(iana).ok()
}

/// An instant from a provider's `dateTime` (with an offset, or a wall-clock time in
/// `time_zone`), or `None` when either part is not understood.
pub fn instant(date_time: &str, time_zone: &str) -> Option<Timestamp> {
    if let Ok(ts) = date_time.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil: DateTime = date_time.parse().ok()?;
    civil.to_zoned(zone(time_zone)?).ok().map(|z| z.timestamp())
}

/// Graph's way of writing an instant in UTC: `2026-01-12T15:00:00.0000000`.
pub fn graph_time(ts: Timestamp) -> String {
    format!("{}.0000000", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// RFC 3339 in UTC, to the second: `2026-01-12T15:00:00Z` (Google, Zoom).
pub fn utc_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn event(start: &str, end: &str, show_as: ShowAs) -> CalEvent {
        CalEvent {
            id: start.into(),
            subject: String::new(),
            body: String::new(),
            body_type: "text".into(),
            start: at(start),
            end: at(end),
            time_zone: "UTC".into(),
            show_as,
            attendees: vec![],
            location: None,
            organizer: "o@x.example".into(),
            video: Video::None,
            cancelled: false,
            origin: Origin::Sandbox,
            transaction_id: None,
            send_updates: None,
            allow_new_time_proposals: true,
            created: Timestamp::UNIX_EPOCH,
            modified: Timestamp::UNIX_EPOCH,
            version: 1,
        }
    }

    #[test]
    fn busy_ranges_merge_clip_and_leave_out_free_and_cancelled_time() {
        let mut cancelled = event("2026-01-12T16:00:00Z", "2026-01-12T17:00:00Z", ShowAs::Busy);
        cancelled.cancelled = true;
        let calendar = Calendar {
            events: vec![
                event("2026-01-12T10:00:00Z", "2026-01-12T11:00:00Z", ShowAs::Busy),
                event(
                    "2026-01-12T10:30:00Z",
                    "2026-01-12T12:00:00Z",
                    ShowAs::Tentative,
                ),
                event("2026-01-12T12:00:00Z", "2026-01-12T12:30:00Z", ShowAs::Oof),
                event("2026-01-12T13:00:00Z", "2026-01-12T14:00:00Z", ShowAs::Free),
                event("2026-01-12T08:00:00Z", "2026-01-12T09:30:00Z", ShowAs::Busy),
                cancelled,
            ],
            settings: CalendarSettings::default(),
        };
        let ranges = calendar.busy_ranges(at("2026-01-12T09:00:00Z"), at("2026-01-12T18:00:00Z"));
        assert_eq!(
            ranges,
            vec![
                (at("2026-01-12T09:00:00Z"), at("2026-01-12T09:30:00Z")),
                (at("2026-01-12T10:00:00Z"), at("2026-01-12T12:30:00Z")),
            ]
        );
        let view =
            calendar.availability_view(at("2026-01-12T09:00:00Z"), at("2026-01-12T14:00:00Z"), 60);
        assert_eq!(view, "22130");
    }

    #[test]
    fn ids_times_and_zones_read_as_the_providers_write_them() {
        assert!(valid_google_id(&base32hex_id(7)));
        assert!(valid_google_id("abcde"));
        assert!(!valid_google_id("abcd"));
        assert!(!valid_google_id("abcdw"));
        assert!(!valid_google_id("ABCDE"));
        assert_eq!(
            instant("2026-01-12T09:00:00", "Pacific Standard Time"),
            Some(at("2026-01-12T17:00:00Z"))
        );
        assert_eq!(
            instant("2026-07-12T09:00:00.0000000", "Europe/Berlin"),
            Some(at("2026-07-12T07:00:00Z"))
        );
        assert_eq!(
            instant("2026-01-12T09:00:00+01:00", "ignored"),
            Some(at("2026-01-12T08:00:00Z"))
        );
        assert_eq!(instant("2026-01-12T09:00:00", "Mars/Olympus"), None);
        assert_eq!(
            graph_time(at("2026-01-12T09:00:00Z")),
            "2026-01-12T09:00:00.0000000"
        );
        assert_eq!(utc_time(at("2026-01-12T09:00:00Z")), "2026-01-12T09:00:00Z");
    }
}
