//! The messages the candidate reads in their conversation, built from the booking as
//! recorded, so every send for one revision is the same message.

use hiresync_domain::booking::{BookedEvent, Booking};
use hiresync_domain::scheduler::MeetingType;
use hiresync_messages::{
    InmailMeeting, InmailMessage, InterviewDetails, InterviewNotConfirmed, NotConfirmedReason,
    CANDIDATE_NOT_CONFIRMED, CANDIDATE_VIDEO_PROBLEM,
};

/// The InMail of `booking`'s recorded event: built from the record alone, so every send
/// for one revision is the same message.
pub(super) fn confirmation(booking: &Booking, event: &BookedEvent) -> InmailMessage {
    let kind = if booking.revision == 0 {
        "interview_confirmed"
    } else {
        "interview_rescheduled"
    };
    let meeting = match (&booking.meeting, &event.join_url) {
        (MeetingType::Phone { number }, _) => InmailMeeting::Phone {
            number: number.clone(),
        },
        (MeetingType::Video, Some(join_url)) => InmailMeeting::Video {
            join_url: join_url.clone(),
        },
        (MeetingType::Video, None) => InmailMeeting::VideoFailed {
            text: CANDIDATE_VIDEO_PROBLEM.to_owned(),
        },
    };
    let details = InterviewDetails {
        id: InmailMessage::id_for(
            kind,
            &booking.contract_id,
            &booking.seat_id,
            &booking.id,
            booking.revision,
        ),
        contract: booking.contract_id.clone(),
        seat: booking.seat_id.clone(),
        conversation: booking.conversation.clone(),
        booking: booking.id.clone(),
        revision: booking.revision,
        start: booking.start,
        end: booking.end,
        time_zone: booking.invitee_zone.clone(),
        meeting,
    };
    if booking.revision == 0 {
        InmailMessage::InterviewConfirmed(details)
    } else {
        InmailMessage::InterviewRescheduled(details)
    }
}

/// What a booked time that could not be put in the calendar tells the candidate.
pub(super) fn not_confirmed(b: &Booking, reason: NotConfirmedReason) -> InmailMessage {
    let kind = "interview_not_confirmed";
    InmailMessage::InterviewNotConfirmed(InterviewNotConfirmed {
        id: InmailMessage::id_for(kind, &b.contract_id, &b.seat_id, &b.id, b.revision),
        contract: b.contract_id.clone(),
        seat: b.seat_id.clone(),
        conversation: b.conversation.clone(),
        booking: b.id.clone(),
        revision: b.revision,
        start: b.start,
        end: b.end,
        time_zone: b.invitee_zone.clone(),
        reason,
        text: CANDIDATE_NOT_CONFIRMED.to_owned(),
    })
}
