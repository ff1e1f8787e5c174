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
    // A group email leaves no tombstone: the thread's one-to-one emails may still sync.
    assert!(w.mail.tombstone(&acme(), &seat(), "c-7").is_none());
}

#[tokio::test]
async fn a_cc_to_a_third_person_leaves_that_email_out_and_the_conversation_goes_on() {
    let w = World::microsoft().await;
    // GIVEN jane's thread, then the seat's reply copying the hiring manager, then jane again
    let report = w
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
            Step::page(
                vec![MailChange::Message(mail(
                    "m-2",
                    "c-jane",
                    SEAT,
                    &["jane@cand.example"],
                    &["bob@else.example"],
                    "2026-02-22T10:00:00Z",
                ))],
                vec![],
            ),
            Step::last(
                vec![from(
                    "m-3",
                    "c-jane",
                    "jane@cand.example",
                    "2026-02-25T10:00:00Z",
                )],
                vec![],
            ),
        ])
        .await;
    // THEN only the copied email is left out, and explained to the seat under both people
    assert_eq!((report.synced, report.skipped), (2, 1), "{report:?}");
    let thread = w.mail.thread(&acme(), &seat(), "c-jane").unwrap();
    assert_eq!(thread.last_activity_at, ts("2026-02-25T10:00:00Z"));
    let kept: Vec<String> = w
        .mail
        .messages(&acme(), &seat(), "c-jane")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.provider_id)
        .collect();
    assert_eq!(kept, ["m-1", "m-3"]);
    assert!(w.mail.tombstone(&acme(), &seat(), "c-jane").is_none());
    for who in ["jane@cand.example", "bob@else.example"] {
        assert_eq!(
            w.skips_for(who).await,
            [("m-2".to_owned(), "too_many_participants".to_owned())],
            "{who}"
        );
    }
}

#[tokio::test]
async fn a_tombstone_left_for_a_third_participant_by_an_earlier_version_keeps_nothing_out() {
    let w = World::microsoft().await;
    // GIVEN a thread an earlier version removed when one of its emails had a cc
    w.mail
        .remove_thread_for_rule(&ThreadTombstone {
            contract: acme(),
            seat: seat(),
            thread_id: "c-jane".into(),
            participants: [SEAT, "jane@cand.example", "bob@else.example"]
                .iter()
                .map(|a| addr(a))
                .collect(),
            started_from_product: false,
            last_activity_at: ts("2026-02-22T10:00:00Z"),
            removed_at: ts("2026-02-23T10:00:00Z"),
            reason: ThreadTombstone::VOID_PARTICIPANTS.into(),
        })
        .await
        .unwrap();
    // WHEN jane writes one to one in it, and its first email is read again
    let later = w
        .sync([Step::last(
            vec![
                from("m-3", "c-jane", "jane@cand.example", "2026-02-25T10:00:00Z"),
                from("m-1", "c-jane", "jane@cand.example", "2026-02-20T10:00:00Z"),
            ],
            vec![],
        )])
        .await;
    // THEN both sync
    assert_eq!((later.synced, later.skipped), (2, 0), "{later:?}");
    assert_eq!(
        w.mail
            .messages(&acme(), &seat(), "c-jane")
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn an_email_with_someone_else_in_a_stored_conversation_is_left_out() {
    let w = World::microsoft().await;
    let report = w
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
            // the seat forwards within the thread to someone outside, one to one
            Step::last(
                vec![MailChange::Message(mail(
                    "m-2",
                    "c-jane",
                    SEAT,
                    &["bob@else.example"],
                    &[],
                    "2026-02-22T10:00:00Z",
                ))],
                vec![],
            ),
        ])
        .await;
    assert_eq!((report.synced, report.skipped), (1, 1), "{report:?}");
    assert_eq!(
        w.skips_for("bob@else.example").await,
        [("m-2".to_owned(), "other_counterpart".to_owned())]
    );
    assert_eq!(
        w.mail
            .thread(&acme(), &seat(), "c-jane")
            .unwrap()
            .counterpart,
        addr("jane@cand.example")
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
    assert_eq!(
        w.mail.provider_ids(),
        ["m-new"],
        "the older email alone is left out; the conversation stays"
    );
    assert_eq!(
        w.skips_for("jane@cand.example").await,
        [("m-old".to_owned(), "too_many_participants".to_owned())],
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
