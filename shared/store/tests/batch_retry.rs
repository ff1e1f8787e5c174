//! Batch writes finish the job when DynamoDB processes only part of a batch.
//!
//! DynamoDB Local never leaves items unprocessed, so these tests speak DynamoDB's JSON
//! protocol over real HTTP from a small stub that answers with `UnprocessedItems`, the
//! documented shape of a partly processed BatchWriteItem.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use hiresync_store::{batch_write, BatchPolicy, StoreError};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Each call's request items; the stub answers call n with `leave(n, items)` unprocessed.
type Calls = Arc<Mutex<Vec<Vec<Value>>>>;

async fn stub(leave: fn(usize, &[Value]) -> Vec<Value>) -> (String, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let request: Value = serde_json::from_slice(&body).unwrap();
                    let items = request["RequestItems"]["seats"].as_array().unwrap().clone();
                    let n = {
                        let mut calls = seen.lock().unwrap();
                        calls.push(items.clone());
                        calls.len()
                    };
                    let left = leave(n, &items);
                    let answer = if left.is_empty() {
                        json!({ "UnprocessedItems": {} })
                    } else {
                        json!({ "UnprocessedItems": { "seats": left } })
                    }
                    .to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    write.write_all(response.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (url, calls)
}

fn client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "stub"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn puts(n: usize) -> Vec<WriteRequest> {
    (0..n)
        .map(|i| {
            let item = HashMap::from([
                ("pk".to_owned(), AttributeValue::S("CONTRACT#c".into())),
                ("sk".to_owned(), AttributeValue::S(format!("SEAT#{i:03}"))),
            ]);
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect()
}

fn fast(max_attempts: u32) -> BatchPolicy {
    BatchPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn unprocessed_items_are_sent_again_until_none_remain() {
    // GIVEN a DynamoDB that leaves the first three items of its first answer unprocessed
    let (url, calls) = stub(|n, items| if n == 1 { items[..3].to_vec() } else { vec![] }).await;

    // WHEN 30 items are written
    batch_write(&client(&url), "seats", puts(30), fast(5))
        .await
        .unwrap();

    // THEN the first chunk of 25 is retried with exactly the three left over, then the rest
    let calls = calls.lock().unwrap();
    let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![25, 3, 5]);
    assert_eq!(calls[1], calls[0][..3].to_vec());
}

#[tokio::test]
async fn a_write_that_never_completes_says_how_much_is_left() {
    let (url, calls) = stub(|_, items| items[..2].to_vec()).await;
    let result = batch_write(&client(&url), "seats", puts(10), fast(4)).await;
    match result {
        Err(StoreError::BatchIncomplete {
            remaining,
            attempts,
            ..
        }) => {
            assert_eq!(remaining, 2);
            assert_eq!(attempts, 4);
        }
        other => panic!("expected BatchIncomplete, got {other:?}"),
    }
    assert_eq!(calls.lock().unwrap().len(), 4);
}
