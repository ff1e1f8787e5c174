//! The local AWS of development and tests: reads template.yaml and creates its tables and
//! queues in DynamoDB Local and moto, so the code and the template cannot drift.
//!
//! Development and test tooling only; never deployed.

pub mod bootstrap;
pub mod permissions;
pub mod poller;
pub mod recorder;
pub mod template;

pub use bootstrap::{
    bootstrap, create_keys, create_secrets, create_tables, unique_prefix, Resources,
};
pub use template::{repository_template_path, Template};

/// The SDK configuration from the environment (`AWS_ENDPOINT_URL*`, region, credentials),
/// exactly as a function loads it on Lambda.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Whether the local emulators' endpoints are configured (tests that need them say so
/// clearly instead of timing out against real AWS).
pub fn require_local_endpoints() -> anyhow::Result<()> {
    for var in ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"] {
        let value = std::env::var(var).map_err(|_| {
            anyhow::anyhow!(
                "{var} is not set: run the tests through `make test` (infra/scripts/local-aws.sh exec ...), which starts the local emulators"
            )
        })?;
        if !(value.starts_with("http://127.") || value.starts_with("http://localhost")) {
            anyhow::bail!(
                "{var}={value} is not a loopback endpoint; refusing to touch it from a test"
            );
        }
    }
    Ok(())
}

/// Fresh tables and queues for one test, created from the repository's template.
pub async fn fresh_stack(label: &str) -> anyhow::Result<(aws_config::SdkConfig, Resources)> {
    require_local_endpoints()?;
    let template = Template::load(&repository_template_path())?;
    let config = aws_config().await;
    let resources = bootstrap(&template, &config, &unique_prefix(label)).await?;
    Ok((config, resources))
}

/// Fresh tables only (no queues), for tests of the DynamoDB repositories.
pub async fn fresh_tables(label: &str) -> anyhow::Result<(aws_config::SdkConfig, Resources)> {
    require_local_endpoints()?;
    let template = Template::load(&repository_template_path())?;
    let config = aws_config().await;
    let mut resources = Resources::default();
    create_tables(&template, &config, &unique_prefix(label), &mut resources).await?;
    Ok((config, resources))
}

/// A fresh KMS key in moto, for tests of envelope encryption.
pub async fn fresh_key(label: &str) -> anyhow::Result<(aws_config::SdkConfig, String)> {
    require_local_endpoints()?;
    let template = Template::load(&repository_template_path())?;
    let config = aws_config().await;
    let mut resources = Resources::default();
    create_keys(&template, &config, &unique_prefix(label), &mut resources).await?;
    let key = resources.key("TokenKey")?.to_owned();
    Ok((config, key))
}
