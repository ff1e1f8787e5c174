//! Video interviews on the contract's Zoom account, on fakes: the meeting is hosted by the
//! recruiter's Zoom user and its link is in the event and the candidate's message; it is
//! made once and moved after; each way Zoom can refuse is its row of the error table.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod world;

use hiresync_domain::contract::Provider;
use hiresync_domain::ports::{CalendarErrorKind, ProviderVideo};
use hiresync_domain::scheduler::MeetingType;
use hiresync_domain::zoom::ZoomState;
use hiresync_messages::{
    InmailMeeting, InmailMessage, Notice, VideoFailure, CANDIDATE_VIDEO_PROBLEM,
};
use hiresync_scheduling::confirm::{Attempt, Outcome};
use hiresync_testkit::clock::ts;
use world::{World, CALENDAR, MONDAY_9, TUESDAY_14};

const FIRST: Attempt = Attempt { number: 1, of: 5 };
const LAST: Attempt = Attempt { number: 5, of: 5 };

fn meeting_of(m: &InmailMessage) -> InmailMeeting {
    match m {
        InmailMessage::InterviewConfirmed(d) | InmailMessage::InterviewRescheduled(d) => {
            d.meeting.clone()
        }
        other => panic!("not a confirmation: {other:?}"),
    }
}

fn video_notices(w: &World) -> Vec<VideoFailure> {
    w.queues
        .sent_notices()
        .into_iter()
        .filter_map(|n| match n {
            Notice::VideoLinkFailed { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

async fn zoom_world(provider: Provider) -> World {
    let w = World::new(provider).await;
    w.connect_zoom().await;
    w
}

#[tokio::test]
async fn a_video_interview_gets_a_zoom_meeting_hosted_by_the_recruiter_with_its_link_in_the_event()
{
    let w = zoom_world(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;

    let outcome = w.confirm(&booking, FIRST).await.unwrap();

    assert!(
        matches!(
            outcome,
            Outcome::Confirmed {
                video_failure: None,
                ..
            }
        ),
        "{outcome:?}"
    );
    let meetings = w.meetings.meetings();
    assert_eq!(meetings.len(), 1);
    let m = &meetings[0];
    assert_eq!(
        m.host.as_str(),
        CALENDAR,
        "hosted by the recruiter's Zoom user"
    );
    assert_eq!(m.start, ts(MONDAY_9));
    assert_eq!(m.duration_minutes, 30);
    assert_eq!(m.topic, "Interview with Dana Lee");
    assert_eq!(m.access, "zoom-at-1", "the account's stored access token");
    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].request.video,
        ProviderVideo::None,
        "no Teams meeting besides"
    );
    assert_eq!(events[0].request.location.as_deref(), Some(&*m.join_url));
    assert!(events[0].request.description.contains(&m.join_url));
    assert_eq!(
        meeting_of(&w.inmail.sent()[0]),
        InmailMeeting::Video {
            join_url: m.join_url.clone()
        }
    );
    let stored = w.stored(&booking.id).value;
    assert_eq!(stored.zoom.unwrap().meeting_id, m.id);
    assert!(video_notices(&w).is_empty());
}

#[tokio::test]
async fn a_reschedule_moves_the_same_zoom_meeting_and_a_retry_never_makes_a_second() {
    let w = zoom_world(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    // The calendar fails after Zoom made the meeting: the retry must reuse it.
    w.calendar.fail_next("create", CalendarErrorKind::Temporary);
    assert!(w.confirm(&booking, FIRST).await.is_err());
    assert_eq!(w.meetings.count("create"), 1);
    w.confirm(&booking, Attempt { number: 2, of: 5 })
        .await
        .unwrap();
    assert_eq!(w.meetings.count("create"), 1, "made once");

    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    let outcome = w.confirm(&moved, FIRST).await.unwrap();

    assert!(matches!(
        outcome,
        Outcome::Confirmed {
            revision: 1,
            video_failure: None,
            ..
        }
    ));
    assert_eq!(w.meetings.count("create"), 1, "still the one meeting");
    let meetings = w.meetings.meetings();
    assert_eq!(meetings.len(), 1);
    assert_eq!(meetings[0].start, ts(TUESDAY_14), "moved");
    assert_eq!(meetings[0].time_zone, "Europe/Paris", "in the seat's zone");
    assert_eq!(w.calendar.events().len(), 1, "one event, moved");
    assert_eq!(w.calendar.events()[0].start, ts(TUESDAY_14));
    assert_eq!(
        meeting_of(&w.inmail.sent()[1]),
        InmailMeeting::Video {
            join_url: meetings[0].join_url.clone()
        }
    );
}

#[tokio::test]
async fn a_meeting_deleted_in_zoom_is_made_again_on_a_reschedule() {
    let w = zoom_world(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    w.confirm(&booking, FIRST).await.unwrap();
    let first = w.meetings.meetings()[0].id.clone();
    w.meetings.delete(&first);

    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    w.confirm(&moved, FIRST).await.unwrap();

    let meetings = w.meetings.meetings();
    assert_eq!(meetings.len(), 1);
    assert_ne!(meetings[0].id, first);
    assert_eq!(meetings[0].start, ts(TUESDAY_14));
    assert_eq!(
        w.stored(&booking.id).value.zoom.unwrap().meeting_id,
        meetings[0].id
    );
}

#[tokio::test]
async fn each_way_zoom_refuses_is_its_row_and_the_event_is_made_without_a_link() {
    for (kind, row) in [
        (
            CalendarErrorKind::VideoUserUnknown,
            VideoFailure::UserNotAuthorized,
        ),
        (
            CalendarErrorKind::VideoNotEligible,
            VideoFailure::AccountNotEligible,
        ),
        (CalendarErrorKind::Failed, VideoFailure::AccountNotEligible),
    ] {
        let w = zoom_world(Provider::Microsoft365).await;
        w.meetings.fail_next("create", kind);
        let booking = w.book(MeetingType::Video, MONDAY_9).await;

        let outcome = w.confirm(&booking, FIRST).await.unwrap();

        assert!(
            matches!(outcome, Outcome::Confirmed { video_failure: Some(r), .. } if r == row),
            "{kind:?}: {outcome:?}"
        );
        let events = w.calendar.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].request.video, ProviderVideo::None);
        assert_eq!(events[0].request.location, None);
        assert_eq!(video_notices(&w), vec![row], "{kind:?}");
        assert_eq!(
            meeting_of(&w.inmail.sent()[0]),
            InmailMeeting::VideoFailed {
                text: CANDIDATE_VIDEO_PROBLEM.into()
            },
            "the candidate only reads to contact the recruiter"
        );
        assert!(w.stored(&booking.id).value.zoom.is_none());
    }
}

#[tokio::test]
async fn a_temporary_zoom_failure_is_retried_and_reported_only_on_the_last_attempt() {
    let w = zoom_world(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    w.meetings.fail_next("create", CalendarErrorKind::Temporary);
    assert!(w.confirm(&booking, FIRST).await.is_err());
    assert!(w.calendar.events().is_empty());
    assert!(video_notices(&w).is_empty());

    w.meetings.fail_next("create", CalendarErrorKind::Temporary);
    let last = w.confirm(&booking, LAST).await.unwrap();

    assert!(matches!(
        last,
        Outcome::Confirmed {
            video_failure: Some(VideoFailure::Temporary),
            ..
        }
    ));
    assert_eq!(video_notices(&w), vec![VideoFailure::Temporary]);
    assert_eq!(w.calendar.events()[0].request.video, ProviderVideo::None);
}

#[tokio::test]
async fn a_grant_zoom_revoked_is_the_account_row_and_marks_the_connection_for_the_admin() {
    let w = zoom_world(Provider::Microsoft365).await;
    w.zoom_oauth.revoke_grant();
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    // Two hours on, the access token has expired: the refresh is refused.
    let later = ts("2026-03-02T11:00:00Z");

    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, later)
        .await
        .unwrap();

    assert!(matches!(
        outcome,
        Outcome::Confirmed {
            video_failure: Some(VideoFailure::AccountNotEligible),
            ..
        }
    ));
    assert_eq!(w.meetings.count("create"), 0);
    assert_eq!(video_notices(&w), vec![VideoFailure::AccountNotEligible]);
    let account = w
        .zoom()
        .account(&w.contract)
        .await
        .unwrap()
        .expect("still there for the admin to see");
    assert_eq!(account.state, ZoomState::NeedsReconnect);
    assert_eq!(account.refused_at, Some(later));
    assert_eq!(
        w.calendar.events()[0].request.video,
        ProviderVideo::None,
        "no quiet fallback to Teams"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_rotated_one_kept() {
    let w = zoom_world(Provider::Microsoft365).await;
    let later = ts("2026-03-02T11:00:00Z");
    let confirmer = w.confirmer();
    let first = w.book(MeetingType::Video, MONDAY_9).await;
    let second = w.book(MeetingType::Video, TUESDAY_14).await;

    confirmer
        .confirm(&w.job(&first), FIRST, later)
        .await
        .unwrap();
    confirmer
        .confirm(&w.job(&second), FIRST, later)
        .await
        .unwrap();

    assert_eq!(
        w.zoom_oauth.refreshes(),
        1,
        "the new access token is shared"
    );
    let accesses: Vec<String> = w
        .meetings
        .meetings()
        .into_iter()
        .map(|m| m.access)
        .collect();
    assert_eq!(
        accesses,
        vec!["zoom-at-2".to_owned(), "zoom-at-2".to_owned()]
    );
}

#[tokio::test]
async fn without_a_zoom_connection_or_for_a_phone_interview_zoom_is_not_called() {
    let w = World::new(Provider::Microsoft365).await;
    let video = w.book(MeetingType::Video, MONDAY_9).await;
    w.confirm(&video, FIRST).await.unwrap();
    assert_eq!(w.calendar.events()[0].request.video, ProviderVideo::Teams);

    w.connect_zoom().await;
    let phone = w
        .book(
            MeetingType::Phone {
                number: "+1 212 555 0100".into(),
            },
            TUESDAY_14,
        )
        .await;
    w.confirm(&phone, FIRST).await.unwrap();
    assert!(w.meetings.calls().is_empty());

    // Removed: video is the calendar provider's again.
    assert!(w.zoom().remove(&w.contract).await.unwrap());
    let again = w.book(MeetingType::Video, "2026-03-11T09:00:00Z").await;
    w.confirm(&again, FIRST).await.unwrap();
    assert!(w.meetings.calls().is_empty());
    assert!(w
        .calendar
        .events()
        .iter()
        .any(|e| e.start == ts("2026-03-11T09:00:00Z") && e.request.video == ProviderVideo::Teams));
}
