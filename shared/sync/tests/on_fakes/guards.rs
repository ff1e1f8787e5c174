//! When nothing is fetched, and what the connection's status says after a job.

use hiresync_domain::access::DeauthorizationReason;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{ConnectionKind, ConnectionState};
use hiresync_domain::contract::{Contract, EmailAccess, Provider};
use hiresync_domain::sync_status::SyncStage;
use hiresync_messages::{SyncJob, SyncReason};
use hiresync_sync::IngestReport;
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::mailbox::Step;

use crate::support::*;

fn one_message() -> Step {
    Step::last(
        vec![from(
            "m-1",
            "c-jane",
            "jane@cand.example",
            "2026-02-20T10:00:00Z",
        )],
        vec![],
    )
}

#[tokio::test]
async fn nothing_is_fetched_for_a_deauthorized_seat() {
    let w = World::microsoft().await;
    w.change_connection(|c| {
        c.state = ConnectionState::Deauthorized {
            reason: DeauthorizationReason::SeatRequested,
        }
    });
    let report = w.sync([one_message()]).await;
    assert_eq!(report, IngestReport::default());
    assert!(w.mailbox.opened().is_empty());
    assert!(
        w.tokens.asked.lock().unwrap().is_empty(),
        "no token refreshed"
    );
    assert!(w.mail.provider_ids().is_empty());
    assert_eq!(w.status().await, None);
}

#[tokio::test]
async fn nothing_is_fetched_for_a_seat_its_contract_no_longer_lets_sync() {
    // The connection is still authorized: the settings change has not reached it yet.
    type Change = fn(&mut Contract);
    let changes: [(&str, Change); 3] = [
        ("email turned off", |c| {
            c.settings.email_access = EmailAccess::Off
        }),
        ("suspended", |c| {
            c.suspend("2026-06-01T00:00:00Z".parse().unwrap());
        }),
        ("provider switched", |c| {
            c.settings.provider = Some(Provider::GoogleWorkspace)
        }),
    ];
    for (case, change) in changes {
        let w = World::microsoft().await;
        w.change_contract(change).await;
        let report = w.sync([one_message()]).await;
        assert_eq!(report, IngestReport::default(), "{case}");
        assert!(w.mailbox.opened().is_empty(), "{case}");
        assert!(w.tokens.asked.lock().unwrap().is_empty(), "{case}");
        assert!(w.mail.provider_ids().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn a_calendar_job_fetches_no_mail() {
    let w = World::microsoft().await;
    w.mailbox.then([one_message()]);
    let calendar = SyncJob {
        kind: ConnectionKind::Calendar,
        ..job(SyncReason::Push)
    };
    let report = w.ingestor.run(&calendar, ts(NOW)).await.unwrap();
    assert_eq!(report, IngestReport::default());
    assert!(w.mailbox.opened().is_empty());
}

#[tokio::test]
async fn a_job_for_a_connection_that_does_not_exist_is_dropped() {
    let w = World::microsoft().await;
    w.mailbox.then([one_message()]);
    let other = SyncJob {
        seat: hiresync_domain::ids::SeatId::parse("s9").unwrap(),
        ..job(SyncReason::Push)
    };
    let report = w.ingestor.run(&other, ts(NOW)).await.unwrap();
    assert_eq!(report, IngestReport::default());
    assert!(w.mailbox.opened().is_empty());
}

#[tokio::test]
async fn a_refused_grant_ends_the_job_quietly() {
    let w = World::microsoft().await;
    w.tokens.refuse(ConnectError::UserDeclined {
        provider: Provider::Microsoft365,
    });
    let report = w.sync([one_message()]).await;
    assert_eq!(report, IngestReport::default());
    assert!(w.mailbox.opened().is_empty(), "nothing fetched");
    assert_eq!(
        w.status().await,
        None,
        "the connector tells the seat, not the status"
    );
}

#[tokio::test]
async fn the_seats_mailbox_is_opened_at_its_provider() {
    for provider in [Provider::Microsoft365, Provider::GoogleWorkspace] {
        let w = World::new(provider).await;
        w.sync([]).await;
        assert_eq!(w.mailbox.opened(), [(provider, addr(SEAT))]);
        assert_eq!(w.tokens.asked.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_successful_job_records_its_stage_and_counts() {
    let w = World::microsoft().await;
    w.sync([Step::last(
        vec![
            from("m-1", "c-jane", "jane@cand.example", "2026-02-20T10:00:00Z"),
            from(
                "m-2",
                "c-x",
                "stranger@else.example",
                "2026-02-20T10:00:00Z",
            ),
        ],
        vec![],
    )])
    .await;
    let status = w.status().await.unwrap();
    assert_eq!(status.stage, SyncStage::Historical);
    assert_eq!((status.judged, status.synced), (2, 1));
    assert_eq!(status.last_success_at, Some(ts(NOW)));
    assert_eq!(status.last_error, None);
}

#[tokio::test]
async fn a_failing_provider_shows_its_operation_and_keeps_what_was_stored() {
    let w = World::microsoft().await;
    w.mailbox.then([
        Step::page(
            vec![from(
                "m-1",
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![set("graph_inbox", "page-2")],
        ),
        Step::Fails {
            operation: "graph delta",
        },
    ]);
    let failed = w.ingestor.run(&job(SyncReason::Historical), ts(NOW)).await;
    assert_eq!(failed.unwrap_err().code(), "graph delta", "SQS redelivers");
    let status = w.status().await.unwrap();
    assert_eq!(status.last_error.as_deref(), Some("graph delta"));
    assert_eq!(status.last_error_at, Some(ts(NOW)));
    assert_eq!(status.last_success_at, None);
    assert_eq!(w.mail.provider_ids(), ["m-1"]);
    assert_eq!(
        w.cursor()["graph_inbox"],
        "page-2",
        "the stored page's cursor stays"
    );
}

#[tokio::test]
async fn a_mailbox_that_cannot_be_opened_is_a_failure_with_its_name() {
    let w = World::microsoft().await;
    w.mailbox.fail_open("graph base URL");
    let failed = w.ingestor.run(&job(SyncReason::Push), ts(NOW)).await;
    assert_eq!(failed.unwrap_err().code(), "graph base URL");
    assert_eq!(
        w.status().await.unwrap().last_error.as_deref(),
        Some("graph base URL")
    );
}

#[tokio::test]
async fn a_calendar_change_forgets_the_seats_cached_busy_time_and_reads_no_mail() {
    use hiresync_domain::ports::ConnectionStore;
    let w = World::microsoft().await;
    let mut calendar = connection(Provider::Microsoft365);
    calendar.kind = ConnectionKind::Calendar;
    w.connections.create(&calendar).await.unwrap();
    let job = SyncJob {
        kind: ConnectionKind::Calendar,
        ..job(SyncReason::Push)
    };
    let report = w.ingestor.run(&job, ts(NOW)).await.unwrap();
    assert_eq!(report, IngestReport::default());
    assert_eq!(*w.busy.seats.lock().unwrap(), vec![(acme(), seat())]);
    assert!(w.mailbox.opened().is_empty());
    // A deauthorized calendar's pushes change nothing.
    calendar.state = ConnectionState::Deauthorized {
        reason: DeauthorizationReason::SeatRequested,
    };
    w.connections.overwrite(&calendar);
    w.ingestor.run(&job, ts(NOW)).await.unwrap();
    assert_eq!(w.busy.seats.lock().unwrap().len(), 1);
}
