//! The candidate's pages: the booking page (times in the candidate's zone, named and
//! changeable, a week at a time), booking and moving the interview, the confirmation with
//! its `.ics`, and the page that says the link can no longer be used.
//!
//! Plain HTML forms: nothing needs JavaScript. The token in the path is the credential,
//! so every answer is `no-store` and sends no referrer, and the pages may not be framed.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use hiresync_domain::availability::Slot;
use hiresync_domain::scheduler::MeetingType;
use hiresync_domain::Timestamp;
use hiresync_scheduling::{ics, LinkProblem, Opened, ScheduleError};
use jiff::tz::TimeZone;
use serde::Deserialize;
use tracing::warn;

use crate::{zones, App};

/// Days shown per page.
const DAYS_PER_PAGE: usize = 7;

#[derive(Deserialize)]
pub struct PageQuery {
    tz: Option<String>,
    week: Option<usize>,
}

#[derive(Deserialize)]
pub struct BookForm {
    start: Option<String>,
    tz: Option<String>,
}

struct ZoneChoice {
    name: String,
    selected: bool,
}

struct SlotView {
    value: String,
    id: String,
    label: String,
}

struct DayView {
    label: String,
    slots: Vec<SlotView>,
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    token: String,
    invitee_name: Option<String>,
    recruiter: String,
    length_minutes: u32,
    meeting: &'static str,
    notice: Option<String>,
    current: Option<String>,
    zone: String,
    zone_query: String,
    zones: Vec<ZoneChoice>,
    days: Vec<DayView>,
    /// The page of days shown, kept when the zone changes.
    week: usize,
    prev_week: Option<usize>,
    next_week: Option<usize>,
}

#[derive(Template)]
#[template(path = "booked.html")]
struct BookedPage {
    token: String,
    label: String,
    length_minutes: u32,
    meeting: &'static str,
    how: String,
    recruiter: String,
    zone: String,
    zone_query: String,
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    heading: &'static str,
    message: &'static str,
    code: &'static str,
}

/// An HTML answer with the headers every page carries.
fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            warn!(error = %e, "a page could not be rendered");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "something failed on our side",
            )
                .into_response();
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// What a candidate sees when the scheduler cannot help: never a cause, always what to do.
fn problem(e: ScheduleError) -> Response {
    let (status, heading, message, code) = match e {
        ScheduleError::Link(LinkProblem::Unknown) => (
            StatusCode::NOT_FOUND,
            "This link cannot be used",
            "We could not find this scheduling link. Please reply to the recruiter's InMail to find a time together.",
            "unknown",
        ),
        ScheduleError::Link(p) => (
            StatusCode::GONE,
            "This link can no longer be used",
            "This scheduling link has expired or is no longer active. Please reply to the recruiter's InMail to find a time together.",
            p.code(),
        ),
        ScheduleError::Video => (
            StatusCode::CONFLICT,
            "Something went wrong",
            "Something went wrong with the video conference. You can contact the recruiter for support.",
            "video",
        ),
        ScheduleError::CalendarUnknown => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Times cannot be shown right now",
            "We cannot read the recruiter's calendar at the moment. Please try again in a few minutes, or reply to the recruiter's InMail.",
            "calendar_unreadable",
        ),
        ScheduleError::NotSetUp | ScheduleError::Settings(_) | ScheduleError::CalendarOff => (
            StatusCode::GONE,
            "This link can no longer be used",
            "The recruiter's scheduling is not available right now. Please reply to the recruiter's InMail to find a time together.",
            "not_available",
        ),
        other => {
            warn!(error = %other, "a candidate's page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a few minutes.",
                "internal",
            )
        }
    };
    html(
        status,
        ProblemPage {
            heading,
            message,
            code,
        }
        .render(),
    )
}

/// The zone to show: the one asked for if it is a real IANA name, else the seat's. The
/// second value says the request named a zone we did not recognise.
fn zone_of(asked: Option<&str>, opened: &Opened) -> (TimeZone, bool) {
    let seat = opened.plan.schedule.zone().clone();
    match asked.map(str::trim).filter(|z| !z.is_empty()) {
        None => (seat, false),
        Some(name) if name.len() <= 64 => match TimeZone::get(name) {
            Ok(z) => (z, false),
            Err(_) => (seat, true),
        },
        Some(_) => (seat, true),
    }
}

fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_owned()
}

/// A zone name in a query string (`+` in `Etc/GMT+5` must not read as a space).
fn query_value(zone: &str) -> String {
    zone.replace('+', "%2B")
}

fn meeting_words(meeting: &MeetingType) -> &'static str {
    match meeting {
        MeetingType::Phone { .. } => "phone call",
        MeetingType::Video => "video meeting",
    }
}

/// `Tuesday 3 March 2026, 10:00–10:30 (Europe/Paris, UTC+01:00)`.
fn label(slot: &Slot, zone: &TimeZone) -> String {
    let start = slot.start.to_zoned(zone.clone());
    let end = slot.end.to_zoned(zone.clone());
    format!(
        "{}, {}–{} ({}, UTC{})",
        start.strftime("%A %-d %B %Y"),
        start.strftime("%H:%M"),
        end.strftime("%H:%M"),
        zone_name(zone),
        start.strftime("%:z"),
    )
}

fn days(slots: &[Slot], zone: &TimeZone) -> Vec<DayView> {
    let mut days: Vec<(jiff::civil::Date, DayView)> = Vec::new();
    for slot in slots {
        let start = slot.start.to_zoned(zone.clone());
        let end = slot.end.to_zoned(zone.clone());
        let view = SlotView {
            value: slot.start.to_string(),
            id: format!("slot-{}", slot.start.as_second()),
            label: format!("{}–{}", start.strftime("%H:%M"), end.strftime("%H:%M")),
        };
        match days.last_mut() {
            Some((date, day)) if *date == start.date() => day.slots.push(view),
            _ => days.push((
                start.date(),
                DayView {
                    label: start.strftime("%A %-d %B %Y").to_string(),
                    slots: vec![view],
                },
            )),
        }
    }
    days.into_iter().map(|(_, d)| d).collect()
}

/// How the booking page is asked for: the zone named (if any), the week, a notice to show
/// and the status to answer with.
struct View<'a> {
    zone: Option<&'a str>,
    week: usize,
    notice: Option<String>,
    status: StatusCode,
}

async fn render_booking(
    app: &App,
    token: &str,
    opened: &Opened,
    view: View<'_>,
    now: Timestamp,
) -> Response {
    let View {
        zone: asked_zone,
        week,
        notice,
        status,
    } = view;
    let slots = match app.scheduler.offered(opened, now).await {
        Ok(slots) => slots,
        Err(e) => return problem(e),
    };
    let (zone, unrecognised) = zone_of(asked_zone, opened);
    let notice = notice.or_else(|| {
        unrecognised.then(|| {
            format!(
                "We did not recognise that time zone, so times are shown in {}.",
                zone_name(&zone)
            )
        })
    });
    let all = days(&slots, &zone);
    let pages = all.len().div_ceil(DAYS_PER_PAGE).max(1);
    let week = week.min(pages - 1);
    let shown: Vec<DayView> = all
        .into_iter()
        .skip(week * DAYS_PER_PAGE)
        .take(DAYS_PER_PAGE)
        .collect();
    let name = zone_name(&zone);
    let seat_zone = opened.plan.schedule.settings().time_zone.clone();
    let page = BookingPage {
        token: token.to_owned(),
        invitee_name: opened.link.invitee.name.clone(),
        recruiter: opened.link.calendar.as_str().to_owned(),
        length_minutes: opened.plan.schedule.settings().length_minutes,
        meeting: meeting_words(&opened.plan.meeting),
        notice,
        current: opened
            .booking
            .as_ref()
            .map(|b| label(&b.value.slot(), &zone)),
        zone_query: query_value(&name),
        zones: zones::choices(&name, &seat_zone)
            .into_iter()
            .map(|z| ZoneChoice {
                selected: z == name,
                name: z,
            })
            .collect(),
        zone: name,
        days: shown,
        week,
        prev_week: week.checked_sub(1),
        next_week: (week + 1 < pages).then_some(week + 1),
    };
    html(status, page.render())
}

pub async fn booking_page(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let now = (app.clock)();
    match app.scheduler.open(&token, now).await {
        Ok(opened) => {
            let view = View {
                zone: q.tz.as_deref(),
                week: q.week.unwrap_or(0),
                notice: None,
                status: StatusCode::OK,
            };
            render_booking(&app, &token, &opened, view, now).await
        }
        Err(e) => problem(e),
    }
}

pub async fn book(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    form: Result<Form<BookForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let now = (app.clock)();
    let opened = match app.scheduler.open(&token, now).await {
        Ok(opened) => opened,
        Err(e) => return problem(e),
    };
    let form = form.map(|Form(f)| f).ok();
    let asked_zone = form.as_ref().and_then(|f| f.tz.clone());
    let (zone, _) = zone_of(asked_zone.as_deref(), &opened);
    let start = form
        .as_ref()
        .and_then(|f| f.start.as_deref())
        .and_then(|s| s.parse::<Timestamp>().ok());
    let Some(start) = start else {
        let view = View {
            zone: asked_zone.as_deref(),
            week: 0,
            notice: Some("Please choose one of the times below.".into()),
            status: StatusCode::BAD_REQUEST,
        };
        return render_booking(&app, &token, &opened, view, now).await;
    };
    match app
        .scheduler
        .book(&token, start, &zone_name(&zone), now)
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/s/{token}/booked?tz={}",
            query_value(&zone_name(&zone))
        ))
        .into_response(),
        Err(ScheduleError::TimeUnavailable) => {
            let view = View {
                zone: asked_zone.as_deref(),
                week: 0,
                notice: Some("That time is no longer available. Please choose another one.".into()),
                status: StatusCode::CONFLICT,
            };
            render_booking(&app, &token, &opened, view, now).await
        }
        Err(e) => problem(e),
    }
}

pub async fn booked(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let now = (app.clock)();
    let opened = match app.scheduler.open(&token, now).await {
        Ok(opened) => opened,
        Err(e) => return problem(e),
    };
    let Some(booking) = opened.booking.as_ref() else {
        return Redirect::to(&format!("/s/{token}")).into_response();
    };
    let (zone, _) = zone_of(q.tz.as_deref(), &opened);
    let how = match &booking.value.meeting {
        MeetingType::Phone { number } => format!("The call is on {number}."),
        MeetingType::Video => {
            "The video meeting link will be sent in your conversation with the recruiter.".into()
        }
    };
    let name = zone_name(&zone);
    html(
        StatusCode::OK,
        BookedPage {
            token: token.clone(),
            label: label(&booking.value.slot(), &zone),
            length_minutes: opened.plan.schedule.settings().length_minutes,
            meeting: meeting_words(&booking.value.meeting),
            how,
            recruiter: opened.link.calendar.as_str().to_owned(),
            zone_query: query_value(&name),
            zone: name,
        }
        .render(),
    )
}

pub async fn calendar_file(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    let now = (app.clock)();
    let opened = match app.scheduler.open(&token, now).await {
        Ok(opened) => opened,
        Err(e) => return problem(e),
    };
    let Some(booking) = opened.booking.as_ref() else {
        return Redirect::to(&format!("/s/{token}")).into_response();
    };
    let body = ics::calendar_file(&booking.value, opened.link.calendar.as_str(), now);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"interview.ics\"",
        ),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
