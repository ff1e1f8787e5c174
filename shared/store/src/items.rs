//! The conditional reads and writes every repository shares.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::condition::conditional;
use crate::error::StoreError;
use crate::query::{token_after, Query};
use hiresync_domain::ports::{Page, PageToken};

/// A persistence record: one item shape of a table.
pub(crate) trait Record: Serialize + DeserializeOwned {
    const ENTITY: &'static str;
}

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

pub(crate) fn encode<R: Record>(record: &R) -> Result<Item, StoreError> {
    serde_dynamo::to_item(record).map_err(|source| StoreError::Encode {
        entity: R::ENTITY,
        source: Box::new(source),
    })
}

pub(crate) fn decode<R: Record>(item: Item) -> Result<R, StoreError> {
    let key = describe(&item);
    serde_dynamo::from_item(item).map_err(|source| StoreError::Decode {
        entity: R::ENTITY,
        key,
        source: Box::new(source),
    })
}

fn describe(item: &Item) -> String {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => s.as_str(),
        _ => "?",
    };
    format!("{}/{}", part("pk"), part("sk"))
}

/// Declares a repository over one table: the struct, its constructor and its `Items`.
macro_rules! dynamo_store {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            client: aws_sdk_dynamodb::Client,
            table: String,
        }

        impl $name {
            pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
                Self {
                    client,
                    table: table.into(),
                }
            }

            #[allow(dead_code)]
            fn items(&self) -> crate::items::Items<'_> {
                crate::items::Items {
                    client: &self.client,
                    table: &self.table,
                }
            }
        }
    };
}
pub(crate) use dynamo_store;

#[derive(Clone, Copy)]
pub(crate) struct Items<'a> {
    pub client: &'a Client,
    pub table: &'a str,
}

impl<'a> Items<'a> {
    pub async fn get<R: Record>(&self, pk: &str, sk: &str) -> Result<Option<R>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB GetItem", e))?;
        out.item.map(decode).transpose()
    }

    /// Writes an item whatever was there (for items with a single writer, or whose every
    /// write says the same).
    pub async fn put<R: Record>(&self, record: &R) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(self.table)
            .set_item(Some(encode(record)?))
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB PutItem", e))?;
        Ok(())
    }

    /// Writes a new item; fails with `AlreadyExists` if the key is taken.
    pub async fn create<R: Record>(&self, record: &R) -> Result<(), StoreError> {
        let item = encode(record)?;
        let key = describe(&item);
        let result = self
            .client
            .put_item()
            .table_name(self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional("DynamoDB PutItem", result)?
            .map(drop)
            .map_err(|failed| failed.already_exists(R::ENTITY, key))
    }

    /// Replaces an item only if it still has `expected` as its version. The record must
    /// already carry its new version.
    pub async fn replace<R: Record>(&self, record: &R, expected: u64) -> Result<(), StoreError> {
        let item = encode(record)?;
        let key = describe(&item);
        let result = self
            .client
            .put_item()
            .table_name(self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk) AND version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        conditional("DynamoDB PutItem", result)?
            .map(drop)
            .map_err(|failed| failed.stale(R::ENTITY, key, expected))
    }

    /// A query of this table (or of one of its indexes).
    pub fn query(self, key_condition: &'static str) -> Query<'a> {
        Query::new(self, key_condition)
    }

    /// A query of the items of `pk` whose sort key starts with `prefix`.
    pub fn partition(self, pk: &str, prefix: &str) -> Query<'a> {
        self.query("pk = :pk AND begins_with(sk, :prefix)")
            .string(":pk", pk)
            .string(":prefix", prefix)
    }

    /// One page of the items of `pk` whose sort key starts with `prefix`, in key order.
    pub async fn query_prefix<R: Record>(
        &self,
        pk: &str,
        prefix: &str,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<R>, StoreError> {
        let page = self
            .partition(pk, prefix)
            .page_size(limit)
            .page(start.map(|t| key(pk, t.as_str())))
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(decode)
                .collect::<Result<Vec<R>, _>>()?,
            next: page.last_key.as_ref().and_then(token_after),
        })
    }

    /// Every item of `pk` under `prefix`, following pages to the end.
    /// The keys (`pk`, `sk`) of the items due at `now` in the `by-renewal` index's shards
    /// named `<partition>#<n>`, at most `per_shard` from each, earliest first within one.
    pub async fn due(
        &self,
        partition: &str,
        now: hiresync_domain::Timestamp,
        per_shard: i32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let upper = format!("{}#\u{10FFFF}", crate::keys::sortable_instant(now));
        let mut due = Vec::new();
        for shard in 0..crate::keys::RENEWAL_SHARDS {
            let page = self
                .query("renewal_pk = :pk AND renewal_sk <= :upper")
                .index("by-renewal")
                .string(":pk", format!("{partition}#{shard}"))
                .string(":upper", upper.clone())
                .page_size(per_shard)
                .page(None)
                .await?;
            for item in page.items {
                if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) =
                    (item.get("pk"), item.get("sk"))
                {
                    due.push((pk.clone(), sk.clone()));
                }
            }
        }
        Ok(due)
    }

    pub async fn query_all<R: Record>(&self, pk: &str, prefix: &str) -> Result<Vec<R>, StoreError> {
        self.partition(pk, prefix).page_size(1000).all().await
    }
}
