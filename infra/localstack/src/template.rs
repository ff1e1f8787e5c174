//! Reads the parts of template.yaml the local stack recreates: tables, queues and the
//! environment every function receives.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("resource {resource}: {problem}")]
    Resource { resource: String, problem: String },
}

fn bad(resource: &str, problem: impl Into<String>) -> TemplateError {
    TemplateError::Resource {
        resource: resource.to_owned(),
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    pub hash: String,
    pub range: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: String,
    /// Attribute name -> DynamoDB scalar type (`S`, `N`, `B`).
    pub attributes: BTreeMap<String, String>,
    pub key: KeyDef,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDef {
    pub logical_id: String,
    pub fifo: bool,
    /// SQS attributes other than the redrive policy, as SQS names them.
    pub attributes: BTreeMap<String, String>,
    /// Logical id of the dead-letter queue and the receive count that moves a message there.
    pub redrive: Option<(String, u32)>,
}

/// Where a secret's value comes from (`AWS::SecretsManager::Secret`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `SecretString: !Ref Parameter`: the deployer gives it.
    Parameter(String),
    /// `GenerateSecretString`: made at creation, `length` characters of letters and digits.
    Generated { length: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDef {
    pub logical_id: String,
    pub source: SecretSource,
}

/// What an environment variable is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// `!Ref LogicalId` of a resource.
    Resource(String),
    /// `!Ref Parameter`, with the parameter's default.
    Parameter {
        name: String,
        default: Option<String>,
    },
    Literal(String),
    /// Any other intrinsic (`!Sub`, `!GetAtt`, ...): only AWS knows its value.
    Expression(String),
}

/// A function of the template (`AWS::Serverless::Function`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDef {
    pub logical_id: String,
    /// The binary it runs (`Metadata.BuildProperties.Binary`).
    pub binary: Option<String>,
    /// Its own `Environment.Variables` (the `Globals` ones come on top).
    pub environment: BTreeMap<String, Binding>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub tables: Vec<TableDef>,
    pub queues: Vec<QueueDef>,
    /// Logical ids of the KMS keys.
    pub keys: Vec<String>,
    pub secrets: Vec<SecretDef>,
    /// Resource logical id -> type, for every resource.
    pub resource_types: BTreeMap<String, String>,
    /// The environment every function gets (`Globals.Function.Environment.Variables`).
    pub environment: BTreeMap<String, Binding>,
    pub functions: Vec<FunctionDef>,
    /// The whole document, for checks that read more than the above (roles, policies).
    pub document: Value,
}

/// The repository's template.yaml.
pub fn repository_template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

fn tag<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == name => Some(&t.value),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The variables of an `Environment.Variables` mapping.
fn variables(
    owner: &str,
    vars: Option<&Value>,
    parameters: Option<&serde_norway::Mapping>,
) -> Result<BTreeMap<String, Binding>, TemplateError> {
    let mut environment = BTreeMap::new();
    let Some(vars) = vars.and_then(Value::as_mapping) else {
        return Ok(environment);
    };
    for (name, value) in vars {
        let name = name
            .as_str()
            .ok_or_else(|| bad(owner, "non-string variable"))?;
        let binding = if let Some(target) = tag(value, "!Ref").and_then(Value::as_str) {
            match parameters.and_then(|p| p.get(target)) {
                Some(param) => Binding::Parameter {
                    name: target.to_owned(),
                    default: param.get("Default").and_then(text),
                },
                None => Binding::Resource(target.to_owned()),
            }
        } else if let Value::Tagged(t) = value {
            Binding::Expression(t.tag.to_string())
        } else {
            Binding::Literal(text(value).ok_or_else(|| {
                bad(
                    owner,
                    format!("{name} is neither a literal nor an intrinsic"),
                )
            })?)
        };
        environment.insert(name.to_owned(), binding);
    }
    Ok(environment)
}

fn secret(logical_id: &str, props: &Value) -> Result<SecretDef, TemplateError> {
    let source = if let Some(parameter) = props
        .get("SecretString")
        .and_then(|v| tag(v, "!Ref"))
        .and_then(Value::as_str)
    {
        SecretSource::Parameter(parameter.to_owned())
    } else if let Some(generate) = props.get("GenerateSecretString") {
        let length = generate
            .get("PasswordLength")
            .and_then(Value::as_u64)
            .unwrap_or(32);
        if generate.get("ExcludePunctuation").and_then(Value::as_bool) != Some(true) {
            return Err(bad(
                logical_id,
                "a generated secret must exclude punctuation (the local stack makes letters and digits)",
            ));
        }
        SecretSource::Generated {
            length: usize::try_from(length).unwrap_or(32),
        }
    } else {
        return Err(bad(
            logical_id,
            "a secret takes SecretString: !Ref Parameter or GenerateSecretString",
        ));
    };
    Ok(SecretDef {
        logical_id: logical_id.to_owned(),
        source,
    })
}

fn key_schema(resource: &str, value: Option<&Value>) -> Result<KeyDef, TemplateError> {
    let items = value
        .and_then(Value::as_sequence)
        .ok_or_else(|| bad(resource, "KeySchema missing"))?;
    let mut hash = None;
    let mut range = None;
    for item in items {
        let name = item.get("AttributeName").and_then(text);
        match item.get("KeyType").and_then(Value::as_str) {
            Some("HASH") => hash = name,
            Some("RANGE") => range = name,
            _ => return Err(bad(resource, "KeySchema entry without KeyType")),
        }
    }
    Ok(KeyDef {
        hash: hash.ok_or_else(|| bad(resource, "KeySchema without HASH key"))?,
        range,
    })
}

fn table(logical_id: &str, props: &Value) -> Result<TableDef, TemplateError> {
    let attributes = props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or_else(|| bad(logical_id, "AttributeDefinitions missing"))?
        .iter()
        .map(|a| {
            match (
                a.get("AttributeName").and_then(text),
                a.get("AttributeType").and_then(text),
            ) {
                (Some(n), Some(t)) => Ok((n, t)),
                _ => Err(bad(logical_id, "malformed AttributeDefinitions entry")),
            }
        })
        .collect::<Result<_, _>>()?;
    let indexes = props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|gsis| {
            gsis.iter()
                .map(|g| {
                    Ok(IndexDef {
                        name: g
                            .get("IndexName")
                            .and_then(text)
                            .ok_or_else(|| bad(logical_id, "index without IndexName"))?,
                        key: key_schema(logical_id, g.get("KeySchema"))?,
                        projection: g
                            .get("Projection")
                            .and_then(|p| p.get("ProjectionType"))
                            .and_then(text)
                            .unwrap_or_else(|| "ALL".into()),
                    })
                })
                .collect::<Result<Vec<_>, TemplateError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let ttl_attribute = props.get("TimeToLiveSpecification").and_then(|t| {
        (t.get("Enabled").and_then(Value::as_bool) == Some(true))
            .then(|| t.get("AttributeName").and_then(text))
            .flatten()
    });
    Ok(TableDef {
        logical_id: logical_id.to_owned(),
        attributes,
        key: key_schema(logical_id, props.get("KeySchema"))?,
        indexes,
        ttl_attribute,
    })
}

fn queue(logical_id: &str, props: &Value) -> Result<QueueDef, TemplateError> {
    let mut attributes = BTreeMap::new();
    let mut fifo = false;
    if let Some(map) = props.as_mapping() {
        for (k, v) in map {
            let Some(k) = k.as_str() else { continue };
            match k {
                "RedrivePolicy" => {}
                "FifoQueue" => {
                    fifo = v.as_bool() == Some(true);
                    attributes.insert(k.to_owned(), fifo.to_string());
                }
                _ => {
                    let v = text(v).ok_or_else(|| {
                        bad(
                            logical_id,
                            format!("{k} must be a literal for the local stack"),
                        )
                    })?;
                    attributes.insert(k.to_owned(), v);
                }
            }
        }
    }
    let redrive = match props.get("RedrivePolicy") {
        None => None,
        Some(policy) => {
            let target = policy
                .get("deadLetterTargetArn")
                .and_then(|v| tag(v, "!GetAtt"))
                .and_then(Value::as_str)
                .and_then(|s| s.strip_suffix(".Arn"))
                .ok_or_else(|| {
                    bad(
                        logical_id,
                        "deadLetterTargetArn must be !GetAtt <Queue>.Arn",
                    )
                })?;
            let count = policy
                .get("maxReceiveCount")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(logical_id, "maxReceiveCount missing"))?;
            Some((target.to_owned(), count))
        }
    };
    Ok(QueueDef {
        logical_id: logical_id.to_owned(),
        fifo,
        attributes,
        redrive,
    })
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let doc: Value = serde_norway::from_str(source)?;
        let mut tables = Vec::new();
        let mut queues = Vec::new();
        let mut keys = Vec::new();
        let mut secrets = Vec::new();
        let mut resource_types = BTreeMap::new();
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| bad("Resources", "missing"))?;
        for (id, resource) in resources {
            let id = id
                .as_str()
                .ok_or_else(|| bad("Resources", "non-string id"))?;
            let kind = resource
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(id, "Type missing"))?;
            resource_types.insert(id.to_owned(), kind.to_owned());
            let empty = Value::Mapping(Default::default());
            let props = resource.get("Properties").unwrap_or(&empty);
            match kind {
                "AWS::DynamoDB::Table" => tables.push(table(id, props)?),
                "AWS::SQS::Queue" => queues.push(queue(id, props)?),
                "AWS::KMS::Key" => keys.push(id.to_owned()),
                "AWS::SecretsManager::Secret" => secrets.push(secret(id, props)?),
                _ => {}
            }
        }
        let parameters = doc.get("Parameters").and_then(Value::as_mapping);
        let environment = variables(
            "Globals",
            doc.get("Globals")
                .and_then(|g| g.get("Function"))
                .and_then(|f| f.get("Environment"))
                .and_then(|e| e.get("Variables")),
            parameters,
        )?;
        let mut functions = Vec::new();
        for (id, resource) in resources {
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().unwrap_or_default();
            functions.push(FunctionDef {
                logical_id: id.to_owned(),
                binary: resource
                    .get("Metadata")
                    .and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary"))
                    .and_then(text),
                environment: variables(
                    id,
                    resource
                        .get("Properties")
                        .and_then(|p| p.get("Environment"))
                        .and_then(|e| e.get("Variables")),
                    parameters,
                )?,
            });
        }
        Ok(Self {
            tables,
            queues,
            keys,
            secrets,
            resource_types,
            environment,
            functions,
            document: doc.clone(),
        })
    }

    pub fn table(&self, logical_id: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.logical_id == logical_id)
    }

    pub fn queue(&self, logical_id: &str) -> Option<&QueueDef> {
        self.queues.iter().find(|q| q.logical_id == logical_id)
    }

    /// Every variable some function gets: the `Globals` ones and each function's own.
    pub fn all_variables(&self) -> BTreeMap<&str, &Binding> {
        let mut all: BTreeMap<&str, &Binding> = BTreeMap::new();
        for f in &self.functions {
            all.extend(f.environment.iter().map(|(k, v)| (k.as_str(), v)));
        }
        all.extend(self.environment.iter().map(|(k, v)| (k.as_str(), v)));
        all
    }

    /// The variable bound to a resource, in any function's environment, if any.
    pub fn variable_for(&self, logical_id: &str) -> Option<&str> {
        self.all_variables()
            .into_iter()
            .find_map(|(name, b)| match b {
                Binding::Resource(id) if id == logical_id => Some(name),
                _ => None,
            })
    }

    /// The function that runs `binary`.
    pub fn function(&self, binary: &str) -> Option<&FunctionDef> {
        self.functions
            .iter()
            .find(|f| f.binary.as_deref() == Some(binary))
    }

    /// The names of the variables the function running `binary` gets from the template
    /// (its own and the `Globals` ones), but the log level every function has.
    pub fn variables_of(&self, binary: &str) -> Option<std::collections::BTreeSet<String>> {
        let f = self.function(binary)?;
        Some(
            f.environment
                .keys()
                .chain(self.environment.keys())
                .filter(|name| *name != "RUST_LOG")
                .cloned()
                .collect(),
        )
    }
}

/// Checks the repository's template against what the function running `binary` reads
/// (`read`) and requires (`required`, a subset): every required variable is given, and
/// nothing is given that the function does not read. The error says which, and where.
pub fn check_function_environment(
    binary: &str,
    read: &std::collections::BTreeSet<String>,
    required: &std::collections::BTreeSet<String>,
) -> Result<(), String> {
    let template = Template::load(&repository_template_path()).map_err(|e| e.to_string())?;
    let given = template
        .variables_of(binary)
        .ok_or_else(|| format!("template.yaml has no function running {binary}"))?;
    let missing: Vec<_> = required.difference(&given).collect();
    let unread: Vec<_> = given.difference(read).collect();
    if missing.is_empty() && unread.is_empty() {
        return Ok(());
    }
    Err(format!(
        "template.yaml and {binary}'s configuration disagree: it requires {missing:?} the template does not give, and the template gives {unread:?} it never reads"
    ))
}

/// [`check_function_environment`] for a function's `Config::from_env`: which variables it
/// reads and requires is found by running it against an empty environment.
pub fn check_function_config<T>(
    binary: &str,
    from_env: impl FnOnce(
        hiresync_runtime::config::Env<hiresync_runtime::config::DynLookup>,
    ) -> Result<T, hiresync_runtime::config::ConfigError>,
) -> Result<(), String> {
    let vars = hiresync_runtime::config::variables_of(from_env);
    check_function_environment(binary, &vars.read, &vars.required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_template_parses_with_its_tables_queues_and_environment() {
        let t = Template::load(&repository_template_path()).unwrap();
        let tenancy = t.table("TenancyTable").unwrap();
        assert_eq!(tenancy.key.hash, "pk");
        assert_eq!(tenancy.key.range.as_deref(), Some("sk"));
        let sync = t.queue("SyncJobsQueue").unwrap();
        assert!(sync.fifo);
        assert_eq!(
            sync.redrive,
            Some(("SyncJobsDeadLetterQueue".to_owned(), 5))
        );
        assert!(t.queue("SyncJobsDeadLetterQueue").unwrap().fifo);
        assert_eq!(t.variable_for("TenancyTable"), Some("TENANCY_TABLE"));
        assert!(matches!(
            t.environment.get("RUST_LOG"),
            Some(Binding::Parameter { default: Some(d), .. }) if d == "info"
        ));
    }

    #[test]
    fn every_redrive_target_is_a_queue_of_the_same_kind() {
        let t = Template::load(&repository_template_path()).unwrap();
        for q in &t.queues {
            if let Some((dlq, _)) = &q.redrive {
                let target = t
                    .queue(dlq)
                    .unwrap_or_else(|| panic!("{dlq} is not a queue"));
                assert_eq!(
                    target.fifo, q.fifo,
                    "{} and its DLQ differ in FIFO-ness",
                    q.logical_id
                );
            }
        }
    }

    #[test]
    fn malformed_definitions_are_reported_with_the_resource() {
        let err = Template::parse(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      AttributeDefinitions: []\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("resource T: KeySchema missing"),
            "{err}"
        );
    }
}
