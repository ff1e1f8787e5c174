//! Secrets from AWS Secrets Manager, read once per cold start.
//!
//! The template never puts a secret in a function's environment. It gives the function
//! `<NAME>_ARN`, the ARN of the secret, and grants it that secret alone; at cold start
//! [`read_named`] reads every secret so named (all at once), and the configuration takes
//! the value with [`Env::secret`](crate::config::Env::secret). A value never passes
//! through the environment, a log line or a `Debug` output.

use std::collections::BTreeMap;

use secrecy::SecretString;
use thiserror::Error;

/// The suffix of a variable that names a secret by its ARN.
pub const ARN_SUFFIX: &str = "_ARN";

/// The secrets a function read at cold start, by name (the variable without `_ARN`).
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, SecretString>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Secrets {
    /// Secrets given directly, for a configuration built in a test.
    pub fn given<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Secrets(
            values
                .into_iter()
                .map(|(name, value)| (name.to_owned(), SecretString::from(value.to_owned())))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// A secret the environment names cannot be read: the function must not start.
#[derive(Debug, Error)]
pub enum SecretsError {
    #[error("secret {variable} ({arn}) cannot be read")]
    Read {
        variable: String,
        arn: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {variable} ({arn}) holds no string value")]
    NotAString { variable: String, arn: String },
}

/// Reads, through `client`, the secret of every variable of `vars` named `<NAME>_ARN`,
/// concurrently, and keeps each under `NAME`. No variable so named: no request.
pub async fn read_named(
    client: &aws_sdk_secretsmanager::Client,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Secrets, SecretsError> {
    let named: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(variable, arn)| variable.ends_with(ARN_SUFFIX) && !arn.is_empty())
        .collect();
    let reads = named.into_iter().map(|(variable, arn)| async move {
        let value = match client.get_secret_value().secret_id(&arn).send().await {
            Ok(out) => out.secret_string,
            Err(e) => {
                return Err(SecretsError::Read {
                    variable,
                    arn,
                    source: Box::new(e),
                })
            }
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(SecretsError::NotAString { variable, arn });
        };
        let name = variable[..variable.len() - ARN_SUFFIX.len()].to_owned();
        Ok((name, SecretString::from(value)))
    });
    let read = futures::future::try_join_all(reads).await?;
    Ok(Secrets(read.into_iter().collect()))
}
