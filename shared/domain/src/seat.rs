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
