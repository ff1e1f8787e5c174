//! A world of fakes for the ingest use case: one connected seat (rita@acme.example, on
//! Microsoft 365 unless a test says otherwise), a small candidate directory, a scripted
//! mailbox, and everything the use case writes, to look into.

use std::collections::BTreeMap;
use std::sync::Arc;

use hiresync_domain::connection::{Connection, ConnectionKind, Grant};
use hiresync_domain::contract::{Contract, ContractSettings, EmailAccess, Provider};
use hiresync_domain::directory::{DirectoryEntry, DiscoverySetting};
use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId};
use hiresync_domain::mail::{Direction, SkipRecord};
use hiresync_domain::policy::MessageFacts;
use hiresync_domain::ports::SyncStatusStore;
use hiresync_domain::ports::{
    ConnectionStore, ContractStore, CursorUpdate, MailChange, MailItem, MailMessage, SkipLog,
};
use hiresync_domain::sync_status::SyncStatus;
use hiresync_messages::{SyncJob, SyncReason};
use hiresync_sync::{IngestReport, Ingestor, Limits};
use hiresync_testkit::clock::ts;
use hiresync_testkit::fakes::directory::InMemoryDirectory;
use hiresync_testkit::fakes::mail::InMemoryMail;
use hiresync_testkit::fakes::mailbox::{FakeAccessTokens, ScriptedMailboxes, Step};
use hiresync_testkit::fakes::queues::InMemoryQueues;
use hiresync_testkit::fakes::tenancy::{
    InMemoryConnections, InMemoryContracts, InMemorySyncStatus,
};

/// When the seat connected: the lookback reaches back to 2025-03-02T09:00:00Z.
pub const CONNECTED: &str = "2026-03-02T09:00:00Z";
/// When each job runs: threads active since 2025-09-03T12:00:00Z count as active.
pub const NOW: &str = "2026-03-03T12:00:00Z";
pub const SEAT: &str = "rita@acme.example";

pub fn acme() -> ContractId {
    ContractId::parse("acme").unwrap()
}
pub fn seat() -> SeatId {
    SeatId::parse("s1").unwrap()
}
pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn candidate(
    profile: &str,
    email: &str,
    discovery: DiscoverySetting,
    in_pipeline: bool,
) -> DirectoryEntry {
    DirectoryEntry {
        contract_id: acme(),
        profile_id: ProfileId::parse(profile).unwrap(),
        emails: vec![addr(email)],
        discovery,
        in_pipeline,
        degrees: BTreeMap::new(),
        source_version: 1,
    }
}

pub struct World {
    pub contracts: Arc<InMemoryContracts>,
    pub connections: Arc<InMemoryConnections>,
    pub status: Arc<InMemorySyncStatus>,
    pub mail: Arc<InMemoryMail>,
    pub directory: Arc<InMemoryDirectory>,
    pub mailbox: ScriptedMailboxes,
    pub tokens: Arc<FakeAccessTokens>,
    pub queues: Arc<InMemoryQueues>,
    pub busy: Arc<ForgottenBusy>,
    pub ingestor: Ingestor,
}

impl World {
    /// GIVEN rita's connected mailbox at `provider`, and the candidates jane (in the
    /// pipeline), olga (not in it) and nina (discoverable by nobody).
    pub async fn new(provider: Provider) -> Self {
        let contracts = Arc::new(InMemoryContracts::default());
        contracts
            .create(&Contract {
                settings: ContractSettings {
                    provider: Some(provider),
                    email_access: EmailAccess::ViewOnly,
                    calendar_enabled: false,
                    video_meetings: false,
                },
                ..Contract::new(acme())
            })
            .await
            .unwrap();
        let connections = Arc::new(InMemoryConnections::default());
        connections.create(&connection(provider)).await.unwrap();
        let status = Arc::new(InMemorySyncStatus::default());
        let mail = Arc::new(InMemoryMail::default());
        let directory = Arc::new(InMemoryDirectory::with([
            candidate(
                "p-jane",
                "jane@cand.example",
                DiscoverySetting::Anyone,
                true,
            ),
            candidate(
                "p-olga",
                "olga@cand.example",
                DiscoverySetting::Anyone,
                false,
            ),
            candidate(
                "p-nina",
                "nina@cand.example",
                DiscoverySetting::Nobody,
                true,
            ),
        ]));
        let mailbox = ScriptedMailboxes::default();
        let tokens = Arc::new(FakeAccessTokens::default());
        let queues = Arc::new(InMemoryQueues::default());
        let busy = Arc::new(ForgottenBusy::default());
        let ingestor = Ingestor {
            contracts: contracts.clone(),
            connections: connections.clone(),
            sync_status: status.clone(),
            tokens: tokens.clone(),
            mailboxes: Arc::new(mailbox.clone()),
            threads: mail.clone(),
            skips: mail.clone(),
            directory: directory.clone(),
            jobs: queues.clone(),
            busy: busy.clone(),
            limits: Limits {
                pages_per_job: 10,
                page_size: 50,
                reconcile_per_job: 3,
            },
        };
        World {
            contracts,
            connections,
            status,
            mail,
            directory,
            mailbox,
            tokens,
            queues,
            busy,
            ingestor,
        }
    }

    pub async fn microsoft() -> Self {
        Self::new(Provider::Microsoft365).await
    }

    /// WHEN the mailbox plays `steps` to a historical sync job.
    pub async fn sync(&self, steps: impl IntoIterator<Item = Step>) -> IngestReport {
        self.mailbox.then(steps);
        self.ingestor
            .run(&job(SyncReason::Historical), ts(NOW))
            .await
            .unwrap()
    }

    pub fn connection(&self) -> Connection {
        self.connections
            .stored(&acme(), &seat(), ConnectionKind::Email)
            .unwrap()
            .value
    }

    /// Changes the contract's settings or status as `change` says, as an admin or a
    /// suspension would, before any fan-out has reached the connection.
    pub async fn change_contract(&self, change: impl FnOnce(&mut Contract)) {
        let read = self.contracts.get(&acme()).await.unwrap().unwrap();
        let mut changed = read.value.clone();
        change(&mut changed);
        self.contracts.update(&read, &changed).await.unwrap();
    }

    /// Changes the stored connection as `change` says.
    pub fn change_connection(&self, change: impl FnOnce(&mut Connection)) {
        let mut conn = self.connection();
        change(&mut conn);
        self.connections.overwrite(&conn);
    }

    pub fn cursor(&self) -> BTreeMap<String, String> {
        self.connection().cursor.0
    }

    pub async fn status(&self) -> Option<SyncStatus> {
        self.status
            .get(&acme(), &seat(), ConnectionKind::Email)
            .await
            .unwrap()
    }

    /// The (provider id, code) of each decision recorded under `who`, newest first.
    pub async fn skips_for(&self, who: &str) -> Vec<(String, String)> {
        self.skip_records(who)
            .await
            .into_iter()
            .map(|s| (s.provider_id, s.code))
            .collect()
    }

    pub async fn skip_records(&self, who: &str) -> Vec<SkipRecord> {
        self.mail
            .skips_for(&acme(), &seat(), &addr(who))
            .await
            .unwrap()
    }
}

pub fn connection(provider: Provider) -> Connection {
    Connection::first(
        acme(),
        seat(),
        ConnectionKind::Email,
        Grant {
            provider,
            address: addr(SEAT),
            scopes: hiresync_domain::scopes::feature_scopes(
                provider,
                ConnectionKind::Email,
                EmailAccess::ViewOnly,
            )
            .into_iter()
            .map(str::to_owned)
            .collect(),
            organization: None,
        },
        ts(CONNECTED),
    )
    .by(hiresync_domain::ids::UserId::parse("u-holder").unwrap())
}

pub fn job(reason: SyncReason) -> SyncJob {
    SyncJob {
        contract: acme(),
        seat: seat(),
        kind: ConnectionKind::Email,
        reason,
        requested_at: ts(NOW),
    }
}

/// A conversation's message as the mailbox shows it: `id` in `thread`, from `from` to
/// `to` (and `cc`), at `at`.
pub fn mail(id: &str, thread: &str, from: &str, to: &[&str], cc: &[&str], at: &str) -> MailItem {
    let list = |xs: &[&str]| xs.iter().map(|a| addr(a)).collect::<Vec<_>>();
    MailItem::Conversation(MailMessage {
        facts: MessageFacts {
            provider_id: id.to_owned(),
            thread_id: thread.to_owned(),
            from: addr(from),
            to: list(to),
            cc: list(cc),
            bcc: vec![],
            at: ts(at),
            started_from_product: false,
        },
        internet_message_id: Some(format!("<{id}@mail.example>")),
        subject: format!("About {thread}"),
        direction: if from == SEAT {
            Direction::Sent
        } else {
            Direction::Received
        },
    })
}

/// A message from `from` to rita alone.
pub fn from(id: &str, thread: &str, from: &str, at: &str) -> MailChange {
    MailChange::Message(mail(id, thread, from, &[SEAT], &[], at))
}

pub fn deleted(id: &str) -> MailChange {
    MailChange::Deleted {
        provider_id: id.to_owned(),
    }
}

pub fn set(key: &str, value: &str) -> CursorUpdate {
    CursorUpdate::set(key, value)
}

/// The seats whose cached busy time a calendar job forgot, in order.
#[derive(Default)]
pub struct ForgottenBusy {
    pub seats: std::sync::Mutex<Vec<(ContractId, SeatId)>>,
}

#[async_trait::async_trait]
impl hiresync_domain::ports::BusyCache for ForgottenBusy {
    async fn forget_busy(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<(), hiresync_domain::ports::StoreError> {
        self.seats
            .lock()
            .unwrap()
            .push((contract.clone(), seat.clone()));
        Ok(())
    }
}
