//! Structured JSON logs.
//!
//! One JSON object per line, carrying the fields of every open span: the Lambda runtime
//! opens one with the `requestId` of each invocation, and handlers open spans with the
//! `contract` and `seat` they work on, so every line says whose work it was. Payloads,
//! tokens and mail bodies are never logged.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

pub use hiresync_domain::failure::Chain;

/// A JSON subscriber writing to `writer`, filtered by `RUST_LOG` (default `info`).
pub fn json_subscriber<W>(writer: W, filter: &str) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(true)
        .without_time()
        .with_writer(writer)
        .finish()
}

/// Installs JSON logging to stdout for this process. Lambda adds the timestamp itself.
pub fn init() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    // A second call (tests, local runner) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(json_subscriber(std::io::stdout, &filter));
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn each_line_is_json_with_the_request_and_the_contract_and_seat() {
        let buffer = Buffer::default();
        let subscriber = json_subscriber(buffer.clone(), "info");
        tracing::subscriber::with_default(subscriber, || {
            let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "req-123");
            let _i = invoke.enter();
            let work = tracing::info_span!("record", contract = "acme", seat = "seat-7");
            let _w = work.enter();
            tracing::info!(decision = "skipped", "message handled");
            tracing::debug!("filtered out");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["message"], "message handled");
        assert_eq!(line["decision"], "skipped");
        assert_eq!(line["level"], "INFO");
        let spans = line["spans"].as_array().unwrap();
        assert_eq!(spans[0]["requestId"], "req-123");
        assert_eq!(spans[1]["contract"], "acme");
        assert_eq!(spans[1]["seat"], "seat-7");
    }
}
