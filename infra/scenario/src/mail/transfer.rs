//! A seat changing hands: kai writes to rita, rita shares her conversation with jane, the
//! product transfers her seat to ruth, and ruth sees the shared conversation and not kai's.

use serde_json::{json, Value};

use super::desk::{letter, Desk};

/// The seat's threads as `token`'s holder sees them: (thread id, counterpart, visibility).
async fn listed(desk: &Desk<'_>, token: &str) -> anyhow::Result<Vec<(String, String, String)>> {
    let path = format!(
        "/v1/contracts/{}/seats/{}/threads?limit=100",
        desk.contract, desk.seat
    );
    let (status, body) = desk
        .client
        .call(reqwest::Method::GET, &path, token, None)
        .await?;
    anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
    Ok(body["threads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            (s("thread_id"), s("counterpart"), s("visibility"))
        })
        .collect())
}

async fn conversations(desk: &Desk<'_>, token: &str, profile: &str) -> anyhow::Result<Value> {
    let path = format!(
        "/v1/contracts/{}/candidates/{profile}/conversations",
        desk.contract
    );
    let (status, body) = desk
        .client
        .call(reqwest::Method::GET, &path, token, None)
        .await?;
    anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
    Ok(body)
}

pub(super) async fn run(rita: &mut Desk<'_>) -> anyhow::Result<()> {
    crate::heading(
        "kai writes to rita; rita shares her conversation with jane; the product transfers her seat to ruth",
    );
    rita.mail(
        "m14",
        letter(
            "kai-next",
            "Kai <kai@talent.example>",
            &["Rita Recruiter <rita@initech.example>"],
            &[],
            "Next steps",
            jiff::Timestamp::now(),
        ),
    )
    .await?;
    rita.suite.pump().await?;
    let before = listed(rita, &rita.token).await?;
    let shared = before
        .iter()
        .find(|(_, who, _)| who == "jane@talent.example")
        .map(|(id, _, _)| id.clone())
        .ok_or_else(|| anyhow::anyhow!("rita has no thread with jane"))?;
    anyhow::ensure!(
        before.iter().any(|(_, who, _)| who == "kai@talent.example"),
        "kai's mail synced"
    );
    let (status, body) = rita
        .client
        .call(
            reqwest::Method::PUT,
            &format!(
                "/v1/contracts/{}/seats/{}/threads/{shared}/visibility",
                rita.contract, rita.seat
            ),
            &rita.token,
            Some(json!({"visibility": "organization"})),
        )
        .await?;
    anyhow::ensure!(status == 200, "sharing refused: {status} {body}");
    for (_, who, visibility) in listed(rita, &rita.token).await? {
        println!("   rita's thread with {who}: {visibility}");
    }

    rita.suite
        .seat_event(json!({
            "contract_id": rita.contract, "seat_id": rita.seat,
            "holder": "user-ruth", "transferred_at": jiff::Timestamp::now().to_string()
        }))
        .await?;
    let pumped = rita.suite.pump().await?;
    println!(
        "   seat.transferred handled by settings-fanout ({} message, {} failed): rita's mailbox authorization ended",
        pumped.fan_out.received, pumped.fan_out.failed
    );
    let ruth = rita
        .suite
        .token(rita.contract, "user-ruth", rita.seat, "recruiter")?;
    let seen = listed(rita, &ruth).await?;
    for (_, who, visibility) in &seen {
        println!("   ruth, now holding the seat, sees the thread with {who} ({visibility})");
    }
    let count = |v: &Value| v["conversations"].as_array().map_or(0, Vec::len);
    let kai_for_ruth = conversations(rita, &ruth, "p-kai").await?;
    let kai_for_rita = conversations(rita, &rita.token, "p-kai").await?;
    println!(
        "   kai's conversations: ruth sees {}, rita {} (a private thread stays its holder's)",
        count(&kai_for_ruth),
        count(&kai_for_rita)
    );
    anyhow::ensure!(
        seen.len() == 1 && seen[0].0 == shared,
        "ruth sees exactly the shared thread"
    );
    // Rita's two private threads with kai: the one he wrote to her team's alias, and the
    // one he started above.
    anyhow::ensure!(count(&kai_for_ruth) == 0 && count(&kai_for_rita) == 2);
    Ok(())
}
