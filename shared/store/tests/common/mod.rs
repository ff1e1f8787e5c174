//! A stand-in for DynamoDB that answers with what a test needs: the answers DynamoDB Local
//! never gives (items left unprocessed, transactions cancelled by contention), in
//! DynamoDB's JSON protocol over real HTTP, so the SDK reads them as it reads DynamoDB's.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The requests received: the operation (`TransactWriteItems`) and its JSON body.
pub type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// An answer: HTTP status and JSON body.
pub type Answer = (u16, Value);

/// Serves on a free loopback port; call n (1-based) is answered with `answer(n, operation,
/// body)`.
pub async fn stub<F>(answer: F) -> (String, Calls)
where
    F: Fn(usize, &str, &Value) -> Answer + Send + Sync + 'static,
{
    let answer = Arc::new(answer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut operation = String::new();
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
                            if k.eq_ignore_ascii_case("x-amz-target") {
                                let target = v.trim();
                                operation = target
                                    .split_once('.')
                                    .map_or(target, |(_, op)| op)
                                    .to_owned();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let request: Value = serde_json::from_slice(&body).unwrap();
                    let n = {
                        let mut calls = seen.lock().unwrap();
                        calls.push((operation.clone(), request.clone()));
                        calls.len()
                    };
                    let (status, answer) = answer(n, &operation, &request);
                    let answer = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    write.write_all(response.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (url, calls)
}

/// A client of the stub at `url`, retrying nothing itself, so every call the store makes
/// reaches the stub once.
pub fn client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "stub"))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
