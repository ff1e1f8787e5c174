//! The scheduler in `SchedulingTable`.
//!
//! A seat's links, bookings, held time and cached busy time live in its partition
//! (`SEAT#<contract>#<seat>`), which the contract purge deletes; its settings live under
//! the contract (`CONTRACT#<contract>` / `SCHEDULER#<seat>`), which it keeps.
//!
//! | item | sk | ttl |
//! |---|---|---|
//! | link | `LINK#<token hash>` | 30 days after it expires |
//! | booking | `BOOKING#<booking>` (versioned) | 30 days after the interview |
//! | held time | `SLOT#<minute of the 5-minute bucket, 12 digits>` (`holder`: booking) | 2 days after the bucket |
//! | busy time | `BUSY` | an hour after it was read |
//! | a day's count | `DAY#<local date>` (`booked`: interviews that day, for the daily cap) | three days after the day |
//!
//! Holding a booking's time is one TransactWriteItems: the booking (new, or at the version
//! read), a conditional put of every bucket it covers (`attribute_not_exists(pk) OR holder
//! = :booking`), and the deletion of the buckets of its previous time it no longer covers.
//! Two bookings of one time can never both commit.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Update};
use hiresync_domain::availability::{Busy, Slot};
use hiresync_domain::booking::{Booking, BookingState};
use hiresync_domain::ids::{BookingId, ContractId, SeatId};
use hiresync_domain::ports::{
    BusyCache, Hold, SchedulerSettingsStore, SchedulingStore, StoreError, Versioned,
};
use hiresync_domain::scheduler::link::SchedulingLink;
use hiresync_domain::scheduler::{buckets, SeatScheduler};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::items::{dynamo_store, encode, key, Record};
use crate::keys;
use crate::race::{retry_on_race, Attempt};
use crate::transact;

dynamo_store!(
    /// Scheduler settings, links, bookings, held time and cached busy time.
    DynamoSchedulingStore
);

const SCHEDULER_PREFIX: &str = "SCHEDULER#";
const LINK_PREFIX: &str = "LINK#";
const BOOKING_PREFIX: &str = "BOOKING#";
const SLOT_PREFIX: &str = "SLOT#";
const BUSY_SK: &str = "BUSY";
const DAY_PREFIX: &str = "DAY#";
const KEEP_AFTER: SignedDuration = SignedDuration::from_hours(30 * 24);

fn ttl(at: Timestamp, after: SignedDuration) -> i64 {
    at.checked_add(after).unwrap_or(at).as_second()
}

fn slot_sk(bucket: i64) -> String {
    format!("{SLOT_PREFIX}{bucket:012}")
}

fn day_sk(day: jiff::civil::Date) -> String {
    format!("{DAY_PREFIX}{day}")
}

/// How a booking changes its day's count.
#[derive(Clone, Copy)]
enum DayChange {
    /// Counted, refused beyond the cap when there is one.
    Add(Option<u32>),
    Remove,
}

#[derive(Serialize, Deserialize)]
struct SettingsRecord {
    pk: String,
    sk: String,
    settings: SeatScheduler,
    updated_at: Timestamp,
}

impl Record for SettingsRecord {
    const ENTITY: &'static str = "scheduler settings";
}

#[derive(Serialize, Deserialize)]
struct LinkRecord {
    pk: String,
    sk: String,
    link: SchedulingLink,
    ttl: i64,
}

impl Record for LinkRecord {
    const ENTITY: &'static str = "scheduling link";
}

#[derive(Serialize, Deserialize)]
struct BookingRecord {
    pk: String,
    sk: String,
    version: u64,
    booking: Booking,
    ttl: i64,
}

impl Record for BookingRecord {
    const ENTITY: &'static str = "booking";
}

impl BookingRecord {
    fn new(booking: &Booking, version: u64) -> Self {
        Self {
            pk: keys::mail_pk(&booking.contract_id, &booking.seat_id),
            sk: format!("{BOOKING_PREFIX}{}", booking.id),
            version,
            booking: booking.clone(),
            ttl: ttl(booking.end, KEEP_AFTER),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SlotRecord {
    pk: String,
    sk: String,
    holder: BookingId,
    ttl: i64,
}

impl Record for SlotRecord {
    const ENTITY: &'static str = "held time";
}

#[derive(Serialize, Deserialize)]
struct BusyRecord {
    pk: String,
    sk: String,
    from: Timestamp,
    to: Timestamp,
    read_at: Timestamp,
    busy: Vec<Busy>,
    ttl: i64,
}

impl Record for BusyRecord {
    const ENTITY: &'static str = "busy time";
}

#[async_trait]
impl SchedulerSettingsStore for DynamoSchedulingStore {
    async fn scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<SeatScheduler>, StoreError> {
        Ok(self
            .items()
            .get::<SettingsRecord>(
                &keys::contract_pk(contract),
                &format!("{SCHEDULER_PREFIX}{seat}"),
            )
            .await?
            .map(|r| r.settings))
    }

    async fn save_scheduler(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        settings: &SeatScheduler,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.items()
            .put(&SettingsRecord {
                pk: keys::contract_pk(contract),
                sk: format!("{SCHEDULER_PREFIX}{seat}"),
                settings: settings.clone(),
                updated_at: at,
            })
            .await
    }
}

impl DynamoSchedulingStore {
    /// One more interview on `day` (at most `cap`, when there is one), or one less. Every
    /// booking with a day is counted once, cap or not, so giving its place back always
    /// matches a count.
    fn count_day(
        &self,
        pk: &str,
        day: jiff::civil::Date,
        change: DayChange,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let expiry = day
            .checked_add(jiff::Span::new().days(3))
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(0, |z| z.timestamp().as_second());
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, &day_sk(day))))
            .expression_attribute_names("#n", "booked")
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expiry.to_string()));
        // Every placeholder given is used by the branch's expressions (DynamoDB refuses
        // unused ones).
        let update = match change {
            DayChange::Add(cap) => {
                let counted = update
                    .update_expression("SET #n = if_not_exists(#n, :zero) + :one, #t = :ttl")
                    .expression_attribute_values(":zero", AttributeValue::N("0".into()));
                match cap {
                    None => counted,
                    Some(cap) => counted
                        .condition_expression("attribute_not_exists(#n) OR #n < :cap")
                        .expression_attribute_values(":cap", AttributeValue::N(cap.to_string())),
                }
            }
            // A place given back (a count that expired meanwhile reads as one).
            DayChange::Remove => {
                update.update_expression("SET #n = if_not_exists(#n, :one) - :one, #t = :ttl")
            }
        };
        transact::update(update)
    }

    fn hold_items(
        &self,
        booking: &Booking,
        previous: Option<&Versioned<Booking>>,
        daily_cap: Option<u32>,
    ) -> Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>, StoreError> {
        let holder = AttributeValue::S(booking.id.to_string());
        let version = previous.map_or(1, |p| p.version + 1);
        let record = encode(&BookingRecord::new(booking, version))?;
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record));
        put = match previous {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(p) => put
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(p.version.to_string())),
        };
        let mut items = vec![transact::put(put)?];
        let pk = keys::mail_pk(&booking.contract_id, &booking.seat_id);
        let held = buckets(&booking.slot());
        for bucket in &held {
            let slot = encode(&SlotRecord {
                pk: pk.clone(),
                sk: slot_sk(*bucket),
                holder: booking.id.clone(),
                ttl: ttl(
                    hiresync_domain::scheduler::bucket_start(*bucket),
                    SignedDuration::from_hours(48),
                ),
            })?;
            items.push(transact::put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(slot))
                    .condition_expression("attribute_not_exists(pk) OR holder = :holder")
                    .expression_attribute_values(":holder", holder.clone()),
            )?);
        }
        let before = previous.and_then(|p| p.value.local_day);
        if booking.local_day != before {
            if let Some(day) = booking.local_day {
                items.push(self.count_day(&pk, day, DayChange::Add(daily_cap))?);
            }
            if let Some(day) = before {
                items.push(self.count_day(&pk, day, DayChange::Remove)?);
            }
        }
        if let Some(p) = previous {
            for bucket in buckets(&p.value.slot())
                .into_iter()
                .filter(|b| !held.contains(b))
            {
                items.push(transact::delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(&pk, &slot_sk(bucket))))
                        .condition_expression("attribute_not_exists(pk) OR holder = :holder")
                        .expression_attribute_values(":holder", holder.clone()),
                )?);
            }
        }
        Ok(items)
    }
}

#[async_trait]
impl SchedulingStore for DynamoSchedulingStore {
    async fn put_link(&self, link: &SchedulingLink) -> Result<(), StoreError> {
        self.items()
            .put(&LinkRecord {
                pk: keys::mail_pk(&link.contract_id, &link.seat_id),
                sk: format!("{LINK_PREFIX}{}", link.token_hash),
                link: link.clone(),
                ttl: ttl(link.expires_at, KEEP_AFTER),
            })
            .await
    }

    async fn link(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        token_hash: &str,
    ) -> Result<Option<SchedulingLink>, StoreError> {
        let found = self
            .items()
            .get::<LinkRecord>(
                &keys::mail_pk(contract, seat),
                &format!("{LINK_PREFIX}{token_hash}"),
            )
            .await?;
        // The key names the contract and seat; the record must say the same.
        Ok(found
            .map(|r| r.link)
            .filter(|l| &l.contract_id == contract && &l.seat_id == seat))
    }

    async fn booking(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        id: &BookingId,
    ) -> Result<Option<Versioned<Booking>>, StoreError> {
        let found = self
            .items()
            .get::<BookingRecord>(
                &keys::mail_pk(contract, seat),
                &format!("{BOOKING_PREFIX}{id}"),
            )
            .await?;
        Ok(found
            .filter(|r| &r.booking.contract_id == contract && &r.booking.seat_id == seat)
            .map(|r| Versioned {
                version: r.version,
                value: r.booking,
            }))
    }

    async fn hold(
        &self,
        booking: &Booking,
        previous: Option<&Versioned<Booking>>,
        daily_cap: Option<u32>,
    ) -> Result<Hold, StoreError> {
        let items = self.hold_items(booking, previous, daily_cap)?;
        let version = previous.map_or(1, |p| p.version + 1);
        retry_on_race(|| async {
            match transact::send(&self.client, items.clone()).await? {
                None => Ok(Attempt::Done(Hold::Held(Box::new(Versioned {
                    version,
                    value: booking.clone(),
                })))),
                Some(cancelled) if cancelled.condition_failed(0).is_some() => {
                    Ok(Attempt::Done(Hold::Changed))
                }
                Some(cancelled) if cancelled.any_condition_failed() => {
                    Ok(Attempt::Done(Hold::Taken))
                }
                Some(cancelled) => cancelled.retry_if_contended(),
            }
        })
        .await
    }

    async fn update_booking(
        &self,
        read: &Versioned<Booking>,
        booking: &Booking,
    ) -> Result<Versioned<Booking>, StoreError> {
        let version = read.version + 1;
        let written = Versioned {
            version,
            value: booking.clone(),
        };
        let cancelling =
            booking.state == BookingState::Cancelled && read.value.state != BookingState::Cancelled;
        if !cancelling {
            self.items()
                .replace(&BookingRecord::new(booking, version), read.version)
                .await?;
            return Ok(written);
        }
        // A cancelled booking holds no time: its buckets go in the same transaction.
        let record = encode(&BookingRecord::new(booking, version))?;
        let mut items = vec![transact::put(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(record))
                .condition_expression("version = :expected")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(read.version.to_string()),
                ),
        )?];
        let pk = keys::mail_pk(&booking.contract_id, &booking.seat_id);
        let holder = AttributeValue::S(booking.id.to_string());
        if let Some(day) = read.value.local_day {
            items.push(self.count_day(&pk, day, DayChange::Remove)?);
        }
        for bucket in buckets(&read.value.slot()) {
            items.push(transact::delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, &slot_sk(bucket))))
                    .condition_expression("attribute_not_exists(pk) OR holder = :holder")
                    .expression_attribute_values(":holder", holder.clone()),
            )?);
        }
        retry_on_race(|| async {
            match transact::send(&self.client, items.clone()).await? {
                None => Ok(Attempt::Done(())),
                Some(cancelled) if cancelled.condition_failed(0).is_some() => {
                    Err(StoreError::Conflict {
                        entity: BookingRecord::ENTITY,
                        key: format!("{pk}/{BOOKING_PREFIX}{}", booking.id),
                        expected: read.version,
                        found: None,
                    })
                }
                Some(cancelled) => cancelled.retry_if_contended(),
            }
        })
        .await?;
        Ok(written)
    }

    async fn bookings_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        limit: usize,
    ) -> Result<Vec<Booking>, StoreError> {
        let records: Vec<BookingRecord> = self
            .items()
            .partition(&keys::mail_pk(contract, seat), BOOKING_PREFIX)
            .all()
            .await?;
        Ok(records
            .into_iter()
            .map(|r| r.booking)
            .filter(|b| b.end > from && b.state != BookingState::Cancelled)
            .take(limit)
            .collect())
    }

    async fn cached_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        from: Timestamp,
        to: Timestamp,
        fresh_since: Timestamp,
    ) -> Result<Option<Vec<Busy>>, StoreError> {
        let found = self
            .items()
            .get::<BusyRecord>(&keys::mail_pk(contract, seat), BUSY_SK)
            .await?;
        Ok(found
            .filter(|r| r.read_at >= fresh_since && r.from <= from && r.to >= to)
            .map(|r| r.busy))
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
        self.items()
            .put(&BusyRecord {
                pk: keys::mail_pk(contract, seat),
                sk: BUSY_SK.to_owned(),
                from,
                to,
                read_at,
                busy: busy.to_vec(),
                ttl: ttl(read_at, SignedDuration::from_hours(1)),
            })
            .await
    }
}

#[async_trait]
impl BusyCache for DynamoSchedulingStore {
    async fn forget_busy(&self, contract: &ContractId, seat: &SeatId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mail_pk(contract, seat), BUSY_SK)))
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB DeleteItem", e))?;
        Ok(())
    }
}

/// The slots a booking holds, for tests and logs.
pub fn held_buckets(slot: &Slot) -> Vec<String> {
    buckets(slot).into_iter().map(slot_sk).collect()
}
