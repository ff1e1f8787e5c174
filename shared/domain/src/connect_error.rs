//! What a provider said while a seat connected its mailbox or calendar, and the precise
//! error the recruiter sees.
//!
//! The providers adapter turns an HTTP exchange into a [`ProviderSignal`] (the `error`
//! parameters of the OAuth callback, a token-endpoint error body, an API error, a scope
//! diff, what the ID token says about the account); [`classify`] maps it to a
//! [`ConnectError`]. Every error has a stable [`code`](ConnectError::code), a
//! [`message`](ConnectError::message) the recruiter can act on, what to ask of an
//! administrator ([`admin_action`](ConnectError::admin_action)), whether the recruiter can
//! fix it by trying again ([`retryable_by_user`](ConnectError::retryable_by_user)), and the
//! HTTP status the API answers with ([`http_status`](ConnectError::http_status)).
//!
//! # Statuses
//!
//! | status | errors |
//! |---|---|
//! | 400 | the authorization request is stale: expired, already used, unknown, settings changed |
//! | 403 | permission or policy: admin approval, assignment, app version, scopes, declined consent, sign-in policy, and what the contract does not allow ([`Denial`]) |
//! | 409 | the account is not one of the selected provider's organization accounts |
//! | 422 | the address cannot be connected: no mailbox, an unusable or on-premises mailbox, no calendar |
//! | 500 | our own OAuth configuration was refused (the body stays generic) |
//! | 502 | the recruiter's network could not reach the provider; the provider refused with a code we do not know |
//! | 503 | the provider is temporarily unavailable |
//!
//! # Mapping
//!
//! Microsoft numeric codes win over the `error` string: they come from `error_codes` on the
//! token endpoint, or from the `AADSTSnnnnn:` prefix of the description on the redirect
//! ([`aadsts_code`]). An `access_denied` with no code at all is the user declining; with a
//! code we do not know it is reported with that code, never as a decline.
//!
//! | signal | error |
//! |---|---|
//! | AADSTS90094, 90095, 65001, `consent_required`, 7000112 / 70001 (app disabled in the tenant); Google `admin_policy_enforced` | `need_admin_approval` |
//! | AADSTS50105; Google `org_internal` | `not_assigned` |
//! | AADSTS700016, 700011, 650056, 650057, 65005, `unauthorized_client`; Google `deleted_client` | `app_version_not_approved` |
//! | AADSTS500200, 500208, 50020, 16000, 50034, 51004; a personal account or a Google account outside any Workspace ([`account_mismatch`]) | `address_provider_mismatch` |
//! | AADSTS53000-53003, 530032, 530035, 50131 (Conditional Access and security defaults) | `blocked_by_policy` |
//! | AADSTS65004; `access_denied` without a code | `user_declined` |
//! | AADSTS70008, 54005, `invalid_grant` | `authorization_request_expired` |
//! | `invalid_client`, `redirect_uri_mismatch`, `invalid_scope`, AADSTS7000215, 7000222, 70002, 50011, 70011, 700022 | `service_misconfigured` |
//! | `temporarily_unavailable`, `server_error`, AADSTS90006, 50033, 90033, 90024, 70012, 90090; API 429 and 5xx; no answer from the back end | `provider_unavailable` |
//! | the recruiter's browser could not reach the provider | `oauth_network_blocked` |
//! | Graph "REST API is not yet supported for this mailbox." | `hosted_on_premises` |
//! | Graph `MailboxNotEnabledForRESTAPI` (any other message) | `mailbox_unavailable` |
//! | Graph `ErrorNonExistentMailbox`; Gmail `failedPrecondition` ("Mail service not enabled") or 404 | `no_mailbox` |
//! | Google Calendar 404 `notFound`, `notACalendarUser`, `failedPrecondition` | `calendar_not_hosted` |
//! | Google `ACCESS_TOKEN_SCOPE_INSUFFICIENT` / `insufficientPermissions`; Graph `ErrorAccessDenied` / `Authorization_RequestDenied`; granted scopes lacking some | `insufficient_scopes` |
//! | the provider's profile of the account lists no mailbox address | `no_mailbox_or_calendar` |
//! | anything else | `provider_rejected`, naming the provider's code |
//!
//! A calendar connection that meets a Graph mailbox error gets the mailbox errors, not
//! `calendar_not_hosted`: a Microsoft 365 calendar lives in the user's Exchange mailbox, so
//! the mailbox is what the administrator has to fix.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::capability::Denial;
use crate::connection::ConnectionKind;
use crate::contract::{EmailAccess, Provider};
use crate::scopes;

/// The name recruiters and administrators know the application by (the consent screen, the
/// enterprise application in Entra, the OAuth client in Google's API controls).
const APP: &str = "hiresync";

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

/// The JSON body of a connect error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectErrorBody {
    pub code: &'static str,
    pub message: String,
    pub admin_action: Option<String>,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_scopes: Vec<String>,
}

/// Maps what a provider said during a connection of `kind` with `provider` to the error the
/// recruiter sees. Total: every signal maps to something, an unknown one to
/// [`ConnectError::ProviderRejected`] naming the provider's code.
pub fn classify(provider: Provider, kind: ConnectionKind, signal: &ProviderSignal) -> ConnectError {
    match signal {
        ProviderSignal::AuthorizeRedirect { error, description } => {
            oauth_error(provider, error, description.as_deref(), &[])
        }
        ProviderSignal::TokenEndpoint {
            error,
            description,
            codes,
        } => oauth_error(provider, error, description.as_deref(), codes),
        ProviderSignal::Api {
            status,
            code,
            message,
            reason,
        } => {
            let api = ApiError {
                status: *status,
                code: code.as_deref().unwrap_or("").trim(),
                message: message.as_deref().unwrap_or(""),
                reason: reason.as_deref().unwrap_or("").trim(),
            };
            match provider {
                Provider::Microsoft365 => graph_error(provider, kind, &api),
                Provider::GoogleWorkspace => google_api_error(provider, kind, &api),
            }
        }
        ProviderSignal::Unreachable => ConnectError::NetworkBlocked { provider },
        ProviderSignal::TransportFailed => ConnectError::ProviderUnavailable { provider },
        ProviderSignal::ScopesNotGranted(missing) => ConnectError::InsufficientScopes {
            provider,
            missing: missing.clone(),
        },
        ProviderSignal::ForeignAccount(account) => ConnectError::ProviderMismatch {
            selected: provider,
            account: *account,
        },
        ProviderSignal::ProfileWithoutMailbox => {
            ConnectError::NoMailboxOrCalendar { provider, kind }
        }
    }
}

/// The AADSTS code Microsoft puts in an error description (`"AADSTS50105: The signed in
/// user ..."`): the digits after the first `AADSTS` that has any. Descriptions without a
/// code, or with a malformed one, give `None`.
pub fn aadsts_code(description: &str) -> Option<u32> {
    const PREFIX: &str = "AADSTS";
    let mut rest = description;
    while let Some(at) = rest.find(PREFIX) {
        let after = &rest[at + PREFIX.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        // Microsoft's codes have at most seven digits; nine always fit in a u32.
        if (1..=9).contains(&digits) {
            if let Ok(code) = after[..digits].parse() {
                return Some(code);
            }
        }
        rest = after;
    }
    None
}

/// Whether the account in the ID token can hold the organization's mailbox with
/// `provider`: `None` when it can, otherwise how it is foreign. Feed the answer to
/// [`classify`] as [`ProviderSignal::ForeignAccount`].
pub fn account_mismatch(provider: Provider, claims: &AccountClaims) -> Option<ForeignAccount> {
    match provider {
        Provider::Microsoft365 => claims
            .tenant_id
            .as_deref()
            .filter(|tid| tid.trim().eq_ignore_ascii_case(MICROSOFT_CONSUMER_TENANT))
            .map(|_| ForeignAccount::Personal),
        Provider::GoogleWorkspace => {
            if claims
                .hosted_domain
                .as_deref()
                .is_some_and(|hd| !hd.trim().is_empty())
            {
                return None;
            }
            let domain = claims
                .email
                .as_deref()
                .and_then(|email| email.rsplit_once('@'))
                .map(|(_, domain)| domain.trim().to_ascii_lowercase());
            match domain.as_deref() {
                Some("gmail.com" | "googlemail.com") => Some(ForeignAccount::Personal),
                _ => Some(ForeignAccount::OutsideOrganization),
            }
        }
    }
}

/// Whether a token response's granted scopes cover what a connection of `kind` needs at
/// the contract's email level; otherwise the error naming the scopes left out.
pub fn check_granted_scopes(
    provider: Provider,
    kind: ConnectionKind,
    email_access: EmailAccess,
    granted: &BTreeSet<String>,
) -> Result<(), ConnectError> {
    let wanted = scopes::feature_scopes(provider, kind, email_access);
    let missing = scopes::missing_scopes(provider, &wanted, granted);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(classify(
            provider,
            kind,
            &ProviderSignal::ScopesNotGranted(missing),
        ))
    }
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
            ConnectError::NotAllowed(denial) => denial_code(denial),
        }
    }

    /// What the recruiter reads: what went wrong and what to do next.
    pub fn message(&self) -> String {
        match self {
            ConnectError::NeedAdminApproval { provider } => format!(
                "Your organization has to approve {APP} before you can connect. Ask your {} \
                 administrator to approve it for your organization, then connect again.",
                product(*provider)
            ),
            ConnectError::NotAssigned { provider } => format!(
                "Your organization lets only chosen people use {APP} with {}, and you are not \
                 one of them yet. Ask your administrator to give you access, then connect again.",
                product(*provider)
            ),
            ConnectError::NoMailboxOrCalendar { provider, kind } => format!(
                "The account you signed in with has no {} mailbox or calendar of its own, so \
                 there is no {kind} to connect. Aliases, shared or team inboxes and accounts used \
                 only for file storage won't work: sign in with the address of your own mailbox.",
                product(*provider)
            ),
            ConnectError::ProviderMismatch { selected, account } => match account {
                ForeignAccount::Personal => format!(
                    "You signed in with a personal {} account, but your contract connects {} \
                     work accounts. Connect again and sign in with your work address.",
                    company(*selected),
                    product(*selected)
                ),
                ForeignAccount::OutsideOrganization => format!(
                    "{} has no {} work account for the address you signed in with, so your mail \
                     and calendar are probably hosted by another provider. Sign in with your {} \
                     address, or ask your admin to select the provider your organization uses.",
                    company(*selected),
                    product(*selected),
                    product(*selected)
                ),
            },
            ConnectError::HostedOnPremises { provider } => format!(
                "Your mailbox is kept on your organization's own servers rather than in {}. \
                 Only mailboxes hosted in the cloud can be connected: ask your IT administrator \
                 to move it.",
                product(*provider)
            ),
            ConnectError::CalendarNotHosted { provider } => format!(
                "The account you signed in with has no {} calendar. {APP} connects only \
                 calendars hosted by Google Workspace or Microsoft 365: sign in with the \
                 account whose calendar {} hosts.",
                product(*provider),
                product(*provider)
            ),
            ConnectError::NetworkBlocked { provider } => format!(
                "Your browser couldn't reach {}'s sign-in pages, so the connection couldn't \
                 start. A firewall or proxy on your network may be blocking them: ask your IT \
                 administrator to allow them.",
                company(*provider)
            ),
            ConnectError::AppVersionNotApproved { provider } => format!(
                "{APP} now connects to {} through a new version of its application, and your \
                 organization hasn't approved that version yet. Ask your IT administrator to \
                 approve it, then connect again.",
                product(*provider)
            ),
            ConnectError::InsufficientScopes { missing, .. } => {
                let wanted: Vec<String> = missing.iter().map(|s| describe_scope(s)).collect();
                if wanted.is_empty() {
                    format!(
                        "You didn't grant every permission {APP} needs. Connect again and leave \
                         every permission selected."
                    )
                } else {
                    format!(
                        "You didn't grant every permission {APP} needs (missing: {}). Connect \
                         again and leave every permission selected.",
                        wanted.join(", ")
                    )
                }
            }
            ConnectError::MailboxUnavailable { provider, kind } => {
                let lead = match kind {
                    ConnectionKind::Email => format!("Your {} mailbox", product(*provider)),
                    ConnectionKind::Calendar => format!(
                        "Your calendar is part of your {} mailbox, and that mailbox",
                        product(*provider)
                    ),
                };
                format!(
                    "{lead} can't be used: it may be inactive, recently deleted, or kept on your \
                     organization's own servers. Only active mailboxes hosted in the cloud can \
                     be connected; your IT administrator can check yours."
                )
            }
            ConnectError::NoMailbox { provider, kind } => match kind {
                ConnectionKind::Email => format!(
                    "The address you signed in with has no {} mailbox. Connect again with the \
                     address of your own mailbox.",
                    product(*provider)
                ),
                ConnectionKind::Calendar => format!(
                    "The address you signed in with has no {} mailbox, and so no calendar. \
                     Connect again with the address you use for your calendar.",
                    product(*provider)
                ),
            },
            ConnectError::UserDeclined { provider } => {
                let base = format!(
                    "Access wasn't allowed on {}'s consent screen, so nothing was connected. \
                     Connect again and accept to continue.",
                    company(*provider)
                );
                match provider {
                    // Google reports an admin's block with the same error as a decline.
                    Provider::GoogleWorkspace => format!(
                        "{base} If you did accept, your Google Workspace administrator may be \
                         blocking {APP}."
                    ),
                    Provider::Microsoft365 => base,
                }
            }
            ConnectError::AuthorizationRequestExpired { reason } => match reason {
                StaleReason::Expired => "The sign-in took too long and expired. Start connecting \
                                         again."
                    .to_owned(),
                StaleReason::AlreadyUsed => "This sign-in was already completed. Start \
                                             connecting again if you still need to."
                    .to_owned(),
                StaleReason::Unrecognized => "This sign-in doesn't match one started from \
                                              your account here (an old link or another \
                                              browser?). Start connecting again."
                    .to_owned(),
                StaleReason::SettingsChanged => "Your admin changed the contract's email or \
                                                 calendar settings while you were signing in. \
                                                 Start connecting again."
                    .to_owned(),
            },
            ConnectError::BlockedByPolicy { provider } => format!(
                "A sign-in policy of your organization stopped {} from letting {APP} in (for \
                 example a rule about devices, locations or apps). Ask your IT administrator \
                 whether {APP} may be used from where you are signing in.",
                company(*provider)
            ),
            ConnectError::ProviderUnavailable { provider } => format!(
                "{} isn't responding properly right now. Wait a few minutes and connect again.",
                company(*provider)
            ),
            ConnectError::ServiceMisconfigured { .. } => format!(
                "{APP} couldn't complete the connection because of a problem on our side, not \
                 yours or your organization's. Please try again later, and contact support if \
                 it keeps happening."
            ),
            ConnectError::ProviderRejected {
                provider,
                provider_code,
            } => format!(
                "{} refused the connection with the code {}. Share this code with your IT \
                 administrator, who can look it up, then connect again.",
                company(*provider),
                sanitize(provider_code)
            ),
            ConnectError::NotAllowed(denial) => denial_message(denial),
        }
    }

    /// What to ask of an administrator, naming which one; `None` when no administrator has
    /// anything to do.
    pub fn admin_action(&self) -> Option<String> {
        match self {
            ConnectError::NeedAdminApproval { provider } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "A Microsoft 365 administrator (Global, Cloud Application or Application \
                     Administrator) grants tenant-wide admin consent to {APP}: Microsoft Entra \
                     admin center > Enterprise applications > {APP} > Permissions > Grant admin \
                     consent. If the enterprise application is disabled for sign-in, enable it."
                ),
                Provider::GoogleWorkspace => format!(
                    "A Google Workspace super administrator marks {APP}'s OAuth client as \
                     Trusted: Google Admin console > Security > Access and data control > API \
                     controls > Manage third-party app access."
                ),
            }),
            ConnectError::NotAssigned { provider } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "Assign this recruiter, or a group they belong to, to {APP}: Microsoft \
                     Entra admin center > Enterprise applications > {APP} > Users and groups. \
                     Alternatively set 'Assignment required' to No in its properties."
                ),
                Provider::GoogleWorkspace => format!(
                    "Give the organizational unit or group of this recruiter access to {APP}: \
                     Google Admin console > Security > Access and data control > API controls > \
                     Manage third-party app access > {APP}."
                ),
            }),
            ConnectError::NoMailboxOrCalendar { provider, .. } => Some(format!(
                "An admin of your {APP} contract checks that the contract's email and calendar \
                 provider ({}) is the one that hosts your recruiters' mail and calendars.",
                product(*provider)
            )),
            ConnectError::ProviderMismatch { selected, .. } => Some(format!(
                "An admin of your {APP} contract checks that the contract's email and calendar \
                 provider ({}) is the one your organization uses, and changes it if it isn't.",
                product(*selected)
            )),
            ConnectError::HostedOnPremises { provider } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "Migrate this mailbox from on-premises Exchange to Exchange Online: {APP} \
                     reaches mail and calendars through Microsoft Graph, which serves cloud \
                     mailboxes only."
                ),
                Provider::GoogleWorkspace => {
                    "Move this mailbox into Gmail in Google Workspace.".to_owned()
                }
            }),
            ConnectError::CalendarNotHosted { provider } => Some(match provider {
                Provider::Microsoft365 => "If this recruiter should have a Microsoft 365 \
                                           calendar, give them an Exchange Online mailbox: the \
                                           calendar lives in it."
                    .to_owned(),
                Provider::GoogleWorkspace => "If this recruiter should have a Google calendar, \
                                              turn the Calendar service on for them: Google \
                                              Admin console > Apps > Google Workspace > \
                                              Calendar."
                    .to_owned(),
            }),
            ConnectError::NetworkBlocked { provider } => Some(match provider {
                Provider::Microsoft365 => "Allow recruiters' browsers to reach Microsoft's \
                                           sign-in service over HTTPS \
                                           (login.microsoftonline.com) through the firewall \
                                           and proxy."
                    .to_owned(),
                Provider::GoogleWorkspace => "Allow recruiters' browsers to reach Google's \
                                              sign-in service over HTTPS (accounts.google.com) \
                                              through the firewall and proxy."
                    .to_owned(),
            }),
            ConnectError::AppVersionNotApproved { provider } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "Approve the current version of {APP}: grant admin consent again in the \
                     Microsoft Entra admin center > Enterprise applications > {APP} > \
                     Permissions, so its new application version and permissions are allowed."
                ),
                Provider::GoogleWorkspace => format!(
                    "Add {APP}'s current OAuth client in the Google Admin console > Security > \
                     Access and data control > API controls and mark it Trusted; approval of an \
                     earlier client does not carry over."
                ),
            }),
            ConnectError::MailboxUnavailable { provider, .. } => Some(match provider {
                Provider::Microsoft365 => "Check this recruiter's mailbox in the Exchange \
                                           admin center: it must be active and licensed for \
                                           Exchange Online, restored if it was soft-deleted, \
                                           and migrated to Exchange Online if it is on \
                                           premises."
                    .to_owned(),
                Provider::GoogleWorkspace => "Check in the Google Admin console that this \
                                              recruiter's account is active and has Gmail \
                                              turned on."
                    .to_owned(),
            }),
            ConnectError::BlockedByPolicy { provider } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "Look up this recruiter's failed sign-in to {APP} in the Microsoft Entra \
                     sign-in logs and adjust the Conditional Access policy that blocked it."
                ),
                Provider::GoogleWorkspace => format!(
                    "Review the context-aware access and API control policies that apply to \
                     this recruiter and {APP} in the Google Admin console."
                ),
            }),
            ConnectError::ProviderRejected {
                provider,
                provider_code,
            } => Some(match provider {
                Provider::Microsoft365 => format!(
                    "Look up {} for this recruiter's sign-in to {APP} in the Microsoft Entra \
                     sign-in logs to see which setting refused it.",
                    sanitize(provider_code)
                ),
                Provider::GoogleWorkspace => format!(
                    "Look up {} for this recruiter and {APP} in the Google Admin console's \
                     OAuth audit log to see which setting refused it.",
                    sanitize(provider_code)
                ),
            }),
            ConnectError::NotAllowed(denial) => denial_admin_action(denial),
            ConnectError::InsufficientScopes { .. }
            | ConnectError::NoMailbox { .. }
            | ConnectError::UserDeclined { .. }
            | ConnectError::AuthorizationRequestExpired { .. }
            | ConnectError::ProviderUnavailable { .. }
            | ConnectError::ServiceMisconfigured { .. } => None,
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
            | ConnectError::ProviderRejected { .. } => true,
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

    /// The HTTP status the API answers with (see the module documentation).
    pub fn http_status(&self) -> u16 {
        match self {
            ConnectError::AuthorizationRequestExpired { .. } => 400,
            ConnectError::NeedAdminApproval { .. }
            | ConnectError::NotAssigned { .. }
            | ConnectError::AppVersionNotApproved { .. }
            | ConnectError::InsufficientScopes { .. }
            | ConnectError::UserDeclined { .. }
            | ConnectError::BlockedByPolicy { .. }
            | ConnectError::NotAllowed(_) => 403,
            ConnectError::ProviderMismatch { .. } => 409,
            ConnectError::NoMailboxOrCalendar { .. }
            | ConnectError::HostedOnPremises { .. }
            | ConnectError::CalendarNotHosted { .. }
            | ConnectError::MailboxUnavailable { .. }
            | ConnectError::NoMailbox { .. } => 422,
            ConnectError::ServiceMisconfigured { .. } => 500,
            ConnectError::NetworkBlocked { .. } | ConnectError::ProviderRejected { .. } => 502,
            ConnectError::ProviderUnavailable { .. } => 503,
        }
    }

    /// The body an API answers with.
    pub fn body(&self) -> ConnectErrorBody {
        let missing_scopes = match self {
            ConnectError::InsufficientScopes { missing, .. } => {
                missing.iter().map(|s| sanitize(s)).collect()
            }
            _ => Vec::new(),
        };
        ConnectErrorBody {
            code: self.code(),
            message: self.message(),
            admin_action: self.admin_action(),
            retryable: self.retryable_by_user(),
            missing_scopes,
        }
    }
}

impl Serialize for ConnectError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body().serialize(serializer)
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

// ---------------------------------------------------------------------------------------
// OAuth errors (authorization redirect and token endpoint)

fn oauth_error(
    provider: Provider,
    error: &str,
    description: Option<&str>,
    codes: &[u32],
) -> ConnectError {
    let parsed;
    let codes = if codes.is_empty() {
        parsed = description.and_then(aadsts_code);
        parsed.as_slice()
    } else {
        codes
    };
    if let Some(known) = codes
        .iter()
        .find_map(|&code| microsoft_code(provider, code))
    {
        return known;
    }
    let error = error.trim().to_ascii_lowercase();
    let rejected = || ConnectError::ProviderRejected {
        provider,
        provider_code: match codes.first() {
            Some(code) => format!("AADSTS{code}"),
            None => sanitize(&error),
        },
    };
    let misconfigured = || ConnectError::ServiceMisconfigured {
        provider,
        provider_code: sanitize(&error),
    };
    match error.as_str() {
        "admin_policy_enforced" | "consent_required" => {
            ConnectError::NeedAdminApproval { provider }
        }
        "access_denied" if description.is_some_and(|d| d.contains("admin_policy_enforced")) => {
            ConnectError::NeedAdminApproval { provider }
        }
        // A decline carries no code; an unknown code is reported as such, never as a decline.
        "access_denied" if codes.is_empty() => ConnectError::UserDeclined { provider },
        "org_internal" => ConnectError::NotAssigned { provider },
        "unauthorized_client" | "deleted_client" => {
            ConnectError::AppVersionNotApproved { provider }
        }
        "invalid_grant" => ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired,
        },
        "invalid_client"
        | "redirect_uri_mismatch"
        | "invalid_scope"
        | "invalid_request"
        | "unsupported_response_type"
        | "unsupported_grant_type" => misconfigured(),
        "temporarily_unavailable" | "server_error" => {
            ConnectError::ProviderUnavailable { provider }
        }
        _ => rejected(),
    }
}

/// The Microsoft Entra codes this module knows, from its error-code reference.
fn microsoft_code(provider: Provider, code: u32) -> Option<ConnectError> {
    let mismatch = |account| ConnectError::ProviderMismatch {
        selected: provider,
        account,
    };
    Some(match code {
        // AdminConsentRequired, its request-access interrupt, DelegationDoesNotExist, and
        // the enterprise application disabled for sign-in in the tenant.
        90094 | 90095 | 65001 | 7000112 | 70001 => ConnectError::NeedAdminApproval { provider },
        // EntitlementGrantsNotFound: assignment required and the user is not assigned.
        50105 => ConnectError::NotAssigned { provider },
        // The application (this version's client id) is not in the tenant, or asks for
        // permissions the tenant has not approved for it.
        700016 | 700011 | 650056 | 650057 | 65005 => {
            ConnectError::AppVersionNotApproved { provider }
        }
        // Personal accounts not accepted; an account the directory does not hold.
        500200 | 500208 => mismatch(ForeignAccount::Personal),
        50020 | 16000 | 50034 | 51004 => mismatch(ForeignAccount::OutsideOrganization),
        // Conditional Access, security defaults.
        53000 | 53001 | 53002 | 53003 | 530032 | 530035 | 50131 => {
            ConnectError::BlockedByPolicy { provider }
        }
        65004 => ConnectError::UserDeclined { provider },
        70008 => ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired,
        },
        54005 => ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::AlreadyUsed,
        },
        // Our client secret, redirect URI or scopes.
        7000215 | 7000222 | 70002 | 50011 | 70011 | 700022 => ConnectError::ServiceMisconfigured {
            provider,
            provider_code: format!("AADSTS{code}"),
        },
        // Transient errors of the sign-in service.
        90006 | 50033 | 90033 | 90024 | 70012 | 90090 => {
            ConnectError::ProviderUnavailable { provider }
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// API errors (Graph, Gmail, Calendar)

struct ApiError<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
    reason: &'a str,
}

impl ApiError<'_> {
    fn message_has(&self, needle: &str) -> bool {
        self.message.to_ascii_lowercase().contains(needle)
    }

    fn provider_code(&self) -> String {
        let detail = [self.code, self.reason]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(sanitize);
        match detail {
            Some(detail) => format!("HTTP {} {detail}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }

    fn transient(&self) -> bool {
        self.status == 429 || (500..=599).contains(&self.status)
    }
}

fn graph_error(provider: Provider, kind: ConnectionKind, api: &ApiError<'_>) -> ConnectError {
    // Exchange hybrid mailboxes kept on premises answer with this text, under the same code
    // as the generic mailbox error.
    if api.message_has("not yet supported for this mailbox") {
        return ConnectError::HostedOnPremises { provider };
    }
    match api.code {
        "MailboxNotEnabledForRESTAPI" | "MailboxNotSupportedForRESTAPI" => {
            ConnectError::MailboxUnavailable { provider, kind }
        }
        "ErrorNonExistentMailbox" => ConnectError::NoMailbox { provider, kind },
        "ErrorAccessDenied" | "Authorization_RequestDenied" => ConnectError::InsufficientScopes {
            provider,
            missing: Vec::new(),
        },
        "ErrorMailboxStoreUnavailable"
        | "ErrorMailboxMoveInProgress"
        | "ErrorServerBusy"
        | "ServiceNotAvailable"
        | "TooManyRequests"
        | "ApplicationThrottled" => ConnectError::ProviderUnavailable { provider },
        _ if api.transient() => ConnectError::ProviderUnavailable { provider },
        _ => ConnectError::ProviderRejected {
            provider,
            provider_code: api.provider_code(),
        },
    }
}

fn google_api_error(provider: Provider, kind: ConnectionKind, api: &ApiError<'_>) -> ConnectError {
    let no_service = || match kind {
        ConnectionKind::Email => ConnectError::NoMailbox { provider, kind },
        ConnectionKind::Calendar => ConnectError::CalendarNotHosted { provider },
    };
    match api.reason {
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT" | "insufficientPermissions" => {
            return ConnectError::InsufficientScopes {
                provider,
                missing: Vec::new(),
            }
        }
        "notACalendarUser" => return ConnectError::CalendarNotHosted { provider },
        "failedPrecondition" | "notFound" => return no_service(),
        "accessNotConfigured" | "SERVICE_DISABLED" => {
            return ConnectError::ServiceMisconfigured {
                provider,
                provider_code: api.provider_code(),
            }
        }
        "rateLimitExceeded"
        | "userRateLimitExceeded"
        | "RATE_LIMIT_EXCEEDED"
        | "backendError"
        | "internalError" => return ConnectError::ProviderUnavailable { provider },
        _ => {}
    }
    if api.message_has("insufficient authentication scopes") {
        ConnectError::InsufficientScopes {
            provider,
            missing: Vec::new(),
        }
    } else if api.message_has("signed up for google calendar") {
        ConnectError::CalendarNotHosted { provider }
    } else if api.message_has("mail service not enabled")
        || api.code == "FAILED_PRECONDITION"
        || api.code == "NOT_FOUND"
        || api.status == 404
    {
        no_service()
    } else if api.transient() {
        ConnectError::ProviderUnavailable { provider }
    } else {
        ConnectError::ProviderRejected {
            provider,
            provider_code: api.provider_code(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Wording

fn product(provider: Provider) -> &'static str {
    match provider {
        Provider::Microsoft365 => "Microsoft 365",
        Provider::GoogleWorkspace => "Google Workspace",
    }
}

fn company(provider: Provider) -> &'static str {
    match provider {
        Provider::Microsoft365 => "Microsoft",
        Provider::GoogleWorkspace => "Google",
    }
}

/// A provider's string made safe to show: the characters codes and scopes use (and spaces),
/// at most 80 of them. Redirect parameters arrive through the browser and may be forged.
fn sanitize(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/' | ' '))
        .take(80)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "unknown".to_owned()
    } else {
        clean.to_owned()
    }
}

/// What a scope lets the application do, in the recruiter's words; an unknown scope is
/// shown as it is.
fn describe_scope(scope: &str) -> String {
    let short = scope
        .trim()
        .trim_start_matches("https://graph.microsoft.com/")
        .trim_start_matches("https://www.googleapis.com/auth/");
    let described = match short.to_ascii_lowercase().as_str() {
        "mail.read" | "gmail.readonly" => "read your email",
        "mail.send" | "gmail.send" => "send email as you",
        "user.read" => "read your basic profile",
        "calendars.readwrite" | "calendar.events" | "calendar" => "manage your calendar events",
        "calendar.freebusy" | "calendar.events.freebusy" => "see when you are free or busy",
        _ => return sanitize(scope),
    };
    described.to_owned()
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

fn denial_message(denial: &Denial) -> String {
    match denial {
        Denial::ContractSuspended => format!(
            "Your organization's {APP} contract is suspended, so nothing can be connected until \
             it is reactivated."
        ),
        Denial::NoProvider => "Your admin hasn't chosen the contract's email and calendar \
                               provider yet, so there is nothing to connect to."
            .to_owned(),
        Denial::FeatureOff { feature } => format!(
            "Your admin has turned {feature} off for the contract, so this can't be connected."
        ),
        Denial::NotAuthorized { kind } => format!("Connect your {kind} first."),
        Denial::NeedsReconnect { kind } => {
            format!("Your {kind} connection has to be renewed: connect it again.")
        }
        Denial::ProviderMismatch { kind } => format!(
            "Your {kind} was connected with another provider than the one your contract now \
             uses: connect it again."
        ),
        Denial::MissingScope { scope } => format!(
            "Your connection doesn't allow {APP} to {}: connect again and grant every \
             permission.",
            describe_scope(scope)
        ),
        Denial::SendingUnavailable => {
            format!("Sending email from {APP} isn't offered for your provider.")
        }
    }
}

fn denial_admin_action(denial: &Denial) -> Option<String> {
    match denial {
        Denial::ContractSuspended => Some(format!(
            "The contract's owner reactivates the {APP} contract."
        )),
        Denial::NoProvider => Some(format!(
            "An admin of your {APP} contract chooses Microsoft 365 or Google Workspace as the \
             contract's email and calendar provider."
        )),
        Denial::FeatureOff { feature } => Some(format!(
            "An admin of your {APP} contract turns {feature} on, if recruiters should use it."
        )),
        Denial::NotAuthorized { .. }
        | Denial::NeedsReconnect { .. }
        | Denial::ProviderMismatch { .. }
        | Denial::MissingScope { .. }
        | Denial::SendingUnavailable => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_codes_and_drops_markup() {
        assert_eq!(sanitize("AADSTS50057"), "AADSTS50057");
        assert_eq!(sanitize("<script>alert(1)</script>"), "scriptalert1/script");
        assert_eq!(sanitize(" HTTP 400 Odd\n"), "HTTP 400 Odd");
        assert_eq!(sanitize("  "), "unknown");
        assert_eq!(sanitize(&"x".repeat(500)).len(), 80);
    }

    #[test]
    fn scopes_are_described_in_plain_words() {
        assert_eq!(describe_scope("Mail.Send"), "send email as you");
        assert_eq!(
            describe_scope("https://www.googleapis.com/auth/calendar.freebusy"),
            "see when you are free or busy"
        );
        assert_eq!(describe_scope("Tasks.Read"), "Tasks.Read");
    }
}
