//! The troubleshooting table: what a provider said, mapped to the [`ConnectError`] the
//! recruiter sees.
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

use super::wording::sanitize;
use super::MICROSOFT_CONSUMER_TENANT;
use super::{AccountClaims, ConnectError, ForeignAccount, ProviderSignal, StaleReason};
use crate::connection::ConnectionKind;
use crate::contract::{EmailAccess, Provider};
use crate::scopes;

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
            let api = ApiAnswer {
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

/// Who signed in, as far as connecting goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The Microsoft tenant id or Google Workspace domain (lowercase); `None`: personal.
    pub organization: Option<String>,
}

impl Account {
    pub fn is_personal(&self) -> bool {
        self.organization.is_none()
    }
}

/// Judges the account an ID token names for a contract with `provider`, pinned to
/// `pinned` organizations (empty: any). A personal account is allowed unless the contract is
/// pinned; an account of another organization only if the contract is not pinned or pins
/// it; a Google account outside Workspace whose address is not Gmail's has no mailbox with
/// Google and is refused as before. Without an ID token (or without the claim that names
/// the organization) nothing can be judged: that is our configuration's fault, since we
/// always ask for `openid`.
pub fn judge_account(
    provider: Provider,
    claims: Option<&AccountClaims>,
    pinned: &BTreeSet<String>,
) -> Result<Account, ConnectError> {
    let missing = || ConnectError::ServiceMisconfigured {
        provider,
        provider_code: "id_token_missing".into(),
    };
    let claims = claims.ok_or_else(missing)?;
    let organization = match account_mismatch(provider, claims) {
        Some(ForeignAccount::Personal) => None,
        Some(foreign @ ForeignAccount::OutsideOrganization) => {
            return Err(classify(
                provider,
                ConnectionKind::Email,
                &ProviderSignal::ForeignAccount(foreign),
            ))
        }
        None => Some(
            match provider {
                Provider::Microsoft365 => claims.tenant_id.as_deref(),
                Provider::GoogleWorkspace => claims.hosted_domain.as_deref(),
            }
            .map(|org| org.trim().to_ascii_lowercase())
            .filter(|org| !org.is_empty())
            .ok_or_else(missing)?,
        ),
    };
    let allowed = pinned.is_empty()
        || organization
            .as_ref()
            .is_some_and(|org| pinned.contains(org));
    if !allowed {
        return Err(ConnectError::OrganizationNotAllowed {
            provider,
            personal: organization.is_none(),
        });
    }
    Ok(Account { organization })
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

struct ApiAnswer<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
    reason: &'a str,
}

impl ApiAnswer<'_> {
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

fn graph_error(provider: Provider, kind: ConnectionKind, api: &ApiAnswer<'_>) -> ConnectError {
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

fn google_api_error(provider: Provider, kind: ConnectionKind, api: &ApiAnswer<'_>) -> ConnectError {
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
