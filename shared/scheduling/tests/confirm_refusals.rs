//! The booking confirmation on fakes when things go wrong: a video meeting pending,
//! refused or failing (the event stays, the candidate is told to ask the recruiter, the
//! recruiter is told why), and bookings that cannot be confirmed at all.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod world;

use hiresync_domain::booking::BookingState;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::{
    CalendarErrorKind, ConnectionStore, ContractStore, ProviderVideo, SeatStore,
};
use hiresync_domain::scheduler::MeetingType;
use hiresync_domain::{access::DeauthorizationReason, connection::ConnectionKind};
use hiresync_messages::{
    InmailMeeting, InmailMessage, NotConfirmedReason, Notice, VideoFailure,
    CANDIDATE_NOT_CONFIRMED, CANDIDATE_VIDEO_PROBLEM,
};
use hiresync_scheduling::confirm::{event_key, Attempt, Outcome, Skip};
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::calendar_events::VideoScript;
use world::{World, MONDAY_9, NOW};

const FIRST: Attempt = Attempt { number: 1, of: 5 };
const LAST: Attempt = Attempt { number: 5, of: 5 };

fn phone() -> MeetingType {
    MeetingType::Phone {
        number: "+1 212 555 0100".into(),
    }
}

fn details(m: &InmailMessage) -> &hiresync_messages::InterviewDetails {
    match m {
        InmailMessage::InterviewConfirmed(d) | InmailMessage::InterviewRescheduled(d) => d,
        other => panic!("not a confirmation: {other:?}"),
    }
}

fn video_notices(w: &World) -> Vec<(VideoFailure, String, u32)> {
    w.queues
        .sent_notices()
        .into_iter()
        .filter_map(|n| match n {
            Notice::VideoLinkFailed {
                reason,
                candidate,
                revision,
                ..
            } => Some((reason, candidate, revision)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_pending_meet_is_read_again_until_it_is_ready() {
    let w = World::new(Provider::GoogleWorkspace).await;
    w.calendar.video(VideoScript::PendingFor(2));
    let booking = w.book(MeetingType::Video, MONDAY_9).await;

    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert!(matches!(
        outcome,
        Outcome::Confirmed {
            video_failure: None,
            ..
        }
    ));
    assert_eq!(w.waits.count(), 2, "read twice, waiting before each read");
    assert_eq!(w.calendar.count("get"), 2);
    let event = &w.calendar.events()[0];
    assert_eq!(event.request.video, ProviderVideo::Meet);
    let d = details(&w.inmail.sent()[0]).clone();
    assert_eq!(
        d.meeting,
        InmailMeeting::Video {
            join_url: format!("https://video.example/{}", event.id)
        }
    );
}

#[tokio::test]
async fn a_meet_still_pending_comes_back_later_and_counts_as_temporary_on_the_last_attempt() {
    let w = World::new(Provider::GoogleWorkspace).await;
    w.calendar.video(VideoScript::PendingForever);
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();

    let first = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    assert!(matches!(first, Outcome::RetryLater { after } if after.as_secs() == 30));
    assert_eq!(w.waits.count(), 3);
    assert!(w.inmail.sent().is_empty());
    assert!(
        w.stored(&booking.id).value.event.is_none(),
        "nothing recorded"
    );

    let last = confirmer
        .confirm(&w.job(&booking), LAST, ts(NOW))
        .await
        .unwrap();
    assert!(matches!(
        last,
        Outcome::Confirmed {
            video_failure: Some(VideoFailure::Temporary),
            ..
        }
    ));
    assert_eq!(w.calendar.events().len(), 1, "the same event both times");
    assert_eq!(
        details(&w.inmail.sent()[0]).meeting,
        InmailMeeting::VideoFailed {
            text: CANDIDATE_VIDEO_PROBLEM.into()
        }
    );
    assert_eq!(
        video_notices(&w),
        vec![(VideoFailure::Temporary, "Dana Lee".to_owned(), 0)]
    );
}

#[tokio::test]
async fn a_refused_teams_meeting_keeps_the_event_tells_the_candidate_to_ask_and_the_recruiter_why()
{
    let w = World::new(Provider::Microsoft365).await;
    w.calendar.video(VideoScript::Refused);
    let booking = w.book(MeetingType::Video, MONDAY_9).await;

    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert!(matches!(
        outcome,
        Outcome::Confirmed {
            video_failure: Some(VideoFailure::AccountNotEligible),
            ..
        }
    ));
    assert_eq!(w.calendar.events().len(), 1, "the interview still happens");
    let stored = w.stored(&booking.id).value;
    assert_eq!(stored.state, BookingState::Confirmed);
    assert_eq!(stored.event.unwrap().join_url, None);
    let d = details(&w.inmail.sent()[0]).clone();
    assert_eq!(
        d.meeting,
        InmailMeeting::VideoFailed {
            text: CANDIDATE_VIDEO_PROBLEM.into()
        }
    );
    let notices = w.queues.sent_notices();
    assert_eq!(notices.len(), 1);
    let Notice::VideoLinkFailed {
        booking: id,
        candidate,
        reason,
        message,
        ..
    } = &notices[0]
    else {
        panic!("not a video notice: {:?}", notices[0]);
    };
    assert_eq!(id, &booking.id);
    assert_eq!(candidate, "Dana Lee");
    assert_eq!(*reason, VideoFailure::AccountNotEligible);
    assert_eq!(
        message,
        &VideoFailure::AccountNotEligible.message("Dana Lee")
    );
}

#[tokio::test]
async fn each_video_error_is_reported_as_its_row_and_the_event_is_made_without_video() {
    for (kind, row) in [
        (
            CalendarErrorKind::VideoNotEligible,
            VideoFailure::AccountNotEligible,
        ),
        (
            CalendarErrorKind::VideoUserUnknown,
            VideoFailure::UserNotAuthorized,
        ),
    ] {
        let w = World::new(Provider::GoogleWorkspace).await;
        w.calendar.video(VideoScript::RefusedOutright(kind));
        let booking = w.book(MeetingType::Video, MONDAY_9).await;

        let outcome = w
            .confirmer()
            .confirm(&w.job(&booking), FIRST, ts(NOW))
            .await
            .unwrap();

        assert!(
            matches!(outcome, Outcome::Confirmed { video_failure: Some(r), .. } if r == row),
            "{kind:?}: {outcome:?}"
        );
        let events = w.calendar.events();
        assert_eq!(events.len(), 1, "{kind:?}");
        assert_eq!(events[0].request.video, ProviderVideo::None);
        assert_eq!(events[0].key, event_key(&booking.id), "the same key");
        assert_eq!(video_notices(&w), vec![(row, "Dana Lee".to_owned(), 0)]);
    }
}

#[tokio::test]
async fn a_temporary_failure_is_retried_and_reported_only_on_the_last_attempt() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();

    for number in 1..5 {
        w.calendar.fail_next("create", CalendarErrorKind::Temporary);
        let attempt = Attempt { number, of: 5 };
        assert!(confirmer
            .confirm(&w.job(&booking), attempt, ts(NOW))
            .await
            .is_err());
    }
    assert!(w.calendar.events().is_empty());
    assert!(w.queues.sent_notices().is_empty(), "nothing reported yet");
    assert!(w.inmail.sent().is_empty());

    w.calendar.fail_next("create", CalendarErrorKind::Temporary);
    let last = confirmer
        .confirm(&w.job(&booking), LAST, ts(NOW))
        .await
        .unwrap();

    assert!(matches!(
        last,
        Outcome::Confirmed {
            video_failure: Some(VideoFailure::Temporary),
            ..
        }
    ));
    assert_eq!(w.calendar.events()[0].request.video, ProviderVideo::None);
    assert_eq!(
        video_notices(&w),
        vec![(VideoFailure::Temporary, "Dana Lee".to_owned(), 0)]
    );
}

#[tokio::test]
async fn a_temporary_failure_of_a_phone_interview_is_only_retried() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(phone(), MONDAY_9).await;
    w.calendar.fail_next("create", CalendarErrorKind::Temporary);

    let last = w.confirmer().confirm(&w.job(&booking), LAST, ts(NOW)).await;

    assert!(last.is_err(), "left for the dead-letter queue");
    assert!(w.queues.sent_notices().is_empty());
}

#[tokio::test]
async fn video_turned_off_since_the_booking_gives_an_event_without_video_and_tells_the_recruiter() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let read = w.tenancy.contracts.get(&w.contract).await.unwrap().unwrap();
    let mut off = read.value.clone();
    off.settings.video_meetings = false;
    w.tenancy.contracts.update(&read, &off).await.unwrap();

    w.confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(w.calendar.events()[0].request.video, ProviderVideo::None);
    assert_eq!(
        video_notices(&w),
        vec![(VideoFailure::AccountNotEligible, "Dana Lee".to_owned(), 0)]
    );
}

#[tokio::test]
async fn a_seat_that_changed_hands_gets_no_event_the_candidate_is_told_and_the_booking_cancelled() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let read = w
        .tenancy
        .seats
        .get(&w.contract, &w.seat)
        .await
        .unwrap()
        .unwrap();
    let mut seat = read.value.clone();
    seat.transfer(hiresync_domain::ids::UserId::parse("sam").unwrap())
        .unwrap();
    w.tenancy.seats.update(&read, &seat).await.unwrap();
    let confirmer = w.confirmer();

    let outcome = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        Outcome::NotConfirmed(NotConfirmedReason::SeatChanged)
    );
    assert!(w.calendar.calls().is_empty());
    let sent = w.inmail.sent();
    assert_eq!(sent.len(), 1);
    let InmailMessage::InterviewNotConfirmed(n) = &sent[0] else {
        panic!("not a refusal: {:?}", sent[0]);
    };
    assert_eq!(n.reason, NotConfirmedReason::SeatChanged);
    assert_eq!(n.text, CANDIDATE_NOT_CONFIRMED);
    assert_eq!(n.conversation, booking.conversation);
    assert_eq!(w.stored(&booking.id).value.state, BookingState::Cancelled);
    // The cancelled interview holds no time any more.
    assert!(w.scheduling.held_by(&booking.id).is_empty());
    assert!(w.queues.sent_notices().is_empty());
    // A repeated job finds it cancelled.
    let again = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    assert_eq!(again, Outcome::Skipped(Skip::Cancelled));
}

#[tokio::test]
async fn a_calendar_no_longer_authorized_gets_no_event_and_the_booking_waits_for_a_reconnection() {
    let w = World::new(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let read = w
        .tenancy
        .connections
        .get(&w.contract, &w.seat, ConnectionKind::Calendar)
        .await
        .unwrap()
        .unwrap();
    let mut gone = read.value.clone();
    gone.deauthorize(DeauthorizationReason::SeatRequested, ts(NOW));
    w.tenancy.connections.update(&read, &gone).await.unwrap();

    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        Outcome::NotConfirmed(NotConfirmedReason::CalendarUnavailable)
    );
    assert!(w.calendar.calls().is_empty());
    assert!(matches!(
        &w.inmail.sent()[..],
        [InmailMessage::InterviewNotConfirmed(n)] if n.reason == NotConfirmedReason::CalendarUnavailable
    ));
    assert_eq!(w.stored(&booking.id).value.state, BookingState::Requested);
}

#[tokio::test]
async fn a_refused_grant_is_a_calendar_no_longer_usable() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(phone(), MONDAY_9).await;
    w.tokens.refuse(ConnectError::UserDeclined {
        provider: Provider::Microsoft365,
    });

    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        Outcome::NotConfirmed(NotConfirmedReason::CalendarUnavailable)
    );
    assert!(w.calendar.calls().is_empty());
}

#[tokio::test]
async fn a_booking_that_is_gone_or_a_suspended_contract_does_nothing() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(phone(), MONDAY_9).await;
    let mut job = w.job(&booking);
    job.booking = hiresync_domain::ids::BookingId::parse("b-unknown").unwrap();
    let confirmer = w.confirmer();
    assert_eq!(
        confirmer.confirm(&job, FIRST, ts(NOW)).await.unwrap(),
        Outcome::Skipped(Skip::Gone)
    );

    let read = w.tenancy.contracts.get(&w.contract).await.unwrap().unwrap();
    let mut suspended = read.value.clone();
    suspended.suspend(ts(NOW));
    w.tenancy.contracts.update(&read, &suspended).await.unwrap();
    assert_eq!(
        confirmer
            .confirm(&w.job(&booking), FIRST, ts(NOW))
            .await
            .unwrap(),
        Outcome::Skipped(Skip::ContractInactive)
    );
    assert!(w.calendar.calls().is_empty());
    assert!(w.inmail.sent().is_empty());
}
