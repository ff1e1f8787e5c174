use hiresync_domain::contract::{
    Contract, ContractSettings, ContractStatus, EmailAccess, Provider,
};
use hiresync_domain::ids::ContractId;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::items::Record;
use crate::keys;
use async_trait::async_trait;
use hiresync_domain::ports::ContractStore;
use hiresync_domain::ports::Versioned;

#[derive(Serialize, Deserialize)]
struct ContractRecord {
    pk: String,
    sk: String,
    version: u64,
    contract_id: ContractId,
    status: ContractStatus,
    provider: Option<Provider>,
    email_access: EmailAccess,
    calendar_enabled: bool,
}

impl Record for ContractRecord {
    const ENTITY: &'static str = "contract";
}

impl ContractRecord {
    fn new(c: &Contract, version: u64) -> Self {
        Self {
            pk: keys::contract_pk(&c.id),
            sk: keys::CONTRACT_SK.to_owned(),
            version,
            contract_id: c.id.clone(),
            status: c.status,
            provider: c.settings.provider,
            email_access: c.settings.email_access,
            calendar_enabled: c.settings.calendar_enabled,
        }
    }

    fn into_domain(self) -> Versioned<Contract> {
        Versioned {
            version: self.version,
            value: Contract {
                id: self.contract_id,
                status: self.status,
                settings: ContractSettings {
                    provider: self.provider,
                    email_access: self.email_access,
                    calendar_enabled: self.calendar_enabled,
                },
            },
        }
    }
}

/// What the store has learned about a contract's Microsoft tenant.
#[derive(Serialize, Deserialize)]
struct LearnedGraphRecord {
    pk: String,
    sk: String,
    /// The longest subscription lifetime Graph accepted from this tenant, in minutes.
    subscription_ceiling_minutes: u32,
}

impl Record for LearnedGraphRecord {
    const ENTITY: &'static str = "learned graph limits";
}

crate::items::dynamo_store!(
    /// Contracts and their admin settings.
    DynamoContractStore
);

#[async_trait]
impl ContractStore for DynamoContractStore {
    async fn create(&self, contract: &Contract) -> Result<Versioned<Contract>, StoreError> {
        self.items()
            .create(&ContractRecord::new(contract, 1))
            .await?;
        Ok(Versioned {
            value: contract.clone(),
            version: 1,
        })
    }

    async fn get(&self, id: &ContractId) -> Result<Option<Versioned<Contract>>, StoreError> {
        Ok(self
            .items()
            .get::<ContractRecord>(&keys::contract_pk(id), keys::CONTRACT_SK)
            .await?
            .map(ContractRecord::into_domain))
    }

    /// The Graph subscription lifetime this contract's tenant is known to accept, if Graph
    /// ever refused a longer one.
    async fn graph_ceiling(&self, id: &ContractId) -> Result<Option<u32>, StoreError> {
        Ok(self
            .items()
            .get::<LearnedGraphRecord>(&keys::contract_pk(id), keys::LEARNED_GRAPH_SK)
            .await?
            .map(|r| r.subscription_ceiling_minutes))
    }

    async fn remember_graph_ceiling(
        &self,
        id: &ContractId,
        minutes: u32,
    ) -> Result<(), StoreError> {
        self.items()
            .put(&LearnedGraphRecord {
                pk: keys::contract_pk(id),
                sk: keys::LEARNED_GRAPH_SK.to_owned(),
                subscription_ceiling_minutes: minutes,
            })
            .await
    }

    /// Writes `contract` over the version that was read; `Conflict` if it changed since.
    async fn update(
        &self,
        read: &Versioned<Contract>,
        contract: &Contract,
    ) -> Result<Versioned<Contract>, StoreError> {
        let version = read.version + 1;
        self.items()
            .replace(&ContractRecord::new(contract, version), read.version)
            .await?;
        Ok(Versioned {
            value: contract.clone(),
            version,
        })
    }
}
