//! A seat's scheduler: what the recruiter set (availability, the kind of meeting, how long
//! a link stays valid), the links candidates book from, and how a booked time is held so
//! two candidates can never hold one time.

pub mod link;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::availability::{Schedule, SchedulerSettings, SettingsError, Slot};
use crate::contract::{ContractSettings, Provider};

/// The longest a link may stay valid.
pub const MAX_LINK_VALIDITY_DAYS: u32 = 90;
/// How long a link stays valid unless the recruiter says otherwise.
pub const DEFAULT_LINK_VALIDITY_DAYS: u32 = 14;
/// Booked time is held in buckets of this many minutes, on the clock's 5-minute marks: every
/// slot starts and ends on one (the settings are checked for it), so two meetings overlap
/// exactly when they hold a bucket in common.
pub const BUCKET_MINUTES: i64 = 5;

/// How the interview happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MeetingType {
    /// The recruiter calls, or is called at, this number.
    Phone { number: String },
    /// A video meeting from the contract's provider (Teams or Google Meet).
    Video,
}

/// A seat's scheduler settings as the recruiter sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatScheduler {
    #[serde(flatten)]
    pub availability: SchedulerSettings,
    pub meeting: MeetingType,
    #[serde(default = "default_validity")]
    pub link_validity_days: u32,
}

fn default_validity() -> u32 {
    DEFAULT_LINK_VALIDITY_DAYS
}

/// Why a seat's scheduler settings cannot be used, in words the recruiter can act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Availability(#[from] SettingsError),
    #[error("{0:?} is not a phone number: use digits, spaces, dashes or brackets, with a leading + for an international number (7 to 15 digits)")]
    PhoneNumber(String),
    #[error("video meetings are not activated for your contract: ask your Recruiter admin to activate them, or choose phone")]
    VideoNotActivated,
    #[error("links may stay valid from 1 to {MAX_LINK_VALIDITY_DAYS} days")]
    LinkValidity,
}

/// The video meeting a provider makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoKind {
    Teams,
    GoogleMeet,
}

impl VideoKind {
    pub fn of(provider: Provider) -> Self {
        match provider {
            Provider::Microsoft365 => VideoKind::Teams,
            Provider::GoogleWorkspace => VideoKind::GoogleMeet,
        }
    }
}

/// Settings checked against the contract: usable to offer times and mint links.
#[derive(Debug, Clone)]
pub struct Plan {
    pub schedule: Schedule,
    pub meeting: MeetingType,
    pub link_validity: SignedDuration,
}

impl SeatScheduler {
    /// Checks the settings against what the contract allows.
    pub fn validate(&self, contract: &ContractSettings) -> Result<Plan, SchedulerError> {
        let schedule = self.availability.clone().validate()?;
        match &self.meeting {
            MeetingType::Phone { number } => {
                phone_number(number)?;
            }
            MeetingType::Video if !contract.video_meetings || contract.provider.is_none() => {
                return Err(SchedulerError::VideoNotActivated)
            }
            MeetingType::Video => {}
        }
        if !(1..=MAX_LINK_VALIDITY_DAYS).contains(&self.link_validity_days) {
            return Err(SchedulerError::LinkValidity);
        }
        Ok(Plan {
            schedule,
            meeting: self.meeting.clone(),
            link_validity: SignedDuration::from_hours(i64::from(self.link_validity_days) * 24),
        })
    }
}

/// A phone number as given, when it is one: digits with spaces, dashes, dots or brackets,
/// an optional leading `+`, 7 to 15 digits (E.164's longest).
fn phone_number(raw: &str) -> Result<(), SchedulerError> {
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()".contains(c));
    if allowed && (7..=15).contains(&digits) && trimmed.len() <= 32 {
        Ok(())
    } else {
        Err(SchedulerError::PhoneNumber(raw.chars().take(40).collect()))
    }
}

/// The buckets a meeting holds: the 5-minute marks (minutes since the epoch) from its
/// start up to its end.
pub fn buckets(slot: &Slot) -> Vec<i64> {
    let first = slot.start.as_second().div_euclid(60 * BUCKET_MINUTES);
    let last = (slot.end.as_second() + 60 * BUCKET_MINUTES - 1).div_euclid(60 * BUCKET_MINUTES);
    (first..last).map(|b| b * BUCKET_MINUTES).collect()
}

/// The instant a bucket (as [`buckets`] names it) starts.
pub fn bucket_start(bucket: i64) -> Timestamp {
    Timestamp::from_second(bucket * 60).unwrap_or(Timestamp::MAX)
}
