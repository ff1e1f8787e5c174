//! What the booking confirmation tells people: the message the product posts in the
//! candidate's conversation ([`InmailMessage`], on `InmailOutboxQueue`), and why a video
//! meeting could not be made ([`VideoFailure`], in the recruiter's notice).

use hiresync_domain::ids::{BookingId, ContractId, SeatId};
use hiresync_domain::ports::CalendarErrorKind;
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::dedup_id;

/// What the candidate reads when the interview stands but its video meeting could not be
/// made, whatever the reason: the reason itself goes to the recruiter alone.
pub const CANDIDATE_VIDEO_PROBLEM: &str =
    "We ran into a problem setting up the video call for this interview. \
     Please get in touch with the recruiter, who can help.";

/// What the candidate reads when the time they chose could not be put in the recruiter's
/// calendar (the seat changed hands, or its calendar is no longer connected).
pub const CANDIDATE_NOT_CONFIRMED: &str =
    "This interview time could not be added to the recruiter's calendar, so it is not \
     confirmed. Please reply to this message to agree on a time with the recruiter.";

/// Why the video meeting of an interview could not be made: one row of the scheduler's
/// video troubleshooting table, each with a stable code and what the recruiter is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VideoFailure {
    /// The organization's video account cannot make meetings (no licence, video not
    /// allowed or not activated), or it refused our credentials: the Recruiter admin acts.
    #[serde(rename = "account_not_eligible")]
    AccountNotEligible,
    /// The recruiter's scheduler address is not a user of the organization's video
    /// account (the addresses differ).
    #[serde(rename = "user_not_authorized")]
    UserNotAuthorized,
    /// The video provider kept failing until every retry was spent.
    #[serde(rename = "temporary")]
    Temporary,
}

impl VideoFailure {
    pub const ALL: [VideoFailure; 3] = [
        VideoFailure::AccountNotEligible,
        VideoFailure::UserNotAuthorized,
        VideoFailure::Temporary,
    ];

    /// The stable code (as serialized).
    pub fn code(self) -> &'static str {
        match self {
            VideoFailure::AccountNotEligible => "account_not_eligible",
            VideoFailure::UserNotAuthorized => "user_not_authorized",
            VideoFailure::Temporary => "temporary",
        }
    }

    /// The row a calendar or video error belongs to, when it is a video failure at all.
    /// `Temporary` is one only once the retries are spent: the caller decides when.
    pub fn of_error(kind: CalendarErrorKind) -> Option<VideoFailure> {
        match kind {
            CalendarErrorKind::VideoNotEligible => Some(VideoFailure::AccountNotEligible),
            CalendarErrorKind::VideoUserUnknown => Some(VideoFailure::UserNotAuthorized),
            CalendarErrorKind::Temporary => Some(VideoFailure::Temporary),
            CalendarErrorKind::Unauthorized
            | CalendarErrorKind::Unreadable
            | CalendarErrorKind::Failed => None,
        }
    }

    /// What the recruiter is told, naming the candidate, with who can fix it.
    pub fn message(self, candidate: &str) -> String {
        match self {
            VideoFailure::AccountNotEligible => format!(
                "Your interview with {candidate} has no video meeting link: your organization's \
                 video conferencing account cannot create meetings for the scheduler, or the \
                 scheduler could not sign in to it. Your Recruiter admin can remove and add the \
                 video integration again; if that does not help, the admin of your video \
                 conferencing service should check that the account is still eligible and has \
                 the permissions it needs."
            ),
            VideoFailure::UserNotAuthorized => format!(
                "Your interview with {candidate} has no video meeting link: the address you \
                 connected to the scheduler is not a user of your organization's video \
                 conferencing account. Use the same address for both, or ask your Recruiter \
                 admin for help."
            ),
            VideoFailure::Temporary => format!(
                "Your interview with {candidate} has no video meeting link: the video \
                 conferencing service kept failing for a while. The interview is in your \
                 calendar; send the candidate a link yourself. If this goes on, contact support."
            ),
        }
    }
}

/// How the interview happens, as the candidate's message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InmailMeeting {
    /// `{"type": "video", "join_url": ...}`
    Video { join_url: String },
    /// `{"type": "phone", "number": ...}`
    Phone { number: String },
    /// `{"type": "video_failed", "text": ...}`: a video interview whose meeting could not
    /// be made; `text` is [`CANDIDATE_VIDEO_PROBLEM`].
    VideoFailed { text: String },
}

/// A booked (or moved) interview, as its confirmation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewDetails {
    /// The same for every send of this message (see [`InmailMessage`]).
    pub id: String,
    pub contract: ContractId,
    pub seat: SeatId,
    /// The InMail conversation the scheduling link was sent in.
    pub conversation: String,
    pub booking: BookingId,
    pub revision: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The candidate's zone (the one they chose on the booking page).
    pub time_zone: String,
    pub meeting: InmailMeeting,
}

/// Why a booked time was not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotConfirmedReason {
    /// The seat has another holder (or none): nobody can vouch for their calendar.
    SeatChanged,
    /// The seat's calendar is no longer connected (deauthorized, to be reconnected,
    /// another account, or the contract's calendar integration is off).
    CalendarUnavailable,
}

/// A booked time that could not be put in the recruiter's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewNotConfirmed {
    pub id: String,
    pub contract: ContractId,
    pub seat: SeatId,
    pub conversation: String,
    pub booking: BookingId,
    pub revision: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_zone: String,
    pub reason: NotConfirmedReason,
    /// What the candidate reads: [`CANDIDATE_NOT_CONFIRMED`].
    pub text: String,
}

/// What `InmailOutboxQueue` carries: a message for the product to post in the candidate's
/// conversation, from the recruiter's side. The body is JSON:
///
/// ```text
/// { "type": "interview_confirmed" | "interview_rescheduled",
///   "id", "contract", "seat", "conversation", "booking", "revision",
///   "start", "end" (RFC 3339), "time_zone" (the candidate's, IANA),
///   "meeting": {"type": "video", "join_url"}
///            | {"type": "phone", "number"}
///            | {"type": "video_failed", "text"} }
/// { "type": "interview_not_confirmed",
///   "id", "contract", "seat", "conversation", "booking", "revision",
///   "start", "end", "time_zone", "reason": "seat_changed" | "calendar_unavailable", "text" }
/// ```
///
/// `interview_confirmed` is the first confirmation (revision 0); every later revision is
/// `interview_rescheduled`, with the new time. Delivery is at least once: a retried
/// confirmation sends the same message again, built from what is recorded on the booking,
/// so it is identical, `id` included (`<type>:<contract>:<seat>:<booking>:r<revision>`).
/// The product posts each `id` once and drops the repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InmailMessage {
    InterviewConfirmed(InterviewDetails),
    InterviewRescheduled(InterviewDetails),
    InterviewNotConfirmed(InterviewNotConfirmed),
}

impl InmailMessage {
    /// The message's id: one per kind of message, booking and revision.
    pub fn id_for(
        kind: &str,
        contract: &ContractId,
        seat: &SeatId,
        booking: &BookingId,
        revision: u32,
    ) -> String {
        dedup_id(&format!("{kind}:{contract}:{seat}:{booking}:r{revision}"))
    }

    /// The type as serialized.
    pub fn kind(&self) -> &'static str {
        match self {
            InmailMessage::InterviewConfirmed(_) => "interview_confirmed",
            InmailMessage::InterviewRescheduled(_) => "interview_rescheduled",
            InmailMessage::InterviewNotConfirmed(_) => "interview_not_confirmed",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            InmailMessage::InterviewConfirmed(d) | InmailMessage::InterviewRescheduled(d) => &d.id,
            InmailMessage::InterviewNotConfirmed(n) => &n.id,
        }
    }

    pub fn booking(&self) -> (&BookingId, u32) {
        match self {
            InmailMessage::InterviewConfirmed(d) | InmailMessage::InterviewRescheduled(d) => {
                (&d.booking, d.revision)
            }
            InmailMessage::InterviewNotConfirmed(n) => (&n.booking, n.revision),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(meeting: InmailMeeting) -> InterviewDetails {
        let (contract, seat) = (
            ContractId::parse("acme").unwrap(),
            SeatId::parse("s1").unwrap(),
        );
        let booking = BookingId::parse("b-1").unwrap();
        InterviewDetails {
            id: InmailMessage::id_for("interview_confirmed", &contract, &seat, &booking, 0),
            contract,
            seat,
            conversation: "conv-9".into(),
            booking,
            revision: 0,
            start: "2026-03-02T09:00:00Z".parse().unwrap(),
            end: "2026-03-02T09:30:00Z".parse().unwrap(),
            time_zone: "Europe/Paris".into(),
            meeting,
        }
    }

    #[test]
    fn a_confirmation_has_the_documented_shape() {
        let message = InmailMessage::InterviewConfirmed(details(InmailMeeting::Video {
            join_url: "https://teams.example/j/1".into(),
        }));
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "interview_confirmed");
        assert_eq!(json["id"], "interview_confirmed:acme:s1:b-1:r0");
        assert_eq!(json["booking"], "b-1");
        assert_eq!(json["time_zone"], "Europe/Paris");
        assert_eq!(json["start"], "2026-03-02T09:00:00Z");
        assert_eq!(json["meeting"]["type"], "video");
        assert_eq!(json["meeting"]["join_url"], "https://teams.example/j/1");
        let back: InmailMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);

        let phone = InmailMessage::InterviewRescheduled(details(InmailMeeting::Phone {
            number: "+33 1 23 45 67 89".into(),
        }));
        let json = serde_json::to_value(&phone).unwrap();
        assert_eq!(json["type"], "interview_rescheduled");
        assert_eq!(json["meeting"]["type"], "phone");
        assert_eq!(json["meeting"]["number"], "+33 1 23 45 67 89");

        let failed = InmailMeeting::VideoFailed {
            text: CANDIDATE_VIDEO_PROBLEM.into(),
        };
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["type"], "video_failed");
        assert_eq!(json["text"], CANDIDATE_VIDEO_PROBLEM);
    }

    #[test]
    fn a_video_notice_names_its_row_by_code() {
        let notice = crate::Notice::VideoLinkFailed {
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("s1").unwrap(),
            booking: BookingId::parse("b-1").unwrap(),
            revision: 2,
            candidate: "Dana Lee".into(),
            reason: VideoFailure::UserNotAuthorized,
            message: VideoFailure::UserNotAuthorized.message("Dana Lee"),
            at: "2026-03-02T09:00:00Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&notice).unwrap();
        assert_eq!(json["type"], "video_link_failed");
        assert_eq!(json["reason"], "user_not_authorized");
        assert_eq!(json["candidate"], "Dana Lee");
        assert_eq!(json["revision"], 2);
        assert_eq!(
            serde_json::from_value::<crate::Notice>(json).unwrap(),
            notice
        );
    }

    #[test]
    fn each_video_error_is_one_row_with_its_own_code_and_message() {
        assert_eq!(
            VideoFailure::of_error(CalendarErrorKind::VideoNotEligible),
            Some(VideoFailure::AccountNotEligible)
        );
        assert_eq!(
            VideoFailure::of_error(CalendarErrorKind::VideoUserUnknown),
            Some(VideoFailure::UserNotAuthorized)
        );
        assert_eq!(
            VideoFailure::of_error(CalendarErrorKind::Temporary),
            Some(VideoFailure::Temporary)
        );
        for kind in [
            CalendarErrorKind::Unauthorized,
            CalendarErrorKind::Unreadable,
            CalendarErrorKind::Failed,
        ] {
            assert_eq!(VideoFailure::of_error(kind), None, "{kind:?}");
        }
        let mut codes = std::collections::BTreeSet::new();
        for row in VideoFailure::ALL {
            assert!(codes.insert(row.code()));
            assert_eq!(
                serde_json::to_value(row).unwrap(),
                serde_json::Value::String(row.code().into())
            );
            assert!(row.message("Dana Lee").contains("Dana Lee"));
        }
        // The candidate never learns the reason.
        assert!(!CANDIDATE_VIDEO_PROBLEM.contains("account"));
    }
}
