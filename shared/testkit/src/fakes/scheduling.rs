//! The scheduler's storage in memory, with the DynamoDB adapter's observable behaviour: a
//! hold takes every 5-minute bucket of its booking or nothing (`Taken` when another booking
//! has one, `Changed` when the booking is not at the version read) and releases the
//! buckets the booking no longer needs; a booking's update is conditioned on its version.
//! A test can make the next call of an operation fail, as if DynamoDB could not be reached.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::availability::Busy;
use hiresync_domain::booking::{Booking, BookingState};
use hiresync_domain::ids::{BookingId, ContractId, SeatId};
use hiresync_domain::ports::{
    Hold, SchedulerSettingsStore, SchedulingStore, StoreError, Versioned,
};
use hiresync_domain::scheduler::link::SchedulingLink;
use hiresync_domain::scheduler::{buckets, SeatScheduler};
use jiff::Timestamp;

type SeatKey = (ContractId, SeatId);

#[derive(Default)]
struct State {
    settings: BTreeMap<SeatKey, SeatScheduler>,
    links: BTreeMap<(SeatKey, String), SchedulingLink>,
    bookings: BTreeMap<(SeatKey, BookingId), Versioned<Booking>>,
    buckets: BTreeMap<(SeatKey, i64), BookingId>,
    /// Interviews per seat and local day, as the store counts them.
    days: BTreeMap<(SeatKey, jiff::civil::Date), u32>,
    busy: BTreeMap<SeatKey, (Timestamp, Timestamp, Timestamp, Vec<Busy>)>,
    failures: BTreeMap<&'static str, VecDeque<()>>,
    updates: u32,
}

/// The scheduling table in memory.
#[derive(Default)]
pub struct InMemoryScheduling {
    state: Mutex<State>,
}

fn seat_key(contract: &ContractId, seat: &SeatId) -> SeatKey {
    (contract.clone(), seat.clone())
}

impl InMemoryScheduling {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The next call of `operation` (a method name: `booking`, `update_booking`, `hold`...)
    /// fails as if DynamoDB could not be reached; calling again queues another.
    pub fn fail_next(&self, operation: &'static str) {
        self.with(|s| s.failures.entry(operation).or_default().push_back(()));
    }

    pub fn stored_booking(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        id: &BookingId,
    ) -> Option<Versioned<Booking>> {
        self.with(|s| {
            s.bookings
                .get(&(seat_key(contract, seat), id.clone()))
                .cloned()
        })
    }

    /// Writes `booking` as another writer would (no buckets change): its version moves on.
    pub fn overwrite(&self, booking: &Booking) -> Versioned<Booking> {
        self.with(|s| {
            let key = (
                seat_key(&booking.contract_id, &booking.seat_id),
                booking.id.clone(),
            );
            let version = s.bookings.get(&key).map_or(1, |v| v.version + 1);
            let written = Versioned {
                value: booking.clone(),
                version,
            };
            s.bookings.insert(key, written.clone());
            written
        })
    }

    /// How many successful `update_booking` calls there were.
    pub fn updates(&self) -> u32 {
        self.with(|s| s.updates)
    }

    /// The buckets `booking` holds.
    pub fn held_by(&self, booking: &BookingId) -> Vec<i64> {
        self.with(|s| {
            s.buckets
                .iter()
                .filter(|(_, b)| *b == booking)
                .map(|((_, bucket), _)| *bucket)
                .collect()
        })
    }
}

impl State {
    fn check(&mut self, operation: &'static str) -> Result<(), StoreError> {
        match self
            .failures
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(()) => Err(StoreError::Backend {
                operation,
                source: Box::new(std::io::Error::other("storage unavailable (fake)")),
            }),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl SchedulerSettingsStore for InMemoryScheduling {
    async fn scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<SeatScheduler>, StoreError> {
        self.with(|s| {
            s.check("scheduler")?;
            Ok(s.settings.get(&seat_key(contract, seat)).cloned())
        })
    }

    async fn save_scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        settings: &SeatScheduler,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|s| {
            s.check("save_scheduler")?;
            s.settings
                .insert(seat_key(contract, seat), settings.clone());
            Ok(())
        })
    }
}

#[async_trait]
impl SchedulingStore for InMemoryScheduling {
    async fn put_link(&self, link: &SchedulingLink) -> Result<(), StoreError> {
        self.with(|s| {
            s.check("put_link")?;
            let key = (
                seat_key(&link.contract_id, &link.seat_id),
                link.token_hash.clone(),
            );
            s.links.entry(key).or_insert_with(|| link.clone());
            Ok(())
        })
    }

    async fn link(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        token_hash: &str,
    ) -> Result<Option<SchedulingLink>, StoreError> {
        self.with(|s| {
            s.check("link")?;
            let key = (seat_key(contract, seat), token_hash.to_owned());
            Ok(s.links.get(&key).cloned())
        })
    }

    async fn booking(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        id: &BookingId,
    ) -> Result<Option<Versioned<Booking>>, StoreError> {
        self.with(|s| {
            s.check("booking")?;
            Ok(s.bookings
                .get(&(seat_key(contract, seat), id.clone()))
                .cloned())
        })
    }

    async fn hold(
        &self,
        booking: &Booking,
        previous: Option<&Versioned<Booking>>,
        daily_cap: Option<u32>,
    ) -> Result<Hold, StoreError> {
        self.with(|s| {
            s.check("hold")?;
            let seat = seat_key(&booking.contract_id, &booking.seat_id);
            let key = (seat.clone(), booking.id.clone());
            let current = s.bookings.get(&key).map(|v| v.version);
            if current != previous.map(|p| p.version) {
                return Ok(Hold::Changed);
            }
            let wanted: BTreeSet<i64> = buckets(&booking.slot()).into_iter().collect();
            let taken = wanted.iter().any(|b| {
                s.buckets
                    .get(&(seat.clone(), *b))
                    .is_some_and(|holder| holder != &booking.id)
            });
            let before = previous.and_then(|p| p.value.local_day);
            let moves_day = booking.local_day != before;
            if let (true, Some(day), Some(cap)) = (moves_day, booking.local_day, daily_cap) {
                if s.days.get(&(seat.clone(), day)).copied().unwrap_or(0) >= cap {
                    return Ok(Hold::Taken);
                }
            }
            if taken {
                return Ok(Hold::Taken);
            }
            if moves_day {
                if let Some(day) = booking.local_day {
                    *s.days.entry((seat.clone(), day)).or_default() += 1;
                }
                if let Some(day) = before {
                    let n = s.days.entry((seat.clone(), day)).or_default();
                    *n = n.saturating_sub(1);
                }
            }
            s.buckets.retain(|(k, b), holder| {
                !(k == &seat && holder == &booking.id && !wanted.contains(b))
            });
            for b in wanted {
                s.buckets.insert((seat.clone(), b), booking.id.clone());
            }
            let written = Versioned {
                value: booking.clone(),
                version: current.map_or(1, |v| v + 1),
            };
            s.bookings.insert(key, written.clone());
            Ok(Hold::Held(Box::new(written)))
        })
    }

    async fn update_booking(
        &self,
        read: &Versioned<Booking>,
        booking: &Booking,
    ) -> Result<Versioned<Booking>, StoreError> {
        self.with(|s| {
            s.check("update_booking")?;
            let key = (
                seat_key(&booking.contract_id, &booking.seat_id),
                booking.id.clone(),
            );
            let describe = format!("{key:?}");
            match s.bookings.get(&key) {
                None => Err(StoreError::NotFound {
                    entity: "booking",
                    key: describe,
                }),
                Some(current) if current.version != read.version => Err(StoreError::Conflict {
                    entity: "booking",
                    key: describe,
                    expected: read.version,
                    found: Some(current.version),
                }),
                Some(current) => {
                    // A cancelled booking holds no time, as in the DynamoDB store.
                    if booking.state == BookingState::Cancelled
                        && current.value.state != BookingState::Cancelled
                    {
                        let seat = key.0.clone();
                        s.buckets
                            .retain(|(k, _), holder| !(k == &seat && holder == &booking.id));
                        if let Some(day) = current.value.local_day {
                            let n = s.days.entry((seat, day)).or_default();
                            *n = n.saturating_sub(1);
                        }
                    }
                    let written = Versioned {
                        value: booking.clone(),
                        version: read.version + 1,
                    };
                    s.bookings.insert(key, written.clone());
                    s.updates += 1;
                    Ok(written)
                }
            }
        })
    }

    async fn bookings_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        limit: usize,
    ) -> Result<Vec<Booking>, StoreError> {
        self.with(|s| {
            s.check("bookings_of_seat")?;
            let seat = seat_key(contract, seat);
            Ok(s.bookings
                .iter()
                .filter(|((k, _), _)| k == &seat)
                .map(|(_, v)| v.value.clone())
                .filter(|b| b.end > from && b.state != BookingState::Cancelled)
                .take(limit)
                .collect())
        })
    }

    async fn cached_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        to: Timestamp,
        fresh_since: Timestamp,
    ) -> Result<Option<Vec<Busy>>, StoreError> {
        self.with(|s| {
            s.check("cached_busy")?;
            Ok(s.busy
                .get(&seat_key(contract, seat))
                .filter(|(f, t, read_at, _)| *read_at >= fresh_since && *f <= from && *t >= to)
                .map(|(_, _, _, busy)| busy.clone()))
        })
    }

    async fn cache_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        to: Timestamp,
        busy: &[Busy],
        read_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|s| {
            s.check("cache_busy")?;
            s.busy
                .insert(seat_key(contract, seat), (from, to, read_at, busy.to_vec()));
            Ok(())
        })
    }
}

#[async_trait]
impl hiresync_domain::ports::BusyCache for InMemoryScheduling {
    async fn forget_busy(&self, contract: &ContractId, seat: &SeatId) -> Result<(), StoreError> {
        self.with(|s| {
            s.check("forget_busy")?;
            s.busy.remove(&seat_key(contract, seat));
            Ok(())
        })
    }
}
