//! What operating hiresync needs from template.yaml, checked on the file itself: nothing
//! fails unseen, nothing grows without bound, nothing precious is deleted with the stack.
//! Each rule names what breaks it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use hiresync_localstack::repository_template_path;
use serde_norway::{Mapping, Value};

fn template() -> Value {
    let text = std::fs::read_to_string(repository_template_path()).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn resources(doc: &Value) -> &Mapping {
    doc.get("Resources").and_then(Value::as_mapping).unwrap()
}

fn of_type<'a>(doc: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(doc)
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap(), r))
        .collect()
}

/// Every logical id a value refers to (`!Ref X`, `!GetAtt X.Attr`), anywhere inside it.
fn references(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Tagged(t) if t.tag == "Ref" || t.tag == "GetAtt" => {
                if let Some(s) = t.value.as_str() {
                    found.insert(s.split('.').next().unwrap_or_default().to_owned());
                }
            }
            Value::Tagged(t) => stack.push(&t.value),
            Value::Mapping(m) => stack.extend(m.values()),
            Value::Sequence(s) => stack.extend(s.iter()),
            _ => {}
        }
    }
    found
}

fn props(resource: &Value) -> &Value {
    resource.get("Properties").unwrap()
}

fn actions(statement: &Value) -> Vec<&str> {
    match statement.get("Action") {
        Some(Value::Sequence(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(a)) => vec![a.as_str()],
        _ => vec![],
    }
}

/// The statements of the role a function runs as (its own, `Role: !GetAtt <Role>.Arn`).
fn role_statements<'a>(doc: &'a Value, function: &str, f: &Value) -> Vec<&'a Value> {
    let role = references(
        props(f)
            .get("Role")
            .unwrap_or_else(|| panic!("{function} has no role of its own")),
    );
    let role = role.iter().next().unwrap();
    props(&doc["Resources"][role.as_str()])
        .get("Policies")
        .and_then(Value::as_sequence)
        .unwrap()
        .iter()
        .filter_map(|p| p.get("PolicyDocument").and_then(|d| d.get("Statement")))
        .filter_map(Value::as_sequence)
        .flatten()
        .collect()
}

/// The queues some queue, schedule or target sends what failed to.
fn dead_letter_queues(doc: &Value) -> BTreeSet<String> {
    let mut dlqs = BTreeSet::new();
    for (_, q) in of_type(doc, "AWS::SQS::Queue") {
        if let Some(redrive) = q.get("Properties").and_then(|p| p.get("RedrivePolicy")) {
            dlqs.extend(references(redrive));
        }
    }
    for (_, rule) in of_type(doc, "AWS::Events::Rule") {
        for target in props(rule)
            .get("Targets")
            .and_then(Value::as_sequence)
            .unwrap()
        {
            if let Some(dlc) = target.get("DeadLetterConfig") {
                dlqs.extend(references(dlc));
            }
        }
    }
    for (_, f) in of_type(doc, "AWS::Serverless::Function") {
        if let Some(events) = props(f).get("Events").and_then(Value::as_mapping) {
            for e in events.values() {
                if let Some(dlc) = e.get("Properties").and_then(|p| p.get("DeadLetterConfig")) {
                    assert!(
                        dlc.get("Arn").is_some(),
                        "a dead-letter queue SAM creates on its own has no alarm: name one"
                    );
                    dlqs.extend(references(dlc));
                }
            }
        }
    }
    dlqs
}

/// For each alarm: the metric and the resources its dimensions name.
fn alarms(doc: &Value) -> Vec<(String, BTreeSet<String>)> {
    of_type(doc, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| {
            let p = props(a);
            assert!(
                references(p.get("AlarmActions").unwrap()).contains("AlarmTopic"),
                "every alarm tells the alarm topic"
            );
            (
                p.get("MetricName")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned(),
                references(p.get("Dimensions").unwrap()),
            )
        })
        .collect()
}

fn alarmed(doc: &Value, metric: &str, id: &str) -> bool {
    alarms(doc)
        .iter()
        .any(|(m, dims)| m == metric && dims.contains(id))
}

#[test]
fn every_dead_letter_queue_has_an_alarm_on_its_depth() {
    let doc = template();
    let dlqs = dead_letter_queues(&doc);
    assert!(dlqs.len() >= 9, "{dlqs:?}");
    for q in &dlqs {
        assert!(
            alarmed(&doc, "ApproximateNumberOfMessagesVisible", q),
            "{q} has no alarm on its depth"
        );
    }
    assert!(alarmed(
        &doc,
        "ApproximateAgeOfOldestMessage",
        "SyncJobsQueue"
    ));
    assert!(alarmed(&doc, "5xx", "HttpApi"));
}

#[test]
fn every_function_has_its_log_group_with_a_retention_and_alarms_on_errors_and_throttles() {
    let doc = template();
    let functions = of_type(&doc, "AWS::Serverless::Function");
    assert!(functions.len() >= 8);
    for (id, f) in functions {
        let group = props(f)
            .get("LoggingConfig")
            .and_then(|l| l.get("LogGroup"))
            .map(references)
            .and_then(|r| r.into_iter().next())
            .unwrap_or_else(|| panic!("{id} has no log group of its own"));
        let resource = resources(&doc).get(group.as_str()).unwrap();
        assert_eq!(
            resource.get("Type").and_then(Value::as_str),
            Some("AWS::Logs::LogGroup")
        );
        assert!(
            references(props(resource).get("RetentionInDays").unwrap())
                .contains("LogRetentionDays"),
            "{id}'s logs expire after LogRetentionDays"
        );
        for metric in ["Errors", "Throttles"] {
            assert!(alarmed(&doc, metric, id), "{id} has no {metric} alarm");
        }
    }
}

#[test]
fn tables_and_the_token_key_outlive_the_stack() {
    let doc = template();
    let mut precious = of_type(&doc, "AWS::DynamoDB::Table");
    assert!(precious.len() >= 4);
    for (id, t) in &precious {
        assert_eq!(
            props(t).get("DeletionProtectionEnabled"),
            Some(&Value::Bool(true)),
            "{id} is protected from deletion"
        );
    }
    precious.extend(of_type(&doc, "AWS::KMS::Key"));
    for (id, r) in precious {
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            assert_eq!(
                r.get(policy).and_then(Value::as_str),
                Some("Retain"),
                "{id} {policy}"
            );
        }
    }
}

#[test]
fn every_queue_source_has_a_concurrency_limit_and_lost_promises_keep_14_days() {
    let doc = template();
    let mut sources = 0;
    for (id, f) in of_type(&doc, "AWS::Serverless::Function") {
        let Some(events) = props(f).get("Events").and_then(Value::as_mapping) else {
            continue;
        };
        for (name, e) in events {
            if e.get("Type").and_then(Value::as_str) != Some("SQS") {
                continue;
            }
            sources += 1;
            let limit = e
                .get("Properties")
                .and_then(|p| p.get("ScalingConfig"))
                .and_then(|s| s.get("MaximumConcurrency"))
                .and_then(Value::as_u64);
            assert!(
                limit.is_some_and(|n| n >= 2),
                "{id}'s {name:?} source has no concurrency limit (at least 2)"
            );
        }
    }
    assert!(sources >= 4);
    for q in [
        "PurgeQueue",
        "NotificationsQueue",
        "BookingsQueue",
        "DeauthorizationsQueue",
    ] {
        let queue = resources(&doc).get(q).unwrap();
        assert_eq!(
            props(queue)
                .get("MessageRetentionPeriod")
                .and_then(Value::as_u64),
            Some(1_209_600),
            "{q} keeps its messages 14 days"
        );
    }
}

#[test]
fn every_product_event_rule_matches_its_source_and_keeps_what_it_cannot_deliver() {
    let doc = template();
    let rules = of_type(&doc, "AWS::Events::Rule");
    assert!(rules.len() >= 4);
    for (id, rule) in rules {
        let pattern = props(rule).get("EventPattern").unwrap();
        assert!(
            pattern
                .get("source")
                .is_some_and(|s| references(s).contains("ProductEventSource")),
            "{id} matches the product's source, not only a detail-type anyone may send"
        );
        assert!(pattern.get("detail-type").is_some(), "{id} detail-type");
        for target in props(rule)
            .get("Targets")
            .and_then(Value::as_sequence)
            .unwrap()
        {
            assert!(
                target.get("DeadLetterConfig").is_some(),
                "{id}: an event the bus cannot deliver is kept"
            );
            assert!(target.get("RetryPolicy").is_some(), "{id} retries");
        }
    }
}

#[test]
fn the_token_key_serves_functions_only_to_seal_and_open_connection_and_zoom_tokens() {
    let doc = template();
    let (mut grants, mut zoom) = (0, BTreeSet::new());
    for (id, f) in of_type(&doc, "AWS::Serverless::Function") {
        for statement in role_statements(&doc, id, f) {
            let actions = actions(statement);
            if !actions.iter().any(|a| a.starts_with("kms:")) {
                continue;
            }
            grants += 1;
            let condition = statement
                .get("Condition")
                .unwrap_or_else(|| panic!("{id}'s KMS grant has no condition"));
            let keys = condition
                .get("ForAllValues:StringEquals")
                .and_then(|c| c.get("kms:EncryptionContextKeys"))
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| panic!("{id}'s KMS grant has no encryption-context condition"));
            let keys: BTreeSet<&str> = keys.iter().filter_map(Value::as_str).collect();
            if keys == BTreeSet::from(["contract", "seat", "kind"]) {
                // A seat's connection tokens.
                assert!(
                    condition.get("Null").is_some(),
                    "{id}: a request without any context does not pass either"
                );
                continue;
            }
            // The contract's Zoom tokens: that context, and Zoom's alone (a request
            // without the `integration` key fails the StringEquals).
            assert_eq!(
                keys,
                BTreeSet::from(["contract", "integration", "token"]),
                "{id}"
            );
            assert_eq!(
                condition
                    .get("StringEquals")
                    .and_then(|c| c.get("kms:EncryptionContext:integration"))
                    .and_then(Value::as_str),
                Some("zoom"),
                "{id}"
            );
            zoom.insert(id.to_owned());
        }
    }
    assert!(grants >= 4);
    assert_eq!(
        zoom,
        BTreeSet::from([
            "BookingConfirmationFunction".to_owned(),
            "ContractPurgeFunction".to_owned(),
            "SettingsApiFunction".to_owned()
        ]),
        "only the functions that connect Zoom, make its meetings or give its grant back open its tokens"
    );
}

/// The template's parameters given with `NoEcho`: secrets the deployer hands over.
fn secret_parameters(doc: &Value) -> BTreeSet<String> {
    doc.get("Parameters")
        .and_then(Value::as_mapping)
        .unwrap()
        .iter()
        .filter(|(_, p)| p.get("NoEcho").and_then(Value::as_bool) == Some(true))
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn no_secret_reaches_an_environment_and_each_function_reads_only_its_own() {
    let doc = template();
    let secrets: BTreeSet<String> = of_type(&doc, "AWS::SecretsManager::Secret")
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect();
    let hidden = secret_parameters(&doc);
    assert!(!hidden.is_empty() && secrets.len() >= 4);

    // A parameter given in secret is used only as the first value of a secret.
    for (id, resource) in resources(&doc) {
        let id = id.as_str().unwrap();
        let used: BTreeSet<String> = references(resource)
            .intersection(&hidden)
            .cloned()
            .collect();
        if secrets.contains(id) {
            continue;
        }
        assert!(
            used.is_empty(),
            "{id} uses the secret parameter(s) {used:?}"
        );
    }
    let globals = doc["Globals"]["Function"]["Environment"].clone();
    assert!(
        references(&globals).is_disjoint(&secrets) && references(&globals).is_disjoint(&hidden),
        "the global environment names a secret"
    );

    let mut readers = 0;
    for (id, f) in of_type(&doc, "AWS::Serverless::Function") {
        let vars = props(f)
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        // Every variable that refers to a secret names it by ARN (`<NAME>_ARN`), and only
        // variables so named do.
        let mut named = BTreeSet::new();
        for (name, value) in &vars {
            let name = name.as_str().unwrap();
            let refers: BTreeSet<String> =
                references(value).intersection(&secrets).cloned().collect();
            assert!(
                references(value).is_disjoint(&hidden),
                "{id}: {name} carries a secret parameter's value"
            );
            if name.ends_with("_ARN") {
                assert_eq!(refers.len(), 1, "{id}: {name} names one secret by !Ref");
            } else {
                assert!(refers.is_empty(), "{id}: {name} refers to {refers:?}");
            }
            named.extend(refers);
        }
        // It may read exactly the secrets it names, and no other.
        let mut granted = BTreeSet::new();
        for statement in role_statements(&doc, id, f) {
            let reads = actions(statement);
            if reads.iter().any(|a| a.starts_with("secretsmanager:")) {
                assert_eq!(
                    reads,
                    ["secretsmanager:GetSecretValue"],
                    "{id} only reads secrets"
                );
                granted.extend(references(statement.get("Resource").unwrap()));
            }
        }
        assert_eq!(granted, named, "{id} may read exactly the secrets it names");
        readers += usize::from(!named.is_empty());
    }
    assert!(
        readers >= 4,
        "the functions that call providers read their secrets"
    );
}

#[test]
fn schedules_retry_keep_what_they_cannot_deliver_and_never_overlap_a_run() {
    let doc = template();
    let mut scheduled = 0;
    for (id, f) in of_type(&doc, "AWS::Serverless::Function") {
        let Some(events) = props(f).get("Events").and_then(Value::as_mapping) else {
            continue;
        };
        for (name, e) in events {
            let kind = e.get("Type").and_then(Value::as_str).unwrap();
            assert_ne!(
                kind, "Schedule",
                "{id}: schedules are EventBridge Scheduler's (ScheduleV2)"
            );
            if kind != "ScheduleV2" {
                continue;
            }
            scheduled += 1;
            let p = e.get("Properties").unwrap();
            let retry = p
                .get("RetryPolicy")
                .unwrap_or_else(|| panic!("{id}.{name:?} retries"));
            assert!(
                retry.get("MaximumRetryAttempts").is_some()
                    && retry.get("MaximumEventAgeInSeconds").is_some(),
                "{id}: a bounded retry"
            );
            assert!(
                p.get("DeadLetterConfig")
                    .and_then(|d| d.get("Arn"))
                    .is_some(),
                "{id}: an undelivered run goes to a named dead-letter queue"
            );
            // One run at a time, and no retry of a run by Lambda: the next run continues.
            assert_eq!(
                props(f)
                    .get("ReservedConcurrentExecutions")
                    .and_then(Value::as_u64),
                Some(1),
                "{id} never overlaps itself"
            );
            assert_eq!(
                props(f)
                    .get("EventInvokeConfig")
                    .and_then(|c| c.get("MaximumRetryAttempts"))
                    .and_then(Value::as_u64),
                Some(0),
                "{id} is not retried by Lambda on top of its schedule"
            );
        }
    }
    assert_eq!(scheduled, 2, "the renewal run and the retention sweep");
}

#[test]
fn every_function_runs_as_its_own_role_granting_named_actions_on_named_resources() {
    let doc = template();
    let mut roles = BTreeSet::new();
    for (id, f) in of_type(&doc, "AWS::Serverless::Function") {
        assert!(
            props(f).get("Policies").is_none(),
            "{id}: SAM's policies would come with its managed ones (any queue, any log group)"
        );
        let role = references(
            props(f)
                .get("Role")
                .unwrap_or_else(|| panic!("{id} has no role of its own")),
        );
        assert!(roles.insert(role.clone()), "{id} shares its role");
        for statement in role_statements(&doc, id, f) {
            let acts = actions(statement);
            assert!(!acts.is_empty(), "{id}: a statement names its actions");
            for a in &acts {
                assert!(!a.contains('*'), "{id}: {a} is a wildcard action");
                assert_ne!(
                    *a, "dynamodb:Scan",
                    "{id}: a Scan reads every contract's items"
                );
            }
            let resource = statement.get("Resource").unwrap();
            if resource.as_str() == Some("*") {
                assert!(
                    acts.iter().all(|a| a.starts_with("xray:")),
                    "{id}: only traces go to any resource, not {acts:?}"
                );
            }
            // Table items only under the partition-key prefixes the function works in.
            let on_table = references(resource).iter().any(|r| r.ends_with("Table"));
            let on_index = serde_norway::to_string(resource)
                .unwrap()
                .contains("/index/");
            if on_table && !on_index && acts.iter().any(|a| a.starts_with("dynamodb:")) {
                assert!(
                    statement
                        .get("Condition")
                        .and_then(|c| c.get("ForAllValues:StringLike"))
                        .and_then(|c| c.get("dynamodb:LeadingKeys"))
                        .is_some(),
                    "{id}: {acts:?} on a table without dynamodb:LeadingKeys"
                );
            }
        }
    }
    assert_eq!(roles.len(), 10);
}
