//! What the seats see of the synced mail ([`MailReader`]): a seat's own threads page by
//! page; and [`Conversations`]: a candidate's threads the viewer may see, and the owner's
//! choice of who sees a thread.

use async_trait::async_trait;
use hiresync_domain::ids::{ContractId, ProfileId, SeatId};
use hiresync_domain::mail::{Message, Thread, Viewer, Visibility};
use hiresync_domain::ports::{Conversations, MailReader, Page, PageToken, ThreadStore};

use super::records::ThreadRecord;
use super::{n, DynamoMailStore, MAX_SORT_KEY, THREAD};
use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{decode, key};
use crate::keys;
use crate::query::token_after;

#[async_trait]
impl MailReader for DynamoMailStore {
    /// One page of a seat's threads, in key order, at most `limit` of them.
    ///
    /// A thread's messages share its key prefix (`T#`), so the query reads them and a filter
    /// keeps the threads; pages are topped up until `limit` threads or the end.
    /// The thread's sort key, as the listing's own tokens are.
    fn resume_after(&self, thread: &Thread) -> PageToken {
        PageToken::from_string(keys::thread_sk(&thread.thread_id))
    }

    async fn threads_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError> {
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        // A token is the sort key of a thread item this listing returned; anything else
        // (or longer than a key may be) was not issued here.
        if start.is_some_and(|t| {
            t.as_str().len() > MAX_SORT_KEY || keys::thread_id_of_sk(t.as_str()).is_none()
        }) {
            return Err(StoreError::BadPageToken);
        }
        let pk = keys::mail_pk(contract, seat);
        let query = self
            .items()
            .partition(&pk, keys::THREAD_PREFIX)
            .filter("#entity = :thread")
            .name("#entity", "entity")
            .string(":thread", THREAD)
            .page_size(i32::try_from(limit.saturating_mul(10).clamp(50, 1000)).unwrap_or(1000));
        let mut pages = query.pages(start.map(|t| key(&pk, t.as_str())));
        let mut threads: Vec<Thread> = Vec::new();
        let mut last_sk: Option<String> = None;
        while let Some(page) = pages.next().await? {
            for item in page.items {
                if threads.len() == limit {
                    // More threads follow on this page: resume after the last one returned.
                    return Ok(Page {
                        items: threads,
                        next: last_sk.map(PageToken::from_string),
                    });
                }
                let record = decode::<ThreadRecord>(item)?;
                last_sk = Some(record.sk.clone());
                threads.push(record.into_domain());
            }
            if threads.len() == limit {
                return Ok(Page {
                    items: threads,
                    next: page.last_key.as_ref().and_then(token_after),
                });
            }
        }
        Ok(Page {
            items: threads,
            next: None,
        })
    }

    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        ThreadStore::messages(self, contract, seat, thread_id).await
    }
}

#[async_trait]
impl Conversations for DynamoMailStore {
    /// The `by-counterpart` index's partition of the profile (eventually consistent); the
    /// domain decides what the viewer sees.
    async fn of_profile(
        &self,
        viewer: &Viewer,
        profile: &ProfileId,
    ) -> Result<Vec<Thread>, StoreError> {
        Ok(self
            .items()
            .query("counterpart_pk = :pk")
            .index("by-counterpart")
            .string(":pk", keys::profile_threads_pk(&viewer.contract, profile))
            .all::<ThreadRecord>()
            .await?
            .into_iter()
            .map(ThreadRecord::into_domain)
            .filter(|thread| thread.visible_to(viewer))
            .collect())
    }

    async fn thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<Thread>, StoreError> {
        DynamoMailStore::thread(self, contract, seat, thread_id).await
    }

    async fn set_visibility(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
        visibility: Visibility,
    ) -> Result<(), StoreError> {
        let pk = keys::mail_pk(contract, seat);
        let sk = keys::thread_sk(thread_id);
        let value =
            serde_dynamo::to_attribute_value(visibility).map_err(|source| StoreError::Encode {
                entity: THREAD,
                source: Box::new(source),
            })?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)))
            .update_expression("SET #visibility = :visibility, #version = #version + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#visibility", "visibility")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":visibility", value)
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        conditional("DynamoDB UpdateItem", result)?
            .map(drop)
            .map_err(|failed| failed.not_found(THREAD, format!("{pk}/{sk}")))
    }
}
