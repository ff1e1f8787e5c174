//! Batch writes that finish the job: DynamoDB may accept a batch only in part, returning
//! the rest as unprocessed items, which are retried with backoff until none remain.

use std::time::Duration;

use aws_sdk_dynamodb::types::WriteRequest;
use aws_sdk_dynamodb::Client;

use crate::error::StoreError;

/// DynamoDB's own limit on one BatchWriteItem call.
pub const MAX_BATCH: usize = 25;

#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Calls per chunk before giving up, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl BatchPolicy {
    /// Full-jitter exponential backoff before retry number `retry` (1-based).
    fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Sends `requests` in chunks of `chunk` through `call`, which answers what it found and
/// what DynamoDB left unprocessed; the unprocessed part is sent again with backoff until
/// nothing is left, or the policy's attempts are spent.
async fn in_chunks<R, O, F, Fut>(
    table: &str,
    requests: Vec<R>,
    chunk: usize,
    policy: BatchPolicy,
    mut call: F,
) -> Result<Vec<O>, StoreError>
where
    F: FnMut(Vec<R>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<O>, Vec<R>), StoreError>>,
{
    let mut found = Vec::new();
    let mut requests = requests.into_iter().peekable();
    while requests.peek().is_some() {
        let mut pending: Vec<R> = requests.by_ref().take(chunk).collect();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            if attempt > policy.max_attempts {
                return Err(StoreError::BatchIncomplete {
                    table: table.to_owned(),
                    remaining: pending.len(),
                    attempts: policy.max_attempts,
                });
            }
            if attempt > 1 {
                tokio::time::sleep(policy.delay(attempt - 1)).await;
            }
            let (got, left) = call(std::mem::take(&mut pending)).await?;
            found.extend(got);
            pending = left;
            if !pending.is_empty() {
                tracing::debug!(
                    table,
                    unprocessed = pending.len(),
                    attempt,
                    "batch partly processed; retrying"
                );
            }
        }
    }
    Ok(found)
}

/// Writes every request, in chunks of 25, retrying what DynamoDB leaves unprocessed.
pub async fn batch_write(
    client: &Client,
    table: &str,
    requests: Vec<WriteRequest>,
    policy: BatchPolicy,
) -> Result<(), StoreError> {
    in_chunks(table, requests, MAX_BATCH, policy, |chunk| async move {
        let out = client
            .batch_write_item()
            .request_items(table, chunk)
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB BatchWriteItem", e))?;
        let left = out
            .unprocessed_items
            .and_then(|mut u| u.remove(table))
            .unwrap_or_default();
        Ok((Vec::<()>::new(), left))
    })
    .await
    .map(drop)
}

/// DynamoDB's own limit on the keys of one BatchGetItem call.
pub const MAX_BATCH_GET: usize = 100;

/// Reads every key (strongly consistent), in chunks of 100, retrying what DynamoDB leaves
/// unprocessed; the items found, in no particular order.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<crate::items::Item>,
    policy: BatchPolicy,
) -> Result<Vec<crate::items::Item>, StoreError> {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    in_chunks(table, keys, MAX_BATCH_GET, policy, |chunk| async move {
        let request = crate::error::built(
            "DynamoDB BatchGetItem",
            KeysAndAttributes::builder()
                .set_keys(Some(chunk))
                .consistent_read(true)
                .build(),
        )?;
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|e| crate::error::dynamo("DynamoDB BatchGetItem", e))?;
        let got = out
            .responses
            .and_then(|mut r| r.remove(table))
            .unwrap_or_default();
        let left = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        Ok((got, left))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = BatchPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
        };
        for retry in 1..20 {
            let d = p.delay(retry);
            assert!(d <= Duration::from_millis(700), "retry {retry}: {d:?}");
        }
    }
}
