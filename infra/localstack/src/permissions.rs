//! The functions' recorded AWS calls ([`crate::recorder`]) held against their roles in
//! template.yaml, the way IAM would: each call becomes the actions it needs on the
//! resources it names (a DynamoDB transaction, one per item; a batch, one per table), and
//! is allowed only when a statement of the function's own role grants the action on that
//! resource with its conditions met (`dynamodb:LeadingKeys` patterns for every partition
//! key the call touches; the encryption-context keys of a KMS call, and the values a
//! `StringEquals` on `kms:EncryptionContext:<key>` asks for).
//!
//! A role too wide is found by reading the template; a role too narrow only by what the
//! code really calls, which is what this checks: the local suite and the end-to-end tests
//! run every function through the recorder.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use serde_norway::Value;

use crate::recorder::AwsCall;
use crate::template::{TableDef, Template};
use crate::Resources;

/// What a statement's `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Any,
    /// A table (`!GetAtt T.Arn`).
    Table(String),
    /// An index of a table (`!Sub "${T.Arn}/index/<name or *>"`).
    Index(String, String),
    /// A queue, a KMS key, a secret, by logical id.
    Named(String),
    /// Something this check does not model (a log group, a trace): never a call's.
    Other,
}

#[derive(Debug, Clone)]
struct Statement {
    actions: Vec<String>,
    targets: Vec<Target>,
    leading_keys: Option<Vec<String>>,
    context_keys: Option<BTreeSet<String>>,
    /// `StringEquals` on `kms:EncryptionContext:<key>`: the value each key must have.
    context_values: BTreeMap<String, String>,
}

/// One thing a call needs allowed.
#[derive(Debug, Clone)]
struct Need {
    action: String,
    target: Target,
    leading_keys: Vec<String>,
    /// A KMS call's encryption context, key to value.
    context: Option<BTreeMap<String, String>>,
}

fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

fn target(value: &Value, types: &BTreeMap<String, String>) -> Target {
    if value.as_str() == Some("*") {
        return Target::Any;
    }
    if let Some(att) = tagged(value, "GetAtt").and_then(Value::as_str) {
        let id = att.split('.').next().unwrap_or_default();
        return match types.get(id).map(String::as_str) {
            Some("AWS::DynamoDB::Table") => Target::Table(id.to_owned()),
            Some("AWS::SQS::Queue" | "AWS::KMS::Key") => Target::Named(id.to_owned()),
            _ => Target::Other,
        };
    }
    if let Some(id) = tagged(value, "Ref").and_then(Value::as_str) {
        return match types.get(id).map(String::as_str) {
            Some("AWS::SecretsManager::Secret") => Target::Named(id.to_owned()),
            _ => Target::Other,
        };
    }
    if let Some(sub) = tagged(value, "Sub").and_then(Value::as_str) {
        if let Some((table, rest)) = sub
            .strip_prefix("${")
            .and_then(|s| s.split_once(".Arn}/index/"))
        {
            return Target::Index(table.to_owned(), rest.to_owned());
        }
    }
    Target::Other
}

/// The statements of the role `function` (a logical id) runs as, or why it has none.
fn role_statements(template: &Template, function: &str) -> Result<Vec<Statement>, String> {
    let resources = template
        .document
        .get("Resources")
        .ok_or("template.yaml has no Resources")?;
    let role = resources
        .get(function)
        .and_then(|f| f.get("Properties"))
        .and_then(|p| p.get("Role"))
        .and_then(|r| tagged(r, "GetAtt"))
        .and_then(Value::as_str)
        .and_then(|r| r.split('.').next())
        .ok_or_else(|| format!("{function} has no role of its own (Role: !GetAtt <Role>.Arn)"))?;
    let policies = resources
        .get(role)
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .ok_or_else(|| format!("{role} has no inline policies"))?;
    let mut out = Vec::new();
    for statement in policies
        .iter()
        .filter_map(|p| p.get("PolicyDocument"))
        .filter_map(|d| d.get("Statement"))
        .filter_map(Value::as_sequence)
        .flatten()
    {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let targets = match statement.get("Resource") {
            Some(Value::Sequence(items)) => items
                .iter()
                .map(|v| target(v, &template.resource_types))
                .collect(),
            Some(v) => vec![target(v, &template.resource_types)],
            None => vec![],
        };
        let condition = statement.get("Condition");
        let leading_keys = condition
            .and_then(|c| c.get("ForAllValues:StringLike"))
            .and_then(|c| c.get("dynamodb:LeadingKeys"))
            .map(|v| strings(Some(v)));
        let context_keys = condition
            .and_then(|c| c.get("ForAllValues:StringEquals"))
            .and_then(|c| c.get("kms:EncryptionContextKeys"))
            .map(|v| strings(Some(v)).into_iter().collect());
        let context_values = condition
            .and_then(|c| c.get("StringEquals"))
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let key = k.as_str()?.strip_prefix("kms:EncryptionContext:")?;
                Some((key.to_owned(), v.as_str()?.to_owned()))
            })
            .collect();
        out.push(Statement {
            actions: strings(statement.get("Action")),
            targets,
            leading_keys,
            context_keys,
            context_values,
        });
    }
    Ok(out)
}

/// `*` matches any run of characters, as in IAM's `StringLike`.
fn like(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.starts_with(head)
                && (0..=value.len() - head.len())
                    .filter(|i| value.is_char_boundary(head.len() + i))
                    .any(|i| like(tail, &value[head.len() + i..]))
        }
    }
}

fn allows(statement: &Statement, need: &Need) -> bool {
    let action = statement
        .actions
        .iter()
        .any(|a| a == &need.action || like(a, &need.action));
    let target = statement.targets.iter().any(|t| match (t, &need.target) {
        (Target::Any, _) => true,
        (Target::Index(t, p), Target::Index(nt, name)) => t == nt && like(p, name),
        (a, b) => a == b,
    });
    let keys = match &statement.leading_keys {
        None => true,
        Some(patterns) => need
            .leading_keys
            .iter()
            .all(|k| patterns.iter().any(|p| like(p, k))),
    };
    let context = match (&statement.context_keys, &need.context) {
        (None, _) => true,
        (Some(allowed), Some(given)) => {
            !given.is_empty() && given.keys().all(|k| allowed.contains(k))
        }
        (Some(_), None) => false,
    };
    let values = statement.context_values.iter().all(|(k, v)| {
        need.context
            .as_ref()
            .is_some_and(|given| given.get(k) == Some(v))
    });
    action && target && keys && context && values
}

fn reverse(map: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    map.iter().map(|(k, v)| (v.as_str(), k.as_str())).collect()
}

fn s(value: &Json) -> String {
    value
        .get("S")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The partition-key value a Query asks for: the value bound to the hash key in its key
/// condition (`pk = :v`, or through an attribute-name alias).
fn queried_key(body: &Json, hash: &str) -> Option<String> {
    let expression = body.get("KeyConditionExpression")?.as_str()?;
    let names = body.get("ExpressionAttributeNames");
    for clause in expression.split(" AND ").chain(expression.split(" and ")) {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        let left = left.trim().trim_start_matches('(');
        let name = match names.and_then(|n| n.get(left)).and_then(Json::as_str) {
            Some(n) => n,
            None => left,
        };
        if name == hash {
            let placeholder = right.trim().trim_end_matches(')');
            return body
                .get("ExpressionAttributeValues")
                .and_then(|v| v.get(placeholder))
                .map(s);
        }
    }
    None
}

/// What one DynamoDB item operation on `table` needs.
fn item_need(action: &str, table: Option<&TableDef>, key: Option<&Json>) -> Need {
    let leading = match (table, key) {
        (Some(t), Some(k)) => vec![k.get(&t.key.hash).map(s).unwrap_or_default()],
        _ => vec![],
    };
    Need {
        action: format!("dynamodb:{action}"),
        target: table.map_or(Target::Other, |t| Target::Table(t.logical_id.clone())),
        leading_keys: leading,
        context: None,
    }
}

fn dynamodb_needs(
    operation: &str,
    body: &Json,
    template: &Template,
    resources: &Resources,
) -> Vec<Need> {
    let tables = reverse(&resources.tables);
    let def = |name: Option<&str>| {
        name.and_then(|n| tables.get(n))
            .and_then(|id| template.table(id))
    };
    let table_name = body.get("TableName").and_then(Json::as_str);
    match operation {
        "GetItem" | "DeleteItem" | "UpdateItem" => {
            vec![item_need(operation, def(table_name), body.get("Key"))]
        }
        "PutItem" => vec![item_need(operation, def(table_name), body.get("Item"))],
        "Query" | "Scan" => {
            let Some(t) = def(table_name) else {
                return vec![item_need(operation, None, None)];
            };
            let index = body.get("IndexName").and_then(Json::as_str);
            let (target, hash) = match index {
                Some(i) => (
                    Target::Index(t.logical_id.clone(), i.to_owned()),
                    t.indexes
                        .iter()
                        .find(|x| x.name == i)
                        .map(|x| x.key.hash.clone())
                        .unwrap_or_default(),
                ),
                None => (Target::Table(t.logical_id.clone()), t.key.hash.clone()),
            };
            Need {
                action: format!("dynamodb:{operation}"),
                target,
                leading_keys: queried_key(body, &hash).into_iter().collect(),
                context: None,
            }
            .into_vec()
        }
        "BatchGetItem" | "BatchWriteItem" => {
            let mut out = Vec::new();
            for (name, request) in body
                .get("RequestItems")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
            {
                let t = def(Some(name));
                let keys: Vec<&Json> = if operation == "BatchGetItem" {
                    request
                        .get("Keys")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .collect()
                } else {
                    request
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|w| {
                            w.get("PutRequest")
                                .and_then(|p| p.get("Item"))
                                .or_else(|| w.get("DeleteRequest").and_then(|d| d.get("Key")))
                        })
                        .collect()
                };
                let mut need = item_need(operation, t, None);
                if let Some(t) = t {
                    need.leading_keys = keys
                        .iter()
                        .map(|k| k.get(&t.key.hash).map(s).unwrap_or_default())
                        .collect();
                }
                out.push(need);
            }
            out
        }
        "TransactWriteItems" | "TransactGetItems" => body
            .get("TransactItems")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .flat_map(|item| item.as_object().into_iter().flatten())
            .map(|(kind, op)| {
                let t = def(op.get("TableName").and_then(Json::as_str));
                let (action, key) = match kind.as_str() {
                    "Put" => ("PutItem", op.get("Item")),
                    "Update" => ("UpdateItem", op.get("Key")),
                    "Delete" => ("DeleteItem", op.get("Key")),
                    "ConditionCheck" => ("ConditionCheckItem", op.get("Key")),
                    _ => ("GetItem", op.get("Key")),
                };
                item_need(action, t, key)
            })
            .collect(),
        other => vec![Need {
            action: format!("dynamodb:{other}"),
            target: def(table_name).map_or(Target::Other, |t| Target::Table(t.logical_id.clone())),
            leading_keys: vec![],
            context: None,
        }],
    }
}

impl Need {
    fn into_vec(self) -> Vec<Need> {
        vec![self]
    }

    /// The partition keys' prefixes (up to the first `#`, then `rest`), never their values.
    fn prefixes(&self, rest: &str) -> BTreeSet<String> {
        self.leading_keys
            .iter()
            .map(|k| match k.split_once('#') {
                Some((prefix, _)) => format!("{prefix}#{rest}"),
                None => k.clone(),
            })
            .collect()
    }
}

/// What one recorded call needs allowed.
fn needs(call: &AwsCall, template: &Template, resources: &Resources) -> Vec<Need> {
    let (service, operation) = call
        .target
        .split_once('.')
        .unwrap_or(("", call.target.as_str()));
    let body = &call.body;
    let named = |map: &BTreeMap<String, String>, field: &str| {
        let value = body.get(field).and_then(Json::as_str).unwrap_or_default();
        map.iter()
            .find(|(_, physical)| {
                physical.as_str() == value || value.ends_with(&format!("/{physical}"))
            })
            .map_or(Target::Other, |(id, _)| Target::Named(id.clone()))
    };
    match service {
        s if s.starts_with("DynamoDB_") => dynamodb_needs(operation, body, template, resources),
        "AmazonSQS" => {
            let action = operation.trim_end_matches("Batch");
            vec![Need {
                action: format!("sqs:{action}"),
                target: named(&resources.queues, "QueueUrl"),
                leading_keys: vec![],
                context: None,
            }]
        }
        "TrentService" => vec![Need {
            action: format!("kms:{operation}"),
            target: named(&resources.keys, "KeyId"),
            leading_keys: vec![],
            context: Some(
                body.get("EncryptionContext")
                    .and_then(Json::as_object)
                    .map(|c| {
                        c.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        }],
        "secretsmanager" => vec![Need {
            action: format!("secretsmanager:{operation}"),
            target: named(&resources.secrets, "SecretId"),
            leading_keys: vec![],
            context: None,
        }],
        _ => vec![Need {
            action: call.target.clone(),
            target: Target::Other,
            leading_keys: vec![],
            context: None,
        }],
    }
}

/// Every recorded call some function's role in `template` would refuse, described (one
/// line per distinct refusal); empty when every call is allowed. `resources` names the
/// physical tables, queues, keys and secrets the calls went to.
pub fn check_calls(template: &Template, resources: &Resources, calls: &[AwsCall]) -> Vec<String> {
    let mut refused = BTreeSet::new();
    let mut roles: BTreeMap<String, Result<Vec<Statement>, String>> = BTreeMap::new();
    for call in calls {
        let Some(function) = template
            .functions
            .iter()
            .find(|f| f.binary.as_deref() == Some(call.function.as_str()))
        else {
            refused.insert(format!(
                "{}: no such function in template.yaml",
                call.function
            ));
            continue;
        };
        let statements = roles
            .entry(function.logical_id.clone())
            .or_insert_with(|| role_statements(template, &function.logical_id));
        let statements = match statements {
            Ok(s) => s,
            Err(e) => {
                refused.insert(e.clone());
                continue;
            }
        };
        for need in needs(call, template, resources) {
            if !statements.iter().any(|st| allows(st, &need)) {
                let keys = need.prefixes("...");
                refused.insert(format!(
                    "{} ({}): {} on {:?}{}",
                    call.function,
                    function.logical_id,
                    need.action,
                    need.target,
                    if keys.is_empty() {
                        String::new()
                    } else {
                        format!(" with partition keys {keys:?}")
                    }
                ));
            }
        }
    }
    refused.into_iter().collect()
}

/// What the recorded calls needed, one line per function, action, resource and
/// partition-key prefix: the least each role must grant for what was exercised.
pub fn needed(template: &Template, resources: &Resources, calls: &[AwsCall]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for call in calls {
        for need in needs(call, template, resources) {
            let prefixes = need.prefixes("");
            out.insert(format!(
                "{} {} {:?} {:?}",
                call.function, need.action, need.target, prefixes
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kms(context_keys: &[&str], values: &[(&str, &str)]) -> Statement {
        Statement {
            actions: vec!["kms:Decrypt".into()],
            targets: vec![Target::Any],
            leading_keys: None,
            context_keys: Some(context_keys.iter().map(|k| (*k).to_owned()).collect()),
            context_values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn decrypt(context: &[(&str, &str)]) -> Need {
        Need {
            action: "kms:Decrypt".into(),
            target: Target::Other,
            leading_keys: vec![],
            context: Some(
                context
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn a_kms_grant_holds_its_context_keys_and_the_values_it_names() {
        let seat = kms(&["contract", "seat", "kind"], &[]);
        let zoom = kms(
            &["contract", "integration", "token"],
            &[("integration", "zoom")],
        );
        let seat_call = decrypt(&[("contract", "acme"), ("seat", "s1"), ("kind", "email")]);
        let zoom_call = decrypt(&[
            ("contract", "acme"),
            ("integration", "zoom"),
            ("token", "refresh"),
        ]);
        let other = decrypt(&[
            ("contract", "acme"),
            ("integration", "teams"),
            ("token", "refresh"),
        ]);
        assert!(allows(&seat, &seat_call));
        assert!(!allows(&seat, &zoom_call));
        assert!(allows(&zoom, &zoom_call));
        assert!(
            !allows(&zoom, &other),
            "the value is held, not only the key"
        );
        assert!(!allows(&zoom, &decrypt(&[("contract", "acme")])));
        assert!(!allows(&zoom, &decrypt(&[])));
    }

    #[test]
    fn like_matches_as_iam_string_like_does() {
        assert!(like("SEAT#*", "SEAT#acme#s1"));
        assert!(like("CONTRACT#*", "CONTRACT#"));
        assert!(!like("SEAT#*", "CONTRACT#acme"));
        assert!(like("*#x", "a#b#x"));
        assert!(like("exact", "exact"));
        assert!(!like("exact", "exactly"));
    }
}
