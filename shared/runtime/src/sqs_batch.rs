//! SQS batches with per-record failures (`ReportBatchItemFailures`).
//!
//! Each record is decoded and handled on its own; only the records that failed are
//! reported, so SQS redelivers them (and, after the queue's receive count, moves them to
//! the dead-letter queue) while the rest of the batch is deleted.
//!
//! On a FIFO queue order matters within a message group: once a record of a group fails,
//! the group's later records in the batch are not attempted and are reported failed too,
//! while other groups carry on.

use std::collections::HashSet;
use std::error::Error;
use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::stream::{self, StreamExt};
use futures::FutureExt;
use serde::de::DeserializeOwned;
use tracing::{error, warn};

use crate::diagnostics::ErrorType;
use crate::telemetry::Chain;

/// How a batch is worked through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// Standard queue: records are independent and run concurrently, at most this many at once.
    Concurrent(usize),
    /// FIFO queue: records run one after another; a failure holds back its group.
    Fifo,
}

/// What a record handler sees besides the decoded body.
#[derive(Debug, Clone)]
pub struct RecordMeta {
    pub message_id: String,
    pub group: Option<String>,
    /// How many times SQS has delivered this record, this time included.
    pub receive_count: u32,
}

fn meta(record: &SqsMessage) -> RecordMeta {
    RecordMeta {
        message_id: record.message_id.clone().unwrap_or_default(),
        group: record.attributes.get("MessageGroupId").cloned(),
        receive_count: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
    }
}

async fn run_one<T, F, Fut, E>(record: &SqsMessage, handler: &F) -> bool
where
    T: DeserializeOwned,
    F: Fn(T, RecordMeta) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: ErrorType + Error + 'static,
{
    let meta = meta(record);
    let body = record.body.as_deref().unwrap_or_default();
    let message = match serde_json::from_str::<T>(body) {
        Ok(m) => m,
        Err(e) => {
            // Never log the body: it may carry personal data.
            error!(message_id = %meta.message_id, error = %e, "record body is not a valid message");
            return false;
        }
    };
    let id = meta.message_id.clone();
    let receive_count = meta.receive_count;
    // A record that panics fails alone; the rest of the batch goes on.
    let outcome = std::panic::AssertUnwindSafe(async move { handler(message, meta).await })
        .catch_unwind()
        .await;
    match outcome {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            warn!(message_id = %id, receive_count, error_type = %e.error_type(), error = %Chain(&e), "record failed; SQS will redeliver it");
            false
        }
        Err(_) => {
            error!(message_id = %id, receive_count, "record handler panicked; SQS will redeliver it");
            false
        }
    }
}

fn failure(id: &str) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id.to_owned();
    f
}

/// Runs `handler` on each record of `event` and reports the failed ones.
pub async fn process<T, F, Fut, E>(
    event: SqsEvent,
    ordering: Ordering,
    handler: F,
) -> SqsBatchResponse
where
    T: DeserializeOwned,
    F: Fn(T, RecordMeta) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: ErrorType + Error + 'static,
{
    let mut failed: Vec<String> = Vec::new();
    match ordering {
        Ordering::Concurrent(limit) => {
            let handler = &handler;
            let outcomes: Vec<(String, bool)> = stream::iter(event.records.iter())
                .map(|record| async move {
                    (
                        record.message_id.clone().unwrap_or_default(),
                        run_one(record, handler).await,
                    )
                })
                .buffered(limit.max(1))
                .collect()
                .await;
            failed.extend(outcomes.into_iter().filter(|(_, ok)| !ok).map(|(id, _)| id));
        }
        Ordering::Fifo => {
            let mut held_back: HashSet<Option<String>> = HashSet::new();
            for record in &event.records {
                let group = record.attributes.get("MessageGroupId").cloned();
                let id = record.message_id.clone().unwrap_or_default();
                if held_back.contains(&group) || !run_one(record, &handler).await {
                    held_back.insert(group);
                    failed.push(id);
                }
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed.iter().map(|id| failure(id)).collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Oops(&'static str);

    impl ErrorType for Oops {
        fn error_type(&self) -> String {
            "Oops".into()
        }
    }

    fn record(id: &str, group: Option<&str>, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body.to_owned());
        if let Some(g) = group {
            m.attributes = HashMap::from([("MessageGroupId".to_owned(), g.to_owned())]);
        }
        m
    }

    fn event(records: Vec<SqsMessage>) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = records;
        e
    }

    fn failures(r: &SqsBatchResponse) -> Vec<&str> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_record_that_panics_fails_alone() {
        let e = event(vec![
            record("a", None, "1"),
            record("b", None, "2"),
            record("c", None, "3"),
        ]);
        let r = process(e, Ordering::Concurrent(2), |n: u32, _| async move {
            if n == 2 {
                panic!("a bug on one record");
            }
            Ok::<_, Oops>(())
        })
        .await;
        assert_eq!(failures(&r), vec!["b"]);
    }

    #[tokio::test]
    async fn only_failed_and_undecodable_records_are_reported() {
        let seen = Mutex::new(Vec::new());
        let e = event(vec![
            record("a", None, "1"),
            record("b", None, "not json"),
            record("c", None, "3"),
            record("d", None, "4"),
        ]);
        let r = process(e, Ordering::Concurrent(2), |n: u32, _| {
            seen.lock().unwrap().push(n);
            async move {
                if n == 3 {
                    Err(Oops("three is unlucky"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(failures(&r), vec!["b", "c"]);
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, vec![1, 3, 4]);
    }

    #[tokio::test]
    async fn a_fifo_failure_holds_back_the_rest_of_its_group_only() {
        let seen = Mutex::new(Vec::new());
        let e = event(vec![
            record("g1-1", Some("g1"), "1"),
            record("g2-1", Some("g2"), "2"),
            record("g1-2", Some("g1"), "13"),
            record("g2-2", Some("g2"), "4"),
            record("g1-3", Some("g1"), "5"),
        ]);
        let r = process(e, Ordering::Fifo, |n: u32, _| {
            seen.lock().unwrap().push(n);
            async move {
                if n == 13 {
                    Err(Oops("boom"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(failures(&r), vec!["g1-2", "g1-3"]);
        assert_eq!(
            seen.into_inner().unwrap(),
            vec![1, 2, 13, 4],
            "g1-3 never ran"
        );
    }

    #[tokio::test]
    async fn an_empty_batch_reports_nothing() {
        let r = process(event(vec![]), Ordering::Fifo, |_: u32, _| async {
            Ok::<(), Oops>(())
        })
        .await;
        assert!(r.batch_item_failures.is_empty());
    }
}
