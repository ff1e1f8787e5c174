//! Every log line of a test, captured as JSON at trace level (the SDK's and the HTTP
//! stack's included), and the check that no secret appears in any of them.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A writer that keeps everything written to it.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Captures the current thread's log lines (the JSON format the functions log in) for as
/// long as it lives. When dropped (and the test is not already failing) it fails if any
/// secret it was told about appears in any line.
pub struct LogCapture {
    logs: Captured,
    secrets: Mutex<Vec<String>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    /// Starts capturing at trace level, watching for `secrets`.
    pub fn start(secrets: &[&str]) -> Self {
        let logs = Captured::default();
        let guard = tracing::subscriber::set_default(hiresync_runtime::telemetry::json_subscriber(
            logs.clone(),
            "trace",
        ));
        Self {
            logs,
            secrets: Mutex::new(secrets.iter().map(|s| (*s).to_owned()).collect()),
            _guard: guard,
        }
    }

    /// Watches for one more secret (a token a test minted).
    pub fn watch(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    /// Every line so far.
    pub fn text(&self) -> String {
        self.logs.text()
    }

    /// The captured lines, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Fails if a watched secret appears in any line so far.
    pub fn assert_no_secret(&self) {
        let text = self.text();
        for secret in self.secrets.lock().unwrap().iter() {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({} characters) reached the logs",
                secret.len()
            );
        }
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_secret();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_in_a_log_line_is_caught() {
        let capture = LogCapture::start(&["hunter2-secret"]);
        tracing::info!(token = "hunter2-secret", "oops");
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| capture.assert_no_secret()));
        assert!(caught.is_err());
        // The line is JSON with the field.
        assert_eq!(capture.lines()[0]["token"], "hunter2-secret");
        std::mem::forget(capture);
    }

    #[test]
    fn clean_logs_pass() {
        let capture = LogCapture::start(&["hunter2-secret"]);
        tracing::info!(seat = "s1", "fine");
        assert!(capture.text().contains("fine"));
    }
}
