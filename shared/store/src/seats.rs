use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use hiresync_domain::ids::{ContractId, SeatId, UserId};
use hiresync_domain::seat::Seat;
use serde::{Deserialize, Serialize};

use crate::batch::{batch_write, BatchPolicy};
use crate::error::{built, StoreError};
use crate::items::{encode, Record};
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::SeatStore;
use hiresync_domain::ports::Versioned;
use hiresync_domain::ports::{Page, PageToken};

#[derive(Serialize, Deserialize)]
struct SeatRecord {
    pk: String,
    sk: String,
    version: u64,
    contract_id: ContractId,
    seat_id: SeatId,
    holder: Option<UserId>,
    /// The last transfer or parking applied; absent until the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changed_at: Option<hiresync_domain::Timestamp>,
}

impl Record for SeatRecord {
    const ENTITY: &'static str = "seat";
}

impl SeatRecord {
    fn new(seat: &Seat, version: u64) -> Self {
        Self {
            pk: keys::contract_pk(&seat.contract_id),
            sk: keys::seat_sk(&seat.id),
            version,
            contract_id: seat.contract_id.clone(),
            seat_id: seat.id.clone(),
            holder: seat.holder.clone(),
            changed_at: seat.changed_at,
        }
    }

    fn into_domain(self) -> Versioned<Seat> {
        Versioned {
            version: self.version,
            value: Seat {
                changed_at: self.changed_at,
                ..Seat::new(self.seat_id, self.contract_id, self.holder)
            },
        }
    }
}

crate::items::dynamo_store!(
    /// The seats of each contract, listed without a scan from the contract's partition.
    DynamoSeatStore
);

impl DynamoSeatStore {
    /// Provisions many seats at once (a contract's initial seats). Seats written this way
    /// start at version 1; an existing seat with the same id is overwritten, so only use it
    /// for seats that are new.
    pub async fn provision(&self, seats: &[Seat]) -> Result<(), StoreError> {
        let requests = seats
            .iter()
            .map(|seat| {
                let item = encode(&SeatRecord::new(seat, 1))?;
                let put = PutRequest::builder().set_item(Some(item)).build();
                Ok(WriteRequest::builder()
                    .put_request(built("DynamoDB BatchWriteItem", put)?)
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        batch_write(&self.client, &self.table, requests, BatchPolicy::default()).await
    }
}

#[async_trait]
impl SeatStore for DynamoSeatStore {
    async fn create(&self, seat: &Seat) -> Result<Versioned<Seat>, StoreError> {
        self.items().create(&SeatRecord::new(seat, 1)).await?;
        Ok(Versioned {
            value: seat.clone(),
            version: 1,
        })
    }

    async fn get(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<Option<Versioned<Seat>>, StoreError> {
        Ok(self
            .items()
            .get::<SeatRecord>(&keys::contract_pk(contract), &keys::seat_sk(seat))
            .await?
            .map(SeatRecord::into_domain))
    }

    async fn update(
        &self,
        read: &Versioned<Seat>,
        seat: &Seat,
    ) -> Result<Versioned<Seat>, StoreError> {
        let version = read.version + 1;
        self.items()
            .replace(&SeatRecord::new(seat, version), read.version)
            .await?;
        Ok(Versioned {
            value: seat.clone(),
            version,
        })
    }

    /// One page of a contract's seats, in seat-id order.
    async fn list(
        &self,
        contract: &ContractId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Versioned<Seat>>, StoreError> {
        let page = self
            .items()
            .query_prefix::<SeatRecord>(
                &keys::contract_pk(contract),
                keys::SEAT_PREFIX,
                limit,
                start,
            )
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(SeatRecord::into_domain)
                .collect(),
            next: page.next,
        })
    }
}
