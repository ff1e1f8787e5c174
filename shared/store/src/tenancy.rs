//! Every tenancy store over one table, as the use cases take them.

use std::sync::Arc;

use hiresync_domain::ports::TenancyStores;

use crate::{
    DynamoAuthorizationStore, DynamoConnectionStore, DynamoContractStore, DynamoMailboxClaims,
    DynamoRetirementStore, DynamoSeatStore, DynamoSubscriptionStore, DynamoSyncStatusStore,
    DynamoTokenStore,
};

/// The contracts, seats, connections, tokens, subscriptions, retirements, pending
/// authorizations and sync statuses of `table`.
pub fn tenancy_stores(client: &aws_sdk_dynamodb::Client, table: &str) -> TenancyStores {
    TenancyStores {
        contracts: Arc::new(DynamoContractStore::new(client.clone(), table)),
        seats: Arc::new(DynamoSeatStore::new(client.clone(), table)),
        connections: Arc::new(DynamoConnectionStore::new(client.clone(), table)),
        tokens: Arc::new(DynamoTokenStore::new(client.clone(), table)),
        subscriptions: Arc::new(DynamoSubscriptionStore::new(client.clone(), table)),
        retirements: Arc::new(DynamoRetirementStore::new(client.clone(), table)),
        mailboxes: Arc::new(DynamoMailboxClaims::new(client.clone(), table)),
        authorizations: Arc::new(DynamoAuthorizationStore::new(client.clone(), table)),
        sync_status: Arc::new(DynamoSyncStatusStore::new(client.clone(), table)),
    }
}
