//! From what is stored about a thread to the policy's `ThreadState`.

use hiresync_domain::mail::Thread;
use hiresync_domain::mail::ThreadTombstone;
use hiresync_domain::policy::ThreadState;

/// The state a message of a thread is judged against: the live thread, its tombstone, or
/// both together (a thread that came back after a removal for inactivity). `None` when
/// neither is stored.
///
/// The live thread gives the conversation's counterpart and profile; a tombstone left by
/// the retention sweep adds the removal's instant, so only what came after it syncs. A
/// tombstone an earlier version left for a third participant
/// ([`ThreadTombstone::is_void`]) keeps nothing out and is read as none.
pub fn thread_state(
    live: Option<&Thread>,
    tombstone: Option<&ThreadTombstone>,
) -> Option<ThreadState> {
    let tombstone = tombstone.filter(|t| !t.is_void());
    if live.is_none() && tombstone.is_none() {
        return None;
    }
    let mut started_from_product = false;
    let mut last_activity_at = None;
    let (mut counterpart, mut profile) = (None, None);
    if let Some(thread) = live {
        counterpart = Some(thread.counterpart.clone());
        profile = thread.profile.clone();
        started_from_product |= thread.started_from_product;
        last_activity_at = Some(thread.last_activity_at);
    }
    let mut removed_for_inactivity_at = None;
    if let Some(gone) = tombstone {
        started_from_product |= gone.started_from_product;
        last_activity_at = last_activity_at.max(Some(gone.last_activity_at));
        removed_for_inactivity_at = gone.removed_for_inactivity().then_some(gone.removed_at);
    }
    Some(ThreadState {
        started_from_product,
        last_activity_at: last_activity_at?,
        counterpart,
        profile,
        removed_for_inactivity_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
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
        assert_eq!(thread_state(None, None), None);
    }

    #[test]
    fn a_live_thread_is_its_counterpart() {
        let state = thread_state(Some(&live("2026-03-01T00:00:00Z")), None).unwrap();
        assert_eq!(state.counterpart, Some(addr("jane@cand.example")));
        assert_eq!(state.last_activity_at, ts("2026-03-01T00:00:00Z"));
        assert_eq!(state.removed_for_inactivity_at, None);
    }

    #[test]
    fn a_tombstone_left_for_a_third_participant_keeps_nothing_out() {
        let tomb = gone(
            ThreadTombstone::VOID_PARTICIPANTS,
            &["jane@cand.example", "bob@else.example"],
            "2026-02-21T00:00:00Z",
            "2026-03-01T00:00:00Z",
        );
        assert_eq!(thread_state(None, Some(&tomb)), None);
        let state = thread_state(Some(&live("2026-03-01T00:00:00Z")), Some(&tomb)).unwrap();
        assert_eq!(state.counterpart, Some(addr("jane@cand.example")));
        assert!(!state.started_from_product);
        assert_eq!(state.removed_for_inactivity_at, None);
    }

    #[test]
    fn a_tombstone_for_inactivity_alone_remembers_the_removal() {
        let tomb = gone(
            ThreadTombstone::INACTIVITY,
            &[],
            "2025-08-01T00:00:00Z",
            "2026-02-02T00:00:00Z",
        );
        let state = thread_state(None, Some(&tomb)).unwrap();
        assert_eq!(state.counterpart, None);
        assert!(state.started_from_product);
        assert_eq!(
            state.removed_for_inactivity_at,
            Some(ts("2026-02-02T00:00:00Z"))
        );
    }

    #[test]
    fn a_thread_back_after_a_removal_for_inactivity_remembers_the_removal() {
        let tomb = gone(
            ThreadTombstone::INACTIVITY,
            &["jane@cand.example"],
            "2025-08-01T00:00:00Z",
            "2026-02-02T00:00:00Z",
        );
        let state = thread_state(Some(&live("2026-03-01T00:00:00Z")), Some(&tomb)).unwrap();
        assert_eq!(state.counterpart, Some(addr("jane@cand.example")));
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
