//! What stays of a removed thread (its [`ThreadTombstone`]), kept merged; and the removal
//! of a thread that went idle. The removal for a rule is the sync's
//! ([`ThreadStore::remove_thread_for_rule`]).
//!
//! [`ThreadStore::remove_thread_for_rule`]: hiresync_domain::ports::ThreadStore::remove_thread_for_rule

use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::mail::ThreadTombstone;
use hiresync_domain::Timestamp;

use super::records::TombstoneItem;
use super::{check_key, DynamoMailStore, MAX_SORT_KEY, TOMBSTONE};
use crate::error::StoreError;
use crate::keys;
use crate::race::{retry_on_race, Attempt};

impl DynamoMailStore {
    /// The tombstone of a removed thread, if it has one.
    pub async fn tombstone(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Option<ThreadTombstone>, StoreError> {
        Ok(self
            .items()
            .get::<TombstoneItem>(
                &keys::mail_pk(contract, seat),
                &keys::tombstone_sk(thread_id),
            )
            .await?
            .map(TombstoneItem::into_domain))
    }

    /// Removes a thread that has had no activity for six months at `now` (the domain's
    /// [`Thread::is_expired`]) and keeps a tombstone with reason
    /// [`ThreadTombstone::INACTIVITY`] removed at `now`: the policy then syncs only the
    /// thread's messages after `now` (its rule 8). For the retention sweep, with the
    /// threads [`expired_threads`](Self::expired_threads) lists.
    ///
    /// `None` when there is no such thread, or when it is no longer expired (a message came
    /// since it was listed): nothing is written then. Otherwise how many messages were
    /// removed. A message stored between that check and the removal leaves with the thread,
    /// as with any removal.
    ///
    /// [`Thread::is_expired`]: hiresync_domain::mail::Thread::is_expired
    pub async fn remove_thread_for_inactivity(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
        now: Timestamp,
    ) -> Result<Option<usize>, StoreError> {
        let Some(thread) = self.thread(contract, seat, thread_id).await? else {
            return Ok(None);
        };
        if !thread.is_expired(now) {
            return Ok(None);
        }
        self.keep_tombstone(ThreadTombstone::for_inactivity(&thread, now))
            .await?;
        Ok(Some(self.remove_thread(contract, seat, thread_id).await?))
    }

    /// Writes `tombstone` merged into the one stored, on condition that the stored one is
    /// still the one read (or, when there was none, that there still is none); writes
    /// nothing when the merge changes nothing.
    pub(super) async fn keep_tombstone(
        &self,
        tombstone: ThreadTombstone,
    ) -> Result<(), StoreError> {
        let pk = keys::mail_pk(&tombstone.contract, &tombstone.seat);
        let sk = keys::tombstone_sk(&tombstone.thread_id);
        check_key(TOMBSTONE, &sk, MAX_SORT_KEY)?;
        retry_on_race(|| async {
            let written = match self.items().get::<TombstoneItem>(&pk, &sk).await? {
                None => {
                    self.items()
                        .create(&TombstoneItem::new(&tombstone.clone().bounded(), 0))
                        .await
                }
                Some(stored) => {
                    let version = stored.version;
                    let current = stored.into_domain();
                    let merged = current.clone().merge(tombstone.clone());
                    if merged == current {
                        return Ok(Attempt::Done(()));
                    }
                    self.items()
                        .replace(&TombstoneItem::new(&merged, version + 1), version)
                        .await
                }
            };
            Attempt::of(written)
        })
        .await
    }
}
