//! The OAuth scopes each provider grants for each feature, and how to tell whether a grant
//! covers what a feature needs.

use std::collections::BTreeSet;

use crate::connection::ConnectionKind;
use crate::contract::{EmailAccess, Provider};

const GRAPH: &str = "https://graph.microsoft.com/";
const GOOGLE: &str = "https://www.googleapis.com/auth/";

/// Identity scopes: requested for sign-in, never needed by a feature, and reported
/// inconsistently in token responses, so they take no part in a grant check.
const IDENTITY: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The resource scopes a feature needs. Microsoft scopes are written in their short form.
pub fn feature_scopes(
    provider: Provider,
    kind: ConnectionKind,
    email_access: EmailAccess,
) -> Vec<&'static str> {
    match (provider, kind) {
        (Provider::Microsoft365, ConnectionKind::Email) => match email_access {
            EmailAccess::Off => vec![],
            EmailAccess::ViewOnly => vec!["User.Read", "Mail.Read"],
            EmailAccess::SendAndView => vec!["User.Read", "Mail.Read", "Mail.Send"],
        },
        // Sending from the product is offered for Microsoft 365 only, so a Google grant never
        // asks for the send scope.
        (Provider::GoogleWorkspace, ConnectionKind::Email) => match email_access {
            EmailAccess::Off => vec![],
            _ => vec!["https://www.googleapis.com/auth/gmail.readonly"],
        },
        (Provider::Microsoft365, ConnectionKind::Calendar) => {
            vec!["User.Read", "Calendars.ReadWrite"]
        }
        (Provider::GoogleWorkspace, ConnectionKind::Calendar) => vec![
            "https://www.googleapis.com/auth/calendar.events",
            "https://www.googleapis.com/auth/calendar.freebusy",
        ],
    }
}

/// Everything to request at the authorization endpoint: identity scopes plus the feature's.
pub fn requested_scopes(
    provider: Provider,
    kind: ConnectionKind,
    email_access: EmailAccess,
) -> Vec<&'static str> {
    let identity: &[&str] = match provider {
        Provider::Microsoft365 => &["openid", "profile", "email", "offline_access"],
        Provider::GoogleWorkspace => &["openid", "email"],
    };
    identity
        .iter()
        .copied()
        .chain(feature_scopes(provider, kind, email_access))
        .collect()
}

/// The scope Microsoft or Google needs for sending from the product.
pub fn send_scope(provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::Microsoft365 => Some("Mail.Send"),
        Provider::GoogleWorkspace => None,
    }
}

/// One scope in the form used for comparison: Microsoft's are case-insensitive and may come
/// back with or without the Graph resource prefix; Google's are exact URLs.
fn canonical(provider: Provider, scope: &str) -> String {
    match provider {
        Provider::Microsoft365 => {
            let lower = scope.to_ascii_lowercase();
            lower
                .strip_prefix(GRAPH)
                .map(str::to_owned)
                .unwrap_or(lower)
        }
        Provider::GoogleWorkspace => {
            if scope.contains("://") || IDENTITY.contains(&scope) {
                scope.to_owned()
            } else {
                format!("{GOOGLE}{scope}")
            }
        }
    }
}

/// Whether `granted` (as the token response reported it) includes `scope`.
pub fn has_scope(provider: Provider, granted: &BTreeSet<String>, scope: &str) -> bool {
    let wanted = canonical(provider, scope);
    granted.iter().any(|g| canonical(provider, g) == wanted)
}

/// The feature scopes of `wanted` that `granted` lacks (identity scopes are ignored).
pub fn missing_scopes(
    provider: Provider,
    wanted: &[&str],
    granted: &BTreeSet<String>,
) -> Vec<String> {
    wanted
        .iter()
        .filter(|s| !IDENTITY.contains(s))
        .filter(|s| !has_scope(provider, granted, s))
        .map(|s| (*s).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_send_scope_is_requested_at_view_only() {
        for provider in [Provider::Microsoft365, Provider::GoogleWorkspace] {
            let scopes = requested_scopes(provider, ConnectionKind::Email, EmailAccess::ViewOnly);
            assert!(!scopes
                .iter()
                .any(|s| s.ends_with("Mail.Send") || s.ends_with("gmail.send")));
        }
        let send = requested_scopes(
            Provider::Microsoft365,
            ConnectionKind::Email,
            EmailAccess::SendAndView,
        );
        assert!(send.contains(&"Mail.Send"));
        assert!(send.contains(&"offline_access"));
    }

    #[test]
    fn microsoft_scopes_match_in_either_form_and_any_case() {
        let granted = set(&[
            "https://graph.microsoft.com/mail.read",
            "User.Read",
            "openid",
        ]);
        assert!(missing_scopes(
            Provider::Microsoft365,
            &["User.Read", "Mail.Read"],
            &granted
        )
        .is_empty());
        assert_eq!(
            missing_scopes(
                Provider::Microsoft365,
                &["Mail.Read", "Mail.Send"],
                &granted
            ),
            vec!["Mail.Send"]
        );
    }

    #[test]
    fn google_partial_consent_is_detected_and_identity_scopes_ignored() {
        let wanted = requested_scopes(
            Provider::GoogleWorkspace,
            ConnectionKind::Calendar,
            EmailAccess::Off,
        );
        let granted = set(&[
            "openid",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/calendar.events",
        ]);
        assert_eq!(
            missing_scopes(Provider::GoogleWorkspace, &wanted, &granted),
            vec!["https://www.googleapis.com/auth/calendar.freebusy"]
        );
        // Google's scopes are case-sensitive.
        let shouting = set(&["HTTPS://WWW.GOOGLEAPIS.COM/AUTH/GMAIL.READONLY"]);
        assert!(!has_scope(
            Provider::GoogleWorkspace,
            &shouting,
            "https://www.googleapis.com/auth/gmail.readonly"
        ));
    }
}
