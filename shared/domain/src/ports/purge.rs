//! Removing a suspended contract's third-party data, key pattern by key pattern, and the
//! purge receipts. Every method names the contract (and seat) it works on: nothing is found
//! by a Scan, and nothing of another contract is reachable.

use async_trait::async_trait;

use crate::ids::{ContractId, SeatId};
use crate::purge::{DataClass, PurgeCounts, PurgeReceipt, SeatPurge};
use crate::Timestamp;

use super::StoreError;

/// What one bounded step of deleting found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub counts: PurgeCounts,
    /// Whether more items are left after this step.
    pub more: bool,
}

#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Deletes up to `limit` items of the seat's mail and scheduling partitions (threads,
    /// messages, their guards and pointers, skip decisions, tombstones, links, bookings).
    async fn purge_seat_data(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
    ) -> Result<Deleted, StoreError>;

    /// Deletes the seat's records in the contract's partition that hold third-party data
    /// and are not a live authorization: sync status, connection records, and any token or
    /// subscription record left behind. Call it once the seat's connections are retired.
    async fn purge_seat_records(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<PurgeCounts, StoreError>;

    /// Deletes what the contract's own partition holds from its providers (learned limits).
    async fn purge_contract_records(
        &self,
        contract: &ContractId,
    ) -> Result<PurgeCounts, StoreError>;

    /// Re-reads every key pattern of the seat (one item each at most) and names the classes
    /// still found.
    async fn seat_leftovers(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<DataClass>, StoreError>;

    /// Re-reads the contract partition's third-party prefixes (every seat's at once) and
    /// names the classes still found, with their seat where the key names one.
    async fn contract_leftovers(
        &self,
        contract: &ContractId,
    ) -> Result<Vec<(Option<SeatId>, DataClass)>, StoreError>;

    /// The run's receipt, created as `receipt` if it has none; returns the stored one.
    async fn start_run(
        &self,
        contract: &ContractId,
        receipt: &PurgeReceipt,
    ) -> Result<PurgeReceipt, StoreError>;

    /// The receipt of the run of `suspended_at`, with its seats.
    async fn run(
        &self,
        contract: &ContractId,
        suspended_at: Timestamp,
    ) -> Result<Option<PurgeReceipt>, StoreError>;

    /// The contract's most recent run, with its seats.
    async fn latest_run(&self, contract: &ContractId) -> Result<Option<PurgeReceipt>, StoreError>;

    /// Records one seat's part of the run; the first record of a seat is kept.
    async fn seat_done(
        &self,
        contract: &ContractId,
        suspended_at: Timestamp,
        seat: &SeatPurge,
    ) -> Result<(), StoreError>;

    /// Writes the run's receipt (finished or not) over the stored one.
    async fn finish_run(
        &self,
        contract: &ContractId,
        receipt: &PurgeReceipt,
    ) -> Result<(), StoreError>;
}
