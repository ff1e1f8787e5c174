//! A suspended contract's third-party data, removed key pattern by key pattern (never a
//! Scan), and the purge receipts in the contract's partition.
//!
//! A seat's mail and scheduling partitions (`SEAT#<contract>#<seat>`) are read keys-only a
//! page at a time and deleted in batches; the contract partition's third-party items are
//! found by their prefixes (`CONN#`, `TOKEN#`, `SYNC#`, `SUBREF#`, `RETIRE#` for a seat;
//! `LEARNED#` and `ZOOM` for the contract itself). Receipts hold counts and seat ids only:
//! nothing of the mailboxes.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{Deleted, PurgeStore};
use hiresync_domain::purge::{DataClass, PurgeCounts, PurgeReceipt, SeatPurge, Verification};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::batch::{batch_write, BatchPolicy};
use crate::error::StoreError;
use crate::items::{key, Item, Items, Record};
use crate::keys;

/// The purge's view of the three tables that hold a contract's third-party data.
#[derive(Clone)]
pub struct DynamoPurgeStore {
    client: aws_sdk_dynamodb::Client,
    tenancy_table: String,
    mail_table: String,
    scheduling_table: String,
}

impl DynamoPurgeStore {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        tenancy_table: impl Into<String>,
        mail_table: impl Into<String>,
        scheduling_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            tenancy_table: tenancy_table.into(),
            mail_table: mail_table.into(),
            scheduling_table: scheduling_table.into(),
        }
    }

    fn table<'a>(&'a self, table: &'a str) -> Items<'a> {
        Items {
            client: &self.client,
            table,
        }
    }

    fn tenancy(&self) -> Items<'_> {
        self.table(&self.tenancy_table)
    }

    /// Deletes every tenancy item of partition `pk` whose sort key starts with `prefix`,
    /// 100 keys a page, counting each by its class.
    async fn delete_tenancy_prefix(
        &self,
        pk: &str,
        prefix: &str,
        counts: &mut PurgeCounts,
    ) -> Result<(), StoreError> {
        loop {
            let (found, more) = self.keys_of(&self.tenancy_table, pk, prefix, 100).await?;
            self.delete(&self.tenancy_table, &found).await?;
            for (_, sk) in &found {
                counts.add(tenancy_class(sk), 1);
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// Up to `limit` keys of `pk` under `prefix`, and whether there are more.
    async fn keys_of(
        &self,
        table: &str,
        pk: &str,
        prefix: &str,
        limit: i32,
    ) -> Result<(Vec<(String, String)>, bool), StoreError> {
        let items = self.table(table);
        // DynamoDB refuses `begins_with` on an empty prefix: the whole partition is `pk` alone.
        let query = if prefix.is_empty() {
            items.query("pk = :pk").string(":pk", pk)
        } else {
            items.partition(pk, prefix)
        };
        let page = query
            .projection("pk, sk")
            .page_size(limit)
            .page(None)
            .await?;
        let keys = page.items.iter().filter_map(key_of).collect();
        Ok((keys, page.last_key.is_some()))
    }

    async fn delete(&self, table: &str, keys: &[(String, String)]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let requests = keys
            .iter()
            .map(|(pk, sk)| {
                let delete = crate::error::built(
                    "DeleteRequest",
                    DeleteRequest::builder().set_key(Some(key(pk, sk))).build(),
                )?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        batch_write(&self.client, table, requests, BatchPolicy::default()).await
    }

    /// Deletes up to `limit` items of one partition, counting them with `class_of`.
    async fn purge_partition(
        &self,
        table: &str,
        pk: &str,
        limit: i32,
        class_of: fn(&str) -> DataClass,
    ) -> Result<Deleted, StoreError> {
        let (found, more) = self.keys_of(table, pk, "", limit).await?;
        self.delete(table, &found).await?;
        let mut counts = PurgeCounts::default();
        for (_, sk) in &found {
            counts.add(class_of(sk), 1);
        }
        Ok(Deleted { counts, more })
    }
}

fn key_of(item: &Item) -> Option<(String, String)> {
    match (item.get("pk"), item.get("sk")) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
            Some((pk.clone(), sk.clone()))
        }
        _ => None,
    }
}

/// The class of an item of a seat's mail partition, by its sort key.
fn mail_class(sk: &str) -> DataClass {
    let prefix = sk.split('#').next().unwrap_or_default();
    match prefix {
        "T" if sk.contains("#M#") => DataClass::Messages,
        "T" => DataClass::Threads,
        "MID" => DataClass::MessageIds,
        "PID" => DataClass::ProviderIds,
        "SKIP" => DataClass::SkipDecisions,
        "GONE" => DataClass::Tombstones,
        _ => DataClass::Other,
    }
}

fn scheduling_class(_: &str) -> DataClass {
    DataClass::Scheduling
}

/// The class of a contract-partition item, by its sort key's prefix.
fn tenancy_class(sk: &str) -> DataClass {
    match sk.split('#').next().unwrap_or_default() {
        "CONN" => DataClass::Connections,
        "TOKEN" => DataClass::Tokens,
        "SYNC" => DataClass::SyncStatus,
        "SUBREF" => DataClass::PushSubscriptions,
        "RETIRE" => DataClass::Retirements,
        "LEARNED" => DataClass::ProviderLimits,
        "ZOOM" | "ZOOMAUTH" => DataClass::Zoom,
        _ => DataClass::Other,
    }
}

#[derive(Serialize, Deserialize)]
struct SubscriptionPointer {
    pk: String,
    sk: String,
    id: String,
}

impl Record for SubscriptionPointer {
    const ENTITY: &'static str = "subscription reference";
}

#[derive(Serialize, Deserialize)]
struct RunRecord {
    pk: String,
    sk: String,
    suspended_at: Timestamp,
    started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finished_at: Option<Timestamp>,
    #[serde(default)]
    deleted: PurgeCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verification: Option<Verification>,
}

impl Record for RunRecord {
    const ENTITY: &'static str = "purge receipt";
}

impl RunRecord {
    fn new(contract: &ContractId, r: &PurgeReceipt) -> Self {
        Self {
            pk: keys::contract_pk(contract),
            sk: keys::purge_run_sk(r.suspended_at),
            suspended_at: r.suspended_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            deleted: r.deleted.clone(),
            verification: r.verification.clone(),
        }
    }

    fn into_receipt(self, seats: Vec<SeatPurge>) -> PurgeReceipt {
        PurgeReceipt {
            suspended_at: self.suspended_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            seats,
            deleted: self.deleted,
            verification: self.verification,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SeatRecord {
    pk: String,
    sk: String,
    #[serde(flatten)]
    purge: SeatPurge,
}

impl Record for SeatRecord {
    const ENTITY: &'static str = "purge receipt of a seat";
}

impl DynamoPurgeStore {
    async fn with_seats(
        &self,
        contract: &ContractId,
        run: RunRecord,
    ) -> Result<PurgeReceipt, StoreError> {
        let seats: Vec<SeatRecord> = self
            .tenancy()
            .query_all(
                &keys::contract_pk(contract),
                &keys::purge_seats_prefix(run.suspended_at),
            )
            .await?;
        Ok(run.into_receipt(seats.into_iter().map(|s| s.purge).collect()))
    }
}

#[async_trait]
impl PurgeStore for DynamoPurgeStore {
    async fn purge_seat_data(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
    ) -> Result<Deleted, StoreError> {
        let pk = keys::mail_pk(contract, seat);
        let mut deleted = self
            .purge_partition(&self.mail_table, &pk, limit, mail_class)
            .await?;
        if !deleted.more {
            let scheduling = self
                .purge_partition(&self.scheduling_table, &pk, limit, scheduling_class)
                .await?;
            deleted.counts.merge(&scheduling.counts);
            deleted.more = scheduling.more;
        }
        Ok(deleted)
    }

    async fn purge_seat_records(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<PurgeCounts, StoreError> {
        let pk = keys::contract_pk(contract);
        let mut counts = PurgeCounts::default();
        // Retirements are the renewal job's to finish (they hold the token it revokes with).
        let prefixes = keys::seat_third_party_prefixes(seat);
        for prefix in prefixes.iter().filter(|p| !p.starts_with("RETIRE#")) {
            if prefix.starts_with(keys::SUBSCRIPTION_REF_PREFIX) {
                // A pointer left behind names a subscription record: both go.
                let pointers: Vec<SubscriptionPointer> =
                    self.tenancy().query_all(&pk, prefix).await?;
                let mut doomed = Vec::new();
                for p in pointers {
                    doomed.push((
                        keys::subscription_pk(&p.id),
                        keys::SUBSCRIPTION_SK.to_owned(),
                    ));
                    doomed.push((p.pk, p.sk));
                }
                self.delete(&self.tenancy_table, &doomed).await?;
                counts.add(DataClass::PushSubscriptions, doomed.len() as u64 / 2);
                continue;
            }
            self.delete_tenancy_prefix(&pk, prefix, &mut counts).await?;
        }
        Ok(counts)
    }

    async fn purge_contract_records(
        &self,
        contract: &ContractId,
    ) -> Result<PurgeCounts, StoreError> {
        let pk = keys::contract_pk(contract);
        let mut counts = PurgeCounts::default();
        for prefix in keys::CONTRACT_THIRD_PARTY_PREFIXES {
            self.delete_tenancy_prefix(&pk, prefix, &mut counts).await?;
        }
        Ok(counts)
    }

    async fn seat_leftovers(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Vec<DataClass>, StoreError> {
        let mail_pk = keys::mail_pk(contract, seat);
        let mut found = Vec::new();
        for (table, class_of) in [
            (&self.mail_table, mail_class as fn(&str) -> DataClass),
            (&self.scheduling_table, scheduling_class),
        ] {
            let (keys, _) = self.keys_of(table, &mail_pk, "", 1).await?;
            found.extend(keys.iter().map(|(_, sk)| class_of(sk)));
        }
        let pk = keys::contract_pk(contract);
        for prefix in keys::seat_third_party_prefixes(seat) {
            let (keys, _) = self.keys_of(&self.tenancy_table, &pk, &prefix, 1).await?;
            found.extend(keys.iter().map(|(_, sk)| tenancy_class(sk)));
        }
        Ok(found)
    }

    async fn contract_leftovers(
        &self,
        contract: &ContractId,
    ) -> Result<Vec<(Option<SeatId>, DataClass)>, StoreError> {
        let pk = keys::contract_pk(contract);
        let mut found = Vec::new();
        let prefixes = keys::SEAT_THIRD_PARTY_PREFIXES
            .iter()
            .chain(&keys::CONTRACT_THIRD_PARTY_PREFIXES);
        for prefix in prefixes {
            let (keys, _) = self.keys_of(&self.tenancy_table, &pk, prefix, 1).await?;
            for (_, sk) in keys {
                let seat = keys::seat_of_sk(&sk).and_then(|s| SeatId::parse(s).ok());
                found.push((seat, tenancy_class(&sk)));
            }
        }
        Ok(found)
    }

    async fn start_run(
        &self,
        contract: &ContractId,
        receipt: &PurgeReceipt,
    ) -> Result<PurgeReceipt, StoreError> {
        match self
            .tenancy()
            .create(&RunRecord::new(contract, receipt))
            .await
        {
            Ok(()) => Ok(receipt.clone()),
            Err(StoreError::AlreadyExists { .. }) => self
                .run(contract, receipt.suspended_at)
                .await?
                // Created and gone at once: nothing deletes receipts.
                .ok_or_else(|| StoreError::NotFound {
                    entity: RunRecord::ENTITY,
                    key: keys::purge_run_sk(receipt.suspended_at),
                }),
            Err(e) => Err(e),
        }
    }

    async fn run(
        &self,
        contract: &ContractId,
        suspended_at: Timestamp,
    ) -> Result<Option<PurgeReceipt>, StoreError> {
        let run: Option<RunRecord> = self
            .tenancy()
            .get(
                &keys::contract_pk(contract),
                &keys::purge_run_sk(suspended_at),
            )
            .await?;
        match run {
            Some(run) => Ok(Some(self.with_seats(contract, run).await?)),
            None => Ok(None),
        }
    }

    async fn latest_run(&self, contract: &ContractId) -> Result<Option<PurgeReceipt>, StoreError> {
        let page = self
            .tenancy()
            .partition(&keys::contract_pk(contract), keys::PURGE_RUN_PREFIX)
            .reverse()
            .page_size(1)
            .page(None)
            .await?;
        match page.items.into_iter().next() {
            Some(item) => {
                let run: RunRecord = crate::items::decode(item)?;
                Ok(Some(self.with_seats(contract, run).await?))
            }
            None => Ok(None),
        }
    }

    async fn seat_done(
        &self,
        contract: &ContractId,
        suspended_at: Timestamp,
        seat: &SeatPurge,
    ) -> Result<(), StoreError> {
        let record = SeatRecord {
            pk: keys::contract_pk(contract),
            sk: keys::purge_seat_sk(suspended_at, &seat.seat),
            purge: seat.clone(),
        };
        match self.tenancy().create(&record).await {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn finish_run(
        &self,
        contract: &ContractId,
        receipt: &PurgeReceipt,
    ) -> Result<(), StoreError> {
        self.tenancy().put(&RunRecord::new(contract, receipt)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_counted_in_their_class() {
        assert_eq!(mail_class("T#abc"), DataClass::Threads);
        assert_eq!(mail_class("T#abc#M#m1"), DataClass::Messages);
        assert_eq!(mail_class("MID#<a@b>"), DataClass::MessageIds);
        assert_eq!(mail_class("PID#m1"), DataClass::ProviderIds);
        assert_eq!(mail_class("SKIP#x#2026#m1"), DataClass::SkipDecisions);
        assert_eq!(mail_class("GONE#abc"), DataClass::Tombstones);
        assert_eq!(mail_class("ODD"), DataClass::Other);
        assert_eq!(tenancy_class("CONN#s1#email"), DataClass::Connections);
        assert_eq!(tenancy_class("TOKEN#s1#email"), DataClass::Tokens);
        assert_eq!(tenancy_class("SYNC#s1#email"), DataClass::SyncStatus);
        assert_eq!(
            tenancy_class("SUBREF#s1#email#x"),
            DataClass::PushSubscriptions
        );
        assert_eq!(tenancy_class("RETIRE#s1#email#1"), DataClass::Retirements);
        assert_eq!(tenancy_class("LEARNED#graph"), DataClass::ProviderLimits);
        assert_eq!(tenancy_class(keys::ZOOM_SK), DataClass::Zoom);
        assert_eq!(
            tenancy_class(&keys::zoom_pending_sk("st-1")),
            DataClass::Zoom
        );
        assert_eq!(tenancy_class("ZOOMX"), DataClass::Other);
        assert_eq!(keys::seat_of_sk("RETIRE#s1#email#1"), Some("s1"));
        assert_eq!(keys::seat_of_sk("LEARNED#graph"), None);
        assert_eq!(keys::seat_of_sk(&keys::zoom_pending_sk("s1")), None);
        // Every prefix the contract purge deletes is classified as what it holds.
        for prefix in keys::CONTRACT_THIRD_PARTY_PREFIXES {
            assert_ne!(tenancy_class(prefix), DataClass::Other, "{prefix}");
        }
    }
}
