//! What each sync job tells CloudWatch (embedded metric format): how late it ran, what it
//! synced, skipped (by rule), deleted and removed, and what failed, by the operation that
//! failed (`graph delta`, `gmail history`, ...), throttles apart.

use hiresync_connect::Failure;
use hiresync_messages::SyncJob;
use hiresync_runtime::metrics::{record, Metric};
use hiresync_sync::IngestReport;
use jiff::Timestamp;

const FUNCTION: (&str, &str) = ("Function", "ingest");

fn count(name: &str, value: usize) -> Metric<'_> {
    Metric {
        name,
        value: value as f64,
        unit: "Count",
    }
}

/// The metric lines of one job's outcome at `now`.
pub fn lines(
    job: &SyncJob,
    outcome: Result<&IngestReport, &Failure>,
    now: Timestamp,
) -> Vec<String> {
    let at = now.as_millisecond();
    let lag = now.duration_since(job.requested_at).as_secs_f64().max(0.0);
    let mut lines = vec![record(
        &[FUNCTION],
        &[Metric {
            name: "JobLag",
            value: lag,
            unit: "Seconds",
        }],
        at,
    )];
    match outcome {
        Ok(report) => {
            lines.push(record(
                &[FUNCTION],
                &[
                    count("Synced", report.synced),
                    count("Skipped", report.skipped),
                    count("Deleted", report.deleted),
                    count("Reconciled", report.reconciled),
                ],
                at,
            ));
            for (rule, n) in &report.skipped_by {
                lines.push(record(
                    &[FUNCTION, ("Rule", rule)],
                    &[count("Skipped", *n)],
                    at,
                ));
            }
        }
        Err(failure) => {
            let name = if failure.retry_after().is_some() {
                "Throttled"
            } else {
                "Failed"
            };
            lines.push(record(
                &[FUNCTION, ("Operation", failure.code())],
                &[count(name, 1)],
                at,
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use hiresync_domain::connection::ConnectionKind;
    use hiresync_domain::ids::{ContractId, SeatId};
    use hiresync_messages::SyncReason;
    use serde_json::Value;

    fn job() -> SyncJob {
        SyncJob {
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("s1").unwrap(),
            kind: ConnectionKind::Email,
            reason: SyncReason::Push,
            requested_at: "2026-03-02T09:00:00Z".parse().unwrap(),
        }
    }

    fn parsed(lines: &[String]) -> Vec<Value> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_job_reports_its_lag_its_counts_and_its_skips_by_rule() {
        let mut report = IngestReport {
            synced: 2,
            skipped: 3,
            deleted: 1,
            ..Default::default()
        };
        report.skipped_by.insert("same_domain", 2);
        report.skipped_by.insert("no_profile", 1);
        let now = "2026-03-02T09:00:30Z".parse().unwrap();
        let v = parsed(&lines(&job(), Ok(&report), now));
        assert_eq!(v[0]["JobLag"], 30.0);
        assert_eq!(
            (v[1]["Synced"].clone(), v[1]["Skipped"].clone()),
            (2.0.into(), 3.0.into())
        );
        let by_rule: Vec<(String, f64)> = v[2..]
            .iter()
            .map(|r| {
                (
                    r["Rule"].as_str().unwrap().to_owned(),
                    r["Skipped"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            by_rule,
            vec![("no_profile".into(), 1.0), ("same_domain".into(), 2.0)]
        );
        // nothing that names the seat, its contract or its mail
        for line in lines(&job(), Ok(&report), now) {
            assert!(!line.contains("acme") && !line.contains("s1"), "{line}");
        }
    }

    #[test]
    fn a_failed_job_reports_the_operation_that_failed_and_a_throttle_apart() {
        let now = "2026-03-02T09:00:00Z".parse().unwrap();
        let failed = Failure::internal("graph delta", std::io::Error::other("boom"));
        let v = parsed(&lines(&job(), Err(&failed), now));
        assert_eq!(v[1]["Operation"], "graph delta");
        assert_eq!(v[1]["Failed"], 1.0);
        let throttled: Failure = hiresync_domain::ports::MailboxError::new(
            "gmail history",
            std::io::Error::other("429"),
        )
        .throttled(Some(std::time::Duration::from_secs(60)))
        .into();
        let v = parsed(&lines(&job(), Err(&throttled), now));
        assert_eq!(v[1]["Operation"], "gmail history");
        assert_eq!(v[1]["Throttled"], 1.0);
    }
}
