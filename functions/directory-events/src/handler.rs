//! Candidate events, parsed and applied to the directory; a batch worked record by record.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hiresync_domain::directory::{Degree, DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, InvalidId, ProfileId, SeatId};
use hiresync_domain::ports::{DirectoryWrite, DirectoryWriter, StoreError};
use hiresync_runtime::sqs_batch::{self, Ordering};
use serde::Deserialize;
use tracing::{info, info_span, Instrument};

/// The EventBridge envelope as SQS delivers it.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upserted {
    contract_id: String,
    profile_id: String,
    emails: Vec<String>,
    discovery: DiscoverySetting,
    in_pipeline: bool,
    #[serde(default)]
    degrees: BTreeMap<String, Degree>,
    version: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Removed {
    contract_id: String,
    profile_id: String,
    version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("malformed {detail_type} detail")]
    Malformed {
        detail_type: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid candidate event")]
    Invalid(#[from] InvalidId),
    #[error("directory write failed")]
    Store(#[from] StoreError),
}

impl hiresync_runtime::diagnostics::ErrorType for EventError {
    fn error_type(&self) -> String {
        match self {
            EventError::UnknownType(_) => "UnknownEventType".to_owned(),
            EventError::Malformed { detail_type, .. } => format!("Malformed:{detail_type}"),
            EventError::Invalid(_) => "InvalidEvent".to_owned(),
            EventError::Store(_) => "Internal:storage".to_owned(),
        }
    }
}

/// A candidate event, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateEvent {
    Upserted(DirectoryEntry),
    Removed {
        contract: ContractId,
        profile: ProfileId,
        version: u64,
    },
}

impl CandidateEvent {
    pub fn parse(envelope: Envelope) -> Result<Self, EventError> {
        match envelope.detail_type.as_str() {
            "candidate.upserted" => {
                let d: Upserted = serde_json::from_value(envelope.detail).map_err(|source| {
                    EventError::Malformed {
                        detail_type: "candidate.upserted",
                        source,
                    }
                })?;
                let mut emails = d
                    .emails
                    .iter()
                    .map(EmailAddress::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                emails.sort();
                emails.dedup();
                let degrees = d
                    .degrees
                    .into_iter()
                    .map(|(seat, degree)| Ok((SeatId::parse(seat)?, degree)))
                    .collect::<Result<_, InvalidId>>()?;
                Ok(Self::Upserted(DirectoryEntry {
                    contract_id: ContractId::parse(d.contract_id)?,
                    profile_id: ProfileId::parse(d.profile_id)?,
                    emails,
                    discovery: d.discovery,
                    in_pipeline: d.in_pipeline,
                    degrees,
                    source_version: d.version,
                }))
            }
            "candidate.removed" => {
                let d: Removed = serde_json::from_value(envelope.detail).map_err(|source| {
                    EventError::Malformed {
                        detail_type: "candidate.removed",
                        source,
                    }
                })?;
                Ok(Self::Removed {
                    contract: ContractId::parse(d.contract_id)?,
                    profile: ProfileId::parse(d.profile_id)?,
                    version: d.version,
                })
            }
            other => Err(EventError::UnknownType(other.to_owned())),
        }
    }

    fn contract(&self) -> &ContractId {
        match self {
            Self::Upserted(e) => &e.contract_id,
            Self::Removed { contract, .. } => contract,
        }
    }
}

/// Applies one event. Stale events succeed without changing anything.
pub async fn apply(
    store: &dyn DirectoryWriter,
    event: CandidateEvent,
) -> Result<DirectoryWrite, EventError> {
    let span = info_span!("candidate_event", contract = %event.contract());
    async move {
        let outcome = match &event {
            CandidateEvent::Upserted(entry) => store.upsert(entry).await?,
            CandidateEvent::Removed {
                contract,
                profile,
                version,
            } => store.remove(contract, profile, *version).await?,
        };
        info!(outcome = ?outcome, "candidate event applied");
        Ok(outcome)
    }
    .instrument(span)
    .await
}

/// The Lambda entry point: every record on its own; failures reported per record.
pub async fn handle(store: &dyn DirectoryWriter, event: SqsEvent) -> SqsBatchResponse {
    sqs_batch::process(
        event,
        Ordering::Concurrent(8),
        |envelope: Envelope, _| async move {
            apply(store, CandidateEvent::parse(envelope)?)
                .await
                .map(|_| ())
        },
    )
    .await
}
