//! The words the recruiter and the administrator read: each error's message and admin
//! action, product and company names, scope descriptions, and the sanitizing of whatever a
//! provider sent that ends up on screen.

use super::{ConnectError, ForeignAccount, StaleReason};
use crate::capability::Denial;
use crate::connection::ConnectionKind;
use crate::contract::Provider;

/// The name recruiters and administrators know the application by (the consent screen, the
/// enterprise application in Entra, the OAuth client in Google's API controls).
const APP: &str = "hiresync";

impl ConnectError {
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
            ConnectError::MailboxInUse { provider, kind } => format!(
                "This {} {} is already connected to another seat in {APP}, and an account \
                 is connected only once. Connect again with your own account, or ask whoever \
                 connected it to disconnect it first.",
                product(*provider),
                match kind {
                    ConnectionKind::Email => "mailbox",
                    ConnectionKind::Calendar => "calendar",
                }
            ),
            ConnectError::OrganizationNotAllowed { provider, personal } => {
                if *personal {
                    format!(
                        "Your admin allows only work accounts of your organization here, and \
                         you signed in with a personal account. Connect again with your work \
                         {} account.",
                        product(*provider)
                    )
                } else {
                    format!(
                        "Your admin allows only accounts of your organization here, and the \
                         {} account you signed in with belongs to another one. Connect again \
                         with your work account, or ask your admin to allow its organization.",
                        product(*provider)
                    )
                }
            }
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
            ConnectError::OrganizationNotAllowed { provider, personal } => Some(if *personal {
                format!(
                    "The contract accepts only accounts of the organizations listed in \
                     {APP}'s settings. To let personal accounts connect, remove the list."
                )
            } else {
                format!(
                    "The contract accepts only accounts of the organizations listed in \
                     {APP}'s settings. To let this recruiter connect, add the organization of \
                     their account (its {}) to the list.",
                    match provider {
                        Provider::Microsoft365 => "Microsoft Entra tenant id",
                        Provider::GoogleWorkspace => "Google Workspace domain",
                    }
                )
            }),
            ConnectError::NotAllowed(denial) => denial_admin_action(denial),
            ConnectError::InsufficientScopes { .. }
            | ConnectError::NoMailbox { .. }
            | ConnectError::MailboxInUse { .. }
            | ConnectError::UserDeclined { .. }
            | ConnectError::AuthorizationRequestExpired { .. }
            | ConnectError::ProviderUnavailable { .. }
            | ConnectError::ServiceMisconfigured { .. } => None,
        }
    }
}

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
pub fn sanitize(raw: &str) -> String {
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
