//! Queue polling as Lambda's SQS event source does it: receive a batch, hand it to the
//! function as an `SqsEvent`, delete what succeeded, leave reported failures to become
//! visible again (and, after the queue's receive count, to move to its dead-letter queue).

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollOutcome {
    pub received: usize,
    pub succeeded: usize,
    pub failed: usize,
}

/// When a reported failure is delivered again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redelivery {
    /// After the queue's visibility timeout, as on AWS.
    QueueTimeout,
    /// After this many seconds: the local suite's shortcut, so a failing message reaches
    /// its dead-letter queue within seconds rather than after receive-count x timeout.
    After(i32),
}

/// Receives up to ten messages from `queue_url`, runs `function` on them as one batch and
/// deletes the ones it did not report as failed.
pub async fn poll_once<F, Fut>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    function: F,
) -> anyhow::Result<PollOutcome>
where
    F: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    poll(sqs, queue_url, Redelivery::QueueTimeout, function).await
}

/// [`poll_once`], with the failures redelivered as `redelivery` says.
pub async fn poll<F, Fut>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    redelivery: Redelivery,
    function: F,
) -> anyhow::Result<PollOutcome>
where
    F: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(0)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "receiving from {queue_url}: {}",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(PollOutcome::default());
    }
    let mut handles = HashMap::new();
    let mut event = SqsEvent::default();
    for m in &messages {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id.clone();
        record.receipt_handle = m.receipt_handle.clone();
        record.body = m.body.clone();
        record.attributes = m
            .attributes
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect();
        record.event_source = Some("aws:sqs".to_owned());
        if let (Some(id), Some(handle)) = (&m.message_id, &m.receipt_handle) {
            handles.insert(id.clone(), handle.clone());
        }
        event.records.push(record);
    }
    let response = function(event).await;
    for failure in &response.batch_item_failures {
        let handle = handles.remove(&failure.item_identifier);
        if let (Redelivery::After(seconds), Some(handle)) = (redelivery, handle) {
            sqs.change_message_visibility()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .visibility_timeout(seconds)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "making a failed message visible again on {queue_url}: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    )
                })?;
        }
    }
    let succeeded = handles.len();
    if !handles.is_empty() {
        let entries = handles
            .into_iter()
            .enumerate()
            .map(|(n, (_, handle))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{n}"))
                    .receipt_handle(handle)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        sqs.delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "deleting from {queue_url}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
    }
    Ok(PollOutcome {
        received: messages.len(),
        succeeded,
        failed: messages.len() - succeeded,
    })
}
