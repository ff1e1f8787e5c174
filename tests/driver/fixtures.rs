//! What several tests start from: a mail as the sandbox takes it, sets of ids, instants in
//! the past, a Microsoft 365 contract with one connected seat.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::{Result, Running};

/// That many days before now, as the sandbox takes a message's date.
pub fn days_ago(days: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days)).to_string()
}

/// A message for [`Running::deliver`]; `at: None` means now.
pub fn mail(thread: &str, from: &str, to: &[&str], cc: &[&str], at: Option<String>) -> Value {
    json!({"thread": thread, "from": from, "to": to, "cc": cc, "subject": format!("about {thread}"), "at": at})
}

/// The set of ids, to compare with [`Running::stored_ids`].
pub fn ids(list: &[&String]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A Microsoft 365 contract with candidates, and one connected seat.
pub async fn microsoft_seat(suite: &Running, contract: &str, address: &str) -> Result<()> {
    suite
        .settings(
            contract,
            json!({"provider": "microsoft365", "email_access": "view_only"}),
        )
        .await?;
    for (profile, email, pipeline, discovery) in [
        ("p-jane", "jane@talent.example", true, "anyone"),
        ("p-noor", "noor@talent.example", true, "anyone"),
        ("p-omar", "omar@talent.example", false, "anyone"),
        ("p-lena", "lena@talent.example", true, "first_degree"),
    ] {
        suite
            .candidate(contract, profile, email, pipeline, discovery)
            .await?;
    }
    suite.connect(contract, "sam", address).await
}
