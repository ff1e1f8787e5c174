//! Every decision of the policy and what it leaves in the stores.

use hiresync_domain::mail::{Direction, ThreadTombstone, Visibility};
use hiresync_domain::ports::{MailChange, MailItem, ThreadStore};
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::mailbox::Step;

use crate::support::*;

#[tokio::test]
async fn a_kept_message_stores_a_private_thread_and_its_message() {
    let w = World::microsoft().await;
    let report = w
        .sync([Step::last(
            vec![from(
                "m-1",
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![],
        )])
        .await;
    assert_eq!((report.synced, report.skipped, report.pages), (1, 0, 1));
    let thread = w.mail.thread(&acme(), &seat(), "c-jane").unwrap();
    assert_eq!(thread.visibility, Visibility::Private);
    assert_eq!(thread.counterpart, addr("jane@cand.example"));
    assert_eq!(thread.last_activity_at, ts("2026-02-20T10:00:00Z"));
    // synced for the person who connected the mailbox, matched to jane's profile
    assert_eq!(thread.holder.unwrap().as_str(), "u-holder");
    assert_eq!(thread.profile.unwrap().as_str(), "p-jane");
    let messages = w.mail.messages(&acme(), &seat(), "c-jane").await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].direction, Direction::Received);
    assert_eq!(
        messages[0].internet_message_id.as_deref(),
        Some("<m-1@mail.example>")
    );
    assert_eq!(messages[0].subject, "About c-jane");
    assert!(w.mail.all_skips().is_empty());
}

#[tokio::test]
async fn each_skip_reason_is_recorded_under_the_counterparts_with_its_thread() {
    let w = World::microsoft().await;
    let report = w
        .sync([Step::last(
            vec![
                from(
                    "m-stranger",
                    "c-1",
                    "stranger@else.example",
                    "2026-02-20T10:00:00Z",
                ),
                from("m-olga", "c-2", "olga@cand.example", "2026-02-20T10:00:00Z"),
                from(
                    "m-colleague",
                    "c-3",
                    "colleague@acme.example",
                    "2026-02-20T10:00:00Z",
                ),
                from("m-nina", "c-4", "nina@cand.example", "2026-02-20T10:00:00Z"),
                from("m-old", "c-5", "jane@cand.example", "2024-01-10T10:00:00Z"),
                from("m-idle", "c-6", "jane@cand.example", "2025-06-01T10:00:00Z"),
                MailChange::Message(mail(
                    "m-group",
                    "c-7",
                    "jane@cand.example",
                    &[SEAT],
                    &["bob@else.example"],
                    "2026-02-21T10:00:00Z",
                )),
            ],
            vec![],
        )])
        .await;
    assert_eq!((report.synced, report.skipped), (0, 7), "{report:?}");
    assert_eq!(
        w.skips_for("stranger@else.example").await,
        [("m-stranger".into(), "no_profile".into())]
    );
    assert_eq!(
        w.skips_for("olga@cand.example").await,
        [("m-olga".into(), "not_in_pipeline".into())]
    );
    assert_eq!(
        w.skips_for("colleague@acme.example").await,
        [("m-colleague".into(), "same_domain".into())]
    );
    assert_eq!(
        w.skips_for("nina@cand.example").await,
        [("m-nina".into(), "discovery_restricted".into())]
    );
    assert_eq!(
        w.skips_for("jane@cand.example").await,
        [
            ("m-group".to_owned(), "too_many_participants".to_owned()),
            ("m-idle".to_owned(), "thread_inactive".to_owned()),
            ("m-old".to_owned(), "before_lookback".to_owned()),
        ],
        "newest message first"
    );
    assert_eq!(
        w.skips_for("bob@else.example").await,
        [("m-group".into(), "too_many_participants".into())]
    );
    let records = w.skip_records("stranger@else.example").await;
    assert_eq!(records[0].decided_at, ts(NOW));
    assert!(!records[0].explanation.is_empty());
    assert!(
        w.mail
            .all_skips()
            .iter()
            .all(|(_, thread)| thread.is_some()),
        "every decision keeps its thread"
    );
    assert!(w.mail.threads().is_empty());
    // A group conversation never started leaves a tombstone all the same.
    let tomb = w.mail.tombstone(&acme(), &seat(), "c-7").unwrap();
    assert_eq!(tomb.reason, "too_many_participants");
    assert!(tomb.participants.contains(&addr("bob@else.example")));
}

#[tokio::test]
async fn a_third_participant_removes_a_stored_thread_and_its_messages_keep_the_reason() {
    let w = World::microsoft().await;
    w.sync([
        Step::page(
            vec![from(
                "m-1",
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![],
        ),
        Step::last(
            vec![MailChange::Message(mail(
                "m-2",
                "c-jane",
                "jane@cand.example",
                &[SEAT],
                &["bob@else.example"],
                "2026-02-22T10:00:00Z",
            ))],
            vec![],
        ),
    ])
    .await;
    assert!(w.mail.thread(&acme(), &seat(), "c-jane").is_none());
    assert!(w.mail.provider_ids().is_empty());
    let tomb = w.mail.tombstone(&acme(), &seat(), "c-jane").unwrap();
    assert_eq!(tomb.reason, "too_many_participants");
    assert_eq!(tomb.removed_at, ts(NOW));
    assert_eq!(tomb.last_activity_at, ts("2026-02-22T10:00:00Z"));
    assert_eq!(
        tomb.participants,
        [SEAT, "bob@else.example", "jane@cand.example"]
            .iter()
            .map(|a| addr(a))
            .collect()
    );
    assert_eq!(
        w.skips_for("jane@cand.example").await,
        [
            ("m-2".to_owned(), "too_many_participants".to_owned()),
            ("m-1".to_owned(), "too_many_participants".to_owned()),
        ],
        "the message that left with its thread keeps the reason"
    );
    let report = w
        .ingestor
        .run(&job(hiresync_messages::SyncReason::Push), ts(NOW))
        .await
        .unwrap();
    assert_eq!(report.threads_removed, 0, "nothing left to remove");
}

#[tokio::test]
async fn a_later_one_to_one_message_of_a_removed_thread_stays_out() {
    let w = World::microsoft().await;
    let first = w
        .sync([
            Step::page(
                vec![from(
                    "m-1",
                    "c-jane",
                    "jane@cand.example",
                    "2026-02-20T10:00:00Z",
                )],
                vec![],
            ),
            Step::last(
                vec![MailChange::Message(mail(
                    "m-2",
                    "c-jane",
                    "jane@cand.example",
                    &[SEAT],
                    &["bob@else.example"],
                    "2026-02-22T10:00:00Z",
                ))],
                vec![],
            ),
        ])
        .await;
    assert_eq!((first.synced, first.threads_removed), (1, 1));
    // WHEN jane writes again, one to one, and the first message is replayed
    let later = w
        .sync([Step::last(
            vec![
                from("m-3", "c-jane", "jane@cand.example", "2026-02-25T10:00:00Z"),
                from("m-1", "c-jane", "jane@cand.example", "2026-02-20T10:00:00Z"),
            ],
            vec![],
        )])
        .await;
    // THEN neither comes back
    assert_eq!((later.synced, later.skipped), (0, 2), "{later:?}");
    assert!(w.mail.threads().is_empty());
    let codes = w.skips_for("jane@cand.example").await;
    assert!(
        codes.contains(&("m-3".to_owned(), "too_many_participants".to_owned())),
        "{codes:?}"
    );
}

#[tokio::test]
async fn an_older_message_judged_before_its_thread_is_stored_is_judged_again_and_kept() {
    let w = World::microsoft().await;
    let older = mail(
        "m-old",
        "c-jane",
        "jane@cand.example",
        &[SEAT],
        &[],
        "2025-06-01T10:00:00Z",
    );
    w.mailbox.holds("m-old", older.clone());
    // GIVEN the thread's older message comes on the first page, judged inactive alone,
    // and a message of the same thread that left the mailbox since
    let report = w
        .sync([
            Step::page(
                vec![
                    MailChange::Message(older),
                    from(
                        "m-gone",
                        "c-jane",
                        "jane@cand.example",
                        "2025-05-01T10:00:00Z",
                    ),
                ],
                vec![],
            ),
            // WHEN its newest message stores the thread
            Step::last(
                vec![from(
                    "m-new",
                    "c-jane",
                    "jane@cand.example",
                    "2026-02-20T10:00:00Z",
                )],
                vec![],
            ),
        ])
        .await;
    // THEN the older one is fetched again and kept; the gone one's decision is forgotten
    assert_eq!(w.mailbox.refetched(), ["m-old", "m-gone"]);
    assert_eq!(w.mail.provider_ids(), ["m-new", "m-old"]);
    assert_eq!(
        (report.synced, report.revived, report.skipped),
        (2, 1, 2),
        "{report:?}"
    );
    assert!(w.skips_for("jane@cand.example").await.is_empty());
    let status = w.status().await.unwrap();
    assert_eq!(
        (status.judged, status.synced),
        (3, 2),
        "a revived message is judged once"
    );
}

#[tokio::test]
async fn a_revisited_message_that_fails_again_has_its_decision_replaced() {
    let w = World::microsoft().await;
    // Read again, the older message shows a third participant.
    w.mailbox.holds(
        "m-old",
        mail(
            "m-old",
            "c-jane",
            "jane@cand.example",
            &[SEAT],
            &["bob@else.example"],
            "2025-06-01T10:00:00Z",
        ),
    );
    w.sync([
        Step::page(
            vec![from(
                "m-old",
                "c-jane",
                "jane@cand.example",
                "2025-06-01T10:00:00Z",
            )],
            vec![],
        ),
        Step::last(
            vec![from(
                "m-new",
                "c-jane",
                "jane@cand.example",
                "2026-02-20T10:00:00Z",
            )],
            vec![],
        ),
    ])
    .await;
    assert!(w.mail.provider_ids().is_empty(), "the thread left");
    assert_eq!(
        w.skips_for("jane@cand.example").await,
        [
            ("m-new".to_owned(), "too_many_participants".to_owned()),
            ("m-old".to_owned(), "too_many_participants".to_owned()),
        ],
        "the same message's decision is replaced, not added"
    );
}

#[tokio::test]
async fn a_thread_back_after_a_removal_for_inactivity_syncs_only_what_came_later() {
    let w = World::microsoft().await;
    let thread = hiresync_domain::mail::Thread::first_seen(
        acme(),
        seat(),
        "c-jane".into(),
        addr("jane@cand.example"),
        hiresync_domain::mail::Origin::default(),
        ts("2025-08-01T00:00:00Z"),
    );
    w.mail.bury(ThreadTombstone::for_inactivity(
        &thread,
        ts("2026-02-02T00:00:00Z"),
    ));
    let report = w
        .sync([Step::last(
            vec![
                from(
                    "m-after",
                    "c-jane",
                    "jane@cand.example",
                    "2026-02-20T10:00:00Z",
                ),
                from(
                    "m-before",
                    "c-jane",
                    "jane@cand.example",
                    "2026-01-20T10:00:00Z",
                ),
            ],
            vec![],
        )])
        .await;
    assert_eq!((report.synced, report.skipped), (1, 1));
    assert_eq!(w.mail.provider_ids(), ["m-after"]);
    assert_eq!(
        w.skips_for("jane@cand.example").await,
        [("m-before".to_owned(), "before_reactivation".to_owned())]
    );
}

#[tokio::test]
async fn drafts_and_binned_mail_are_ignored_and_unreadable_mail_is_skipped_unrecorded() {
    let w = World::microsoft().await;
    let report = w
        .sync([Step::last(
            vec![
                MailChange::Message(MailItem::NotConversation),
                MailChange::Message(MailItem::Unreadable { code: "no_sender" }),
            ],
            vec![],
        )])
        .await;
    assert_eq!((report.synced, report.skipped), (0, 1));
    assert!(w.mail.all_skips().is_empty());
    assert!(w.mail.threads().is_empty());
}

#[tokio::test]
async fn the_seats_own_message_is_stored_as_sent() {
    let w = World::microsoft().await;
    w.sync([Step::last(
        vec![MailChange::Message(mail(
            "m-1",
            "c-jane",
            SEAT,
            &["jane@cand.example"],
            &[],
            "2026-02-20T10:00:00Z",
        ))],
        vec![],
    )])
    .await;
    let messages = w.mail.messages(&acme(), &seat(), "c-jane").await.unwrap();
    assert_eq!(messages[0].direction, Direction::Sent);
}

#[tokio::test]
async fn a_stranger_who_joins_the_directory_syncs_from_then_on() {
    use hiresync_domain::directory::{DirectoryEntry, DiscoverySetting};
    use hiresync_domain::ids::ProfileId;
    use hiresync_domain::ports::DirectoryWriter;

    let w = World::microsoft().await;
    w.sync([Step::last(
        vec![from(
            "m-1",
            "c-sam",
            "sam@cand.example",
            "2026-02-20T10:00:00Z",
        )],
        vec![],
    )])
    .await;
    assert_eq!(
        w.skips_for("sam@cand.example").await,
        [("m-1".into(), "no_profile".into())]
    );
    w.directory
        .upsert(&DirectoryEntry {
            contract_id: acme(),
            profile_id: ProfileId::parse("p-sam").unwrap(),
            emails: vec![addr("sam@cand.example")],
            discovery: DiscoverySetting::Anyone,
            in_pipeline: true,
            degrees: Default::default(),
            source_version: 1,
        })
        .await
        .unwrap();
    let report = w
        .sync([Step::last(
            vec![from(
                "m-2",
                "c-sam",
                "sam@cand.example",
                "2026-02-25T10:00:00Z",
            )],
            vec![],
        )])
        .await;
    assert_eq!(report.synced, 1);
    assert_eq!(w.mail.provider_ids(), ["m-2"]);
}
