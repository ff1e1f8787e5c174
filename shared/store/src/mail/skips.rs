//! The decisions not to sync a message ([`SkipLog`]), filed under the seat and the
//! counterpart a recruiter asks about, and forgotten by DynamoDB's TTL when the domain says
//! ([`SkipRecord::forget_after`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::SkipRecord;
use hiresync_domain::ports::SkipLog;

use super::records::SkipItem;
use super::{check_key, DynamoMailStore, MAX_SORT_KEY};
use crate::error::StoreError;
use crate::items::{decode, key, Record};
use crate::keys;

#[async_trait]
impl SkipLog for DynamoMailStore {
    /// Remembers why a message was not synced. Recording the same message again replaces
    /// the earlier decision. With its thread, [`SkipLog::skips_in_thread`] finds the
    /// decision when the thread changes.
    async fn record(&self, skip: &SkipRecord, thread_id: Option<&str>) -> Result<(), StoreError> {
        let item = SkipItem::new(skip, thread_id);
        check_key(SkipItem::ENTITY, &item.sk, MAX_SORT_KEY)?;
        self.items().put(&item).await
    }

    /// Decisions past their 30 days may linger until DynamoDB's TTL sweeps them.
    async fn skips_for(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        Ok(self
            .items()
            .partition(
                &keys::mail_pk(contract, seat),
                &keys::skips_prefix(counterpart),
            )
            .reverse()
            .all::<SkipItem>()
            .await?
            .into_iter()
            .map(SkipItem::into_domain)
            .collect())
    }

    /// Reads pages, newest first, until `limit` decisions match or the pages end.
    async fn skips_in_thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        let query = self
            .items()
            .partition(
                &keys::mail_pk(contract, seat),
                &keys::skips_prefix(counterpart),
            )
            .filter("#thread = :thread AND #code = :code")
            .name("#thread", "thread_id")
            .name("#code", "code")
            .string(":thread", thread_id)
            .string(":code", code)
            .reverse();
        let mut pages = query.pages(None);
        let mut skips = Vec::new();
        while skips.len() < limit {
            let Some(page) = pages.next().await? else {
                break;
            };
            for item in page.items {
                skips.push(decode::<SkipItem>(item)?.into_domain());
            }
        }
        skips.truncate(limit);
        Ok(skips)
    }

    /// Reads only the decisions' codes, page by page. Decisions past their 30 days may
    /// still count until DynamoDB's TTL sweeps them.
    async fn skip_counts(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let query = self
            .items()
            .partition(&keys::mail_pk(contract, seat), keys::SKIPS_PREFIX)
            .projection("#code")
            .name("#code", "code");
        let mut pages = query.pages(None);
        let mut counts = BTreeMap::new();
        while let Some(page) = pages.next().await? {
            for item in page.items {
                let code = match item.get("code") {
                    Some(AttributeValue::S(code)) => code.clone(),
                    _ => "unknown".to_owned(),
                };
                *counts.entry(code).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    async fn forget(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        let sk = keys::skip_sk(&skip.counterpart, skip.at, &skip.provider_id);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mail_pk(&skip.contract, &skip.seat), &sk)))
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB DeleteItem", e))?;
        Ok(())
    }
}
