//! A seat changing hands: the product transfers it to another person or parks it, and the
//! former holder's mailbox and calendar authorizations end (their provider clean-up goes
//! the way of every deauthorization). What was synced stays with the seat; private threads
//! stay their holder's ([`Thread::visible_to`]).
//!
//! [`Thread::visible_to`]: hiresync_domain::mail::Thread::visible_to

use std::collections::BTreeSet;

use hiresync_domain::contract::Lifecycle;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::{ContractId, SeatId};
use hiresync_domain::ports::{retry_on_race, Raced};
use hiresync_domain::seat::{Seat, SeatChange};
use hiresync_domain::Timestamp;
use tracing::info;

use crate::connector::Connector;

/// What a seat event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatChanged {
    pub outcome: Lifecycle,
    /// Connections that lost their authorization by it.
    pub lost_authorization: usize,
}

impl Connector {
    /// Applies the product's `change` of the seat, made at `at`: the seat's holder, then
    /// the end of every authorization given before `at` (one given after it, by the new
    /// holder, stands). An event older than the last applied changes nothing; the same
    /// one again finishes what a first attempt may have left.
    pub async fn change_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        change: &SeatChange,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<SeatChanged, Failure> {
        let seats = &self.stores.seats;
        let outcome = retry_on_race("seat change", || async move {
            let read = match seats.get(contract, seat).await? {
                Some(read) => read,
                None => {
                    let new = Seat::new(seat.clone(), contract.clone(), None);
                    match seats.create(&new).await.raced()? {
                        Some(created) => created,
                        None => return Ok(None),
                    }
                }
            };
            let mut changed = read.value.clone();
            let outcome = changed.change(change, at);
            if outcome != Lifecycle::Applied {
                return Ok(Some(outcome));
            }
            Ok(seats
                .update(&read, &changed)
                .await
                .raced()?
                .map(|_| outcome))
        })
        .await?;
        let mut lost_authorization = 0;
        if outcome != Lifecycle::Stale {
            let effects = change.effects();
            for read in self
                .stores
                .connections
                .list_for_seat(contract, seat)
                .await?
            {
                if self
                    .apply_effects(read, &effects, &BTreeSet::new(), at, now)
                    .await?
                {
                    lost_authorization += 1;
                }
            }
        }
        info!(contract = %contract, seat = %seat, ?outcome, lost_authorization, "seat changed hands");
        Ok(SeatChanged {
            outcome,
            lost_authorization,
        })
    }
}
