//! A seat's scheduler settings checked against its contract (meeting type, link validity,
//! the 5-minute grid), the buckets a booking holds, and when a link may be used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::availability::{SettingsError, Slot};
use hiresync_domain::booking::{Booking, BookingError, BookingState};
use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{ContractSettings, EmailAccess, Provider};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::scheduler::link::{Invitee, LinkState, SchedulingLink};
use hiresync_domain::scheduler::{
    bucket_start, buckets, MeetingType, SchedulerError, SeatScheduler, VideoKind,
};
use hiresync_domain::seat::Seat;
use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::json;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn contract(video: bool) -> ContractSettings {
    ContractSettings {
        provider: Some(Provider::GoogleWorkspace),
        email_access: EmailAccess::ViewOnly,
        calendar_enabled: true,
        video_meetings: video,
    }
}

fn scheduler(extra: serde_json::Value) -> SeatScheduler {
    let mut base = json!({
        "length_minutes": 30,
        "time_zone": "America/New_York",
        "windows": [{"weekday": "tuesday", "start": "09:00", "end": "12:00"}],
        "max_days_ahead": 14,
        "meeting": {"type": "video"},
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

#[test]
fn settings_from_the_api_shape_validate_with_defaults() {
    let plan = scheduler(json!({})).validate(&contract(true)).unwrap();
    assert_eq!(plan.meeting, MeetingType::Video);
    assert_eq!(
        plan.link_validity,
        jiff::SignedDuration::from_hours(14 * 24)
    );
    let phone = scheduler(
        json!({"meeting": {"type": "phone", "number": "+1 (212) 555-0100"}, "link_validity_days": 3}),
    );
    let plan = phone.validate(&contract(false)).unwrap();
    assert_eq!(plan.link_validity, jiff::SignedDuration::from_hours(72));
}

#[test]
fn each_bad_setting_is_named() {
    let cases: Vec<(serde_json::Value, bool, SchedulerError)> = vec![
        (json!({}), false, SchedulerError::VideoNotActivated),
        (
            json!({"meeting": {"type": "phone", "number": "call me"}}),
            true,
            SchedulerError::PhoneNumber("call me".into()),
        ),
        (
            json!({"meeting": {"type": "phone", "number": "+12"}}),
            true,
            SchedulerError::PhoneNumber("+12".into()),
        ),
        (
            json!({"meeting": {"type": "phone", "number": "+1234567890123456"}}),
            true,
            SchedulerError::PhoneNumber("+1234567890123456".into()),
        ),
        (
            json!({"link_validity_days": 0}),
            true,
            SchedulerError::LinkValidity,
        ),
        (
            json!({"link_validity_days": 91}),
            true,
            SchedulerError::LinkValidity,
        ),
        (
            json!({"length_minutes": 32}),
            true,
            SchedulerError::Availability(SettingsError::OffGrid),
        ),
        (
            json!({"windows": [{"weekday": "tuesday", "start": "09:02", "end": "12:00"}]}),
            true,
            SchedulerError::Availability(SettingsError::OffGrid),
        ),
        (
            json!({"buffer_after_minutes": 7}),
            true,
            SchedulerError::Availability(SettingsError::OffGrid),
        ),
        (
            json!({"length_minutes": 245, "windows": [{"weekday": "tuesday", "start": "08:00", "end": "18:00"}]}),
            true,
            SchedulerError::Availability(SettingsError::Length),
        ),
        (
            json!({"time_zone": "Mars/Olympus"}),
            true,
            SchedulerError::Availability(SettingsError::UnknownZone("Mars/Olympus".into())),
        ),
    ];
    for (extra, video, expected) in cases {
        assert_eq!(
            scheduler(extra.clone())
                .validate(&contract(video))
                .unwrap_err(),
            expected,
            "{extra}"
        );
    }
    // A contract with no provider yet has no video either.
    let mut none = contract(true);
    none.provider = None;
    assert_eq!(
        scheduler(json!({})).validate(&none).unwrap_err(),
        SchedulerError::VideoNotActivated
    );
    assert_eq!(VideoKind::of(Provider::Microsoft365), VideoKind::Teams);
}

#[test]
fn a_meeting_holds_the_buckets_from_its_start_to_its_end() {
    let slot = Slot {
        start: ts("2026-03-03T10:00:00Z"),
        end: ts("2026-03-03T10:30:00Z"),
    };
    let held = buckets(&slot);
    assert_eq!(held.len(), 6);
    assert_eq!(bucket_start(held[0]), slot.start);
    assert_eq!(bucket_start(held[5]), ts("2026-03-03T10:25:00Z"));
}

proptest! {
    /// On the 5-minute grid, two meetings share a bucket exactly when they overlap.
    #[test]
    fn buckets_are_shared_exactly_when_meetings_overlap(
        a in 0i64..500, la in 1i64..49, b in 0i64..500, lb in 1i64..49
    ) {
        let base = ts("2026-03-29T00:00:00Z");
        let mk = |start: i64, len: i64| Slot {
            start: base.checked_add(jiff::SignedDuration::from_mins(start * 5)).unwrap(),
            end: base.checked_add(jiff::SignedDuration::from_mins((start + len) * 5)).unwrap(),
        };
        let (x, y) = (mk(a, la), mk(b, lb));
        let overlap = x.start < y.end && y.start < x.end;
        let bx: BTreeSet<i64> = buckets(&x).into_iter().collect();
        let shared = buckets(&y).iter().any(|k| bx.contains(k));
        prop_assert_eq!(shared, overlap);
    }
}

fn link() -> SchedulingLink {
    SchedulingLink {
        contract_id: ContractId::parse("acme").unwrap(),
        seat_id: SeatId::parse("s1").unwrap(),
        token_hash: "ab".repeat(32),
        invitee: Invitee {
            email: EmailAddress::parse("noor@mail.example").unwrap(),
            name: None,
            profile: None,
        },
        conversation: "conv-1".into(),
        holder: UserId::parse("alice").unwrap(),
        calendar: EmailAddress::parse("alice@acme.com").unwrap(),
        created_at: ts("2026-03-02T09:00:00Z"),
        expires_at: ts("2026-03-16T09:00:00Z"),
    }
}

fn calendar(address: &str) -> Connection {
    Connection::first(
        ContractId::parse("acme").unwrap(),
        SeatId::parse("s1").unwrap(),
        ConnectionKind::Calendar,
        Grant {
            provider: Provider::GoogleWorkspace,
            address: EmailAddress::parse(address).unwrap(),
            scopes: BTreeSet::new(),
            organization: None,
        },
        ts("2026-03-01T09:00:00Z"),
    )
}

#[test]
fn a_link_is_usable_only_while_valid_with_the_same_holder_and_calendar() {
    let l = link();
    let seat = Seat {
        id: l.seat_id.clone(),
        contract_id: l.contract_id.clone(),
        holder: Some(UserId::parse("alice").unwrap()),
        changed_at: None,
    };
    let now = ts("2026-03-05T09:00:00Z");
    let cal = calendar("alice@acme.com");
    assert_eq!(l.state(now, &seat, Some(&cal)), LinkState::Usable);
    assert_eq!(l.state(l.expires_at, &seat, Some(&cal)), LinkState::Expired);
    let transferred = Seat {
        holder: Some(UserId::parse("bob").unwrap()),
        ..seat.clone()
    };
    assert_eq!(
        l.state(now, &transferred, Some(&cal)),
        LinkState::SeatChanged
    );
    let parked = Seat {
        holder: None,
        ..seat.clone()
    };
    assert_eq!(l.state(now, &parked, Some(&cal)), LinkState::SeatChanged);
    assert_eq!(l.state(now, &seat, None), LinkState::CalendarGone);
    assert_eq!(
        l.state(now, &seat, Some(&calendar("alice.other@acme.com"))),
        LinkState::CalendarGone
    );
    let mut off = cal.clone();
    off.deauthorize(DeauthorizationReason::SeatRequested, now);
    assert_eq!(l.state(now, &seat, Some(&off)), LinkState::CalendarGone);
}

#[test]
fn a_booking_moves_with_a_new_revision_and_never_onto_its_own_time() {
    let slot = Slot {
        start: ts("2026-03-03T15:00:00Z"),
        end: ts("2026-03-03T15:30:00Z"),
    };
    let mut b = Booking::request(
        &link(),
        slot,
        MeetingType::Video,
        "Europe/Paris".into(),
        ts("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    assert_eq!(b.id.as_str(), format!("b-{}", "ab".repeat(16)));
    assert_eq!((b.state, b.revision), (BookingState::Requested, 0));
    assert_eq!(
        b.reschedule(slot, "UTC".into(), ts("2026-03-02T11:00:00Z")),
        Err(BookingError::SameTime)
    );
    let later = Slot {
        start: ts("2026-03-04T15:00:00Z"),
        end: ts("2026-03-04T15:30:00Z"),
    };
    b.state = BookingState::Confirmed;
    b.reschedule(later, "Asia/Tokyo".into(), ts("2026-03-02T11:00:00Z"))
        .unwrap();
    assert_eq!((b.state, b.revision), (BookingState::Requested, 1));
    assert_eq!(b.invitee_zone, "Asia/Tokyo");
}
