//! The times a seat offers: its schedule less its calendar's busy time (read through a
//! short-lived cache for page views, fresh for bookings) and its other bookings.

use hiresync_domain::availability::{Busy, Calendar, Slot, Unavailable};
use hiresync_domain::booking::{Booking, BookingState};
use hiresync_domain::connection::Connection;
use hiresync_domain::scheduler::Plan;
use jiff::{SignedDuration, Timestamp};
use tracing::warn;

use crate::{ScheduleError, Scheduler, BUSY_CACHE, MAX_BOOKINGS_READ};

impl Scheduler {
    /// The slots offered at `now`: the plan's windows less the calendar's busy time (read
    /// now when `fresh`, else through the cache) and the seat's bookings other than `own`.
    pub(crate) async fn slots(
        &self,
        calendar: &Connection,
        plan: &Plan,
        own: Option<&hiresync_domain::ids::BookingId>,
        now: Timestamp,
        fresh: bool,
    ) -> Result<Vec<Slot>, ScheduleError> {
        let settings = plan.schedule.settings();
        let before = SignedDuration::from_mins(i64::from(settings.buffer_before_minutes));
        let after = SignedDuration::from_mins(i64::from(settings.buffer_after_minutes));
        // The range read depends on the day alone (from the next local midnight), so the
        // busy time read for one page view covers the next ones that day.
        let earliest = plan.schedule.earliest(now);
        let from = earliest.checked_sub(before).unwrap_or(earliest);
        let to = earliest
            .checked_add(SignedDuration::from_hours(
                24 * (i64::from(settings.max_days_ahead) + 2),
            ))
            .and_then(|t| t.checked_add(after))
            .unwrap_or(Timestamp::MAX);
        let mut busy = match self.busy(calendar, from, to, now, fresh).await? {
            Calendar::Read(busy) => busy,
            Calendar::Unknown => return Err(ScheduleError::CalendarUnknown),
        };
        let booked: Vec<Booking> = self
            .ports
            .store
            .bookings_of_seat(
                &calendar.contract_id,
                &calendar.seat_id,
                now,
                MAX_BOOKINGS_READ,
            )
            .await?
            .into_iter()
            .filter(|b| b.state != BookingState::Cancelled && Some(&b.id) != own)
            .collect();
        busy.extend(booked.iter().map(|b| Busy {
            start: b.start,
            end: b.end,
        }));
        let starts: Vec<Timestamp> = booked.iter().map(|b| b.start).collect();
        plan.schedule
            .slots(&Calendar::Read(busy), &starts, now)
            .map_err(|Unavailable::CalendarUnknown| ScheduleError::CalendarUnknown)
    }

    async fn busy(
        &self,
        calendar: &Connection,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        fresh: bool,
    ) -> Result<Calendar, ScheduleError> {
        let (contract, seat) = (&calendar.contract_id, &calendar.seat_id);
        if !fresh {
            let since = now.checked_sub(BUSY_CACHE).unwrap_or(now);
            if let Some(busy) = self
                .ports
                .store
                .cached_busy(contract, seat, from, to, since)
                .await?
            {
                return Ok(Calendar::Read(busy));
            }
        }
        let access = match self.ports.tokens.access_token(calendar, now).await {
            Ok(access) => access,
            Err(e) => {
                warn!(error = %e, seat = %seat, "no access token for the calendar");
                return Ok(Calendar::Unknown);
            }
        };
        match self
            .ports
            .calendars
            .busy(
                calendar.grant.provider,
                &calendar.grant.address,
                &access,
                from,
                to,
            )
            .await
        {
            Ok(busy) => {
                self.ports
                    .store
                    .cache_busy(contract, seat, from, to, &busy, now)
                    .await?;
                Ok(Calendar::Read(busy))
            }
            Err(e) => {
                warn!(error = %e, kind = ?e.kind, seat = %seat, "the calendar could not be read");
                Ok(Calendar::Unknown)
            }
        }
    }
}
