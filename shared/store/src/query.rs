//! Queries, page by page.
//!
//! DynamoDB returns a query in pages: each says where the next one starts
//! (`LastEvaluatedKey`), and the absence of that key, never an empty page, is the end. A
//! page may be empty and still have a successor: its `Limit` counts the items read, before
//! the filter drops some. Every query of the store goes through [`Query`], so that rule is
//! written once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{dynamo, StoreError};
use crate::items::{decode, Item, Items, Record};
use hiresync_domain::ports::PageToken;

/// One query: its key condition, optional index and filter, direction and page size.
#[derive(Clone)]
pub(crate) struct Query<'a> {
    items: Items<'a>,
    index: Option<&'static str>,
    key_condition: &'static str,
    filter: Option<&'static str>,
    projection: Option<&'static str>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    forward: bool,
    page_size: Option<i32>,
}

/// One page as DynamoDB returned it.
pub(crate) struct RawPage {
    pub items: Vec<Item>,
    /// Where the next page starts; `None` on the last page.
    pub last_key: Option<Item>,
}

impl<'a> Query<'a> {
    pub fn new(items: Items<'a>, key_condition: &'static str) -> Self {
        Self {
            items,
            index: None,
            key_condition,
            filter: None,
            projection: None,
            names: HashMap::new(),
            values: HashMap::new(),
            forward: true,
            page_size: None,
        }
    }

    /// Queries the global secondary index `name` (eventually consistent) instead of the
    /// table (read consistently).
    pub fn index(mut self, name: &'static str) -> Self {
        self.index = Some(name);
        self
    }

    /// Keeps only the items that match `expression`; the others still count in a page.
    pub fn filter(mut self, expression: &'static str) -> Self {
        self.filter = Some(expression);
        self
    }

    /// Reads only the attributes `expression` names: items are then no records to decode.
    pub fn projection(mut self, expression: &'static str) -> Self {
        self.projection = Some(expression);
        self
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    pub fn string(self, placeholder: &str, value: impl Into<String>) -> Self {
        self.value(placeholder, AttributeValue::S(value.into()))
    }

    /// Descending sort key order.
    pub fn reverse(mut self) -> Self {
        self.forward = false;
        self
    }

    /// At most `items` read per page (at least one).
    pub fn page_size(mut self, items: i32) -> Self {
        self.page_size = Some(items.max(1));
        self
    }

    /// The page that starts after `start` (from the beginning when `None`).
    pub async fn page(&self, start: Option<Item>) -> Result<RawPage, StoreError> {
        let out = self
            .items
            .client
            .query()
            .table_name(self.items.table)
            .set_index_name(self.index.map(str::to_owned))
            .key_condition_expression(self.key_condition)
            .set_filter_expression(self.filter.map(str::to_owned))
            .set_projection_expression(self.projection.map(str::to_owned))
            .set_expression_attribute_names((!self.names.is_empty()).then(|| self.names.clone()))
            .set_expression_attribute_values((!self.values.is_empty()).then(|| self.values.clone()))
            .scan_index_forward(self.forward)
            .set_limit(self.page_size)
            .set_exclusive_start_key(start)
            // Global secondary indexes cannot be read consistently.
            .consistent_read(self.index.is_none())
            .send()
            .await
            .map_err(|e| dynamo("DynamoDB Query", e))?;
        Ok(RawPage {
            items: out.items.unwrap_or_default(),
            last_key: out.last_evaluated_key,
        })
    }

    /// The pages from `start` on, fetched as they are asked for.
    pub fn pages(&self, start: Option<Item>) -> Pages<'_, 'a> {
        Pages {
            query: self,
            next: Some(start),
        }
    }

    /// Every item of every page, decoded.
    pub async fn all<R: Record>(&self) -> Result<Vec<R>, StoreError> {
        let mut all = Vec::new();
        let mut pages = self.pages(None);
        while let Some(page) = pages.next().await? {
            for item in page.items {
                all.push(decode(item)?);
            }
        }
        Ok(all)
    }
}

/// The pages of a query, one request each.
pub(crate) struct Pages<'q, 'a> {
    query: &'q Query<'a>,
    /// Where the next page starts; `None` once the last page was returned.
    next: Option<Option<Item>>,
}

impl Pages<'_, '_> {
    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<RawPage>, StoreError> {
        let Some(start) = self.next.take() else {
            return Ok(None);
        };
        let page = self.query.page(start).await?;
        self.next = page.last_key.clone().map(Some);
        Ok(Some(page))
    }
}

/// The token that resumes a query of one partition after `last_key`: its sort key.
pub(crate) fn token_after(last_key: &Item) -> Option<PageToken> {
    match last_key.get("sk") {
        Some(AttributeValue::S(sk)) => Some(PageToken::from_string(sk.clone())),
        _ => None,
    }
}

/// Against DynamoDB Local (run through `make test`, which starts it).
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::items::{encode, Items};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        pk: String,
        sk: String,
        keep: bool,
    }

    impl Record for Row {
        const ENTITY: &'static str = "row";
    }

    /// A partition of six rows, of which the filter keeps the first and the fifth: read two
    /// at a time, the pages hold [1], [], [5], and DynamoDB, having stopped at its limit on
    /// the last row, still says where a next page would start, which is empty.
    async fn six_rows(label: &str) -> (aws_sdk_dynamodb::Client, String) {
        let (config, resources) = hiresync_localstack::fresh_tables(label).await.unwrap();
        let client = aws_sdk_dynamodb::Client::new(&config);
        let table = resources.table("MailTable").unwrap().to_owned();
        for i in 1..=6 {
            let row = Row {
                pk: "P".into(),
                sk: format!("R#{i}"),
                keep: i == 1 || i == 5,
            };
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(encode(&row).unwrap()))
                .send()
                .await
                .unwrap();
        }
        (client, table)
    }

    fn kept(items: Items<'_>) -> Query<'_> {
        items
            .partition("P", "R#")
            .filter("#keep = :yes")
            .name("#keep", "keep")
            .value(":yes", AttributeValue::Bool(true))
            .page_size(2)
    }

    #[tokio::test]
    async fn every_page_is_read_until_there_is_no_next_key_past_empty_ones() {
        let (client, table) = six_rows("query-pages").await;
        let items = Items {
            client: &client,
            table: &table,
        };

        // WHEN the pages are read one by one
        let query = kept(items);
        let mut pages = query.pages(None);
        let mut sizes = Vec::new();
        while let Some(page) = pages.next().await.unwrap() {
            sizes.push(page.items.len());
            assert!(sizes.len() <= 10, "paging does not end");
        }
        // THEN empty pages did not end the query; the missing next key did
        assert_eq!(sizes.iter().sum::<usize>(), 2);
        assert!(sizes.contains(&0), "some page was empty: {sizes:?}");
        assert_eq!(sizes.last(), Some(&0), "a trailing empty page: {sizes:?}");

        // AND every item comes, in either direction
        let all: Vec<String> = query
            .all::<Row>()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.sk)
            .collect();
        assert_eq!(all, ["R#1", "R#5"]);
        let reversed: Vec<String> = kept(items)
            .reverse()
            .all::<Row>()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.sk)
            .collect();
        assert_eq!(reversed, ["R#5", "R#1"]);
    }

    #[tokio::test]
    async fn one_page_says_where_the_next_one_starts() {
        let (client, table) = six_rows("query-one-page").await;
        let items = Items {
            client: &client,
            table: &table,
        };
        let first = items.query_prefix::<Row>("P", "R#", 4, None).await.unwrap();
        assert_eq!(first.items.len(), 4);
        let token = first.next.expect("a next page");
        assert_eq!(token.as_str(), "R#4");
        let rest = items
            .query_prefix::<Row>("P", "R#", 4, Some(&token))
            .await
            .unwrap();
        let rest: Vec<String> = rest.items.into_iter().map(|r| r.sk).collect();
        assert_eq!(rest, ["R#5", "R#6"]);
    }
}
