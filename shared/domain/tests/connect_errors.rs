//! Connecting a mailbox or calendar: what the providers answer, and what the recruiter sees.
//!
//! One test per row of the troubleshooting table, each fed the provider's documented answer
//! (a callback query string, a token-endpoint body, an API error body) parsed here as the
//! providers adapter would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeSet, HashSet};

use hiresync_domain::access::Feature;
use hiresync_domain::capability::{may_authorize, Denial};
use hiresync_domain::connect_error::{
    aadsts_code, account_mismatch, check_granted_scopes, classify, judge_account, AccountClaims,
    ConnectError, ErrorClass, ForeignAccount, ProviderSignal, StaleReason,
    MICROSOFT_CONSUMER_TENANT,
};
use hiresync_domain::connection::ConnectionKind::{self, Calendar, Email};
use hiresync_domain::contract::{Contract, EmailAccess, Provider, SettingsUpdate};
use hiresync_domain::ids::ContractId;
use proptest::prelude::*;
use serde_json::Value;

use Provider::{GoogleWorkspace as Google, Microsoft365 as Microsoft};

// ---------------------------------------------------------------------------------------
// Reading provider answers, as the providers adapter does

/// Decodes an `application/x-www-form-urlencoded` query string.
fn query(q: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }
    q.trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The OAuth callback's `error` and `error_description`.
fn redirect(q: &str) -> ProviderSignal {
    let params = query(q);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    ProviderSignal::AuthorizeRedirect {
        error: get("error").expect("a callback error has an error parameter"),
        description: get("error_description"),
    }
}

/// A token-endpoint error body (Microsoft adds `error_codes`).
fn token_error(body: &str) -> ProviderSignal {
    let v: Value = serde_json::from_str(body).unwrap();
    ProviderSignal::TokenEndpoint {
        error: v["error"].as_str().unwrap().to_owned(),
        description: v["error_description"].as_str().map(str::to_owned),
        codes: v["error_codes"]
            .as_array()
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| u32::try_from(c.as_u64().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A Microsoft Graph error: `{"error":{"code":..,"message":..}}`.
fn graph_error(status: u16, body: &str) -> ProviderSignal {
    let v: Value = serde_json::from_str(body).unwrap();
    ProviderSignal::Api {
        status,
        code: v["error"]["code"].as_str().map(str::to_owned),
        message: v["error"]["message"].as_str().map(str::to_owned),
        reason: None,
    }
}

/// A Google API error: the status name, and the `ErrorInfo` reason or else the legacy one.
fn google_error(body: &str) -> ProviderSignal {
    let v: Value = serde_json::from_str(body).unwrap();
    let e = &v["error"];
    let info_reason = e["details"].as_array().and_then(|details| {
        details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
            .and_then(|d| d["reason"].as_str())
    });
    let legacy_reason = e["errors"][0]["reason"].as_str();
    ProviderSignal::Api {
        status: u16::try_from(e["code"].as_u64().unwrap()).unwrap(),
        code: e["status"].as_str().map(str::to_owned),
        message: e["message"].as_str().map(str::to_owned),
        reason: info_reason.or(legacy_reason).map(str::to_owned),
    }
}

/// The claims of an ID token's payload.
fn claims(payload: &str) -> AccountClaims {
    let v: Value = serde_json::from_str(payload).unwrap();
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    AccountClaims {
        tenant_id: s("tid"),
        hosted_domain: s("hd"),
        email: s("email").or_else(|| s("preferred_username")),
    }
}

// ---------------------------------------------------------------------------------------
// What every error must offer

struct Expect {
    code: &'static str,
    /// Who has to act; the settings API's tests pin the HTTP status of each class.
    class: ErrorClass,
    admin: bool,
    retryable: bool,
}

fn check(error: &ConnectError, expect: &Expect) {
    assert_eq!(error.code(), expect.code, "{error:?}");
    assert_eq!(error.class(), expect.class, "{error:?}");
    assert_eq!(error.retryable_by_user(), expect.retryable, "{error:?}");
    assert!(error.message().len() > 40, "{error:?}: message too thin");
    match error.admin_action() {
        Some(action) => {
            assert!(expect.admin, "{error:?}: unexpected admin action {action}");
            assert!(action.len() > 40, "{error:?}: admin action too thin");
        }
        None => assert!(!expect.admin, "{error:?}: the admin has something to do"),
    }
}

// ---------------------------------------------------------------------------------------
// The troubleshooting table, row by row

#[test]
fn need_admin_approval() {
    let expect = Expect {
        code: "need_admin_approval",
        class: ErrorClass::NeedsPermission,
        admin: true,
        retryable: false,
    };
    // GIVEN Microsoft's token endpoint refusing with AdminConsentRequired in `error_codes`
    // (the `error` string is generic: the code decides)
    let signal = token_error(
        r#"{"error":"invalid_grant",
            "error_description":"AADSTS90094: The grant requires admin permission.\r\nTrace ID: 0000aaaa-11bb-cccc-dd33-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-03-02 09:00:00Z",
            "error_codes":[90094],
            "timestamp":"2026-03-02 09:00:00Z",
            "trace_id":"0000aaaa-11bb-cccc-dd33-eeeeee333333",
            "correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd"}"#,
    );
    let error = classify(Microsoft, Email, &signal);
    check(&error, &expect);
    assert!(error.message().contains("Microsoft 365"));
    assert!(error
        .admin_action()
        .unwrap()
        .contains("tenant-wide admin consent"));

    // consent_required / DelegationDoesNotExist on the callback
    let signal = redirect(
        "error=consent_required&error_description=AADSTS65001%3a+The+user+or+administrator+has+not+consented+to+use+the+application.&state=s1",
    );
    check(&classify(Microsoft, Calendar, &signal), &expect);

    // GIVEN Google's API controls blocking the client
    let error = classify(
        Google,
        Email,
        &redirect("error=admin_policy_enforced&state=s1"),
    );
    check(&error, &expect);
    assert!(error.message().contains("Google Workspace"));
    let action = error.admin_action().unwrap();
    assert!(action.contains("Trusted") && action.contains("API controls"));
}

#[test]
fn not_assigned_access_to_the_application() {
    let expect = Expect {
        code: "not_assigned",
        class: ErrorClass::NeedsPermission,
        admin: true,
        retryable: false,
    };
    // An access_denied that carries an admin code is not the user declining.
    let signal = redirect(
        "error=access_denied&error_description=AADSTS50105%3a+The+signed+in+user+%27%7bEmailHidden%7d%27+is+not+assigned+to+a+role+for+the+application+%2700000000-0000-0000-0000-000000000001%27(hiresync).%0d%0aTrace+ID%3a+1&state=s1",
    );
    let error = classify(Microsoft, Email, &signal);
    check(&error, &expect);
    assert!(error.admin_action().unwrap().contains("Users and groups"));

    check(
        &classify(Google, Calendar, &redirect("error=org_internal")),
        &expect,
    );
}

#[test]
fn cant_authorize_the_email_address_without_its_own_mailbox_or_calendar() {
    // GIVEN Graph's profile of a team inbox's account: it has no mailbox address
    let me: Value = serde_json::from_str(
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "displayName":"Recruiting team",
            "userPrincipalName":"recruiting-team@contoso.com",
            "mail":null}"#,
    )
    .unwrap();
    assert!(me["mail"].is_null());
    for kind in ConnectionKind::ALL {
        let error = classify(Microsoft, kind, &ProviderSignal::ProfileWithoutMailbox);
        check(
            &error,
            &Expect {
                code: "no_mailbox_or_calendar",
                class: ErrorClass::MailboxProblem,
                admin: true,
                retryable: true,
            },
        );
        assert!(error.message().contains("shared or team inboxes"));
        assert!(error
            .admin_action()
            .unwrap()
            .contains("provider (Microsoft 365)"));
    }
}

#[test]
fn email_address_doesnt_match_the_selected_provider() {
    let expect = Expect {
        code: "address_provider_mismatch",
        class: ErrorClass::WrongAccount,
        admin: true,
        retryable: true,
    };
    // A personal Microsoft account refused by the organizations endpoint.
    let signal = redirect(
        "error=invalid_request&error_description=AADSTS500200%3a+User+account+%27jane%40outlook.com%27+is+a+personal+Microsoft+account.&state=s1",
    );
    let error = classify(Microsoft, Email, &signal);
    check(&error, &expect);
    assert!(error.message().contains("personal Microsoft account"));

    // An account Microsoft's directory does not hold: its mail lives with another provider.
    let signal = redirect(
        "error=invalid_request&error_description=AADSTS50034%3a+The+user+account+%7bEmailHidden%7d+does+not+exist+in+the+directory.",
    );
    let error = classify(Microsoft, Calendar, &signal);
    check(&error, &expect);
    assert!(error.message().contains("another provider"));

    // The ID token of a personal Microsoft account carries the consumer tenant.
    let personal = claims(&format!(
        r#"{{"tid":"{MICROSOFT_CONSUMER_TENANT}","preferred_username":"jane@outlook.com"}}"#
    ));
    assert_eq!(
        account_mismatch(Microsoft, &personal),
        Some(ForeignAccount::Personal)
    );
    let work = claims(
        r#"{"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","preferred_username":"jane@contoso.com"}"#,
    );
    assert_eq!(account_mismatch(Microsoft, &work), None);

    // A Google account without `hd` is outside Google Workspace: on the company's domain its
    // mail is hosted elsewhere; on gmail.com it is a personal account.
    let outside = claims(
        r#"{"iss":"https://accounts.google.com","email":"jane@contoso.com","email_verified":true}"#,
    );
    let account = account_mismatch(Google, &outside).unwrap();
    assert_eq!(account, ForeignAccount::OutsideOrganization);
    let error = classify(Google, Email, &ProviderSignal::ForeignAccount(account));
    check(&error, &expect);
    assert!(error.admin_action().unwrap().contains("Google Workspace"));

    let gmail = claims(r#"{"email":"jane@gmail.com","email_verified":true}"#);
    assert_eq!(
        account_mismatch(Google, &gmail),
        Some(ForeignAccount::Personal)
    );
    let workspace = claims(r#"{"email":"jane@contoso.com","hd":"contoso.com"}"#);
    assert_eq!(account_mismatch(Google, &workspace), None);
}

#[test]
fn email_address_is_hosted_on_premise() {
    // GIVEN Graph's answer for a hybrid mailbox kept on premises
    let signal = graph_error(
        404,
        r#"{"error":{"code":"MailboxNotEnabledForRESTAPI",
                     "message":"REST API is not yet supported for this mailbox.",
                     "innerError":{"request-id":"080ffc52-c4e9-478f-9774-e8723d4a950e","date":"2026-03-02T09:00:00"}}}"#,
    );
    for kind in ConnectionKind::ALL {
        let error = classify(Microsoft, kind, &signal);
        check(
            &error,
            &Expect {
                code: "hosted_on_premises",
                class: ErrorClass::MailboxProblem,
                admin: true,
                retryable: false,
            },
        );
        assert!(error.admin_action().unwrap().contains("Exchange Online"));
    }
}

#[test]
fn calendar_is_not_hosted_by_google_or_microsoft() {
    let expect = Expect {
        code: "calendar_not_hosted",
        class: ErrorClass::MailboxProblem,
        admin: true,
        retryable: true,
    };
    // GIVEN Google Calendar's answer for the primary calendar of an account without one
    let not_found = google_error(
        r#"{"error":{"errors":[{"domain":"global","reason":"notFound","message":"Not Found"}],
                     "code":404,"message":"Not Found"}}"#,
    );
    let error = classify(Google, Calendar, &not_found);
    check(&error, &expect);
    assert!(error
        .message()
        .contains("Google Workspace or Microsoft 365"));

    let not_a_user = google_error(
        r#"{"error":{"errors":[{"domain":"calendar","reason":"notACalendarUser","message":"The user must be signed up for Google Calendar."}],
                     "code":403,"message":"The user must be signed up for Google Calendar."}}"#,
    );
    check(&classify(Google, Calendar, &not_a_user), &expect);
}

#[test]
fn network_requests_for_oauth_are_blocked() {
    for (provider, host) in [
        (Microsoft, "login.microsoftonline.com"),
        (Google, "accounts.google.com"),
    ] {
        let error = classify(provider, Email, &ProviderSignal::Unreachable);
        check(
            &error,
            &Expect {
                code: "oauth_network_blocked",
                class: ErrorClass::ProviderRefused,
                admin: true,
                retryable: false,
            },
        );
        assert!(error.admin_action().unwrap().contains(host));
    }
    // Our own call getting no answer is the provider being down, not the recruiter's network.
    assert_eq!(
        classify(Microsoft, Email, &ProviderSignal::TransportFailed).code(),
        "provider_unavailable"
    );
}

#[test]
fn reauthorizing_after_an_application_version_change_needs_it_approved() {
    let expect = Expect {
        code: "app_version_not_approved",
        class: ErrorClass::NeedsPermission,
        admin: true,
        retryable: false,
    };
    // GIVEN the new client id not (yet) in the customer's tenant
    let signal = token_error(
        r#"{"error":"unauthorized_client",
            "error_description":"AADSTS700016: Application with identifier '00000000-0000-0000-0000-000000000002' was not found in the directory 'Contoso'.",
            "error_codes":[700016]}"#,
    );
    let error = classify(Microsoft, Email, &signal);
    check(&error, &expect);
    assert!(error.message().contains("new version"));

    // ...or asking for permissions the tenant approved for no version of it
    let signal = redirect(
        "error=invalid_client&error_description=AADSTS650056%3a+Misconfigured+application.&state=s1",
    );
    check(&classify(Microsoft, Calendar, &signal), &expect);

    // Google: the earlier client was deleted, or the new one is not authorized
    check(
        &classify(Google, Email, &redirect("error=deleted_client")),
        &expect,
    );
    check(
        &classify(
            Google,
            Email,
            &token_error(r#"{"error":"unauthorized_client","error_description":"Unauthorized"}"#),
        ),
        &expect,
    );
}

#[test]
fn insufficient_scopes() {
    let expect = Expect {
        code: "insufficient_scopes",
        class: ErrorClass::NeedsPermission,
        admin: false,
        retryable: true,
    };
    // GIVEN Gmail refusing a token that lacks the read scope
    let signal = google_error(
        r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.",
            "errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],
            "status":"PERMISSION_DENIED",
            "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                        "domain":"googleapis.com","metadata":{"service":"gmail.googleapis.com","method":"caribou.api.proto.MailboxService.ListMessages"}}]}}"#,
    );
    check(&classify(Google, Email, &signal), &expect);

    // GIVEN a token response where the recruiter unticked free/busy on the consent screen
    let token: Value = serde_json::from_str(
        r#"{"access_token":"ya29.a0","expires_in":3599,"token_type":"Bearer",
            "scope":"openid https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/userinfo.email"}"#,
    )
    .unwrap();
    let granted: BTreeSet<String> = token["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    let error = check_granted_scopes(Google, Calendar, EmailAccess::Off, &granted).unwrap_err();
    check(&error, &expect);
    assert!(error.message().contains("see when you are free or busy"));
    assert_eq!(
        error.missing_scopes(),
        ["https://www.googleapis.com/auth/calendar.freebusy"]
    );

    // Everything granted: nothing to report.
    let mut all = granted.clone();
    all.insert("https://www.googleapis.com/auth/calendar.freebusy".into());
    assert_eq!(
        check_granted_scopes(Google, Calendar, EmailAccess::Off, &all),
        Ok(())
    );
}

#[test]
fn mailbox_error() {
    // GIVEN Graph's generic mailbox error
    let signal = graph_error(
        404,
        r#"{"error":{"code":"MailboxNotEnabledForRESTAPI",
                     "message":"The mailbox is either inactive, soft-deleted, or is hosted on-premise."}}"#,
    );
    for kind in ConnectionKind::ALL {
        // A Microsoft calendar lives in the mailbox: the same row applies to it.
        let error = classify(Microsoft, kind, &signal);
        check(
            &error,
            &Expect {
                code: "mailbox_unavailable",
                class: ErrorClass::MailboxProblem,
                admin: true,
                retryable: false,
            },
        );
        assert!(error.message().contains("mailbox"));
        assert!(error.admin_action().unwrap().contains("soft-deleted"));
    }
}

#[test]
fn email_address_does_not_have_a_mailbox() {
    let expect = Expect {
        code: "no_mailbox",
        class: ErrorClass::MailboxProblem,
        admin: false,
        retryable: true,
    };
    let graph = graph_error(
        404,
        r#"{"error":{"code":"ErrorNonExistentMailbox","message":"The SMTP address has no mailbox associated with it."}}"#,
    );
    check(&classify(Microsoft, Email, &graph), &expect);
    let error = classify(Microsoft, Calendar, &graph);
    check(&error, &expect);
    assert!(error.message().contains("no calendar"));

    // GIVEN Gmail's answer for a Google account without Gmail (Drive only, say)
    let gmail = google_error(
        r#"{"error":{"code":400,"message":"Mail service not enabled",
            "errors":[{"message":"Mail service not enabled","domain":"global","reason":"failedPrecondition"}],
            "status":"FAILED_PRECONDITION"}}"#,
    );
    check(&classify(Google, Email, &gmail), &expect);
}

// ---------------------------------------------------------------------------------------
// What the flow itself needs

#[test]
fn declining_consent_is_the_recruiters_choice() {
    let expect = Expect {
        code: "user_declined",
        class: ErrorClass::NeedsPermission,
        admin: false,
        retryable: true,
    };
    let ms = redirect(
        "error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.&state=s1",
    );
    check(&classify(Microsoft, Email, &ms), &expect);
    check(
        &classify(Microsoft, Email, &redirect("error=access_denied&state=s1")),
        &expect,
    );
    let google = classify(Google, Calendar, &redirect("error=access_denied&state=s1"));
    check(&google, &expect);
    assert!(google.message().contains("administrator may be blocking"));

    // An access_denied with a code we do not know is reported with that code.
    let disabled = redirect(
        "error=access_denied&error_description=AADSTS50057%3a+The+user+account+is+disabled.",
    );
    let error = classify(Microsoft, Email, &disabled);
    assert_eq!(error.code(), "provider_rejected");
    assert!(error.message().contains("AADSTS50057"));
    assert!(error.admin_action().unwrap().contains("AADSTS50057"));
}

#[test]
fn a_stale_callback_asks_to_start_again() {
    let expect = Expect {
        code: "authorization_request_expired",
        class: ErrorClass::StartAgain,
        admin: false,
        retryable: true,
    };
    let expired = token_error(
        r#"{"error":"invalid_grant",
            "error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.",
            "error_codes":[70008]}"#,
    );
    let error = classify(Microsoft, Email, &expired);
    check(&error, &expect);
    assert_eq!(
        error,
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::Expired
        }
    );
    let used = token_error(
        r#"{"error":"invalid_grant","error_description":"AADSTS54005: OAuth2 Authorization code was already redeemed.","error_codes":[54005]}"#,
    );
    assert_eq!(
        classify(Microsoft, Email, &used),
        ConnectError::AuthorizationRequestExpired {
            reason: StaleReason::AlreadyUsed
        }
    );
    let google = token_error(r#"{"error":"invalid_grant","error_description":"Bad Request"}"#);
    check(&classify(Google, Calendar, &google), &expect);

    // The flow's own checks of the state parameter.
    let messages: HashSet<String> = [
        StaleReason::Expired,
        StaleReason::AlreadyUsed,
        StaleReason::Unrecognized,
        StaleReason::SettingsChanged,
    ]
    .into_iter()
    .map(|reason| {
        let error = ConnectError::AuthorizationRequestExpired { reason };
        check(&error, &expect);
        error.message()
    })
    .collect();
    assert_eq!(messages.len(), 4, "each reason explains itself");
}

#[test]
fn the_contract_must_allow_connecting() {
    let mut contract = Contract::new(ContractId::parse("c-1").unwrap());
    let error = ConnectError::from(may_authorize(&contract, Email).unwrap_err());
    check(
        &error,
        &Expect {
            code: "no_provider",
            class: ErrorClass::NeedsPermission,
            admin: true,
            retryable: false,
        },
    );

    contract
        .change_settings(SettingsUpdate {
            provider: Some(Microsoft),
            ..SettingsUpdate::default()
        })
        .unwrap();
    let error = ConnectError::from(may_authorize(&contract, Calendar).unwrap_err());
    assert_eq!(
        error,
        ConnectError::NotAllowed(Denial::FeatureOff {
            feature: Feature::Calendar
        })
    );
    check(
        &error,
        &Expect {
            code: "feature_off",
            class: ErrorClass::NeedsPermission,
            admin: true,
            retryable: false,
        },
    );

    contract.suspend("2026-06-01T00:00:00Z".parse().unwrap());
    let error = ConnectError::from(may_authorize(&contract, Email).unwrap_err());
    check(
        &error,
        &Expect {
            code: "contract_suspended",
            class: ErrorClass::NeedsPermission,
            admin: true,
            retryable: false,
        },
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the denial is kept as the cause"
    );
}

#[test]
fn transient_failures_and_our_own_configuration_are_told_apart() {
    let throttled = google_error(
        r#"{"error":{"code":429,"message":"Too many concurrent requests for user.",
            "errors":[{"message":"Too many concurrent requests for user.","domain":"usageLimits","reason":"rateLimitExceeded"}],
            "status":"RESOURCE_EXHAUSTED"}}"#,
    );
    let busy = graph_error(
        503,
        r#"{"error":{"code":"ServiceNotAvailable","message":"Service unavailable."}}"#,
    );
    for error in [
        classify(Google, Email, &throttled),
        classify(Microsoft, Calendar, &busy),
        classify(Microsoft, Email, &redirect("error=temporarily_unavailable")),
    ] {
        check(
            &error,
            &Expect {
                code: "provider_unavailable",
                class: ErrorClass::ProviderUnavailable,
                admin: false,
                retryable: true,
            },
        );
    }

    let secret = token_error(
        r#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired.","error_codes":[7000222]}"#,
    );
    for error in [
        classify(Microsoft, Email, &secret),
        classify(Google, Email, &redirect("error=redirect_uri_mismatch")),
    ] {
        check(
            &error,
            &Expect {
                code: "service_misconfigured",
                class: ErrorClass::OurConfiguration,
                admin: false,
                retryable: false,
            },
        );
        // A 5xx body stays generic: the provider's code is for our logs only.
        assert!(!error.message().contains("AADSTS") && !error.message().contains("redirect_uri"));
    }

    let policy = redirect(
        "error=access_denied&error_description=AADSTS53003%3a+Access+has+been+blocked+by+Conditional+Access+policies.",
    );
    check(
        &classify(Microsoft, Email, &policy),
        &Expect {
            code: "blocked_by_policy",
            class: ErrorClass::NeedsPermission,
            admin: true,
            retryable: false,
        },
    );
}

#[test]
fn an_unknown_answer_names_the_providers_code_and_nothing_else() {
    let graph = graph_error(
        400,
        r#"{"error":{"code":"ErrorSomethingNew","message":"Something new."}}"#,
    );
    let error = classify(Microsoft, Email, &graph);
    check(
        &error,
        &Expect {
            code: "provider_rejected",
            class: ErrorClass::ProviderRefused,
            admin: true,
            retryable: true,
        },
    );
    assert!(error.message().contains("HTTP 400 ErrorSomethingNew"));

    // Callback parameters come through the browser and may be forged.
    let forged = redirect("error=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&error_description=hi");
    let error = classify(Google, Email, &forged);
    assert_eq!(error.code(), "provider_rejected");
    assert!(!error.message().contains('<') && !error.message().contains('='));
    assert!(!error.admin_action().unwrap().contains('<'));
}

#[test]
fn an_error_reads_as_its_code_and_message() {
    let error = ConnectError::NeedAdminApproval {
        provider: Microsoft,
    };
    assert_eq!(
        error.to_string(),
        format!("need_admin_approval: {}", error.message())
    );
    assert!(ConnectError::UserDeclined { provider: Google }
        .admin_action()
        .is_none());
    assert!(error.missing_scopes().is_empty());
}

// ---------------------------------------------------------------------------------------
// Codes and the AADSTS parser

/// One error of every variant (and of every denial). `variant` below has no catch-all arm,
/// so a new variant does not compile until it is added here.
fn one_of_each() -> Vec<ConnectError> {
    use ConnectError::*;
    vec![
        NeedAdminApproval {
            provider: Microsoft,
        },
        NotAssigned { provider: Google },
        NoMailboxOrCalendar {
            provider: Microsoft,
            kind: Email,
        },
        ProviderMismatch {
            selected: Google,
            account: ForeignAccount::Personal,
        },
        HostedOnPremises {
            provider: Microsoft,
        },
        CalendarNotHosted { provider: Google },
        NetworkBlocked {
            provider: Microsoft,
        },
        AppVersionNotApproved { provider: Google },
        InsufficientScopes {
            provider: Microsoft,
            missing: vec!["Mail.Read".into()],
        },
        MailboxUnavailable {
            provider: Microsoft,
            kind: Calendar,
        },
        NoMailbox {
            provider: Google,
            kind: Email,
        },
        UserDeclined {
            provider: Microsoft,
        },
        AuthorizationRequestExpired {
            reason: StaleReason::Unrecognized,
        },
        BlockedByPolicy {
            provider: Microsoft,
        },
        ProviderUnavailable { provider: Google },
        ServiceMisconfigured {
            provider: Microsoft,
            provider_code: "AADSTS7000215".into(),
        },
        ProviderRejected {
            provider: Google,
            provider_code: "interaction_required".into(),
        },
        MailboxInUse {
            provider: Google,
            kind: Calendar,
        },
        OrganizationNotAllowed {
            provider: Microsoft,
            personal: true,
        },
        NotAllowed(Denial::ContractSuspended),
        NotAllowed(Denial::NoProvider),
        NotAllowed(Denial::FeatureOff {
            feature: Feature::EmailView,
        }),
        NotAllowed(Denial::NotAuthorized { kind: Email }),
        NotAllowed(Denial::NeedsReconnect { kind: Calendar }),
        NotAllowed(Denial::ProviderMismatch { kind: Email }),
        NotAllowed(Denial::MissingScope {
            scope: "Mail.Send".into(),
        }),
        NotAllowed(Denial::SendingUnavailable),
    ]
}

fn variant(error: &ConnectError) -> usize {
    use ConnectError::*;
    match error {
        NeedAdminApproval { .. } => 0,
        NotAssigned { .. } => 1,
        NoMailboxOrCalendar { .. } => 2,
        ProviderMismatch { .. } => 3,
        HostedOnPremises { .. } => 4,
        CalendarNotHosted { .. } => 5,
        NetworkBlocked { .. } => 6,
        AppVersionNotApproved { .. } => 7,
        InsufficientScopes { .. } => 8,
        MailboxUnavailable { .. } => 9,
        NoMailbox { .. } => 10,
        UserDeclined { .. } => 11,
        AuthorizationRequestExpired { .. } => 12,
        BlockedByPolicy { .. } => 13,
        ProviderUnavailable { .. } => 14,
        ServiceMisconfigured { .. } => 15,
        ProviderRejected { .. } => 16,
        MailboxInUse { .. } => 25,
        OrganizationNotAllowed { .. } => 26,
        NotAllowed(denial) => {
            17 + match denial {
                Denial::ContractSuspended => 0,
                Denial::NoProvider => 1,
                Denial::FeatureOff { .. } => 2,
                Denial::NotAuthorized { .. } => 3,
                Denial::NeedsReconnect { .. } => 4,
                Denial::ProviderMismatch { .. } => 5,
                Denial::MissingScope { .. } => 6,
                Denial::SendingUnavailable => 7,
            }
        }
    }
}

#[test]
fn every_variant_has_a_unique_snake_case_code() {
    let all = one_of_each();
    let variants: BTreeSet<usize> = all.iter().map(variant).collect();
    assert_eq!(variants, (0..27).collect(), "one example of every variant");

    let mut seen = HashSet::new();
    for error in &all {
        let code = error.code();
        assert!(seen.insert(code), "{code} is used twice");
        assert!(
            !code.is_empty()
                && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && !code.starts_with('_')
                && !code.ends_with('_'),
            "{code} is not snake_case"
        );
        assert!(!error.message().is_empty());
        if let Some(action) = error.admin_action() {
            assert!(!action.trim().is_empty());
        }
    }
}

#[test]
fn a_denial_keeps_the_code_the_capability_api_gives_it() {
    for error in one_of_each() {
        if let ConnectError::NotAllowed(denial) = &error {
            let serialized = serde_json::to_value(denial).unwrap();
            assert_eq!(serialized["code"], error.code());
        }
    }
}

#[test]
fn the_aadsts_parser_reads_the_code_and_ignores_junk() {
    let cases: [(&str, Option<u32>); 12] = [
        (
            "AADSTS50105: The signed in user is not assigned.",
            Some(50105),
        ),
        (
            "AADSTS90094:The grant requires admin permission.",
            Some(90094),
        ),
        (
            "  AADSTS7000222: The provided client secret keys are expired.",
            Some(7000222),
        ),
        (
            "Sign-in failed. AADSTS65004: User declined to consent.",
            Some(65004),
        ),
        ("The user declined to consent.", None),
        ("", None),
        ("AADSTS", None),
        ("AADSTS: no digits", None),
        ("aadsts50105: lower case is not Microsoft's", None),
        (
            "AADSTS99999999999999999999: too long, AADSTS50034: then a real one",
            Some(50034),
        ),
        ("AADSTSx1 AADSTS\u{1F600} AADSTS-1", None),
        ("ÅADSTS1 AADSTS12abc", Some(12)),
    ];
    for (description, expected) in cases {
        assert_eq!(aadsts_code(description), expected, "{description:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Totality

fn any_provider() -> impl Strategy<Value = Provider> {
    prop_oneof![Just(Microsoft), Just(Google)]
}

fn any_kind() -> impl Strategy<Value = ConnectionKind> {
    prop_oneof![Just(Email), Just(Calendar)]
}

fn known_or_any() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("access_denied".to_owned()),
        Just("invalid_grant".to_owned()),
        Just("MailboxNotEnabledForRESTAPI".to_owned()),
        Just("failedPrecondition".to_owned()),
        Just("AADSTS".to_owned()),
        ".*",
    ]
}

fn any_signal() -> impl Strategy<Value = ProviderSignal> {
    let text = || proptest::option::of(prop_oneof![known_or_any(), "AADSTS[0-9]{0,12}.*"]);
    prop_oneof![
        (known_or_any(), text()).prop_map(|(error, description)| {
            ProviderSignal::AuthorizeRedirect { error, description }
        }),
        (
            known_or_any(),
            text(),
            proptest::collection::vec(any::<u32>(), 0..4)
        )
            .prop_map(
                |(error, description, codes)| ProviderSignal::TokenEndpoint {
                    error,
                    description,
                    codes,
                }
            ),
        (any::<u16>(), text(), text(), text()).prop_map(|(status, code, message, reason)| {
            ProviderSignal::Api {
                status,
                code,
                message,
                reason,
            }
        }),
        Just(ProviderSignal::Unreachable),
        Just(ProviderSignal::TransportFailed),
        Just(ProviderSignal::ProfileWithoutMailbox),
        proptest::collection::vec(".*", 0..3).prop_map(ProviderSignal::ScopesNotGranted),
        prop_oneof![
            Just(ForeignAccount::Personal),
            Just(ForeignAccount::OutsideOrganization)
        ]
        .prop_map(ProviderSignal::ForeignAccount),
    ]
}

proptest! {
    #[test]
    fn classify_is_total_and_always_precise(
        provider in any_provider(),
        kind in any_kind(),
        signal in any_signal(),
    ) {
        let error = classify(provider, kind, &signal);
        prop_assert!(!error.code().is_empty());
        prop_assert!(!error.message().is_empty());
        // Whatever a forged callback says, what we show holds no markup.
        prop_assert!(!error.message().contains('<'));
    }

    #[test]
    fn the_aadsts_parser_never_panics(description in ".*") {
        let _ = aadsts_code(&description);
    }

    #[test]
    fn a_known_code_wins_over_any_error_string(error in ".*", code in prop_oneof![
        Just(90094u32), Just(50105), Just(700016), Just(500200), Just(65004), Just(70008)
    ]) {
        let from_codes = classify(Microsoft, Email, &ProviderSignal::TokenEndpoint {
            error: error.clone(), description: None, codes: vec![code],
        });
        let from_description = classify(Microsoft, Email, &ProviderSignal::AuthorizeRedirect {
            error, description: Some(format!("AADSTS{code}: text")),
        });
        prop_assert_eq!(from_codes, from_description);
    }
}

#[test]
fn an_account_is_judged_by_its_organization_against_the_contracts_pin() {
    let ms = |tid: Option<&str>| AccountClaims {
        tenant_id: tid.map(str::to_owned),
        hosted_domain: None,
        email: Some("r@acme.example".into()),
    };
    let g = |hd: Option<&str>, email: &str| AccountClaims {
        tenant_id: None,
        hosted_domain: hd.map(str::to_owned),
        email: Some(email.into()),
    };
    let none = BTreeSet::new();
    let acme = BTreeSet::from(["5f1e0c2a-0001".to_owned(), "acme.example".to_owned()]);

    // Unpinned: an organization's account records it; a personal one is welcome.
    let org = judge_account(Microsoft, Some(&ms(Some(" 5F1E0C2A-0001 "))), &none).unwrap();
    assert_eq!(org.organization.as_deref(), Some("5f1e0c2a-0001"));
    let personal = judge_account(Microsoft, Some(&ms(Some(MICROSOFT_CONSUMER_TENANT))), &none);
    assert!(personal.unwrap().is_personal());
    assert!(judge_account(Google, Some(&g(None, "me@gmail.com")), &none)
        .unwrap()
        .is_personal());
    // A Google account outside Workspace and Gmail has no mailbox there.
    assert_eq!(
        judge_account(Google, Some(&g(None, "me@outlook.example")), &none)
            .unwrap_err()
            .code(),
        "address_provider_mismatch"
    );

    // Pinned: only the listed organizations.
    assert!(judge_account(
        Google,
        Some(&g(Some("Acme.example"), "r@acme.example")),
        &acme
    )
    .is_ok());
    assert_eq!(
        judge_account(
            Google,
            Some(&g(Some("other.example"), "r@other.example")),
            &acme
        ),
        Err(ConnectError::OrganizationNotAllowed {
            provider: Google,
            personal: false
        })
    );
    assert_eq!(
        judge_account(Google, Some(&g(None, "me@gmail.com")), &acme),
        Err(ConnectError::OrganizationNotAllowed {
            provider: Google,
            personal: true
        })
    );

    // Nothing to judge by: no ID token, or one without the organization's claim.
    for claims in [None, Some(ms(None))] {
        assert_eq!(
            judge_account(Microsoft, claims.as_ref(), &none)
                .unwrap_err()
                .code(),
            "service_misconfigured"
        );
    }
}

#[test]
fn pinning_organizations_narrows_widens_and_refuses_what_is_not_one() {
    let mut c = Contract::new(ContractId::parse("acme").unwrap());
    let list = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let enforce = vec![hiresync_domain::access::Effect::EnforceOrganizations];
    assert_eq!(
        c.pin_organizations(&list(&["A.example", "b.example"]))
            .unwrap(),
        enforce
    );
    assert_eq!(
        c.pin_organizations(&list(&["b.example", "a.example"]))
            .unwrap(),
        vec![],
        "same list"
    );
    assert_eq!(
        c.pin_organizations(&list(&["a.example", "b.example", "c.example"]))
            .unwrap(),
        vec![],
        "wider"
    );
    assert_eq!(
        c.pin_organizations(&list(&["c.example"])).unwrap(),
        enforce,
        "narrower"
    );
    assert_eq!(c.pin_organizations(&[]).unwrap(), vec![], "unpinned");
    assert!(c.organizations.is_empty());
    for bad in [
        vec!["a b".to_owned()],
        vec!["x#y".to_owned()],
        vec![" ".to_owned()],
    ] {
        assert!(c.pin_organizations(&bad).is_err());
    }
    let many: Vec<String> = (0..51).map(|n| format!("o{n}.example")).collect();
    assert!(c.pin_organizations(&many).is_err());
    assert!(c.organizations.is_empty(), "a refused list changes nothing");
}
