//! What an admin and the seat can see of a mailbox's sync: where it stands, since when,
//! how far, when it last succeeded and what last went wrong.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    /// Fetching the lookback period (first connection, or back after six months).
    Historical,
    /// A cursor expired: enumerating again, back to the lookback start.
    Resyncing,
    /// Following changes as they happen.
    Incremental,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub stage: SyncStage,
    /// When the current stage began.
    pub stage_started_at: Timestamp,
    /// Messages judged in the current stage (synced and skipped).
    pub judged: u64,
    pub synced: u64,
    pub last_success_at: Option<Timestamp>,
    /// A stable code of the last failure, never its details (they may quote mail).
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
}

impl SyncStatus {
    pub fn new(stage: SyncStage, now: Timestamp) -> Self {
        Self {
            stage,
            stage_started_at: now,
            judged: 0,
            synced: 0,
            last_success_at: None,
            last_error: None,
            last_error_at: None,
        }
    }

    /// A job finished in `stage`, having judged `judged` messages and kept `synced`.
    /// Entering another stage restarts the counts.
    pub fn succeeded(&mut self, stage: SyncStage, judged: u64, synced: u64, now: Timestamp) {
        if stage != self.stage {
            *self = Self::new(stage, now);
        }
        self.judged += judged;
        self.synced += synced;
        self.last_success_at = Some(now);
    }

    pub fn failed(&mut self, code: &str, now: Timestamp) {
        self.last_error = Some(code.to_owned());
        self.last_error_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accumulate_within_a_stage_and_restart_with_the_next() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let mut s = SyncStatus::new(SyncStage::Historical, t("2026-03-02T09:00:00Z"));
        s.succeeded(SyncStage::Historical, 50, 3, t("2026-03-02T09:01:00Z"));
        s.failed("graph delta", t("2026-03-02T09:02:00Z"));
        s.succeeded(SyncStage::Historical, 20, 1, t("2026-03-02T09:03:00Z"));
        assert_eq!((s.judged, s.synced), (70, 4));
        assert_eq!(
            s.last_error.as_deref(),
            Some("graph delta"),
            "the last error stays visible"
        );
        s.succeeded(SyncStage::Incremental, 2, 1, t("2026-03-02T10:00:00Z"));
        assert_eq!(s.stage, SyncStage::Incremental);
        assert_eq!(s.stage_started_at, t("2026-03-02T10:00:00Z"));
        assert_eq!((s.judged, s.synced), (2, 1));
        assert_eq!(s.last_error, None);
    }
}
