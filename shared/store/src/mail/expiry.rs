//! Which threads have expired: the `by-expiry` index, one bucket per day in shards, keyed by
//! the instant the domain says each thread expires ([`Thread::expires_at`]).
//!
//! [`Thread::expires_at`]: hiresync_domain::mail::Thread::expires_at

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{stream, StreamExt, TryStreamExt};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{ExpiredThread, Retention};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use super::{DynamoMailStore, THREAD};
use crate::error::StoreError;
use crate::items::{Item, Record};
use crate::keys;

impl DynamoMailStore {
    /// The threads in `day`'s expiry bucket whose expiry is at or before `now`, as
    /// (contract, seat, thread id), at most `per_shard` from each of the bucket's 32 shards, earliest first
    /// within a shard. Expiry keys are written rounded up to the second, so a thread is
    /// never returned before it has expired (at worst up to a second late).
    pub async fn expired_threads(
        &self,
        day: jiff::civil::Date,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(ContractId, SeatId, String)>, StoreError> {
        // Every key of the second `now` falls in sorts before this bound.
        let upper = format!("{}#\u{10FFFF}", keys::sortable_instant(now));
        let upper = &upper;
        // The day's shards are read together: a day with nothing due costs one round trip.
        let pages: Vec<Vec<Item>> = stream::iter(0..keys::EXPIRY_SHARDS)
            .map(|shard| async move {
                let page = self
                    .items()
                    .query("expiry_pk = :pk AND expiry_sk <= :upper")
                    .index("by-expiry")
                    .string(":pk", keys::expiry_bucket_pk(day, shard))
                    .string(":upper", upper.clone())
                    .page_size(per_shard)
                    .page(None)
                    .await?;
                Ok::<_, StoreError>(page.items)
            })
            .buffered(keys::EXPIRY_SHARDS as usize)
            .try_collect()
            .await?;
        let mut expired = Vec::new();
        for item in pages.iter().flatten() {
            expired.push(thread_key_of(item)?);
        }
        Ok(expired)
    }
}

/// The retention sweep's mark: one item, outside every seat's partition.
#[derive(Serialize, Deserialize)]
struct SweepMark {
    pk: String,
    sk: String,
    /// The first day whose expiry bucket may still hold expired threads.
    day: jiff::civil::Date,
}

impl Record for SweepMark {
    const ENTITY: &'static str = "sweep mark";
}

#[async_trait]
impl Retention for DynamoMailStore {
    async fn expired(
        &self,
        day: jiff::civil::Date,
        now: Timestamp,
        per_shard: i32,
    ) -> Result<Vec<ExpiredThread>, StoreError> {
        self.expired_threads(day, now, per_shard).await
    }

    async fn remove_for_inactivity(
        &self,
        thread: &ExpiredThread,
        now: Timestamp,
    ) -> Result<Option<usize>, StoreError> {
        let (contract, seat, id) = thread;
        self.remove_thread_for_inactivity(contract, seat, id, now)
            .await
    }

    async fn sweep_mark(&self) -> Result<Option<jiff::civil::Date>, StoreError> {
        Ok(self
            .items()
            .get::<SweepMark>(keys::SWEEP_PK, keys::SWEEP_SK)
            .await?
            .map(|m| m.day))
    }

    async fn set_sweep_mark(&self, day: jiff::civil::Date) -> Result<(), StoreError> {
        self.items()
            .put(&SweepMark {
                pk: keys::SWEEP_PK.to_owned(),
                sk: keys::SWEEP_SK.to_owned(),
                day,
            })
            .await
    }
}

/// (contract, seat, thread id) from the table keys of a thread item (a keys-only index
/// entry).
fn thread_key_of(item: &Item) -> Result<(ContractId, SeatId, String), StoreError> {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.as_str(),
        _ => "",
    };
    let (pk, sk) = (part("pk"), part("sk"));
    let undecodable = |problem: String| StoreError::Decode {
        entity: THREAD,
        key: format!("{pk}/{sk}"),
        source: problem.into(),
    };
    let (contract, seat) = keys::seat_of_mail_pk(pk)
        .ok_or_else(|| undecodable("not a seat's partition".to_owned()))?;
    let contract = ContractId::parse(contract).map_err(|e| undecodable(e.to_string()))?;
    let seat = SeatId::parse(seat).map_err(|e| undecodable(e.to_string()))?;
    let thread_id = keys::thread_id_of_sk(sk)
        .ok_or_else(|| undecodable("not a thread's sort key".to_owned()))?;
    Ok((contract, seat, thread_id))
}
