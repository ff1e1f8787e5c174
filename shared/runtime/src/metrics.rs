//! Metrics as CloudWatch's embedded metric format: one JSON object per line on stdout,
//! which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics (no API call,
//! no extra latency). Values only: never an address, a subject or an id of a seat.

use serde_json::{json, Map, Value};

/// The namespace every hiresync metric is in.
pub const NAMESPACE: &str = "hiresync";

/// One metric of a record: its name, value and CloudWatch unit (`Count`, `Seconds`).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub value: f64,
    pub unit: &'a str,
}

/// The line of one record: `metrics` under the `dimensions` given (name, value), at
/// `at_ms` (milliseconds since the epoch).
pub fn record(dimensions: &[(&str, &str)], metrics: &[Metric<'_>], at_ms: i64) -> String {
    let mut root = Map::new();
    for (name, value) in dimensions {
        root.insert((*name).to_owned(), json!(value));
    }
    for m in metrics {
        root.insert(m.name.to_owned(), json!(m.value));
    }
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(n, _)| *n).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    Value::Object(root).to_string()
}

/// Writes the lines to stdout, each on its own (CloudWatch reads one object per line),
/// when running in Lambda; elsewhere (the local suite, tests) there is no CloudWatch to
/// read them, and they would only interleave with what the suite prints.
pub fn emit(lines: &[String]) {
    use std::io::Write;
    static IN_LAMBDA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()) {
        return;
    }
    let mut out = std::io::stdout().lock();
    for line in lines {
        // A metric that cannot be written is not worth failing the work for.
        let _unwritten = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_metrics_and_dimensions_as_cloudwatch_reads_them() {
        let line = record(
            &[("Function", "ingest"), ("Rule", "same_domain")],
            &[Metric {
                name: "Skipped",
                value: 3.0,
                unit: "Count",
            }],
            1_764_000_000_000,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Function"], "ingest");
        assert_eq!(v["Rule"], "same_domain");
        assert_eq!(v["Skipped"], 3.0);
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_764_000_000_000i64);
        assert_eq!(cw["Namespace"], "hiresync");
        assert_eq!(cw["Dimensions"], json!([["Function", "Rule"]]));
        assert_eq!(cw["Metrics"], json!([{"Name": "Skipped", "Unit": "Count"}]));
        assert!(!line.contains('\n'));
    }
}
