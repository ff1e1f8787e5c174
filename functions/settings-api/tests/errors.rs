//! The API's one error mapping: every row of the troubleshooting table answers with its
//! status and the `{code, message, admin_action?}` body; internal failures answer a generic
//! 500 and log their whole cause chain. No emulators: the mapping is pure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use hiresync_connect::Failure;
use hiresync_domain::access::Feature;
use hiresync_domain::capability::Denial;
use hiresync_domain::connect_error::{ConnectError, ForeignAccount, StaleReason};
use hiresync_domain::connection::ConnectionKind::{Calendar, Email};
use hiresync_domain::contract::Provider::{GoogleWorkspace as Google, Microsoft365 as Microsoft};
use hiresync_testkit::logs::LogCapture;
use serde_json::Value;
use settings_api::ApiError;

/// The status and body the API answers with for `error`.
async fn answer(error: impl Into<ApiError>) -> (StatusCode, Value) {
    let response = error.into().into_response();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// One error of every variant of the troubleshooting table (and of every denial), with the
/// status the API answers it with.
fn every_row() -> Vec<(ConnectError, u16)> {
    use ConnectError::*;
    vec![
        (
            AuthorizationRequestExpired {
                reason: StaleReason::Expired,
            },
            400,
        ),
        (
            AuthorizationRequestExpired {
                reason: StaleReason::AlreadyUsed,
            },
            400,
        ),
        (
            AuthorizationRequestExpired {
                reason: StaleReason::Unrecognized,
            },
            400,
        ),
        (
            AuthorizationRequestExpired {
                reason: StaleReason::SettingsChanged,
            },
            400,
        ),
        (
            NeedAdminApproval {
                provider: Microsoft,
            },
            403,
        ),
        (NotAssigned { provider: Google }, 403),
        (AppVersionNotApproved { provider: Google }, 403),
        (
            InsufficientScopes {
                provider: Microsoft,
                missing: vec!["Mail.Read".into()],
            },
            403,
        ),
        (
            UserDeclined {
                provider: Microsoft,
            },
            403,
        ),
        (
            BlockedByPolicy {
                provider: Microsoft,
            },
            403,
        ),
        (NotAllowed(Denial::ContractSuspended), 403),
        (NotAllowed(Denial::NoProvider), 403),
        (
            NotAllowed(Denial::FeatureOff {
                feature: Feature::Calendar,
            }),
            403,
        ),
        (NotAllowed(Denial::NotAuthorized { kind: Email }), 403),
        (NotAllowed(Denial::NeedsReconnect { kind: Calendar }), 403),
        (NotAllowed(Denial::ProviderMismatch { kind: Email }), 403),
        (
            NotAllowed(Denial::MissingScope {
                scope: "Mail.Send".into(),
            }),
            403,
        ),
        (NotAllowed(Denial::SendingUnavailable), 403),
        (
            ProviderMismatch {
                selected: Google,
                account: ForeignAccount::Personal,
            },
            409,
        ),
        (
            MailboxInUse {
                provider: Google,
                kind: Email,
            },
            409,
        ),
        (
            OrganizationNotAllowed {
                provider: Microsoft,
                personal: false,
            },
            409,
        ),
        (
            ProviderMismatch {
                selected: Microsoft,
                account: ForeignAccount::OutsideOrganization,
            },
            409,
        ),
        (
            NoMailboxOrCalendar {
                provider: Microsoft,
                kind: Email,
            },
            422,
        ),
        (
            HostedOnPremises {
                provider: Microsoft,
            },
            422,
        ),
        (CalendarNotHosted { provider: Google }, 422),
        (
            MailboxUnavailable {
                provider: Microsoft,
                kind: Calendar,
            },
            422,
        ),
        (
            NoMailbox {
                provider: Google,
                kind: Email,
            },
            422,
        ),
        (
            ServiceMisconfigured {
                provider: Microsoft,
                provider_code: "AADSTS7000215".into(),
            },
            500,
        ),
        (
            NetworkBlocked {
                provider: Microsoft,
            },
            502,
        ),
        (
            ProviderRejected {
                provider: Google,
                provider_code: "interaction_required".into(),
            },
            502,
        ),
        (ProviderUnavailable { provider: Google }, 503),
    ]
}

#[tokio::test]
async fn every_row_of_the_table_answers_with_its_status_and_body() {
    let rows = every_row();
    let codes: BTreeSet<&str> = rows.iter().map(|(e, _)| e.code()).collect();
    assert_eq!(codes.len(), 27, "one example of every code: {codes:?}");

    for (error, status) in rows {
        // GIVEN a use case refusing with a row of the table
        // WHEN the API answers it
        let (got, body) = answer(Failure::Refused(error.clone())).await;
        // THEN the status is the row's, and the body says what to do and who does it
        assert_eq!(got.as_u16(), status, "{error:?}");
        assert_eq!(body["code"], error.code(), "{error:?}");
        assert_eq!(body["message"], error.message(), "{error:?}");
        match error.admin_action() {
            Some(action) => {
                assert_eq!(body["admin_action"], action.as_str(), "{error:?}");
                assert_eq!(
                    keys(&body),
                    BTreeSet::from(["admin_action", "code", "message"])
                );
            }
            None => assert_eq!(
                keys(&body),
                BTreeSet::from(["code", "message"]),
                "{error:?}"
            ),
        }
    }
}

#[tokio::test]
async fn our_own_configuration_answers_500_with_a_generic_message() {
    let (status, body) = answer(Failure::Refused(ConnectError::ServiceMisconfigured {
        provider: Microsoft,
        provider_code: "AADSTS7000222".into(),
    }))
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "service_misconfigured");
    assert!(!body.to_string().contains("AADSTS"), "{body}");
}

#[tokio::test]
async fn authentication_and_missing_things_have_their_own_codes() {
    use settings_api::auth::AuthError;
    for (error, code) in [
        (AuthError::Missing, "unauthenticated"),
        (AuthError::Invalid, "invalid_token"),
        (AuthError::Expired, "token_expired"),
    ] {
        let (status, body) = answer(error).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], code);
        assert_eq!(keys(&body), BTreeSet::from(["code", "message"]));
    }

    let (status, body) = answer(Failure::NotFound("connection")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["message"], "connection not found");
}

#[derive(Debug, thiserror::Error)]
#[error("conditional write refused")]
struct Storage(#[source] std::io::Error);

#[tokio::test]
async fn an_internal_failure_answers_500_and_logs_its_whole_chain_once() {
    // GIVEN storage failing underneath a use case
    let failure = Failure::internal(
        "storage",
        Storage(std::io::Error::other("ProvisionedThroughputExceeded")),
    );
    // WHEN the API answers it
    let logs = LogCapture::start(&[]);
    let api_error = ApiError::from(failure);
    let (status, body) = answer(api_error).await;

    // THEN the caller reads a generic 500, and the log names every cause, once
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("Provisioned"), "{body}");
    let lines: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["level"] != "TRACE" && l["level"] != "DEBUG")
        .collect();
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(
        lines[0]["error"],
        "storage failed: conditional write refused: ProvisionedThroughputExceeded"
    );
}
