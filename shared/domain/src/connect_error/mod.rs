//! What a provider said while a seat connected its mailbox or calendar, and the precise
//! error the recruiter sees.
//!
//! The providers adapter turns an HTTP exchange into a [`ProviderSignal`] (the `error`
//! parameters of the OAuth callback, a token-endpoint error body, an API error, a scope
//! diff, what the ID token says about the account); [`classify`] maps it to a
//! [`ConnectError`] (the troubleshooting table, in `classify.rs`). Every error has a stable
//! [`code`](ConnectError::code), a [`message`](ConnectError::message) the recruiter can act
//! on and what to ask of an administrator ([`admin_action`](ConnectError::admin_action))
//! (the wording, in `wording.rs`), whether the recruiter can fix it by trying again
//! ([`retryable_by_user`](ConnectError::retryable_by_user)), and its
//! [`class`](ConnectError::class): who has to act, which an edge maps once to its own
//! terms (the settings API to an HTTP status). Nothing here knows HTTP.

mod classify;
mod wording;

pub use wording::sanitize;

use std::fmt;

use serde::Serialize;

use crate::capability::Denial;
use crate::connection::ConnectionKind;
use crate::contract::Provider;

pub use classify::{
    aadsts_code, account_mismatch, check_granted_scopes, classify, judge_account, Account,
};

/// The tenant id of every personal Microsoft account (outlook.com, hotmail.com, live.com).
pub const MICROSOFT_CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// How an account that signed in is not one of the selected provider's organization
/// accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignAccount {
    /// A personal account: a Microsoft account (outlook.com and the like) or a Gmail address
    /// outside Google Workspace.
    Personal,
    /// The provider has no organization account for the address (Microsoft does not find it
    /// in any directory; Google knows it only as a sign-in outside Workspace): its mail and
    /// calendar are most likely hosted by another provider.
    OutsideOrganization,
}

/// Why a callback no longer belongs to a sign-in the recruiter can complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// The pending authorization, or the provider's code, outlived its lifetime.
    Expired,
    /// The callback was already consumed (a refresh, a second tab, a replayed link).
    AlreadyUsed,
    /// The `state` matches no sign-in we started (wrong signature, unknown id).
    Unrecognized,
    /// An admin changed the contract's provider or email level during the sign-in.
    SettingsChanged,
}

/// Why connecting a mailbox or calendar failed, in terms the recruiter can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The organization has not consented to the application.
    NeedAdminApproval { provider: Provider },
    /// The application is limited to assigned users and this recruiter is not one.
    NotAssigned { provider: Provider },
    /// The signed-in account has no mailbox or calendar of its own: an alias, a shared or
    /// team inbox, an account used only for file storage.
    NoMailboxOrCalendar {
        provider: Provider,
        kind: ConnectionKind,
    },
    /// The account is not an organization account of the provider the admin selected.
    ProviderMismatch {
        selected: Provider,
        account: ForeignAccount,
    },
    /// The mailbox is on the organization's own servers (hybrid Exchange).
    HostedOnPremises { provider: Provider },
    /// No calendar of the provider exists for the account.
    CalendarNotHosted { provider: Provider },
    /// The recruiter's browser could not reach the provider's sign-in pages.
    NetworkBlocked { provider: Provider },
    /// The organization approved an earlier version of the application, not the current one.
    AppVersionNotApproved { provider: Provider },
    /// The recruiter did not grant every permission requested. `missing` is empty when the
    /// provider did not say which.
    InsufficientScopes {
        provider: Provider,
        missing: Vec<String>,
    },
    /// The mailbox (which also holds a Microsoft calendar) is inactive, soft-deleted,
    /// unlicensed or on premises: the provider's generic mailbox error.
    MailboxUnavailable {
        provider: Provider,
        kind: ConnectionKind,
    },
    /// The address has no mailbox at all.
    NoMailbox {
        provider: Provider,
        kind: ConnectionKind,
    },
    /// The recruiter declined the consent screen.
    UserDeclined { provider: Provider },
    /// The callback cannot complete: the recruiter starts again.
    AuthorizationRequestExpired { reason: StaleReason },
    /// An organization sign-in policy (Conditional Access, security defaults) refused.
    BlockedByPolicy { provider: Provider },
    /// The provider is temporarily unavailable or throttling.
    ProviderUnavailable { provider: Provider },
    /// The provider refused our own OAuth configuration (client secret, redirect URI,
    /// scopes). `provider_code` is for the logs; the recruiter's message stays generic.
    ServiceMisconfigured {
        provider: Provider,
        provider_code: String,
    },
    /// The provider refused with a code this module does not know.
    ProviderRejected {
        provider: Provider,
        provider_code: String,
    },
    /// The mailbox (or calendar) is already connected to another seat, in this contract or
    /// another: one account is synced by one connection only.
    MailboxInUse {
        provider: Provider,
        kind: ConnectionKind,
    },
    /// The contract's admin pinned it to organizations this account is not of (`personal`:
    /// it is a personal account, of no organization).
    OrganizationNotAllowed { provider: Provider, personal: bool },
    /// The contract does not allow connecting (suspended, no provider, feature off).
    NotAllowed(Denial),
}

/// What a provider said, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSignal {
    /// The `error` and `error_description` query parameters of the OAuth callback.
    AuthorizeRedirect {
        error: String,
        description: Option<String>,
    },
    /// An error body from the token endpoint. `codes` is Microsoft's `error_codes`.
    TokenEndpoint {
        error: String,
        description: Option<String>,
        codes: Vec<u32>,
    },
    /// An error from the mail or calendar API. Graph: `code` is `error.code`. Google: `code`
    /// is `error.status` (`PERMISSION_DENIED`...) and `reason` the `ErrorInfo` reason or, when
    /// absent, the legacy `errors[0].reason`.
    Api {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        reason: Option<String>,
    },
    /// The recruiter's browser could not load the provider's sign-in pages.
    Unreachable,
    /// Our own call to the provider got no answer (connection refused, timed out).
    TransportFailed,
    /// The token response granted less than requested: the feature scopes missing.
    ScopesNotGranted(Vec<String>),
    /// The account that signed in is not an organization account of the provider
    /// (see [`account_mismatch`]).
    ForeignAccount(ForeignAccount),
    /// The provider's profile of the signed-in account lists no mailbox address (Graph user
    /// `mail` empty): an alias, a shared or team inbox, a storage-only account.
    ProfileWithoutMailbox,
}

/// What the ID token says about who signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountClaims {
    /// Microsoft's `tid`.
    pub tenant_id: Option<String>,
    /// Google's `hd`: present only for Google Workspace accounts.
    pub hosted_domain: Option<String>,
    /// Google's `email`, Microsoft's `preferred_username`.
    pub email: Option<String>,
}

/// Who has to act on a [`ConnectError`], and how: the one classification an edge maps to its
/// own terms (the settings API maps each class to one HTTP status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The sign-in is stale (expired, already used, unknown, settings changed): the
    /// recruiter starts connecting again.
    StartAgain,
    /// Permission or policy refused it: admin approval, assignment, the application's
    /// version, scopes, a declined consent, a sign-in policy, or what the contract does not
    /// allow ([`Denial`]).
    NeedsPermission,
    /// The account is not one of the selected provider's organization accounts.
    WrongAccount,
    /// The address cannot be connected: no mailbox, an unusable or on-premises mailbox, no
    /// calendar.
    MailboxProblem,
    /// The provider refused our own OAuth configuration: ours to fix, not the recruiter's.
    OurConfiguration,
    /// The provider could not be reached from the recruiter's browser, or refused with a
    /// code we do not know.
    ProviderRefused,
    /// The provider is temporarily unavailable or throttling.
    ProviderUnavailable,
}

impl From<Denial> for ConnectError {
    fn from(denial: Denial) -> Self {
        ConnectError::NotAllowed(denial)
    }
}

impl ConnectError {
    /// The stable machine code, snake_case. A [`ConnectError::NotAllowed`] carries its
    /// denial's code (`contract_suspended`, `no_provider`, `feature_off`...).
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::NeedAdminApproval { .. } => "need_admin_approval",
            ConnectError::NotAssigned { .. } => "not_assigned",
            ConnectError::NoMailboxOrCalendar { .. } => "no_mailbox_or_calendar",
            ConnectError::ProviderMismatch { .. } => "address_provider_mismatch",
            ConnectError::HostedOnPremises { .. } => "hosted_on_premises",
            ConnectError::CalendarNotHosted { .. } => "calendar_not_hosted",
            ConnectError::NetworkBlocked { .. } => "oauth_network_blocked",
            ConnectError::AppVersionNotApproved { .. } => "app_version_not_approved",
            ConnectError::InsufficientScopes { .. } => "insufficient_scopes",
            ConnectError::MailboxUnavailable { .. } => "mailbox_unavailable",
            ConnectError::NoMailbox { .. } => "no_mailbox",
            ConnectError::UserDeclined { .. } => "user_declined",
            ConnectError::AuthorizationRequestExpired { .. } => "authorization_request_expired",
            ConnectError::BlockedByPolicy { .. } => "blocked_by_policy",
            ConnectError::ProviderUnavailable { .. } => "provider_unavailable",
            ConnectError::ServiceMisconfigured { .. } => "service_misconfigured",
            ConnectError::ProviderRejected { .. } => "provider_rejected",
            ConnectError::MailboxInUse { .. } => "mailbox_in_use",
            ConnectError::OrganizationNotAllowed { .. } => "organization_not_allowed",
            ConnectError::NotAllowed(denial) => denial_code(denial),
        }
    }

    /// Who has to act, and how (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            ConnectError::AuthorizationRequestExpired { .. } => ErrorClass::StartAgain,
            ConnectError::NeedAdminApproval { .. }
            | ConnectError::NotAssigned { .. }
            | ConnectError::AppVersionNotApproved { .. }
            | ConnectError::InsufficientScopes { .. }
            | ConnectError::UserDeclined { .. }
            | ConnectError::BlockedByPolicy { .. }
            | ConnectError::NotAllowed(_) => ErrorClass::NeedsPermission,
            ConnectError::ProviderMismatch { .. }
            | ConnectError::MailboxInUse { .. }
            | ConnectError::OrganizationNotAllowed { .. } => ErrorClass::WrongAccount,
            ConnectError::NoMailboxOrCalendar { .. }
            | ConnectError::HostedOnPremises { .. }
            | ConnectError::CalendarNotHosted { .. }
            | ConnectError::MailboxUnavailable { .. }
            | ConnectError::NoMailbox { .. } => ErrorClass::MailboxProblem,
            ConnectError::ServiceMisconfigured { .. } => ErrorClass::OurConfiguration,
            ConnectError::NetworkBlocked { .. } | ConnectError::ProviderRejected { .. } => {
                ErrorClass::ProviderRefused
            }
            ConnectError::ProviderUnavailable { .. } => ErrorClass::ProviderUnavailable,
        }
    }

    /// Whether the recruiter alone can succeed by connecting again, possibly with another
    /// account or address.
    pub fn retryable_by_user(&self) -> bool {
        match self {
            ConnectError::NoMailboxOrCalendar { .. }
            | ConnectError::ProviderMismatch { .. }
            | ConnectError::CalendarNotHosted { .. }
            | ConnectError::InsufficientScopes { .. }
            | ConnectError::NoMailbox { .. }
            | ConnectError::UserDeclined { .. }
            | ConnectError::AuthorizationRequestExpired { .. }
            | ConnectError::ProviderUnavailable { .. }
            | ConnectError::ProviderRejected { .. }
            | ConnectError::MailboxInUse { .. }
            | ConnectError::OrganizationNotAllowed { .. } => true,
            ConnectError::NeedAdminApproval { .. }
            | ConnectError::NotAssigned { .. }
            | ConnectError::HostedOnPremises { .. }
            | ConnectError::NetworkBlocked { .. }
            | ConnectError::AppVersionNotApproved { .. }
            | ConnectError::MailboxUnavailable { .. }
            | ConnectError::BlockedByPolicy { .. }
            | ConnectError::ServiceMisconfigured { .. } => false,
            ConnectError::NotAllowed(denial) => matches!(
                denial,
                Denial::NotAuthorized { .. }
                    | Denial::NeedsReconnect { .. }
                    | Denial::ProviderMismatch { .. }
                    | Denial::MissingScope { .. }
            ),
        }
    }

    /// The scopes the recruiter left out, as the provider names them; empty for every other
    /// error, and when the provider did not say which.
    pub fn missing_scopes(&self) -> &[String] {
        match self {
            ConnectError::InsufficientScopes { missing, .. } => missing,
            _ => &[],
        }
    }
}

fn denial_code(denial: &Denial) -> &'static str {
    match denial {
        Denial::ContractSuspended => "contract_suspended",
        Denial::NoProvider => "no_provider",
        Denial::FeatureOff { .. } => "feature_off",
        Denial::NotAuthorized { .. } => "not_authorized",
        Denial::NeedsReconnect { .. } => "needs_reconnect",
        Denial::ProviderMismatch { .. } => "provider_mismatch",
        Denial::MissingScope { .. } => "missing_scope",
        Denial::SendingUnavailable => "sending_unavailable",
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::NotAllowed(denial) => Some(denial),
            _ => None,
        }
    }
}
