//! What stays of a removed thread, and how two removals of the same thread combine.
//!
//! A thread removed because it went idle (or, in principle, because a rule removed it: none
//! does today; earlier versions removed a thread when one email had a third participant,
//! and such a tombstone now keeps nothing out) leaves a tombstone: its participants, last
//! activity, when and why it was removed. The sync policy reads it as the thread's state,
//! so a thread removed for inactivity syncs only what came after the removal.
//!
//! Tombstones merge: participants are a union, activity moves forward, a removal for a rule
//! outranks one for inactivity. Duplicated and reordered removals therefore end in the same
//! tombstone, and a removal that changes nothing changes nothing.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use crate::ids::{ContractId, EmailAddress, SeatId};
use crate::mail::Thread;

/// How long a tombstone is kept after its latest news (the later of its removal and the
/// thread's last activity).
///
/// Why 550 days, one year and six months rounded up: that is the policy's longest reach,
/// the lookback (one year before the historical anchor) plus the activity window (six
/// months). When the tombstone goes, a message dated before its latest news fails the
/// activity rule on its own, and a historical sync anchored from then on no longer reaches
/// it (lookback), so only mail written after that can start the thread again, as a new
/// conversation would. New messages of the thread move its latest news, and so its expiry,
/// forward: a group conversation that goes on stays out.
pub const TOMBSTONE_RETENTION_DAYS: i64 = 550;

/// A tombstone remembers at most this many participants: far more than the two a thread
/// may have, so a thread removed for a third participant stays out; a huge group thread
/// does not make a huge record (the explanation then counts at most this many people).
pub const TOMBSTONE_PARTICIPANTS: usize = 100;

/// What stays of a removed thread: enough for the sync policy to judge later messages of
/// it (`ThreadState`), and nothing of its content.
///
/// The reason is a code, so that what is stored does not depend on the policy's types: the
/// skip reason's code for a removal by a rule (`too_many_participants`),
/// [`ThreadTombstone::INACTIVITY`] for the retention sweep's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadTombstone {
    pub contract: ContractId,
    pub seat: SeatId,
    pub thread_id: String,
    /// Every address seen on the thread (the seat's own may be among them), at most
    /// [`TOMBSTONE_PARTICIPANTS`] of them.
    pub participants: BTreeSet<EmailAddress>,
    pub started_from_product: bool,
    /// The latest message instant seen on the thread.
    pub last_activity_at: Timestamp,
    /// When the thread was removed: for a rule, the first removal; for inactivity, the
    /// latest.
    pub removed_at: Timestamp,
    pub reason: String,
}

impl ThreadTombstone {
    /// The reason of a removal by the retention sweep.
    pub const INACTIVITY: &'static str = "inactivity";

    /// The tombstone the retention sweep leaves of `thread`, idle at `now`. It is removed as
    /// of the instant its six months ran out, not when the sweep came by: a message dated
    /// after that brings the conversation back however late it is ingested (a backlog, a
    /// deauthorized period), and one dated before is part of what was removed.
    pub fn for_inactivity(thread: &Thread, now: Timestamp) -> Self {
        ThreadTombstone {
            contract: thread.contract_id.clone(),
            seat: thread.seat_id.clone(),
            thread_id: thread.thread_id.clone(),
            participants: BTreeSet::new(),
            started_from_product: false,
            last_activity_at: thread.last_activity_at,
            removed_at: thread.expires_at().min(now),
            reason: Self::INACTIVITY.to_owned(),
        }
        .with_thread(thread)
    }

    /// The reason earlier versions recorded when one email of a thread had a third
    /// participant. The participant rule now leaves out that email alone, so such a
    /// tombstone keeps nothing out: it is read as no tombstone, and any later removal
    /// replaces it.
    pub const VOID_PARTICIPANTS: &'static str = "too_many_participants";

    pub fn removed_for_inactivity(&self) -> bool {
        self.reason == Self::INACTIVITY
    }

    /// Left by a rule that no longer removes threads (see [`Self::VOID_PARTICIPANTS`]).
    pub fn is_void(&self) -> bool {
        self.reason == Self::VOID_PARTICIPANTS
    }

    /// This tombstone once `later` also happened to the thread: participants are a union,
    /// activity moves forward, a removal for a rule outranks one for inactivity (and keeps
    /// the instant it first happened), and of two removals for inactivity the later counts.
    pub fn merge(mut self, later: ThreadTombstone) -> ThreadTombstone {
        let later_idle = later.removed_for_inactivity();
        let later_void = later.is_void();
        self.participants.extend(later.participants);
        self.started_from_product |= later.started_from_product;
        self.last_activity_at = self.last_activity_at.max(later.last_activity_at);
        match (self.removed_for_inactivity(), later_idle) {
            _ if later_void && !self.is_void() => {}
            _ if self.is_void() => {
                self.removed_at = later.removed_at;
                self.reason = later.reason;
            }
            (false, _) => {}
            (true, false) => {
                self.removed_at = later.removed_at;
                self.reason = later.reason;
            }
            (true, true) => self.removed_at = self.removed_at.max(later.removed_at),
        }
        self.bounded()
    }

    /// Folds in what the live thread knows: its counterpart, origin and activity.
    pub fn with_thread(mut self, thread: &Thread) -> ThreadTombstone {
        self.participants.insert(thread.counterpart.clone());
        self.started_from_product |= thread.started_from_product;
        self.last_activity_at = self.last_activity_at.max(thread.last_activity_at);
        self.bounded()
    }

    /// At most [`TOMBSTONE_PARTICIPANTS`] participants.
    pub fn bounded(mut self) -> ThreadTombstone {
        while self.participants.len() > TOMBSTONE_PARTICIPANTS {
            self.participants.pop_last();
        }
        self
    }

    /// From when the tombstone may be forgotten (see [`TOMBSTONE_RETENTION_DAYS`]).
    pub fn forget_after(&self) -> Timestamp {
        let news = self.removed_at.max(self.last_activity_at);
        news.checked_add(SignedDuration::from_hours(TOMBSTONE_RETENTION_DAYS * 24))
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn tombstone(reason: &str, removed: &str, last: &str, who: &[&str]) -> ThreadTombstone {
        ThreadTombstone {
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            participants: who
                .iter()
                .map(|a| EmailAddress::parse(a).unwrap())
                .collect(),
            started_from_product: false,
            last_activity_at: ts(last),
            removed_at: ts(removed),
            reason: reason.into(),
        }
    }

    // No rule removes a thread today; the merge keeps the mechanism for one that would.
    const RULE: &str = "a_rule";
    const IDLE: &str = ThreadTombstone::INACTIVITY;

    #[test]
    fn a_void_participants_tombstone_gives_way_to_any_later_removal() {
        let void = tombstone(
            ThreadTombstone::VOID_PARTICIPANTS,
            "2026-01-01T00:00:00Z",
            "2025-12-01T00:00:00Z",
            &["bob@else.example"],
        );
        assert!(void.is_void());
        let idle = tombstone(
            ThreadTombstone::INACTIVITY,
            "2026-07-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            &[],
        );
        let merged = void.clone().merge(idle.clone());
        assert_eq!(merged.reason, ThreadTombstone::INACTIVITY);
        assert_eq!(merged.removed_at, ts("2026-07-01T00:00:00Z"));
        let other_way = idle.merge(void);
        assert_eq!(other_way.reason, ThreadTombstone::INACTIVITY);
        assert_eq!(other_way.removed_at, ts("2026-07-01T00:00:00Z"));
    }

    #[test]
    fn a_thread_is_removed_as_of_when_its_six_months_ran_out_not_when_the_sweep_came() {
        let thread = Thread {
            contract_id: ContractId::parse("acme").unwrap(),
            seat_id: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            counterpart: EmailAddress::parse("j@x.org").unwrap(),
            visibility: crate::mail::Visibility::Private,
            holder: None,
            profile: None,
            started_from_product: false,
            last_activity_at: ts("2026-01-01T09:00:00Z"),
        };
        // The sweep came by nineteen days late (a backlog): a message of 10 July, ingested
        // after it, is later than the removal and brings the conversation back.
        let late = ThreadTombstone::for_inactivity(&thread, ts("2026-07-20T00:00:00Z"));
        assert_eq!(late.removed_at, ts("2026-07-01T09:00:00Z"));
        assert!(ts("2026-07-10T00:00:00Z") > late.removed_at);
        // Never later than the run itself.
        let early = ThreadTombstone::for_inactivity(&thread, ts("2026-06-30T00:00:00Z"));
        assert_eq!(early.removed_at, ts("2026-06-30T00:00:00Z"));
    }

    #[test]
    fn tombstones_merge_in_any_order_to_the_same_answer() {
        let idle = tombstone(
            IDLE,
            "2026-01-10T00:00:00Z",
            "2025-07-01T00:00:00Z",
            &["j@x.org"],
        );
        let rule = tombstone(
            RULE,
            "2026-03-01T00:00:00Z",
            "2026-02-20T00:00:00Z",
            &["j@x.org", "b@y.org", "r@acme.example"],
        );
        let later_rule = tombstone(
            RULE,
            "2026-03-05T00:00:00Z",
            "2026-03-04T00:00:00Z",
            &["c@z.org"],
        );
        let all = [idle.clone(), rule.clone(), later_rule.clone()];
        let mut orders = vec![];
        for (a, b, c) in [
            (0, 1, 2),
            (0, 2, 1),
            (1, 0, 2),
            (1, 2, 0),
            (2, 0, 1),
            (2, 1, 0),
        ] {
            orders.push(all[a].clone().merge(all[b].clone()).merge(all[c].clone()));
        }
        let expected = &orders[0];
        // A rule outranks inactivity; of two rule removals the merge keeps the stored one,
        // so only participants and activity are compared across orders.
        for o in &orders {
            assert_eq!(o.participants.len(), 4, "{o:?}");
            assert_eq!(o.last_activity_at, ts("2026-03-04T00:00:00Z"));
            assert_eq!(o.reason, RULE);
            assert_eq!(o.participants, expected.participants);
        }
        // Merging what is already there changes nothing.
        let once = idle.clone().merge(rule.clone());
        assert_eq!(once.clone().merge(rule.clone()), once);
        assert_eq!(once.removed_at, rule.removed_at);
    }

    #[test]
    fn the_later_removal_for_inactivity_counts_and_a_rule_is_never_undone() {
        let first = tombstone(
            IDLE,
            "2026-01-10T00:00:00Z",
            "2025-07-01T00:00:00Z",
            &["j@x.org"],
        );
        let second = tombstone(
            IDLE,
            "2026-09-10T00:00:00Z",
            "2026-03-01T00:00:00Z",
            &["j@x.org"],
        );
        assert_eq!(
            first.clone().merge(second.clone()).removed_at,
            second.removed_at
        );
        assert_eq!(
            second.clone().merge(first.clone()).removed_at,
            second.removed_at
        );
        let rule = tombstone(
            RULE,
            "2026-02-01T00:00:00Z",
            "2026-01-20T00:00:00Z",
            &["b@y.org"],
        );
        let merged = rule.clone().merge(second);
        assert_eq!(
            (merged.reason.as_str(), merged.removed_at),
            (RULE, rule.removed_at)
        );
    }

    #[test]
    fn a_tombstone_outlives_its_thread_by_550_days_from_its_latest_news() {
        let t = tombstone(RULE, "2026-03-01T00:00:00Z", "2026-02-20T00:00:00Z", &[]);
        assert_eq!(t.forget_after(), ts("2027-09-02T00:00:00Z"));
        let late = tombstone(RULE, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", &[]);
        assert_eq!(late.forget_after(), ts("2027-10-03T00:00:00Z"));
    }

    #[test]
    fn a_huge_group_is_remembered_with_a_bounded_number_of_people() {
        let many: Vec<String> = (0..300).map(|i| format!("p{i}@x.org")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let t = tombstone(
            RULE,
            "2026-03-01T00:00:00Z",
            "2026-02-20T00:00:00Z",
            &refs[..150],
        );
        let merged = t.clone().bounded().merge(tombstone(
            RULE,
            "2026-03-01T00:00:00Z",
            "2026-02-20T00:00:00Z",
            &refs[150..],
        ));
        assert_eq!(merged.participants.len(), TOMBSTONE_PARTICIPANTS);
    }

    #[test]
    fn the_sweeps_tombstone_keeps_the_counterpart_and_the_origin() {
        let thread = Thread {
            contract_id: ContractId::parse("acme").unwrap(),
            seat_id: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            counterpart: EmailAddress::parse("jane@cand.example").unwrap(),
            visibility: crate::mail::Visibility::Private,
            holder: None,
            profile: None,
            started_from_product: true,
            last_activity_at: ts("2026-01-01T00:00:00Z"),
        };
        let t = ThreadTombstone::for_inactivity(&thread, ts("2026-07-02T00:00:00Z"));
        assert!(t.removed_for_inactivity());
        assert!(t.started_from_product);
        assert_eq!(t.removed_at, ts("2026-07-01T00:00:00Z"), "when it expired");
        assert_eq!(
            t.participants.into_iter().collect::<Vec<_>>(),
            vec![thread.counterpart]
        );
    }
}
