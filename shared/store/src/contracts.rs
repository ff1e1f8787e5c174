use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use hiresync_domain::contract::{
    Contract, ContractSettings, ContractStatus, EmailAccess, Provider,
};
use hiresync_domain::ids::ContractId;
use hiresync_domain::ports::{ContractStore, Versioned};
use serde::{Deserialize, Serialize};

use crate::condition::conditional;
use crate::error::StoreError;
use crate::items::{encode, Record};
use crate::keys;

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
    /// Absent on contracts stored before video meetings existed (off).
    #[serde(default)]
    video_meetings: bool,
    /// Pinned organizations; absent on contracts stored before (none pinned).
    #[serde(default)]
    organizations: BTreeSet<String>,
    /// The last suspension or reactivation applied; absent until the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifecycle_at: Option<jiff::Timestamp>,
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
            video_meetings: c.settings.video_meetings,
            organizations: c.organizations.clone(),
            lifecycle_at: c.lifecycle_at,
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
                    video_meetings: self.video_meetings,
                },
                organizations: self.organizations,
                lifecycle_at: self.lifecycle_at,
            },
        }
    }
}

/// What the store has learned about a contract's Microsoft tenant.
#[derive(Serialize, Deserialize)]
struct LearnedGraphRecord {
    pk: String,
    sk: String,
    /// The lowest subscription lifetime ceiling Graph named for this tenant, in minutes.
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

    /// Writes on condition that nothing lower is stored, so concurrent learners (and the
    /// different ceilings of a tenant's resources) settle on the lowest: a refused condition
    /// is that outcome, not an error.
    async fn remember_graph_ceiling(
        &self,
        id: &ContractId,
        minutes: u32,
    ) -> Result<(), StoreError> {
        let item = encode(&LearnedGraphRecord {
            pk: keys::contract_pk(id),
            sk: keys::LEARNED_GRAPH_SK.to_owned(),
            subscription_ceiling_minutes: minutes,
        })?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ceiling > :minutes")
            .expression_attribute_names("#ceiling", "subscription_ceiling_minutes")
            .expression_attribute_values(":minutes", AttributeValue::N(minutes.to_string()))
            .send()
            .await;
        match conditional("DynamoDB PutItem", result)? {
            Ok(_) => Ok(()),
            // The stored ceiling is already as low or lower: it stays.
            Err(_kept) => Ok(()),
        }
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
