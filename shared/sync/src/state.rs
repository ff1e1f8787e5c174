//! From what is stored about a thread to the policy's `ThreadState`.

use std::collections::BTreeSet;

use hiresync_domain::ids::EmailAddress;
use hiresync_domain::mail::Thread;
use hiresync_domain::mail::ThreadTombstone;
use hiresync_domain::policy::ThreadState;

/// The state a message of a thread is judged against: the live thread, its tombstone, or
/// both together (a thread that came back after a removal for inactivity, or whose removal
/// was interrupted). `None` when neither is stored.
///
/// A live thread is one-to-one by construction: its participants are the seat and its
/// counterpart. A tombstone adds every address seen before the removal, so a thread removed
/// for a third participant keeps failing the participant rule; a removal for inactivity
/// sets `removed_for_inactivity_at`, so only what came after it syncs.
pub fn thread_state(
    seat: &EmailAddress,
    live: Option<&Thread>,
    tombstone: Option<&ThreadTombstone>,
) -> Option<ThreadState> {
    if live.is_none() && tombstone.is_none() {
        return None;
    }
    let mut participants = BTreeSet::new();
    let mut started_from_product = false;
    let mut last_activity_at = None;
    if let Some(thread) = live {
        participants.insert(seat.clone());
        participants.insert(thread.counterpart.clone());
        started_from_product |= thread.started_from_product;
        last_activity_at = Some(thread.last_activity_at);
    }
    let mut removed_for_inactivity_at = None;
    if let Some(gone) = tombstone {
        participants.extend(gone.participants.iter().cloned());
        started_from_product |= gone.started_from_product;
        last_activity_at = last_activity_at.max(Some(gone.last_activity_at));
        removed_for_inactivity_at = gone.removed_for_inactivity().then_some(gone.removed_at);
    }
    Some(ThreadState {
        started_from_product,
        last_activity_at: last_activity_at?,
        participants,
        removed_for_inactivity_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hiresync_domain::ids::{ContractId, SeatId};
    use hiresync_domain::mail::Visibility;
    use hiresync_domain::Timestamp;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn live(last: &str) -> Thread {
        Thread {
            contract_id: ContractId::parse("acme").unwrap(),
            seat_id: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            counterpart: addr("jane@cand.example"),
            visibility: Visibility::Private,
            holder: None,
            profile: None,
            started_from_product: false,
            last_activity_at: ts(last),
        }
    }

    fn gone(reason: &str, who: &[&str], last: &str, removed: &str) -> ThreadTombstone {
        ThreadTombstone {
            contract: ContractId::parse("acme").unwrap(),
            seat: SeatId::parse("s1").unwrap(),
            thread_id: "t1".into(),
            participants: who.iter().map(|a| addr(a)).collect(),
            started_from_product: true,
            last_activity_at: ts(last),
            removed_at: ts(removed),
            reason: reason.into(),
        }
    }

    #[test]
    fn nothing_stored_is_no_state() {
        assert_eq!(thread_state(&addr("rita@acme.example"), None, None), None);
    }

    #[test]
    fn a_live_thread_is_the_seat_and_its_counterpart() {
        let state = thread_state(
            &addr("rita@acme.example"),
            Some(&live("2026-03-01T00:00:00Z")),
            None,
        )
        .unwrap();
        assert_eq!(
            state.participants,
            BTreeSet::from([addr("rita@acme.example"), addr("jane@cand.example")])
        );
        assert_eq!(state.last_activity_at, ts("2026-03-01T00:00:00Z"));
        assert_eq!(state.removed_for_inactivity_at, None);
    }

    #[test]
    fn a_tombstone_alone_keeps_everyone_seen_and_is_not_a_removal_for_inactivity() {
        let tomb = gone(
            "too_many_participants",
            &["jane@cand.example", "bob@else.example"],
            "2026-02-21T00:00:00Z",
            "2026-03-01T00:00:00Z",
        );
        let state = thread_state(&addr("rita@acme.example"), None, Some(&tomb)).unwrap();
        assert_eq!(state.participants, tomb.participants);
        assert_eq!(state.last_activity_at, tomb.last_activity_at);
        assert!(state.started_from_product);
        assert_eq!(state.removed_for_inactivity_at, None);
    }

    #[test]
    fn a_thread_back_after_a_removal_for_inactivity_remembers_the_removal() {
        let tomb = gone(
            ThreadTombstone::INACTIVITY,
            &["jane@cand.example"],
            "2025-08-01T00:00:00Z",
            "2026-02-02T00:00:00Z",
        );
        let state = thread_state(
            &addr("rita@acme.example"),
            Some(&live("2026-03-01T00:00:00Z")),
            Some(&tomb),
        )
        .unwrap();
        assert_eq!(state.participants.len(), 2);
        assert_eq!(state.last_activity_at, ts("2026-03-01T00:00:00Z"));
        assert_eq!(
            state.removed_for_inactivity_at,
            Some(ts("2026-02-02T00:00:00Z"))
        );
        assert!(
            state.started_from_product,
            "the origin survives the removal"
        );
    }
}
