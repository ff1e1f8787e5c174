//! Which threads have expired: the `by-expiry` index, one bucket per day in shards, keyed by
//! the instant the domain says each thread expires ([`Thread::expires_at`]).
//!
//! [`Thread::expires_at`]: hiresync_domain::mail::Thread::expires_at

use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::Timestamp;

use super::{DynamoMailStore, THREAD};
use crate::error::StoreError;
use crate::items::Item;
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
        let mut expired = Vec::new();
        for shard in 0..keys::EXPIRY_SHARDS {
            let page = self
                .items()
                .query("expiry_pk = :pk AND expiry_sk <= :upper")
                .index("by-expiry")
                .string(":pk", keys::expiry_bucket_pk(day, shard))
                .string(":upper", upper.clone())
                .page_size(per_shard)
                .page(None)
                .await?;
            for item in page.items {
                expired.push(thread_key_of(&item)?);
            }
        }
        Ok(expired)
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
