//! Creates the template's tables and queues in the local emulators.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::template::{Binding, KeyDef, QueueDef, SecretSource, TableDef, Template};

/// The physical names given to the template's resources in one local run.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Table logical id -> table name.
    pub tables: BTreeMap<String, String>,
    /// Queue logical id -> queue URL.
    pub queues: BTreeMap<String, String>,
    /// Queue logical id -> queue ARN.
    pub queue_arns: BTreeMap<String, String>,
    /// KMS key logical id -> key id.
    pub keys: BTreeMap<String, String>,
    /// Secret logical id -> secret ARN.
    pub secrets: BTreeMap<String, String>,
}

impl Resources {
    /// Every variable of the template's functions, resolved to these resources. Variables
    /// bound to resources the local stack does not create, or to expressions only AWS can
    /// evaluate, are left out.
    pub fn environment(&self, template: &Template) -> BTreeMap<String, String> {
        template
            .all_variables()
            .into_iter()
            .filter_map(|(name, binding)| {
                let value = match binding {
                    Binding::Resource(id) => self
                        .tables
                        .get(id)
                        .or_else(|| self.queues.get(id))
                        .or_else(|| self.keys.get(id))
                        .or_else(|| self.secrets.get(id))
                        .cloned(),
                    Binding::Parameter { default, .. } => default.clone(),
                    Binding::Literal(v) => Some(v.clone()),
                    Binding::Expression(_) => None,
                };
                value.map(|v| (name.to_owned(), v))
            })
            .collect()
    }

    pub fn table(&self, logical_id: &str) -> anyhow::Result<&str> {
        self.tables
            .get(logical_id)
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("no table {logical_id} in the template"))
    }

    pub fn key(&self, logical_id: &str) -> anyhow::Result<&str> {
        self.keys
            .get(logical_id)
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("no KMS key {logical_id} in the template"))
    }

    pub fn queue(&self, logical_id: &str) -> anyhow::Result<&str> {
        self.queues
            .get(logical_id)
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("no queue {logical_id} in the template"))
    }
}

fn key_elements(key: &KeyDef) -> anyhow::Result<Vec<KeySchemaElement>> {
    let mut out = vec![KeySchemaElement::builder()
        .attribute_name(&key.hash)
        .key_type(KeyType::Hash)
        .build()?];
    if let Some(range) = &key.range {
        out.push(
            KeySchemaElement::builder()
                .attribute_name(range)
                .key_type(KeyType::Range)
                .build()?,
        );
    }
    Ok(out)
}

/// Creates one table as the template declares it (keys, indexes, TTL).
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    def: &TableDef,
    name: &str,
) -> anyhow::Result<()> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_elements(&def.key)?));
    for (attribute, kind) in &def.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()?,
        );
    }
    for index in &def.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_elements(&index.key)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection.as_str()))
                        .build(),
                )
                .build()?,
        );
    }
    request.send().await.map_err(|e| {
        anyhow::anyhow!(
            "creating table {name}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )
    })?;
    if let Some(attribute) = &def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "enabling TTL on {name}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
    }
    Ok(())
}

fn queue_name(prefix: &str, def: &QueueDef) -> String {
    let base = format!("{prefix}-{}", def.logical_id);
    // SQS names are at most 80 characters, ".fifo" included.
    let base: String = base.chars().take(if def.fifo { 75 } else { 80 }).collect();
    if def.fifo {
        format!("{base}.fifo")
    } else {
        base
    }
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    def: &QueueDef,
    name: &str,
    dlq_arn: Option<&str>,
) -> anyhow::Result<String> {
    let mut request = client.create_queue().queue_name(name);
    for (attribute, value) in &def.attributes {
        request = request.attributes(QueueAttributeName::from(attribute.as_str()), value);
    }
    if let (Some(arn), Some((_, count))) = (dlq_arn, &def.redrive) {
        request = request.attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": count }).to_string(),
        );
    }
    let out = request.send().await.map_err(|e| {
        anyhow::anyhow!(
            "creating queue {name}: {}",
            aws_sdk_sqs::error::DisplayErrorContext(e)
        )
    })?;
    out.queue_url
        .ok_or_else(|| anyhow::anyhow!("queue {name} was created without a URL"))
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading {url}: {}",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| anyhow::anyhow!("{url} has no ARN"))
}

/// Creates every table of `template`, named `<prefix>-<LogicalId>`.
pub async fn create_tables(
    template: &Template,
    config: &aws_config::SdkConfig,
    prefix: &str,
    resources: &mut Resources,
) -> anyhow::Result<()> {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    for def in &template.tables {
        let name = format!("{prefix}-{}", def.logical_id);
        create_table(&dynamo, def, &name).await?;
        resources.tables.insert(def.logical_id.clone(), name);
    }
    Ok(())
}

/// Creates every KMS key of `template` (moto serves KMS locally).
pub async fn create_keys(
    template: &Template,
    config: &aws_config::SdkConfig,
    prefix: &str,
    resources: &mut Resources,
) -> anyhow::Result<()> {
    let kms = aws_sdk_kms::Client::new(config);
    for id in &template.keys {
        let out = kms
            .create_key()
            .description(format!("{prefix}-{id}"))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "creating key {id}: {}",
                    aws_sdk_kms::error::DisplayErrorContext(e)
                )
            })?;
        let key_id = out
            .key_metadata
            .map(|m| m.key_id)
            .ok_or_else(|| anyhow::anyhow!("key {id} was created without metadata"))?;
        resources.keys.insert(id.clone(), key_id);
    }
    Ok(())
}

/// Creates every secret of `template` in moto, as CloudFormation would: a generated one
/// gets fresh letters and digits, one taken from a parameter gets `parameters[name]`.
pub async fn create_secrets(
    template: &Template,
    config: &aws_config::SdkConfig,
    prefix: &str,
    parameters: &BTreeMap<String, String>,
    resources: &mut Resources,
) -> anyhow::Result<()> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    for def in &template.secrets {
        let value = match &def.source {
            SecretSource::Parameter(name) => parameters.get(name).cloned().ok_or_else(|| {
                anyhow::anyhow!(
                    "secret {} needs a value for parameter {name}",
                    def.logical_id
                )
            })?,
            SecretSource::Generated { length } => generated(*length),
        };
        let out = client
            .create_secret()
            .name(format!("{prefix}-{}", def.logical_id))
            .secret_string(value)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "creating secret {}: {}",
                    def.logical_id,
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?;
        let arn = out.arn.ok_or_else(|| {
            anyhow::anyhow!("secret {} was created without an ARN", def.logical_id)
        })?;
        resources.secrets.insert(def.logical_id.clone(), arn);
    }
    Ok(())
}

/// `length` random letters and digits (what `GenerateSecretString` with
/// `ExcludePunctuation` makes).
fn generated(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let mut bytes = [0u8; 64];
        // The local stack cannot run without randomness; the OS gives it.
        #[allow(clippy::expect_used)]
        getrandom::getrandom(&mut bytes).expect("the OS gives random bytes");
        for byte in bytes {
            // 248 = 4 x 62: the bytes above it would favour the first letters.
            if byte < 248 && out.len() < length {
                out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    out
}

/// Creates every table and queue of `template`, named `<prefix>-<LogicalId>`. Dead-letter
/// queues are created before the queues that redrive into them.
pub async fn bootstrap(
    template: &Template,
    config: &aws_config::SdkConfig,
    prefix: &str,
) -> anyhow::Result<Resources> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut resources = Resources::default();
    create_tables(template, config, prefix, &mut resources).await?;
    create_keys(template, config, prefix, &mut resources).await?;

    let (plain, redriving): (Vec<&QueueDef>, Vec<&QueueDef>) =
        template.queues.iter().partition(|q| q.redrive.is_none());
    for def in plain.into_iter().chain(redriving) {
        let dlq_arn = match &def.redrive {
            Some((dlq, _)) => Some(resources.queue_arns.get(dlq).cloned().ok_or_else(|| {
                anyhow::anyhow!(
                    "{} redrives into {dlq}, which itself redrives",
                    def.logical_id
                )
            })?),
            None => None,
        };
        let url = create_queue(&sqs, def, &queue_name(prefix, def), dlq_arn.as_deref()).await?;
        let arn = queue_arn(&sqs, &url).await?;
        resources.queues.insert(def.logical_id.clone(), url);
        resources.queue_arns.insert(def.logical_id.clone(), arn);
    }
    Ok(resources)
}

/// A prefix no other run uses: tests get fresh resources each.
pub fn unique_prefix(label: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{label}-{}", &id[..10])
}
