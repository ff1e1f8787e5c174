//! The booking confirmation on fakes: one event per booking whatever is retried, the
//! candidate's message, and the recruiter's notice when the video meeting fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod world;

use hiresync_domain::booking::BookingState;
use hiresync_domain::contract::Provider;
use hiresync_domain::ports::ProviderVideo;
use hiresync_domain::scheduler::MeetingType;
use hiresync_messages::{InmailMeeting, InmailMessage};
use hiresync_scheduling::confirm::{event_key, Attempt, Outcome, Skip};
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::calendar_events::VideoScript;
use world::{World, MONDAY_9, NOW, TUESDAY_14};

const FIRST: Attempt = Attempt { number: 1, of: 5 };

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

#[tokio::test]
async fn a_first_confirmation_makes_one_event_with_the_bookings_key_and_posts_one_confirmation() {
    // GIVEN a video interview booked with a Microsoft 365 recruiter
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;

    // WHEN its job runs
    let outcome = w
        .confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    // THEN one event, keyed by the booking, with a Teams meeting and the candidate
    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.key, event_key(&booking.id));
    assert_eq!(event.request.subject, "Interview with Dana Lee");
    assert_eq!(event.request.attendee.as_str(), world::CANDIDATE);
    assert_eq!(event.request.video, ProviderVideo::Teams);
    assert_eq!(event.request.location, None);
    assert_eq!((event.start, event.end), (booking.start, booking.end));
    assert_eq!(event.owner.as_str(), world::CALENDAR);
    assert_eq!(
        outcome,
        Outcome::Confirmed {
            revision: 0,
            event_id: event.id.clone(),
            video_failure: None,
        }
    );
    // AND the booking records it and is confirmed
    let stored = w.stored(&booking.id).value;
    assert_eq!(stored.state, BookingState::Confirmed);
    let recorded = stored.event.unwrap();
    assert_eq!(recorded.event_id, event.id);
    assert_eq!(recorded.revision, 0);
    let join_url = format!("https://video.example/{}", event.id);
    assert_eq!(recorded.join_url.as_deref(), Some(join_url.as_str()));
    // AND the candidate gets one confirmation with the link, in their own zone
    let sent = w.inmail.sent();
    assert_eq!(sent.len(), 1);
    assert!(matches!(sent[0], InmailMessage::InterviewConfirmed(_)));
    let d = details(&sent[0]);
    assert_eq!(d.meeting, InmailMeeting::Video { join_url });
    assert_eq!(d.conversation, booking.conversation);
    assert_eq!(
        (d.start, d.end, d.revision),
        (booking.start, booking.end, 0)
    );
    assert_eq!(d.time_zone, "America/New_York");
    assert!(w.queues.sent_notices().is_empty());
}

#[tokio::test]
async fn a_repeated_job_does_nothing_more() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    let calls = w.calendar.calls().len();

    let again = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(again, Outcome::Skipped(Skip::AlreadyConfirmed));
    assert_eq!(
        w.calendar.calls().len(),
        calls,
        "the calendar was not called"
    );
    assert_eq!(w.inmail.sent().len(), 1);
    assert_eq!(w.calendar.events().len(), 1);
}

#[tokio::test]
async fn a_reschedule_moves_the_same_event_and_posts_a_rescheduled_message() {
    let w = World::new(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    let outcome = confirmer
        .confirm(&w.job(&moved), FIRST, ts(NOW))
        .await
        .unwrap();

    let events = w.calendar.events();
    assert_eq!(events.len(), 1, "never a second event");
    assert_eq!(events[0].start, ts(TUESDAY_14));
    assert_eq!(w.calendar.count("create"), 1);
    assert_eq!(w.calendar.count("reschedule"), 1);
    assert!(matches!(outcome, Outcome::Confirmed { revision: 1, .. }));
    let sent = w.inmail.sent();
    assert_eq!(sent.len(), 2);
    assert!(matches!(sent[1], InmailMessage::InterviewRescheduled(_)));
    let d = details(&sent[1]);
    assert_eq!((d.start, d.revision), (ts(TUESDAY_14), 1));
    assert_eq!(d.time_zone, "Europe/Paris");
    assert_ne!(sent[0].id(), sent[1].id());
    let stored = w.stored(&booking.id).value;
    assert_eq!(stored.state, BookingState::Confirmed);
    assert_eq!(stored.event.unwrap().revision, 1);
}

#[tokio::test]
async fn a_job_of_an_older_revision_does_nothing_and_the_newer_one_does_the_work() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    let confirmer = w.confirmer();

    let old = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    assert_eq!(old, Outcome::Skipped(Skip::Superseded));
    assert!(w.calendar.calls().is_empty());
    assert!(w.inmail.sent().is_empty());

    confirmer
        .confirm(&w.job(&moved), FIRST, ts(NOW))
        .await
        .unwrap();
    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].start, ts(TUESDAY_14));
}

#[tokio::test]
async fn a_crash_between_making_the_event_and_recording_it_finds_the_same_event_on_retry() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    w.scheduling.fail_next("update_booking");

    let crashed = confirmer.confirm(&w.job(&booking), FIRST, ts(NOW)).await;
    assert!(crashed.is_err());
    assert_eq!(w.calendar.events().len(), 1);
    assert!(w.stored(&booking.id).value.event.is_none());
    assert!(w.inmail.sent().is_empty());

    let retried = confirmer
        .confirm(&w.job(&booking), Attempt { number: 2, of: 5 }, ts(NOW))
        .await
        .unwrap();

    let events = w.calendar.events();
    assert_eq!(events.len(), 1, "the provider deduplicated by key");
    let keys: Vec<_> = w.calendar.calls();
    let key = event_key(&booking.id);
    assert_eq!(keys, vec![format!("create:{key}"), format!("create:{key}")]);
    assert!(
        matches!(retried, Outcome::Confirmed { ref event_id, .. } if *event_id == events[0].id)
    );
    assert_eq!(w.scheduling.updates(), 2, "recorded once, then confirmed");
    assert_eq!(w.inmail.sent().len(), 1);
}

#[tokio::test]
async fn a_lost_answer_from_the_provider_finds_the_event_it_made_on_retry() {
    let w = World::new(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    w.calendar.lose_next_answer();

    assert!(confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .is_err());
    assert_eq!(
        w.calendar.events().len(),
        1,
        "made, though the answer was lost"
    );
    confirmer
        .confirm(&w.job(&booking), Attempt { number: 2, of: 5 }, ts(NOW))
        .await
        .unwrap();

    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        w.stored(&booking.id).value.event.unwrap().event_id,
        events[0].id
    );
    assert_eq!(w.inmail.sent().len(), 1);
}

#[tokio::test]
async fn a_crash_after_recording_sends_the_inmail_without_calling_the_calendar_again() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    w.inmail.fail_next(1);

    assert!(confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .is_err());
    let calls = w.calendar.calls().len();
    let retried = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    assert!(matches!(retried, Outcome::Confirmed { .. }));
    assert_eq!(w.calendar.calls().len(), calls);
    assert_eq!(w.inmail.sent().len(), 1);
    assert_eq!(w.stored(&booking.id).value.state, BookingState::Confirmed);
}

#[tokio::test]
async fn a_crash_before_marking_it_confirmed_sends_the_identical_inmail_which_the_product_drops() {
    let w = World::new(Provider::Microsoft365).await;
    w.calendar.video(VideoScript::Refused);
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    // As if the last write had not happened.
    let mut unmarked = w.stored(&booking.id).value;
    unmarked.state = BookingState::Requested;
    w.scheduling.overwrite(&unmarked);

    confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    let sent = w.inmail.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same message, id included");
    assert_eq!(w.inmail.posted().len(), 1);
    assert_eq!(w.calendar.events().len(), 1);
    assert_eq!(
        w.queues.sent_notices().len(),
        1,
        "the recruiter was told once"
    );
}

#[tokio::test]
async fn a_reschedule_between_making_and_recording_moves_the_event_the_key_finds() {
    let w = World::new(Provider::GoogleWorkspace).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    w.scheduling.fail_next("update_booking");
    assert!(confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .is_err());

    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    let old = confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    let new = confirmer
        .confirm(&w.job(&moved), FIRST, ts(NOW))
        .await
        .unwrap();

    assert_eq!(old, Outcome::Skipped(Skip::Superseded));
    assert!(matches!(new, Outcome::Confirmed { revision: 1, .. }));
    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].start, ts(TUESDAY_14));
}

#[tokio::test]
async fn an_event_the_recruiter_deleted_is_made_again_when_the_candidate_reschedules() {
    let w = World::new(Provider::Microsoft365).await;
    let booking = w.book(MeetingType::Video, MONDAY_9).await;
    let confirmer = w.confirmer();
    confirmer
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();
    w.calendar.delete(&w.calendar.events()[0].id);

    let moved = w.reschedule(&booking.id, TUESDAY_14).await;
    let outcome = confirmer
        .confirm(&w.job(&moved), FIRST, ts(NOW))
        .await
        .unwrap();

    assert!(matches!(outcome, Outcome::Confirmed { revision: 1, .. }));
    let events = w.calendar.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].start, ts(TUESDAY_14));
    assert_ne!(events[0].key, event_key(&booking.id));
}

#[tokio::test]
async fn a_phone_interview_has_the_number_as_its_location_and_in_the_message() {
    let w = World::new(Provider::GoogleWorkspace).await;
    let booking = w.book(phone(), MONDAY_9).await;

    w.confirmer()
        .confirm(&w.job(&booking), FIRST, ts(NOW))
        .await
        .unwrap();

    let event = &w.calendar.events()[0];
    assert_eq!(event.request.video, ProviderVideo::None);
    assert_eq!(event.request.location.as_deref(), Some("+1 212 555 0100"));
    assert_eq!(
        details(&w.inmail.sent()[0]).meeting,
        InmailMeeting::Phone {
            number: "+1 212 555 0100".into()
        }
    );
}
