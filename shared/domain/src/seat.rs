//! A licensed seat. Data belongs to the seat, so it stays when the seat changes hands; the
//! mailbox and calendar grants belong to the person and do not.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::{DeauthorizationReason, Effect};
use crate::connection::ConnectionKind;
use crate::ids::{ContractId, SeatId, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub id: SeatId,
    pub contract_id: ContractId,
    /// The person holding the seat; `None` while the seat is parked.
    pub holder: Option<UserId>,
    /// The product's instant of the last transfer or parking applied; an older event
    /// changes nothing.
    #[serde(default)]
    pub changed_at: Option<crate::Timestamp>,
}

/// A change of hands the product announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatChange {
    /// The seat goes to `holder`.
    Transferred { holder: UserId },
    /// Nobody holds the seat.
    Parked,
}

impl SeatChange {
    /// What the former holder loses: every authorization of the seat (the new holder
    /// authorizes their own mailbox; the data stays with the seat).
    pub fn effects(&self) -> Vec<Effect> {
        deauthorize_both(match self {
            SeatChange::Transferred { .. } => DeauthorizationReason::SeatTransferred,
            SeatChange::Parked => DeauthorizationReason::SeatParked,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeatError {
    #[error("seat {seat} is already held by {holder}")]
    AlreadyHeldBy { seat: SeatId, holder: UserId },
    #[error("seat {0} is already parked")]
    AlreadyParked(SeatId),
}

fn deauthorize_both(reason: DeauthorizationReason) -> Vec<Effect> {
    ConnectionKind::ALL
        .into_iter()
        .map(|kind| Effect::Deauthorize { kind, reason })
        .collect()
}

impl Seat {
    pub fn new(id: SeatId, contract_id: ContractId, holder: Option<UserId>) -> Self {
        Self {
            id,
            contract_id,
            holder,
            changed_at: None,
        }
    }

    /// Applies a change the product made at `at`. An event older than the last one applied
    /// is [`Lifecycle::Stale`] (delivered out of order); the same one again is
    /// [`Lifecycle::Repeated`], and its effects are still to be carried out (a first
    /// attempt may have stopped after writing the seat).
    ///
    /// [`Lifecycle::Stale`]: crate::contract::Lifecycle::Stale
    /// [`Lifecycle::Repeated`]: crate::contract::Lifecycle::Repeated
    pub fn change(
        &mut self,
        change: &SeatChange,
        at: crate::Timestamp,
    ) -> crate::contract::Lifecycle {
        use crate::contract::Lifecycle;
        match self.changed_at {
            Some(last) if last > at => Lifecycle::Stale,
            Some(last) if last == at => Lifecycle::Repeated,
            _ => {
                self.holder = match change {
                    SeatChange::Transferred { holder } => Some(holder.clone()),
                    SeatChange::Parked => None,
                };
                self.changed_at = Some(at);
                Lifecycle::Applied
            }
        }
    }

    pub fn is_parked(&self) -> bool {
        self.holder.is_none()
    }

    /// Gives the seat to `to`. The previous holder's grants are deauthorized (the new holder
    /// authorizes their own mailbox); synced data stays with the seat.
    pub fn transfer(&mut self, to: UserId) -> Result<Vec<Effect>, SeatError> {
        if self.holder.as_ref() == Some(&to) {
            return Err(SeatError::AlreadyHeldBy {
                seat: self.id.clone(),
                holder: to,
            });
        }
        let had_holder = self.holder.replace(to).is_some();
        Ok(if had_holder {
            deauthorize_both(DeauthorizationReason::SeatTransferred)
        } else {
            // A parked seat's grants were already removed when it was parked.
            vec![]
        })
    }

    /// Parks the seat: nobody holds it and its grants are deauthorized.
    pub fn park(&mut self) -> Result<Vec<Effect>, SeatError> {
        if self.holder.take().is_none() {
            return Err(SeatError::AlreadyParked(self.id.clone()));
        }
        Ok(deauthorize_both(DeauthorizationReason::SeatParked))
    }
}
