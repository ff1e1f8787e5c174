use super::*;

fn mail(id: &str, at: &str) -> Mail {
    Mail {
        id: id.into(),
        thread_id: "t".into(),
        internet_message_id: format!("<{id}@x>"),
        from: Person::parse("a@x.example"),
        to: vec![Person::parse("Ana <ana@y.example>")],
        cc: vec![],
        bcc: vec![],
        subject: "s".into(),
        at: at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
        raw_headers: vec![],
        moves: vec![],
        etag: 0,
    }
}

#[test]
fn a_delta_round_sees_what_moved_in_and_out_of_the_folder_since_its_token() {
    let mut b = Mailbox::default();
    b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::Inbox);
    let first = DeltaToken {
        generation: 0,
        after: 0,
        upto: b.seq,
        offset: 0,
        since: None,
    };
    assert_eq!(
        b.delta(Folder::Inbox, &first),
        vec![DeltaEntry::Changed("m1".into())]
    );
    b.add(mail("m2", "2026-01-02T00:00:00Z"), Folder::Inbox);
    b.relocate("m1", Folder::DeletedItems);
    let next = DeltaToken {
        generation: 0,
        after: first.upto,
        upto: b.seq,
        offset: 0,
        since: None,
    };
    assert_eq!(
        b.delta(Folder::Inbox, &next),
        vec![
            DeltaEntry::Changed("m2".into()),
            DeltaEntry::Removed {
                id: "m1".into(),
                reason: "changed"
            }
        ]
    );
    b.relocate("m2", Folder::Gone);
    let last = DeltaToken {
        generation: 0,
        after: next.upto,
        upto: b.seq,
        offset: 0,
        since: None,
    };
    assert_eq!(
        b.delta(Folder::Inbox, &last),
        vec![DeltaEntry::Removed {
            id: "m2".into(),
            reason: "deleted"
        }]
    );
    assert!(b.delta(Folder::SentItems, &last).is_empty());
}

#[test]
fn the_first_round_honours_the_received_filter() {
    let mut b = Mailbox::default();
    b.add(mail("old", "2024-01-01T00:00:00Z"), Folder::Inbox);
    b.add(mail("new", "2026-01-01T00:00:00Z"), Folder::Inbox);
    let since = "2025-01-01T00:00:00Z"
        .parse::<Timestamp>()
        .map(|t| t.as_second())
        .ok();
    let token = DeltaToken {
        generation: 0,
        after: 0,
        upto: b.seq,
        offset: 0,
        since,
    };
    assert_eq!(
        b.delta(Folder::Inbox, &token),
        vec![DeltaEntry::Changed("new".into())]
    );
}

#[test]
fn tokens_round_trip_and_history_forgets_on_expiry() {
    let t = DeltaToken {
        generation: 2,
        after: 5,
        upto: 9,
        offset: 50,
        since: Some(-3),
    };
    assert_eq!(DeltaToken::decode(&t.encode()), Some(t));
    assert_eq!(DeltaToken::decode("nonsense"), None);
    let mut b = Mailbox::default();
    b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::SentItems);
    assert_eq!(b.history_after(HISTORY_BASE).map(|h| h.len()), Some(1));
    b.expire_cursors();
    assert_eq!(b.history_after(HISTORY_BASE), None);
    assert_eq!(b.history_after(b.history_id()).map(|h| h.len()), Some(0));
}

#[test]
fn people_parse_with_and_without_display_names() {
    assert_eq!(
        Person::parse("\"Doe, Jane\" <jane@x.example>"),
        Person {
            name: Some("Doe, Jane".into()),
            address: "jane@x.example".into()
        }
    );
    assert_eq!(Person::parse("jane@x.example").name, None);
}

fn records_after(b: &Mailbox, start: u64) -> Vec<HistoryEvent> {
    b.history_after(start)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, e)| e.clone())
        .collect()
}

#[test]
fn a_move_writes_the_labels_lost_then_those_gained() {
    let mut b = Mailbox::default();
    b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::Inbox);
    let start = b.history_id();
    b.relocate("m1", Folder::Archive);
    assert_eq!(
        records_after(&b, start),
        vec![HistoryEvent::LabelsRemoved {
            id: "m1".into(),
            thread_id: "t".into(),
            labels: vec!["INBOX".into(), "UNREAD".into()],
            now: vec![],
        }],
        "archiving only removes labels"
    );
    b.relocate("m1", Folder::DeletedItems);
    let start = b.history_id();
    let change = b.relocate("m1", Folder::Inbox);
    assert_eq!(
        change.map(|c| (c.before, c.after)),
        Some((Folder::DeletedItems, Folder::Inbox))
    );
    let restore = records_after(&b, start);
    assert_eq!(
        restore
            .iter()
            .map(HistoryEvent::history_type)
            .collect::<Vec<_>>(),
        ["labelRemoved", "labelAdded"]
    );
    assert!(
        matches!(&restore[0], HistoryEvent::LabelsRemoved { labels, .. } if labels == &["TRASH"])
    );
    assert_eq!(b.seq, b.find("m1").map(|m| m.etag).unwrap_or_default());
}

#[test]
fn user_folders_exist_once_mail_goes_there_or_they_are_made() {
    let mut b = Mailbox::default();
    let candidates = Folder::User("Candidates".into());
    assert!(!b.has_folder(&candidates));
    b.add(mail("m1", "2026-01-01T00:00:00Z"), Folder::Inbox);
    b.relocate("m1", candidates.clone());
    assert!(b.has_folder(&candidates));
    assert_eq!(b.create_folder("Later"), Some(Folder::User("Later".into())));
    assert_eq!(b.create_folder("Candidates"), Some(candidates.clone()));
    assert_eq!(b.create_folder(" "), None);
    assert_eq!(
        b.folders().last(),
        Some(&Folder::User("Later".into())),
        "user folders follow the well-known ones, in the order they came"
    );
    assert_eq!(b.folders().len(), WELL_KNOWN.len() + 2);
    assert_eq!(b.count(&candidates), 1);
    let token = DeltaToken {
        generation: 0,
        after: 0,
        upto: b.seq,
        offset: 0,
        since: None,
    };
    assert_eq!(
        b.delta(candidates, &token),
        vec![DeltaEntry::Changed("m1".into())]
    );
    assert!(b.delta(Folder::Inbox, &token).is_empty());
}
