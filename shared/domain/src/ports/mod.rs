//! Ports: what the use cases need from the world outside, each by the capability it
//! offers, as traits. Adapters implement them (DynamoDB in `hiresync-store`, KMS in
//! `hiresync-vault`, the providers' HTTP APIs in `hiresync-providers`); the test kit has an
//! in-memory fake of each, so the use cases are tested without any of them.
//!
//! Nothing here performs I/O: these are declarations. Queue ports live with the messages
//! they send (`hiresync-messages`).

pub mod calendar;
mod error;
pub mod mail;
pub mod mailbox;
mod page;
pub mod providers;
pub mod purge;
mod retry;
pub mod scheduling;
pub mod secrets;
pub mod tenancy;
pub mod tokens;
pub mod zoom;

pub use calendar::{
    CalendarError, CalendarErrorKind, CalendarEvent, CalendarEvents, CalendarSource, EventRequest,
    ProviderVideo, VideoState, ZoomMeeting, ZoomMeetings, ZoomRequest,
};
pub use error::{BoxError, StoreError};
pub use mail::{
    Conversations, ExpiredThread, MailReader, Retention, SkipLog, StoreOutcome, ThreadStore,
};
pub use mailbox::{
    ChangePage, CursorUpdate, MailChange, MailItem, MailMessage, MailboxChanges, MailboxError,
    MailboxSource, Resync,
};
pub use page::{Page, PageToken, Versioned};
pub use providers::{
    Accounts, AuthorizationRequest, Channel, ChannelTerms, Identity, NewChannel, ProviderError,
    ProviderRegistry, PushChannels, PushSettings, Renewal, Tokens,
};
pub use purge::{Deleted, PurgeStore};
pub use retry::{retry_on_race, Raced, RACE_ATTEMPTS};
pub use scheduling::{BusyCache, Hold, SchedulerSettingsStore, SchedulingStore};
pub use secrets::{SealContext, SealError, TokenSealer};
pub use tenancy::{
    AuthorizationStore, ConnectionStore, ContractStore, DirectoryReader, DirectoryWrite,
    DirectoryWriter, MailboxClaims, MailboxHolder, RetirementStore, SeatStore, StoredToken,
    SubscriptionStore, SyncStatusStore, TenancyStores, TokenStore,
};
pub use tokens::AccessTokens;
pub use zoom::{
    ContractIntegrations, ZoomAuthError, ZoomAuthErrorKind, ZoomAuthorization, ZoomGrant,
    ZoomStore, ZoomUser,
};
