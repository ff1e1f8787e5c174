//! The settings API over its router, as API Gateway would call it: bearer tokens, JSON
//! bodies, finishing a sign-in, errors as `{code, message}` with the right status; against
//! the local AWS and a provider stub.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../../../shared/connect/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use common::{query, ts, Harness, NOW};
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId, UserId};
use hiresync_domain::mail::{Direction, Message, SkipRecord, Thread, Visibility};
use hiresync_domain::ports::{SkipLog, ThreadStore};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use settings_api::auth::Authenticator;
use settings_api::{router, App, ROUTES};
use tower::ServiceExt;

const KEY: [u8; 32] = [9u8; 32];

fn token(kid: &str, key: &[u8], sub: &str, seat: &str, role: &str, exp: &str) -> String {
    sign(
        kid,
        key,
        json!({"sub": sub, "contract": "acme", "seat": seat, "role": role, "aud": "hiresync", "exp": ts(exp).as_second()}),
    )
}

fn sign(kid: &str, key: &[u8], claims: Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key)).unwrap()
}

fn admin() -> String {
    token(
        "k1",
        &KEY,
        "ada",
        "seat-admin",
        "admin",
        "2026-03-02T10:00:00Z",
    )
}
fn recruiter(seat: &str) -> String {
    token(
        "k1",
        &KEY,
        &format!("user-{seat}"),
        seat,
        "recruiter",
        "2026-03-02T10:00:00Z",
    )
}

/// A private thread of `seat` in `contract` with `with`, last active on 1 February.
fn private_thread(contract: &str, seat: &str, id: &str, with: &str) -> Thread {
    Thread {
        contract_id: ContractId::parse(contract).unwrap(),
        seat_id: SeatId::parse(seat).unwrap(),
        thread_id: id.into(),
        counterpart: EmailAddress::parse(with).unwrap(),
        visibility: Visibility::Private,
        holder: Some(UserId::parse(format!("user-{seat}")).unwrap()),
        profile: None,
        started_from_product: false,
        last_activity_at: ts("2026-02-01T00:00:00Z"),
    }
}

/// A message of `thread` from its counterpart, sent `minutes` after 1 February.
fn received(thread: &Thread, id: &str, subject: &str, minutes: i64) -> Message {
    Message {
        contract_id: thread.contract_id.clone(),
        seat_id: thread.seat_id.clone(),
        thread_id: thread.thread_id.clone(),
        provider_id: id.into(),
        internet_message_id: Some(format!("<{id}@x>")),
        direction: Direction::Received,
        from: thread.counterpart.clone(),
        to: vec![
            EmailAddress::parse(format!("{}@{}.example", thread.seat_id, thread.contract_id))
                .unwrap(),
        ],
        cc: vec![],
        bcc: vec![],
        subject: subject.into(),
        sent_at: ts("2026-02-01T00:00:00Z") + jiff::SignedDuration::from_mins(minutes),
    }
}

struct Api {
    harness: Harness,
    router: axum::Router,
}

impl Api {
    async fn new(label: &str) -> Self {
        let harness = Harness::new(label).await;
        let spec = format!(
            "k1:{}",
            base64::engine::general_purpose::STANDARD.encode(KEY)
        );
        let aws = hiresync_localstack::aws_config().await;
        let mail = hiresync_store::DynamoMailStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            harness.resources.table("MailTable").unwrap(),
        );
        let zoom = harness.zoom_connections();
        let app = Arc::new(App {
            zoom: Arc::new(zoom),
            threads: Arc::new(mail.clone()),
            conversations: Arc::new(mail.clone()),
            skips: Arc::new(mail),
            connector: harness.connector.clone(),
            auth: Authenticator::from_spec(&spec).unwrap(),
            clock: Arc::new(|| ts(NOW)),
        });
        Self {
            router: router(app),
            harness,
        }
    }

    /// The mail table the API reads, for a test to fill.
    async fn mail(&self) -> hiresync_store::DynamoMailStore {
        let aws = hiresync_localstack::aws_config().await;
        hiresync_store::DynamoMailStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            self.harness.resources.table("MailTable").unwrap(),
        )
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(t) = bearer {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }
}

#[tokio::test]
async fn callers_are_authenticated_and_kept_to_their_contract_seat_and_role() {
    let api = Api::new("api-auth").await;
    let url = "/v1/contracts/acme/settings";
    let (s, b) = api.call("GET", url, None, None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let forged = token(
        "k1",
        &[1u8; 32],
        "ada",
        "seat-admin",
        "admin",
        "2026-03-02T10:00:00Z",
    );
    assert_eq!(
        api.call("GET", url, Some(&forged), None).await.1["code"],
        "invalid_token"
    );
    let unknown_kid = token(
        "k9",
        &KEY,
        "ada",
        "seat-admin",
        "admin",
        "2026-03-02T10:00:00Z",
    );
    assert_eq!(
        api.call("GET", url, Some(&unknown_kid), None).await.1["code"],
        "invalid_token"
    );
    let expired = token(
        "k1",
        &KEY,
        "ada",
        "seat-admin",
        "admin",
        "2026-03-02T09:00:00Z",
    );
    assert_eq!(
        api.call("GET", url, Some(&expired), None).await.1["code"],
        "token_expired"
    );

    assert_eq!(
        api.call("GET", url, Some(&admin()), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call("GET", "/v1/contracts/globex/settings", Some(&admin()), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, b) = api
        .call(
            "PUT",
            url,
            Some(&recruiter("s1")),
            Some(json!({"email_access": "off"})),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let other_seat = "/v1/contracts/acme/seats/s2/connections";
    assert_eq!(
        api.call("GET", other_seat, Some(&recruiter("s1")), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call("GET", other_seat, Some(&admin()), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call(
            "POST",
            "/v1/contracts/acme/seats/s2/connections/email/authorize",
            Some(&recruiter("s1")),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let api = Api::new("api-input").await;
    let url = "/v1/contracts/acme/settings";
    for body in [
        json!({"email_access": "sometimes"}),
        json!({"email": "off"}),
        json!([1, 2]),
    ] {
        let (s, b) = api
            .call("PUT", url, Some(&admin()), Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(b["code"], "bad_request");
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    let (_, settings) = api.call("GET", url, Some(&admin()), None).await;
    assert_eq!(settings["email_access"], "off");
    assert_eq!(settings["provider"], Value::Null);

    let (s, b) = api
        .call(
            "POST",
            "/v1/contracts/acme/seats/s1/connections/fax/authorize",
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (s, b) = api.call("GET", "/v1/nowhere", Some(&admin()), None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, b) = api
        .call(
            "DELETE",
            "/v1/contracts/acme/seats/s1/connections/email",
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn the_connect_path_over_http() {
    let api = Api::new("api-flow").await;
    let h = &api.harness;
    h.microsoft_tenant("rt-api", "Mail.Read User.Read", "rita@acme.example")
        .await;

    // Before a provider is chosen, authorizing is refused with the precise reason.
    let authorize = "/v1/contracts/acme/seats/s1/connections/email/authorize";
    let (s, b) = api
        .call("POST", authorize, Some(&recruiter("s1")), None)
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_provider"))
    );

    let (s, b) = api
        .call(
            "PUT",
            "/v1/contracts/acme/settings",
            Some(&admin()),
            Some(json!({"provider": "microsoft365", "email_access": "view_only"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["settings"]["provider"], "microsoft365");
    assert_eq!(
        b["effects"][0],
        json!({"effect": "start_feature", "feature": "email_view"})
    );

    let (s, b) = api
        .call(
            "POST",
            authorize,
            Some(&recruiter("s1")),
            Some(json!({"login_hint": "rita@acme.example"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let url = b["authorization_url"].as_str().unwrap();
    let q = query(url);
    let scopes: BTreeSet<&str> = q["scope"].split(' ').collect();
    assert!(!scopes.contains("Mail.Send"), "no send scope at View only");

    // The provider redirects to the front end, which finishes with the seat's own token:
    // not without one, not with a colleague's, not as another kind, and none of those uses
    // the sign-in up.
    let complete = "/v1/contracts/acme/seats/s1/connections/email/complete";
    let carried = json!({"state": q["state"], "code": "the-code"});
    let (s1, s2) = (recruiter("s1"), recruiter("s2"));
    let calendar = "/v1/contracts/acme/seats/s1/connections/calendar/complete";
    let own_route = "/v1/contracts/acme/seats/s2/connections/email/complete";
    for (path, bearer, refused, why) in [
        (complete, None, StatusCode::UNAUTHORIZED, "no token"),
        (
            own_route,
            Some(&s2),
            StatusCode::BAD_REQUEST,
            "another seat's own route",
        ),
        (
            complete,
            Some(&s2),
            StatusCode::FORBIDDEN,
            "another seat's token",
        ),
        (calendar, Some(&s1), StatusCode::BAD_REQUEST, "another kind"),
    ] {
        let (s, _) = api
            .call(
                "POST",
                path,
                bearer.map(String::as_str),
                Some(carried.clone()),
            )
            .await;
        assert_eq!(s, refused, "{why}");
    }
    let (s, b) = api
        .call(
            "POST",
            complete,
            Some(&recruiter("s1")),
            Some(json!({"state": q["state"], "cod": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = api
        .call(
            "POST",
            complete,
            Some(&recruiter("s1")),
            Some(carried.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({"contract": "acme", "seat": "s1", "kind": "email", "address": "rita@acme.example", "sync": "historical", "warnings": []})
    );
    let (s, b) = api
        .call("POST", complete, Some(&recruiter("s1")), Some(carried))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("authorization_request_expired")
        )
    );

    let connections = "/v1/contracts/acme/seats/s1/connections";
    let (_, b) = api
        .call("GET", connections, Some(&recruiter("s1")), None)
        .await;
    assert_eq!(b["connections"][0]["state"], "authorized");
    assert_eq!(b["connections"][0]["address"], "rita@acme.example");
    assert_eq!(
        b["connections"][0]["sync"],
        Value::Null,
        "no sync job has run yet"
    );
    assert_eq!(b["capabilities"]["view_email"]["allowed"], true);
    assert_eq!(b["capabilities"]["send_email"]["allowed"], false);

    let (s, _) = api
        .call(
            "DELETE",
            "/v1/contracts/acme/seats/s1/connections/email",
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, b) = api
        .call("GET", connections, Some(&recruiter("s1")), None)
        .await;
    assert_eq!(b["connections"][0]["state"], "deauthorized");
    assert_eq!(b["connections"][0]["reason"], "seat_requested");
}

#[tokio::test]
async fn a_provider_refusal_brought_back_is_the_table_row_with_its_admin_action() {
    let api = Api::new("api-refusal").await;
    api.call(
        "PUT",
        "/v1/contracts/acme/settings",
        Some(&admin()),
        Some(json!({"provider": "google_workspace", "email_access": "view_only"})),
    )
    .await;
    let (_, b) = api
        .call(
            "POST",
            "/v1/contracts/acme/seats/s1/connections/email/authorize",
            Some(&recruiter("s1")),
            None,
        )
        .await;
    let q = query(b["authorization_url"].as_str().unwrap());
    let (s, b) = api
        .call(
            "POST",
            "/v1/contracts/acme/seats/s1/connections/email/complete",
            Some(&recruiter("s1")),
            Some(json!({"state": q["state"], "error": "admin_policy_enforced"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(b["code"], "need_admin_approval");
    assert!(b["admin_action"].as_str().unwrap().len() > 10);
}

/// `(METHOD, path)` of every operation in the OpenAPI document.
fn documented() -> BTreeSet<(String, String)> {
    let path = format!(
        "{}/../../docs/openapi/settings-api.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ops = BTreeSet::new();
    for (p, item) in doc["paths"].as_mapping().unwrap() {
        for (m, _) in item.as_mapping().unwrap() {
            let m = m.as_str().unwrap();
            if ["get", "put", "post", "delete", "patch"].contains(&m) {
                ops.insert((m.to_uppercase(), p.as_str().unwrap().to_owned()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_the_router_serves() {
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented(), routes);

    // And the router really serves each (a route it lacks answers our "no such route").
    let api = Api::new("api-routes").await;
    for (m, p) in ROUTES {
        let uri = p
            .replace("{contract}", "acme")
            .replace("{seat}", "s1")
            .replace("{kind}", "email")
            .replace("{thread}", "t-1")
            .replace("{profile}", "p-1");
        let (s, b) = api.call(m, &uri, None, None).await;
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
        assert_ne!(b["message"], "no such route", "{m} {p}");
    }
}

#[tokio::test]
async fn why_did_this_not_sync_answers_from_the_recorded_decisions() {
    let api = Api::new("api-skips").await;
    let mail = api.mail().await;
    let record = |provider: &str, code: &str, at: &str| SkipRecord {
        contract: ContractId::parse("acme").unwrap(),
        seat: SeatId::parse("s1").unwrap(),
        counterpart: EmailAddress::parse("bob@else.example").unwrap(),
        provider_id: provider.into(),
        at: ts(at),
        code: code.into(),
        explanation: format!("explained {code}"),
        decided_at: ts(NOW),
    };
    let skip = record("m-1", "too_many_participants", "2026-02-01T00:00:00Z");
    mail.record(&skip, None).await.unwrap();
    let skip = record("m-2", "no_profile", "2026-02-02T00:00:00Z");
    mail.record(&skip, None).await.unwrap();

    let url = "/v1/contracts/acme/seats/s1/skips?counterpart=Bob%40Else.example";
    let (s, b) = api.call("GET", url, Some(&recruiter("s1")), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["counterpart"], "bob@else.example");
    let codes: Vec<&str> = b["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["no_profile", "too_many_participants"],
        "newest first"
    );
    let (_, b) = api
        .call(
            "GET",
            &format!("{url}&message=m-1"),
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(b["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(
        b["decisions"][0]["explanation"],
        "explained too_many_participants"
    );

    assert_eq!(
        api.call("GET", url, Some(&recruiter("s2")), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, b) = api
        .call(
            "GET",
            "/v1/contracts/acme/seats/s1/skips",
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
}

#[tokio::test]
async fn a_seat_reads_its_own_synced_threads_in_pages_and_nobody_else_does() {
    let api = Api::new("api-threads").await;
    let mail = api.mail().await;
    for (n, counterpart) in ["jane@cand.example", "omar@cand.example"]
        .iter()
        .enumerate()
    {
        let thread = private_thread("acme", "s1", &format!("t-{n}"), counterpart);
        let message = received(&thread, &format!("m-{n}"), &format!("hello {n}"), 0);
        mail.store_message(&thread, &message).await.unwrap();
    }

    let url = "/v1/contracts/acme/seats/s1/threads";
    let (s, b) = api
        .call(
            "GET",
            &format!("{url}?limit=1"),
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["threads"].as_array().unwrap().len(), 1);
    assert_eq!(b["threads"][0]["visibility"], "private");
    assert_eq!(b["threads"][0]["messages"][0]["direction"], "received");
    let next: String = b["next"]
        .as_str()
        .expect("a second page")
        .bytes()
        .map(|c| match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (c as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let (_, b2) = api
        .call(
            "GET",
            &format!("{url}?limit=1&next={next}"),
            Some(&recruiter("s1")),
            None,
        )
        .await;
    let mut seen: Vec<String> = [&b, &b2]
        .iter()
        .flat_map(|p| p["threads"].as_array().unwrap().clone())
        .map(|t| t["counterpart"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, vec!["jane@cand.example", "omar@cand.example"]);

    // A token this listing never gave out is bad input, not a failure of ours.
    let long = "T%23".to_owned() + &"x".repeat(2000);
    for forged in ["Z", "T%23t-0%23M%23m-0", long.as_str()] {
        let (s, b) = api
            .call(
                "GET",
                &format!("{url}?next={forged}"),
                Some(&recruiter("s1")),
                None,
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{forged}: {b}"
        );
    }

    // Private mail: not the admin, not another seat.
    assert_eq!(
        api.call("GET", url, Some(&admin()), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call("GET", url, Some(&recruiter("s2")), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, b) = api
        .call(
            "GET",
            &format!("{url}?limit=0"),
            Some(&recruiter("s1")),
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
}

fn token_in(contract: &str, seat: &str, role: &str) -> String {
    sign(
        "k1",
        &KEY,
        json!({"sub": format!("user-{contract}-{seat}"), "contract": contract, "seat": seat, "role": role, "aud": "hiresync", "exp": ts("2026-03-02T10:00:00Z").as_second()}),
    )
}

#[tokio::test]
async fn two_contracts_with_the_same_seat_id_never_reach_each_other() {
    let api = Api::new("api-tenants").await;
    let mail = api.mail().await;
    // GIVEN seat "rec-1" in acme and in globex, each with mail from the same candidate in
    // a thread of the same id, and a decision not to sync another message of hers
    for c in ["acme", "globex"] {
        let thread = Thread {
            holder: Some(UserId::parse(format!("user-{c}-rec-1")).unwrap()),
            ..private_thread(c, "rec-1", "t-1", "jane@cand.example")
        };
        let message = received(
            &thread,
            &format!("m-{c}"),
            &format!("secret subject of {c}"),
            0,
        );
        mail.store_message(&thread, &message).await.unwrap();
        let skip = SkipRecord {
            contract: thread.contract_id.clone(),
            seat: thread.seat_id.clone(),
            counterpart: thread.counterpart.clone(),
            provider_id: format!("skipped-{c}"),
            at: ts("2026-02-02T00:00:00Z"),
            code: "not_in_pipeline".into(),
            explanation: "explained".into(),
            decided_at: ts(NOW),
        };
        mail.record(&skip, None).await.unwrap();
    }
    let status = |(s, _): (StatusCode, Value)| s;

    // THEN each seat reads its own contract's mail and decisions only
    for c in ["acme", "globex"] {
        let own = token_in(c, "rec-1", "recruiter");
        let (s, b) = api
            .call(
                "GET",
                &format!("/v1/contracts/{c}/seats/rec-1/threads"),
                Some(&own),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let ids: Vec<&str> = b["threads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["messages"].as_array().unwrap())
            .map(|m| m["provider_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![format!("m-{c}")]);
        let (s, b) = api
            .call(
                "GET",
                &format!("/v1/contracts/{c}/seats/rec-1/skips?counterpart=jane%40cand.example"),
                Some(&own),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["decisions"].as_array().unwrap().len(), 1);
        assert_eq!(b["decisions"][0]["message"], format!("skipped-{c}"));
    }

    // AND globex's recruiter and admin, holding the same seat id, reach nothing of acme's
    for caller in [
        token_in("globex", "rec-1", "recruiter"),
        token_in("globex", "rec-1", "admin"),
    ] {
        for (method, path, body) in [
            ("GET", "/v1/contracts/acme/settings", None),
            (
                "PUT",
                "/v1/contracts/acme/settings",
                Some(json!({"email_access": "off"})),
            ),
            ("GET", "/v1/contracts/acme/seats/rec-1/connections", None),
            (
                "POST",
                "/v1/contracts/acme/seats/rec-1/connections/email/authorize",
                Some(json!({})),
            ),
            (
                "DELETE",
                "/v1/contracts/acme/seats/rec-1/connections/email",
                None,
            ),
            ("GET", "/v1/contracts/acme/seats/rec-1/threads", None),
            (
                "GET",
                "/v1/contracts/acme/seats/rec-1/skips?counterpart=jane%40cand.example",
                None,
            ),
            ("GET", "/v1/contracts/acme/seats/rec-1/skips/summary", None),
            (
                "POST",
                "/v1/contracts/acme/seats/rec-1/connections/email/sign-in-unreachable",
                None,
            ),
            (
                "POST",
                "/v1/contracts/acme/seats/rec-1/connections/email/complete",
                Some(json!({"state": "x.y", "code": "c"})),
            ),
            (
                "PUT",
                "/v1/contracts/acme/organizations",
                Some(json!({"organizations": ["globex.example"]})),
            ),
            (
                "PUT",
                "/v1/contracts/acme/seats/rec-1/threads/t-1/visibility",
                Some(json!({"visibility": "organization"})),
            ),
            (
                "GET",
                "/v1/contracts/acme/candidates/p-jane/conversations",
                None,
            ),
        ] {
            assert_eq!(
                status(api.call(method, path, Some(&caller), body).await),
                StatusCode::FORBIDDEN,
                "{method} {path}"
            );
        }
    }

    // AND acme's admin sees how many of rec-1's messages were skipped, by rule, but
    // neither rec-1's mail nor whom rec-1 corresponds with
    let admin = token_in("acme", "boss", "admin");
    let (s, b) = api
        .call(
            "GET",
            "/v1/contracts/acme/seats/rec-1/skips/summary",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({"seat": "rec-1", "total": 1, "by_code": {"not_in_pipeline": 1}})
    );
    for path in [
        "/v1/contracts/acme/seats/rec-1/threads",
        "/v1/contracts/acme/seats/rec-1/skips?counterpart=jane%40cand.example",
    ] {
        assert_eq!(
            status(api.call("GET", path, Some(&admin), None).await),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // AND another recruiter of acme sees not even the counts
    assert_eq!(
        status(
            api.call(
                "GET",
                "/v1/contracts/acme/seats/rec-1/skips/summary",
                Some(&token_in("acme", "rec-2", "recruiter")),
                None
            )
            .await
        ),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_sign_in_page_the_browser_cannot_reach_is_answered_with_its_row() {
    let api = Api::new("api-unreachable").await;
    let url = "/v1/contracts/acme/seats/s1/connections/email/sign-in-unreachable";
    // Before a provider is chosen: the contract's own row.
    let (s, b) = api.call("POST", url, Some(&recruiter("s1")), None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_provider")),
        "{b}"
    );
    let (s, b) = api
        .call(
            "PUT",
            "/v1/contracts/acme/settings",
            Some(&admin()),
            Some(json!({"provider": "microsoft365", "email_access": "view_only"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // THEN the network row, naming Microsoft, with what the admin can do
    let (s, b) = api.call("POST", url, Some(&recruiter("s1")), None).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{b}");
    assert_eq!(b["code"], "oauth_network_blocked");
    assert!(b["message"].as_str().unwrap().contains("Microsoft"), "{b}");
    assert!(
        b["admin_action"].as_str().is_some_and(|a| !a.is_empty()),
        "{b}"
    );
    // AND only the seat itself reports for its connection
    for other in [recruiter("s2"), admin()] {
        assert_eq!(
            api.call("POST", url, Some(&other), None).await.0,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn a_page_of_threads_stays_under_lambdas_response_limit() {
    let api = Api::new("api-big-page").await;
    let mail = api.mail().await;
    // GIVEN two threads of long subjects (200 KB each): 3 MB in the first, 6 MB in the
    // second, more than one answer may carry
    let subject = "s".repeat(200 * 1024);
    for (thread_id, count) in [("t-a", 15), ("t-b", 30)] {
        let thread = private_thread("acme", "s1", thread_id, "jane@cand.example");
        for n in 0..count {
            let message = received(&thread, &format!("{thread_id}-m{n:02}"), &subject, n);
            mail.store_message(&thread, &message).await.unwrap();
        }
    }
    let page = |next: Option<String>| {
        let url = match next {
            Some(n) => format!(
                "/v1/contracts/acme/seats/s1/threads?next={}",
                n.replace('#', "%23")
            ),
            None => "/v1/contracts/acme/seats/s1/threads".to_owned(),
        };
        let api = &api;
        async move {
            let request = Request::builder()
                .method("GET")
                .uri(url)
                .header("authorization", format!("Bearer {}", recruiter("s1")))
                .body(Body::empty())
                .unwrap();
            let response = api.router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            assert!(
                bytes.len() <= settings_api::PAGE_BUDGET_BYTES,
                "{} bytes",
                bytes.len()
            );
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };

    // THEN the first page ends after the first thread, whole
    let first = page(None).await;
    let threads = first["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["thread_id"], "t-a");
    assert_eq!(threads[0]["messages"].as_array().unwrap().len(), 15);
    assert_eq!(threads[0]["messages_truncated"], false);
    // AND the next page holds the second thread's newest messages that fit, marked so
    let second = page(first["next"].as_str().map(str::to_owned)).await;
    let threads = second["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["thread_id"], "t-b");
    assert_eq!(threads[0]["messages_truncated"], true);
    let kept = threads[0]["messages"].as_array().unwrap();
    assert!(kept.len() < 30 && kept.len() >= 20, "{}", kept.len());
    assert_eq!(kept.last().unwrap()["provider_id"], "t-b-m29", "the newest");
    assert!(second["next"].is_null(), "nothing after it");
}

#[tokio::test]
async fn an_admin_pins_the_contract_to_its_organizations_and_a_personal_account_is_warned_about() {
    let api = Api::new("api-organizations").await;
    api.call(
        "PUT",
        "/v1/contracts/acme/settings",
        Some(&admin()),
        Some(json!({"provider": "google_workspace", "email_access": "view_only"})),
    )
    .await;
    // A personal Gmail account connects, with a warning the product can show. (The token
    // answer mounted first is the one given.)
    api.harness
        .mount(
            "POST",
            "/google/token",
            wiremock::ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599,
                "scope": "openid https://www.googleapis.com/auth/gmail.readonly",
                "access_token": "google-access-token-1",
                "refresh_token": "refresh-token-personal-value",
                "id_token": common::id_token(&json!({"email": "me@gmail.com"}))
            })),
        )
        .await;
    api.harness
        .google_account(
            "refresh-token-personal-value",
            "openid https://www.googleapis.com/auth/gmail.readonly",
            "me@gmail.com",
        )
        .await;
    let api = &api;
    let complete = |seat: &'static str| async move {
        let (_, b) = api
            .call(
                "POST",
                &format!("/v1/contracts/acme/seats/{seat}/connections/email/authorize"),
                Some(&recruiter(seat)),
                None,
            )
            .await;
        let q = query(b["authorization_url"].as_str().unwrap());
        api.call(
            "POST",
            &format!("/v1/contracts/acme/seats/{seat}/connections/email/complete"),
            Some(&recruiter(seat)),
            Some(json!({"state": q["state"], "code": "c"})),
        )
        .await
    };
    let (s, b) = complete("s1").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["warnings"][0]["code"], "personal_account");
    let (_, b) = api
        .call(
            "GET",
            "/v1/contracts/acme/seats/s1/connections",
            Some(&admin()),
            None,
        )
        .await;
    assert_eq!(b["connections"][0]["organization"], Value::Null);

    // Only an admin pins; nonsense is refused whole.
    let organizations = "/v1/contracts/acme/organizations";
    let (s, _) = api
        .call(
            "PUT",
            organizations,
            Some(&recruiter("s1")),
            Some(json!({"organizations": ["acme.example"]})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in [
        json!({"organizations": ["not an org"]}),
        json!({"orgs": []}),
        json!({"organizations": "acme.example"}),
    ] {
        let (s, b) = api
            .call("PUT", organizations, Some(&admin()), Some(bad))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    }
    let (s, b) = api
        .call(
            "PUT",
            organizations,
            Some(&admin()),
            Some(json!({"organizations": ["acme.example"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["settings"]["organizations"], json!(["acme.example"]));
    assert_eq!(b["effects"], json!([{"effect": "enforce_organizations"}]));

    // The personal account may no longer connect: its row, with what the admin can do.
    let (s, b) = complete("s2").await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], "organization_not_allowed");
    assert!(b["admin_action"]
        .as_str()
        .unwrap()
        .contains("remove the list"));
}

/// The `thread_id`s of the list under `key` in what GET `path` answers `bearer`, sorted.
async fn thread_ids(api: &Api, path: &str, bearer: &str, key: &str) -> Vec<String> {
    let (s, b) = api.call("GET", path, Some(bearer), None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {b}");
    let mut ids: Vec<String> = b[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thread_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// A thread of acme's `seat`, synced for `holder`, matched to the profile `p-jane`.
async fn jane_thread(mail: &hiresync_store::DynamoMailStore, seat: &str, holder: &str, id: &str) {
    let thread = Thread {
        holder: Some(UserId::parse(holder).unwrap()),
        profile: Some(hiresync_domain::ids::ProfileId::parse("p-jane").unwrap()),
        ..private_thread("acme", seat, id, "jane@cand.example")
    };
    let message = received(&thread, &format!("m-{id}"), "Interview", 0);
    mail.store_message(&thread, &message).await.unwrap();
}

#[tokio::test]
async fn a_thread_is_its_holders_until_shared_even_after_the_seat_changes_hands() {
    let api = Api::new("api-visibility").await;
    let mail = api.mail().await;
    // GIVEN s1 (held by user-s1) with two threads with jane, s2 with one, s3 with none
    jane_thread(&mail, "s1", "user-s1", "t-a").await;
    jane_thread(&mail, "s1", "user-s1", "t-b").await;
    jane_thread(&mail, "s2", "user-s2", "t-c").await;
    let conversations = |bearer: String| {
        let api = &api;
        async move {
            let path = "/v1/contracts/acme/candidates/p-jane/conversations";
            thread_ids(api, path, &bearer, "conversations").await
        }
    };
    let listed = |bearer: String| {
        let api = &api;
        async move {
            thread_ids(
                api,
                "/v1/contracts/acme/seats/s1/threads",
                &bearer,
                "threads",
            )
            .await
        }
    };
    let successor = || {
        token(
            "k1",
            &KEY,
            "user-next",
            "s1",
            "recruiter",
            "2026-03-02T10:00:00Z",
        )
    };
    let visibility =
        |path_seat: &'static str, thread: &'static str, bearer: String, to: &'static str| {
            let api = &api;
            async move {
                api.call(
                    "PUT",
                    &format!("/v1/contracts/acme/seats/{path_seat}/threads/{thread}/visibility"),
                    Some(&bearer),
                    Some(json!({"visibility": to})),
                )
                .await
            }
        };

    // THEN each sees only their own: private by default
    assert_eq!(conversations(recruiter("s1")).await, vec!["t-a", "t-b"]);
    assert_eq!(conversations(recruiter("s2")).await, vec!["t-c"]);
    assert!(conversations(recruiter("s3")).await.is_empty());
    assert!(conversations(admin()).await.is_empty());

    // WHEN someone other than the owner tries to share t-b: refused, nothing changes
    let (s, _) = visibility("s1", "t-b", recruiter("s2"), "organization").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another seat");
    let (s, _) = visibility("s1", "t-b", admin(), "organization").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an admin");
    let (s, b) = visibility("s1", "t-b", successor(), "organization").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the seat's next holder does not see it: {b}"
    );
    let (s, b) = visibility("s1", "no-such", recruiter("s1"), "organization").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = visibility("s1", "t-b", recruiter("s1"), "everyone").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(conversations(recruiter("s3")).await.is_empty());

    // WHEN its owner shares t-b
    let (s, b) = visibility("s1", "t-b", recruiter("s1"), "organization").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"thread_id": "t-b", "visibility": "organization"}));
    // THEN every seat of the contract sees it, and still only its own private ones
    assert_eq!(conversations(recruiter("s2")).await, vec!["t-b", "t-c"]);
    assert_eq!(conversations(recruiter("s3")).await, vec!["t-b"]);
    // but nobody else can take it back
    let (s, _) = visibility("s1", "t-b", recruiter("s2"), "private").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // WHEN the seat s1 changes hands: the new holder sees the shared thread, never the
    // former holder's private one, whether listing the seat or the candidate
    assert_eq!(conversations(successor()).await, vec!["t-b"]);
    assert_eq!(listed(successor()).await, vec!["t-b"]);
    assert_eq!(listed(recruiter("s1")).await, vec!["t-a", "t-b"]);
    let (s, _) = visibility("s1", "t-b", successor(), "private").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "shared, but not theirs");

    // AND the owner makes it private again: gone from everyone else's view
    let (s, _) = visibility("s1", "t-b", recruiter("s1"), "private").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(conversations(recruiter("s3")).await, Vec::<String>::new());
    assert!(listed(successor()).await.is_empty());
}

#[tokio::test]
async fn an_admin_connects_shows_and_disconnects_the_contracts_zoom_account() {
    let api = Api::new("api-zoom").await;
    api.harness
        .zoom_answers("acme-zoom-account", "ada@acme.example")
        .await;
    let zoom = "/v1/contracts/acme/zoom";
    let authorize = "/v1/contracts/acme/zoom/authorize";
    let complete = "/v1/contracts/acme/zoom/complete";

    // A contract not yet set up cannot connect Zoom.
    let (s, b) = api.call("POST", authorize, Some(&admin()), None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("contract_inactive")),
        "{b}"
    );
    let (s, b) = api
        .call(
            "PUT",
            "/v1/contracts/acme/settings",
            Some(&admin()),
            Some(json!({"provider": "microsoft365", "calendar_enabled": true, "video_meetings": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Only an admin of the contract touches its Zoom connection.
    let other_admin = token_in("globex", "seat-admin", "admin");
    for (verb, path) in [("GET", zoom), ("DELETE", zoom), ("POST", authorize)] {
        let (s, _) = api.call(verb, path, Some(&recruiter("s1")), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a recruiter on {verb} {path}");
        let (s, _) = api.call(verb, path, Some(&other_admin), None).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "another contract's admin on {verb} {path}"
        );
        let (s, _) = api.call(verb, path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "no token on {verb} {path}");
    }
    let (s, b) = api.call("GET", zoom, Some(&admin()), None).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"state": "not_connected"})));

    // The consent URL carries our client, redirect, state and an S256 challenge.
    let (s, b) = api.call("POST", authorize, Some(&admin()), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let url = b["authorization_url"].as_str().unwrap();
    assert!(url.starts_with(&format!(
        "{}/zoom-oauth/authorize?",
        api.harness.server.uri()
    )));
    let q = query(url);
    assert_eq!(q["client_id"], "zoom-client");
    assert_eq!(q["redirect_uri"], "https://app.example/zoom/callback");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(b["expires_at"].as_str().unwrap() > NOW);

    // Zoom's redirect, passed on: not by a recruiter, not with a stray field, and neither
    // uses the sign-in up.
    let carried = json!({"state": q["state"], "code": "zoom-code"});
    let (s, _) = api
        .call(
            "POST",
            complete,
            Some(&recruiter("s1")),
            Some(carried.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = api
        .call(
            "POST",
            complete,
            Some(&admin()),
            Some(json!({"state": q["state"], "cod": "zoom-code"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = api
        .call("POST", complete, Some(&admin()), Some(carried.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let connected = json!({
        "state": "connected",
        "account_id": "acme-zoom-account",
        "authorized_as": "ada@acme.example",
        "connected_by": "ada",
        "connected_at": NOW,
        "refused_at": null,
    });
    assert_eq!(b, connected);
    let (s, b) = api
        .call("POST", complete, Some(&admin()), Some(carried))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("zoom_sign_in_expired")),
        "a sign-in is single-use"
    );

    // What the admin sees never holds a token.
    let (s, b) = api.call("GET", zoom, Some(&admin()), None).await;
    assert_eq!((s, &b), (StatusCode::OK, &connected));
    assert!(!b.to_string().contains("zoom-access-1") && !b.to_string().contains("zoom-refresh-1"));

    // Disconnecting gives the grant back to Zoom; doing it again is no error.
    let (s, _) = api.call("DELETE", zoom, Some(&admin()), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let revoked = api
        .harness
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/zoom-oauth/revoke")
        .count();
    assert_eq!(revoked, 1);
    let (s, _) = api.call("DELETE", zoom, Some(&admin()), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, b) = api.call("GET", zoom, Some(&admin()), None).await;
    assert_eq!(b, json!({"state": "not_connected"}));
}

#[tokio::test]
async fn a_declined_zoom_consent_is_its_own_error_and_connects_nothing() {
    let api = Api::new("api-zoom-declined").await;
    let (s, b) = api
        .call(
            "PUT",
            "/v1/contracts/acme/settings",
            Some(&admin()),
            Some(json!({"provider": "google_workspace", "calendar_enabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, b) = api
        .call(
            "POST",
            "/v1/contracts/acme/zoom/authorize",
            Some(&admin()),
            None,
        )
        .await;
    let q = query(b["authorization_url"].as_str().unwrap());
    let (s, b) = api
        .call(
            "POST",
            "/v1/contracts/acme/zoom/complete",
            Some(&admin()),
            Some(json!({"state": q["state"], "error": "access_denied", "error_description": "<script>x</script>"})),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("zoom_consent_declined")),
        "{b}"
    );
    assert!(!b.to_string().contains("<script>"));
    let (_, b) = api
        .call("GET", "/v1/contracts/acme/zoom", Some(&admin()), None)
        .await;
    assert_eq!(b, json!({"state": "not_connected"}));
}
