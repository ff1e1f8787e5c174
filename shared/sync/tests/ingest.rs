//! Ingest end to end below the queue: a connected mailbox, a provider stub speaking Graph
//! delta and Gmail history, the real stores on the local AWS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../connect/tests/common/mod.rs"]
mod common;
mod wiring;

use std::collections::BTreeMap;

use common::{consent, sign_in, ts, Harness};
use hiresync_domain::connection::ConnectionKind;
use hiresync_domain::contract::{EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::directory::{DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId, UserId};
use hiresync_domain::ports::{DirectoryWriter, SkipLog, ThreadStore};
use hiresync_messages::{SyncJob, SyncReason};
use hiresync_store::{DynamoDirectoryStore, DynamoMailStore};
use hiresync_sync::{Ingestor, Limits};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const CONNECTED: &str = "2026-03-02T09:00:00Z";
const NOW: &str = "2026-03-03T12:00:00Z";

fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}
fn seat() -> SeatId {
    SeatId::parse("s1").unwrap()
}
fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

struct Setup {
    h: Harness,
    ingestor: Ingestor,
    mail: DynamoMailStore,
}

async fn setup(label: &str, provider: Provider) -> Setup {
    let h = Harness::new(label).await;
    h.connector
        .change_settings(
            &acme(),
            SettingsUpdate {
                provider: Some(provider),
                email_access: Some(EmailAccess::ViewOnly),
                calendar_enabled: Some(false),
                video_meetings: None,
            },
            ts(CONNECTED),
        )
        .await
        .unwrap();
    match provider {
        Provider::Microsoft365 => {
            h.microsoft_tenant(
                "ms-refresh-ingest",
                "Mail.Read User.Read",
                "rita@acme.example",
            )
            .await;
            // A mailbox of Inbox and Sent Items alone, unless a test mounts its own folders
            // (any priority above this one's wins).
            h.graph_folders(&[]).await;
        }
        Provider::GoogleWorkspace => {
            h.google_account(
                "g-refresh-ingest",
                "openid https://www.googleapis.com/auth/gmail.readonly",
                "rita@acme.example",
            )
            .await
        }
    }
    let start = h
        .connector
        .start_authorization(
            &acme(),
            &seat(),
            &UserId::parse("u1").unwrap(),
            ConnectionKind::Email,
            None,
            ts(CONNECTED),
        )
        .await
        .unwrap();
    h.connector
        .complete_authorization(
            &sign_in(seat(), UserId::parse("u1").unwrap(), ConnectionKind::Email),
            &consent(&start.url, "code-ingest"),
            ts(CONNECTED),
        )
        .await
        .unwrap();
    h.drain("SyncJobsQueue").await;

    let aws = hiresync_localstack::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let directory =
        DynamoDirectoryStore::new(dynamo.clone(), h.resources.table("TenancyTable").unwrap());
    for (profile, email, pipeline) in [
        ("p-jane", "jane@cand.example", true),
        ("p-olga", "olga@cand.example", false),
    ] {
        directory
            .upsert(&DirectoryEntry {
                contract_id: acme(),
                profile_id: ProfileId::parse(profile).unwrap(),
                emails: vec![addr(email)],
                discovery: DiscoverySetting::Anyone,
                in_pipeline: pipeline,
                degrees: BTreeMap::new(),
                source_version: 1,
            })
            .await
            .unwrap();
    }
    let (ingestor, mail) = wiring::ingestor(
        &h,
        Limits {
            pages_per_job: 10,
            page_size: 50,
            ..Limits::default()
        },
    );
    Setup { h, ingestor, mail }
}

fn job() -> SyncJob {
    SyncJob {
        contract: acme(),
        seat: seat(),
        kind: ConnectionKind::Email,
        reason: SyncReason::Historical,
        requested_at: ts(NOW),
    }
}

fn recipient(a: &str) -> Value {
    json!({"emailAddress": {"name": a, "address": a}})
}

fn graph_message(
    id: &str,
    conversation: &str,
    from: &str,
    to: &[&str],
    cc: &[&str],
    at: &str,
) -> Value {
    json!({
        "id": id, "conversationId": conversation, "internetMessageId": format!("<{id}@mail.example>"),
        "from": recipient(from), "sender": recipient(from),
        "toRecipients": to.iter().map(|a| recipient(a)).collect::<Vec<_>>(),
        "ccRecipients": cc.iter().map(|a| recipient(a)).collect::<Vec<_>>(),
        "bccRecipients": [],
        "receivedDateTime": at, "sentDateTime": at, "parentFolderId": "inbox-id", "subject": "Hello", "isDraft": false
    })
}

#[tokio::test]
async fn a_graph_mailbox_syncs_only_what_the_rules_allow_and_explains_the_rest() {
    let s = setup("ingest-graph", Provider::Microsoft365).await;
    let base = s.h.server.uri();
    let page_two = format!("{base}/graph/me/mailFolders/inbox/messages/delta?$skiptoken=page-2");
    let inbox_done =
        format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=inbox-1");
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$skiptoken", "page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                graph_message("m-5", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-03-01T10:00:00Z"),
                {"id": "m-gone", "@removed": {"reason": "deleted"}}
            ],
            "@odata.deltaLink": inbox_done
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z"),
                graph_message("m-2", "c-group", "jane@cand.example", &["rita@acme.example"], &["bob@else.example"], "2026-02-21T10:00:00Z"),
                graph_message("m-3", "c-colleague", "colleague@acme.example", &["rita@acme.example"], &[], "2026-02-22T10:00:00Z"),
                graph_message("m-4", "c-stranger", "stranger@else.example", &["rita@acme.example"], &[], "2026-02-23T10:00:00Z"),
                graph_message("m-6", "c-olga", "olga@cand.example", &["rita@acme.example"], &[], "2026-02-24T10:00:00Z"),
                graph_message("m-7", "c-old", "jane@cand.example", &["rita@acme.example"], &[], "2024-01-10T10:00:00Z")
            ],
            "@odata.nextLink": page_two
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/sentitems/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-8", "c-jane", "rita@acme.example", &["jane@cand.example"], &[], "2026-03-02T08:00:00Z")],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/sentitems/messages/delta?$deltatoken=sent-1")
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/deleteditems"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "deleted-id"})))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-gone"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "ErrorItemNotFound", "message": "gone"}})),
        )
        .mount(&s.h.server)
        .await;

    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(report.synced, 3, "{report:?}");
    assert_eq!(report.pages, 3, "two Inbox pages, Sent Items");
    assert!(!report.continued && !report.resynced);

    // The 1:1 thread with the candidate holds her two messages and Rita's reply.
    let thread = s
        .mail
        .thread(&acme(), &seat(), "c-jane")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.counterpart, addr("jane@cand.example"));
    assert_eq!(thread.last_activity_at, ts("2026-03-02T08:00:00Z"));
    let messages = s.mail.messages(&acme(), &seat(), "c-jane").await.unwrap();
    assert_eq!(messages.len(), 3);
    for skipped in ["c-group", "c-colleague", "c-stranger", "c-olga", "c-old"] {
        assert!(
            s.mail
                .thread(&acme(), &seat(), skipped)
                .await
                .unwrap()
                .is_none(),
            "{skipped}"
        );
    }

    // Each skip is explained, for whichever participant is asked about.
    let why = |who: &'static str| {
        let mail = s.mail.clone();
        async move {
            mail.skips_for(&acme(), &seat(), &addr(who))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.code)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(why("bob@else.example").await, vec!["too_many_participants"]);
    assert_eq!(why("colleague@acme.example").await, vec!["same_domain"]);
    assert_eq!(why("stranger@else.example").await, vec!["no_profile"]);
    assert_eq!(why("olga@cand.example").await, vec!["not_in_pipeline"]);
    assert!(why("jane@cand.example")
        .await
        .contains(&"before_lookback".to_owned()));

    // The cursors moved to the delta links only after their pages were stored.
    let conn =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(conn.cursor.0.get("graph_inbox"), Some(&inbox_done));
    assert!(conn
        .cursor
        .0
        .get("graph_sentitems")
        .unwrap()
        .ends_with("sent-1"));

    // The admin and the seat can see where the sync stands.
    let status =
        s.h.connector
            .stores
            .sync_status
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        status.stage,
        hiresync_domain::sync_status::SyncStage::Historical
    );
    assert_eq!((status.judged, status.synced), (8, 3));
    assert_eq!(status.last_success_at, Some(ts(NOW)));
    assert_eq!(status.last_error, None);

    // Running the same job again stores nothing twice.
    let again = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(
        s.mail
            .messages(&acme(), &seat(), "c-jane")
            .await
            .unwrap()
            .len(),
        3
    );
    let _ = again;
}

#[tokio::test]
async fn mail_deleted_in_the_mailbox_is_deleted_here_and_a_move_is_not() {
    let s = setup("ingest-delete", Provider::Microsoft365).await;
    let base = s.h.server.uri();
    // First round: two messages of Jane's thread.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$deltatoken", "r1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                {"id": "m-1", "@removed": {"reason": "changed"}},
                {"id": "m-2", "@removed": {"reason": "changed"}}
            ],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=r2")
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z"),
                graph_message("m-2", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-21T10:00:00Z")
            ],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=r1")
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/sentitems/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [], "@odata.deltaLink": format!("{base}/graph/me/mailFolders/sentitems/messages/delta?$deltatoken=s")})))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/deleteditems"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "deleted-id"})))
        .mount(&s.h.server)
        .await;
    // m-1 was moved to Deleted Items (a delete); m-2 to an archive folder (a move).
    let mut moved = graph_message(
        "m-1",
        "c-jane",
        "jane@cand.example",
        &["rita@acme.example"],
        &[],
        "2026-02-20T10:00:00Z",
    );
    moved["parentFolderId"] = json!("deleted-id");
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(moved))
        .mount(&s.h.server)
        .await;
    let mut archived = graph_message(
        "m-2",
        "c-jane",
        "jane@cand.example",
        &["rita@acme.example"],
        &[],
        "2026-02-21T10:00:00Z",
    );
    archived["parentFolderId"] = json!("archive-id");
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(archived))
        .mount(&s.h.server)
        .await;

    let first = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(first.synced, 2);
    let second = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(second.deleted, 1, "{second:?}");
    let left: Vec<String> = s
        .mail
        .messages(&acme(), &seat(), "c-jane")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.provider_id)
        .collect();
    assert_eq!(left, vec!["m-2".to_owned()]);
}

#[tokio::test]
async fn archived_mail_is_followed_and_its_later_move_to_deleted_items_deletes_it_here() {
    let s = setup("ingest-archived-binned", Provider::Microsoft365).await;
    empty_sent_items(&s).await;
    // The harness's folder list has no archive: this one, at a higher priority, wins.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": "inbox-id", "displayName": "Inbox", "childFolderCount": 0},
            {"id": "sentitems-id", "displayName": "Sent Items", "childFolderCount": 0},
            {"id": "deleteditems-id", "displayName": "Deleted Items", "childFolderCount": 0},
            {"id": "archive-id", "displayName": "Archive", "childFolderCount": 0},
        ]})))
        .with_priority(1)
        .mount(&s.h.server)
        .await;
    let jane = |id: &str, at: &str| {
        graph_message(
            id,
            "c-jane",
            "jane@cand.example",
            &["rita@acme.example"],
            &[],
            at,
        )
    };
    // GIVEN three rounds of the Inbox: two messages of Jane's thread arrive; m-1 leaves
    // for the archive; nothing more (rounds mounted from the most specific).
    inbox_round(&s, Some("r2"), vec![], "r3").await;
    inbox_round(
        &s,
        Some("r1"),
        vec![json!({"id": "m-1", "@removed": {"reason": "changed"}})],
        "r2",
    )
    .await;
    inbox_round(
        &s,
        None,
        vec![
            jane("m-1", "2026-02-20T10:00:00Z"),
            jane("m-2", "2026-02-21T10:00:00Z"),
        ],
        "r1",
    )
    .await;
    // AND three rounds of the archive: empty, m-1 arrives, m-1 leaves for Deleted Items.
    let mut archived = jane("m-1", "2026-02-20T10:00:00Z");
    archived["parentFolderId"] = json!("archive-id");
    folder_round(
        &s,
        "archive-id",
        Some("a2"),
        vec![json!({"id": "m-1", "@removed": {"reason": "changed"}})],
        "a3",
    )
    .await;
    folder_round(&s, "archive-id", Some("a1"), vec![archived.clone()], "a2").await;
    folder_round(&s, "archive-id", None, vec![], "a1").await;
    // m-1 read again: in the archive once, then in Deleted Items.
    let mut binned = jane("m-1", "2026-02-20T10:00:00Z");
    binned["parentFolderId"] = json!("deleteditems-id");
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(archived))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(binned))
        .mount(&s.h.server)
        .await;
    let stored = || async {
        s.mail
            .messages(&acme(), &seat(), "c-jane")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.provider_id)
            .collect::<Vec<_>>()
    };

    // WHEN the first round runs, both are stored
    let first = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!((first.synced, first.deleted), (2, 0), "{first:?}");

    // AND a move to the archive changes nothing: it is still there, in the archive
    let second = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(second.deleted, 0, "{second:?}");
    assert_eq!(stored().await, vec!["m-1".to_owned(), "m-2".to_owned()]);

    // THEN its later move from the archive into Deleted Items deletes it here
    let third = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!((third.deleted, third.synced), (1, 0), "{third:?}");
    assert_eq!(stored().await, vec!["m-2".to_owned()]);
    // AND the archive has its own cursor, its first round filtered like the others, and
    // Deleted Items is never read
    let conn =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
    assert!(conn.cursor.0["graph_folder_archive-id"].ends_with("$deltatoken=a3"));
    let first_round =
        s.h.requests_to("GET", "/graph/me/mailFolders/archive-id/messages/delta")
            .await
            .into_iter()
            .next()
            .expect("a first round of the archive");
    assert!(first_round
        .url
        .query()
        .unwrap_or_default()
        .contains("$filter=receivedDateTime%20ge%20"));
    assert!(s
        .h
        .requests_to(
            "GET",
            "/graph/me/mailFolders/deleteditems-id/messages/delta"
        )
        .await
        .is_empty());
}

#[tokio::test]
async fn an_expired_delta_cursor_starts_a_bounded_full_resync() {
    let s = setup("ingest-expired", Provider::Microsoft365).await;
    let base = s.h.server.uri();
    let read =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap();
    let mut c = read.value.clone();
    c.cursor.0.insert(
        "graph_inbox".into(),
        format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=stale"),
    );
    s.h.connector
        .stores
        .connections
        .update(&read, &c)
        .await
        .unwrap();
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$deltatoken", "stale"))
        .respond_with(
            ResponseTemplate::new(410)
                .set_body_json(json!({"error": {"code": "syncStateNotFound", "message": "gone"}})),
        )
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z")],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=fresh")
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/sentitems/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [], "@odata.deltaLink": format!("{base}/graph/me/mailFolders/sentitems/messages/delta?$deltatoken=s")})))
        .mount(&s.h.server)
        .await;
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert!(report.resynced);
    let status =
        s.h.connector
            .stores
            .sync_status
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        status.stage,
        hiresync_domain::sync_status::SyncStage::Resyncing
    );
    assert_eq!(report.synced, 1);
    // The full enumeration was bounded by the lookback start.
    let first_round =
        s.h.requests_to("GET", "/graph/me/mailFolders/inbox/messages/delta")
            .await
            .into_iter()
            .find(|r| r.url.query().unwrap_or_default().contains("filter"))
            .expect("a first round with a filter");
    assert!(first_round
        .url
        .query()
        .unwrap()
        .contains("receivedDateTime"));
}

#[tokio::test]
async fn nothing_is_fetched_for_a_deauthorized_seat() {
    let s = setup("ingest-deauth", Provider::Microsoft365).await;
    s.h.connector
        .deauthorize(&acme(), &seat(), ConnectionKind::Email, ts(NOW))
        .await
        .unwrap();
    let before = s.h.requests().await.len();
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(report, Default::default());
    let after: Vec<_> = s.h.requests().await.into_iter().skip(before).collect();
    assert!(
        after.iter().all(|r| !r.url.path().contains("/delta")),
        "no delta call"
    );
}

#[tokio::test]
async fn a_job_stops_at_its_page_limit_and_continues_through_the_queue() {
    let mut s = setup("ingest-continue", Provider::Microsoft365).await;
    s.ingestor.limits = Limits {
        pages_per_job: 1,
        page_size: 1,
        ..Limits::default()
    };
    let base = s.h.server.uri();
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z")],
            "@odata.nextLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$skiptoken=p2")
        })))
        .mount(&s.h.server)
        .await;
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert!(report.continued);
    let conn =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
    assert!(
        conn.cursor.0["graph_inbox"].ends_with("$skiptoken=p2"),
        "resumes where it stopped"
    );
    let jobs = s.h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["_group"], "acme:s1:email");
}

#[tokio::test]
async fn a_job_out_of_time_starts_no_page_and_its_continuation_finishes_the_work() {
    let s = setup("ingest-deadline", Provider::Microsoft365).await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z")],
            "@odata.deltaLink": format!("{}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=d1", s.h.server.uri())
        })))
        .mount(&s.h.server)
        .await;
    empty_sent_items(&s).await;
    // WHEN the invocation's time is up before the first page
    let report = s
        .ingestor
        .run_until(&job(), ts(NOW), Some(std::time::Instant::now()))
        .await
        .unwrap();
    // THEN nothing was read and the job continues through the queue
    assert_eq!((report.pages, report.synced), (0, 0));
    assert!(report.continued);
    let jobs = s.h.drain("SyncJobsQueue").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["_group"], "acme:s1:email");
    // AND the continuation, with time, syncs the mail
    let continued: SyncJob = serde_json::from_value(jobs[0].clone()).unwrap();
    let report = s.ingestor.run(&continued, ts(NOW)).await.unwrap();
    assert_eq!(report.synced, 1);
    assert!(!report.continued);
}

fn gmail_message(
    id: &str,
    thread: &str,
    from: &str,
    to: &str,
    labels: &[&str],
    at_ms: i64,
) -> Value {
    json!({
        "id": id, "threadId": thread, "labelIds": labels, "snippet": "", "historyId": "2000",
        "internalDate": at_ms.to_string(), "sizeEstimate": 1000,
        "payload": {"headers": [
            {"name": "From", "value": from}, {"name": "To", "value": to},
            {"name": "Subject", "value": "Hi"}, {"name": "Message-ID", "value": format!("<{id}@mail.gmail.com>")}
        ]}
    })
}

#[tokio::test]
async fn a_gmail_mailbox_runs_a_historical_sync_then_follows_its_history() {
    let s = setup("ingest-gmail", Provider::GoogleWorkspace).await;
    let at = ts("2026-02-20T10:00:00Z").as_millisecond();
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messages": [{"id": "g-1", "threadId": "t-jane"}, {"id": "g-2", "threadId": "t-group"}], "resultSizeEstimate": 2})))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages/g-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(gmail_message(
            "g-1",
            "t-jane",
            "\"Doe, Jane\" <Jane@Cand.example>",
            "Rita <rita@acme.example>",
            &["INBOX"],
            at,
        )))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages/g-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(gmail_message(
            "g-2",
            "t-group",
            "jane@cand.example",
            "rita@acme.example, bob@else.example",
            &["INBOX"],
            at,
        )))
        .mount(&s.h.server)
        .await;

    // No cursor: the historical sync lists since the lookback start and stores the history
    // id read before it began.
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!((report.synced, report.skipped), (1, 1), "{report:?}");
    let list = &s.h.requests_to("GET", "/gmail/users/me/messages").await[0];
    // From the lookback start (2025-03-02T09:00:00Z) to the second, not from a day Gmail
    // would read in Pacific time; every label but drafts and chats.
    let q: Vec<String> = list
        .url
        .query_pairs()
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(q, ["after:1740905999 -in:drafts -in:chats"]);
    let conn =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(
        conn.cursor.0.get("gmail_history").map(String::as_str),
        Some("1234")
    );
    assert!(!conn.cursor.0.contains_key("gmail_full_page"));

    // Then history: Jane's message is deleted in Gmail.
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/history"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "history": [{"id": "1300", "messages": [{"id": "g-1", "threadId": "t-jane"}], "messagesDeleted": [{"message": {"id": "g-1", "threadId": "t-jane", "labelIds": ["INBOX"]}}]}],
            "historyId": "1400"
        })))
        .mount(&s.h.server)
        .await;
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(report.deleted, 1, "{report:?}");
    assert!(s
        .mail
        .messages(&acme(), &seat(), "t-jane")
        .await
        .unwrap()
        .is_empty());
    let conn =
        s.h.connector
            .stores
            .connections
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(
        conn.cursor.0.get("gmail_history").map(String::as_str),
        Some("1400")
    );
}

#[tokio::test]
async fn a_failing_sync_shows_its_last_error_and_keeps_its_progress() {
    let s = setup("ingest-failing", Provider::Microsoft365).await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"code": "generalException", "message": "boom"}})),
        )
        .mount(&s.h.server)
        .await;
    assert!(
        s.ingestor.run(&job(), ts(NOW)).await.is_err(),
        "SQS redelivers, then dead-letters"
    );
    let status =
        s.h.connector
            .stores
            .sync_status
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(status.last_error.as_deref(), Some("graph delta"));
    assert_eq!(status.last_error_at, Some(ts(NOW)));
    assert_eq!(status.last_success_at, None);
}

/// Mounts an empty Sent Items folder: these tests are about the inbox.
async fn empty_sent_items(s: &Setup) {
    let base = s.h.server.uri();
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/sentitems/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [], "@odata.deltaLink": format!("{base}/graph/me/mailFolders/sentitems/messages/delta?$deltatoken=s")})))
        .mount(&s.h.server)
        .await;
}

/// Mounts one inbox delta round: `items` for the given `$deltatoken` (the first round when
/// `None`), handing over `$deltatoken=next`.
async fn inbox_round(s: &Setup, token: Option<&str>, items: Vec<Value>, next: &str) {
    folder_round(s, "inbox", token, items, next).await
}

/// Mounts one delta round of `folder` (Graph's well-known name), as [`inbox_round`] does.
async fn folder_round(s: &Setup, folder: &str, token: Option<&str>, items: Vec<Value>, next: &str) {
    let base = s.h.server.uri();
    let delta = format!("/graph/me/mailFolders/{folder}/messages/delta");
    let mock = Mock::given(method("GET")).and(path(delta.as_str()));
    let mock = match token {
        Some(token) => mock.and(query_param("$deltatoken", token)),
        None => mock,
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "value": items,
        "@odata.deltaLink": format!("{base}{delta}?$deltatoken={next}")
    })))
    .mount(&s.h.server)
    .await;
}

async fn codes_for(s: &Setup, who: &str) -> Vec<(String, String)> {
    s.mail
        .skips_for(&acme(), &seat(), &addr(who))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.provider_id, r.code))
        .collect()
}

#[tokio::test]
async fn a_cc_in_a_stored_thread_leaves_that_email_out_and_the_thread_keeps_syncing() {
    let s = setup("ingest-cc", Provider::Microsoft365).await;
    empty_sent_items(&s).await;
    let one_to_one = |id: &str, at: &str| {
        graph_message(
            id,
            "c-jane",
            "jane@cand.example",
            &["rita@acme.example"],
            &[],
            at,
        )
    };
    // Rounds are mounted from the most specific: wiremock answers with the first match.
    // Round 3: a newer one-to-one message, and the first one again.
    inbox_round(
        &s,
        Some("r2"),
        vec![
            one_to_one("m-3", "2026-02-25T10:00:00Z"),
            one_to_one("m-1", "2026-02-20T10:00:00Z"),
        ],
        "r3",
    )
    .await;
    // Round 2: Jane copies Bob in.
    inbox_round(
        &s,
        Some("r1"),
        vec![graph_message(
            "m-2",
            "c-jane",
            "jane@cand.example",
            &["rita@acme.example"],
            &["bob@else.example"],
            "2026-02-21T10:00:00Z",
        )],
        "r2",
    )
    .await;
    // Round 1: a one-to-one conversation with Jane.
    inbox_round(
        &s,
        None,
        vec![one_to_one("m-1", "2026-02-20T10:00:00Z")],
        "r1",
    )
    .await;
    let stored = || async {
        s.mail
            .messages(&acme(), &seat(), "c-jane")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.provider_id)
            .collect::<Vec<_>>()
    };

    // GIVEN Jane's thread is stored
    let first = s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    assert_eq!(first.synced, 1, "{first:?}");

    // WHEN a message of it copies Bob in
    let second = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    // THEN that message alone is left out, explained under both people; the thread stays
    assert_eq!((second.synced, second.skipped), (0, 1), "{second:?}");
    assert_eq!(stored().await, ["m-1"]);
    assert_eq!(
        s.mail.tombstone(&acme(), &seat(), "c-jane").await.unwrap(),
        None
    );
    for who in ["jane@cand.example", "bob@else.example"] {
        assert_eq!(
            codes_for(&s, who).await,
            vec![("m-2".to_owned(), "too_many_participants".to_owned())],
            "{who}"
        );
    }

    // WHEN Jane writes again one to one (and the first message is replayed)
    let third = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    // THEN it joins the conversation
    assert_eq!((third.synced, third.skipped), (2, 0), "{third:?}");
    assert_eq!(stored().await, ["m-1", "m-3"]);
    let thread = s
        .mail
        .thread(&acme(), &seat(), "c-jane")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.last_activity_at, ts("2026-02-25T10:00:00Z"));
}

#[tokio::test]
async fn a_group_message_judged_first_keeps_nothing_of_its_thread_out() {
    let s = setup("ingest-group-first", Provider::Microsoft365).await;
    empty_sent_items(&s).await;
    let base = s.h.server.uri();
    // Page 2: the conversation's first message, one-to-one.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-1", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-20T10:00:00Z")],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=d")
        })))
        .mount(&s.h.server)
        .await;
    // Page 1: its newest message, with Bob copied in.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-2", "c-jane", "jane@cand.example", &["rita@acme.example"], &["bob@else.example"], "2026-02-22T10:00:00Z")],
            "@odata.nextLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$skiptoken=p2")
        })))
        .mount(&s.h.server)
        .await;

    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    assert_eq!((report.synced, report.skipped), (1, 1), "{report:?}");
    assert_eq!(
        s.mail
            .messages(&acme(), &seat(), "c-jane")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        codes_for(&s, "jane@cand.example").await,
        vec![("m-2".to_owned(), "too_many_participants".to_owned())]
    );
}

#[tokio::test]
async fn a_thread_removed_for_inactivity_syncs_only_what_came_after_the_removal() {
    let s = setup("ingest-reactivated", Provider::Microsoft365).await;
    empty_sent_items(&s).await;
    // GIVEN Jane's thread, last active on 1 August 2025, removed by the retention sweep
    let thread = hiresync_domain::mail::Thread {
        contract_id: acme(),
        seat_id: seat(),
        thread_id: "c-jane".into(),
        counterpart: addr("jane@cand.example"),
        visibility: hiresync_domain::mail::Visibility::Private,
        holder: None,
        profile: None,
        started_from_product: false,
        last_activity_at: ts("2025-08-01T10:00:00Z"),
    };
    let old = hiresync_domain::mail::Message {
        contract_id: acme(),
        seat_id: seat(),
        thread_id: "c-jane".into(),
        provider_id: "m-old".into(),
        internet_message_id: Some("<m-old@mail.example>".into()),
        direction: hiresync_domain::mail::Direction::Received,
        from: addr("jane@cand.example"),
        to: vec![addr("rita@acme.example")],
        cc: vec![],
        bcc: vec![],
        subject: "Hello".into(),
        sent_at: ts("2025-08-01T10:00:00Z"),
    };
    s.mail.store_message(&thread, &old).await.unwrap();
    let removed_at = ts("2026-02-02T03:00:00Z");
    assert_eq!(
        s.mail
            .remove_thread_for_inactivity(&acme(), &seat(), "c-jane", removed_at)
            .await
            .unwrap(),
        Some(1)
    );

    // WHEN Jane writes again, and the delta also replays the old messages
    inbox_round(
        &s,
        None,
        vec![
            graph_message(
                "m-new",
                "c-jane",
                "jane@cand.example",
                &["rita@acme.example"],
                &[],
                "2026-03-01T10:00:00Z",
            ),
            graph_message(
                "m-old",
                "c-jane",
                "jane@cand.example",
                &["rita@acme.example"],
                &[],
                "2025-08-01T10:00:00Z",
            ),
            graph_message(
                "m-older",
                "c-jane",
                "jane@cand.example",
                &["rita@acme.example"],
                &[],
                "2025-07-15T10:00:00Z",
            ),
        ],
        "d",
    )
    .await;
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    // THEN the conversation is back with the new message only
    assert_eq!((report.synced, report.skipped), (1, 2), "{report:?}");
    let kept: Vec<String> = s
        .mail
        .messages(&acme(), &seat(), "c-jane")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.provider_id)
        .collect();
    assert_eq!(kept, vec!["m-new".to_owned()]);
    assert_eq!(
        codes_for(&s, "jane@cand.example").await,
        vec![
            ("m-old".to_owned(), "before_reactivation".to_owned()),
            ("m-older".to_owned(), "before_reactivation".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_older_message_judged_before_its_threads_newest_one_is_synced_once_the_thread_is() {
    let s = setup("ingest-revisit-graph", Provider::Microsoft365).await;
    empty_sent_items(&s).await;
    let base = s.h.server.uri();
    let old = graph_message(
        "m-old",
        "c-jane",
        "jane@cand.example",
        &["rita@acme.example"],
        &[],
        "2025-08-01T10:00:00Z",
    );
    // Page 2: the thread's newest message.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [graph_message("m-new", "c-jane", "jane@cand.example", &["rita@acme.example"], &[], "2026-02-25T10:00:00Z")],
            "@odata.deltaLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$deltatoken=d")
        })))
        .mount(&s.h.server)
        .await;
    // Page 1: an older message of it, and one of another, really inactive thread with Jane.
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/inbox/messages/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                old.clone(),
                graph_message("m-other", "c-jane-2", "jane@cand.example", &["rita@acme.example"], &[], "2025-07-01T10:00:00Z")
            ],
            "@odata.nextLink": format!("{base}/graph/me/mailFolders/inbox/messages/delta?$skiptoken=p2")
        })))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/messages/m-old"))
        .respond_with(ResponseTemplate::new(200).set_body_json(old))
        .mount(&s.h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/me/mailFolders/deleteditems"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "deleted-id"})))
        .mount(&s.h.server)
        .await;

    // WHEN the historical sync reads the older message first
    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    // THEN once the newest one stores the thread, the older one is judged again and kept
    assert_eq!((report.synced, report.revived), (2, 1), "{report:?}");
    let kept = |s: &Setup| {
        let mail = s.mail.clone();
        async move {
            mail.messages(&acme(), &seat(), "c-jane")
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.provider_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(kept(&s).await, vec!["m-old".to_owned(), "m-new".to_owned()]);
    // AND "why did this not sync?" no longer claims it was inactive; the other thread's
    // message still is, and was not fetched again
    assert_eq!(
        codes_for(&s, "jane@cand.example").await,
        vec![("m-other".to_owned(), "thread_inactive".to_owned())]
    );
    assert!(s
        .h
        .requests_to("GET", "/graph/me/messages/m-other")
        .await
        .is_empty());
    // AND the progress counts each message once
    let status =
        s.h.connector
            .stores
            .sync_status
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
            .unwrap();
    assert_eq!((status.judged, status.synced), (3, 2));

    // WHEN the whole delta is replayed
    s.ingestor.run(&job(), ts(NOW)).await.unwrap();
    // THEN nothing changes
    assert_eq!(kept(&s).await, vec!["m-old".to_owned(), "m-new".to_owned()]);
    assert_eq!(
        codes_for(&s, "jane@cand.example").await,
        vec![("m-other".to_owned(), "thread_inactive".to_owned())]
    );
}

#[tokio::test]
async fn a_gmail_historical_sync_revisits_an_older_message_of_a_thread_it_stores_later() {
    let s = setup("ingest-revisit-gmail", Provider::GoogleWorkspace).await;
    // Page 2 of the listing: the thread's newest message.
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages"))
        .and(query_param("pageToken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"messages": [{"id": "g-new", "threadId": "t-jane"}], "resultSizeEstimate": 1}),
        ))
        .mount(&s.h.server)
        .await;
    // Page 1: an older message of the same thread.
    Mock::given(method("GET"))
        .and(path("/gmail/users/me/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [{"id": "g-old", "threadId": "t-jane"}],
            "nextPageToken": "p2",
            "resultSizeEstimate": 2
        })))
        .mount(&s.h.server)
        .await;
    for (id, at) in [
        ("g-old", "2025-08-01T10:00:00Z"),
        ("g-new", "2026-02-25T10:00:00Z"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/gmail/users/me/messages/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(gmail_message(
                id,
                "t-jane",
                "jane@cand.example",
                "rita@acme.example",
                &["INBOX"],
                ts(at).as_millisecond(),
            )))
            .mount(&s.h.server)
            .await;
    }

    let report = s.ingestor.run(&job(), ts(NOW)).await.unwrap();

    assert_eq!((report.synced, report.revived), (2, 1), "{report:?}");
    assert_eq!(
        s.mail
            .messages(&acme(), &seat(), "t-jane")
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(codes_for(&s, "jane@cand.example").await.is_empty());
}
