//! Configuration from the environment, read once at cold start.
//!
//! A function's typed configuration reads every variable it needs through [`Env`], which
//! collects *all* missing or malformed variables and reports them together by name, so a
//! misconfigured deployment fails at cold start with one clear message.

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;
use thiserror::Error;

use crate::secrets::{Secrets, ARN_SUFFIX};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ConfigError {
    pub missing: Vec<String>,
    pub invalid: Vec<(String, String)>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("configuration is incomplete:")?;
        if !self.missing.is_empty() {
            write!(
                f,
                " missing environment variable(s) {}",
                self.missing.join(", ")
            )?;
        }
        for (name, problem) in &self.invalid {
            write!(f, "; {name} is invalid: {problem}")?;
        }
        Ok(())
    }
}

/// Reads variables through a lookup function, and secrets from what was read at cold start
/// ([`Env::with_secrets`]), and remembers every problem.
pub struct Env<L> {
    lookup: L,
    secrets: Secrets,
    error: ConfigError,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        fn get(name: &str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        }
        Self::new(get)
    }

    /// The process environment with the secrets it names, read from Secrets Manager once:
    /// what every function's `main.rs` configures itself from.
    pub async fn process_with_secrets(
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, crate::secrets::SecretsError> {
        let client = aws_sdk_secretsmanager::Client::new(aws);
        let secrets = crate::secrets::read_named(&client, std::env::vars()).await?;
        Ok(Self::process().with_secrets(secrets))
    }
}

impl<L: Fn(&str) -> Option<String>> Env<L> {
    pub fn new(lookup: L) -> Self {
        Self {
            lookup,
            secrets: Secrets::default(),
            error: ConfigError {
                missing: vec![],
                invalid: vec![],
            },
        }
    }

    /// A required variable; an empty string counts as missing.
    pub fn required(&mut self, name: &str) -> String {
        match (self.lookup)(name).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => {
                self.error.missing.push(name.to_owned());
                String::new()
            }
        }
    }

    /// The secrets read at cold start ([`crate::secrets::read_named`]).
    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// A required secret: the environment names it (`<name>_ARN`, reported missing under
    /// that name) and its value is the one read from Secrets Manager at cold start, never
    /// a variable's.
    pub fn secret(&mut self, name: &str) -> SecretString {
        let variable = format!("{name}{ARN_SUFFIX}");
        if self.required(&variable).is_empty() {
            return SecretString::from(String::new());
        }
        match self.secrets.get(name) {
            Some(value) => value.clone(),
            None => {
                self.error
                    .invalid
                    .push((variable, "the secret it names was not read".to_owned()));
                SecretString::from(String::new())
            }
        }
    }

    /// A required secret that must also pass `check`; `None` when it is missing or fails,
    /// with the problem remembered (under `<name>_ARN`, never with the value) either way.
    pub fn secret_checked<T>(
        &mut self,
        name: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        use secrecy::ExposeSecret;
        let value = self.secret(name);
        if value.expose_secret().is_empty() {
            return None;
        }
        match check(value.expose_secret()) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.error
                    .invalid
                    .push((format!("{name}{ARN_SUFFIX}"), problem));
                None
            }
        }
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// An optional variable parsed as `T`, with a default.
    pub fn parsed_or<T: FromStr>(&mut self, name: &str, default: T) -> T
    where
        T::Err: fmt::Display,
    {
        match self.optional(name) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(v) => v,
                Err(e) => {
                    self.error.invalid.push((name.to_owned(), e.to_string()));
                    default
                }
            },
        }
    }

    /// A required variable that must also pass `check` (a key's length, say); `None` when it
    /// is missing or fails, with the problem remembered either way.
    pub fn required_checked<T>(
        &mut self,
        name: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.required(name);
        if raw.is_empty() {
            return None;
        }
        match check(&raw) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.error.invalid.push((name.to_owned(), problem));
                None
            }
        }
    }

    /// The configuration built from the values read, or every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.error.missing.is_empty() && self.error.invalid.is_empty() {
            Ok(value)
        } else {
            Err(self.error)
        }
    }
}

/// The variables a configuration reads, and which of them it requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    pub read: std::collections::BTreeSet<String>,
    pub required: std::collections::BTreeSet<String>,
}

/// A lookup that can be boxed: what [`variables_of`] hands a configuration.
pub type DynLookup = Box<dyn Fn(&str) -> Option<String>>;

/// Which variables `read` (a function's `Config::from_env`) reads and requires: it is run
/// against an empty environment, every name it asks for is recorded, and the missing ones
/// it reports are the required ones. A test compares them with what template.yaml gives
/// the function, so the two cannot drift apart.
pub fn variables_of<T>(read: impl FnOnce(Env<DynLookup>) -> Result<T, ConfigError>) -> Variables {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(std::collections::BTreeSet::new()));
    let record = asked.clone();
    let lookup: DynLookup = Box::new(move |name: &str| {
        record.borrow_mut().insert(name.to_owned());
        None
    });
    let required = match read(Env::new(lookup)) {
        Ok(_) => Default::default(),
        Err(e) => e.missing.into_iter().collect(),
    };
    let read = asked.borrow().clone();
    Variables { read, required }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Debug, PartialEq)]
    struct Cfg {
        table: String,
        queue: String,
        batch: u32,
    }

    fn load(vars: &[(&str, &str)]) -> Result<Cfg, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        load_from(Env::new(|k: &str| map.get(k).cloned()))
    }

    fn load_from<L: Fn(&str) -> Option<String>>(mut env: Env<L>) -> Result<Cfg, ConfigError> {
        let cfg = Cfg {
            table: env.required("TENANCY_TABLE"),
            queue: env.required("SYNC_JOBS_QUEUE_URL"),
            batch: env.parsed_or("BATCH", 10),
        };
        env.finish(cfg)
    }

    #[test]
    fn a_configurations_variables_are_what_it_asks_for() {
        let vars = variables_of(load_from);
        assert_eq!(
            vars.read.into_iter().collect::<Vec<_>>(),
            vec!["BATCH", "SYNC_JOBS_QUEUE_URL", "TENANCY_TABLE"]
        );
        assert_eq!(
            vars.required.into_iter().collect::<Vec<_>>(),
            vec!["SYNC_JOBS_QUEUE_URL", "TENANCY_TABLE"]
        );
    }

    #[test]
    fn a_checked_variable_reports_why_it_is_refused() {
        let mut env = Env::new(|k: &str| (k == "KEY").then(|| "short".to_owned()));
        let key = env.required_checked("KEY", |v| {
            if v.len() >= 32 {
                Ok(v.to_owned())
            } else {
                Err("must be at least 32 characters".into())
            }
        });
        assert_eq!(key, None);
        let err = env.finish(()).unwrap_err();
        assert_eq!(
            err.invalid,
            vec![(
                "KEY".to_owned(),
                "must be at least 32 characters".to_owned()
            )]
        );
    }

    #[test]
    fn a_secret_is_named_by_its_arn_and_taken_from_what_was_read() {
        use secrecy::ExposeSecret;
        let read = |mut env: Env<DynLookup>| {
            let key = env.secret("STATE_KEY");
            env.finish(key)
        };
        let vars = variables_of(read);
        assert_eq!(vars.read.iter().collect::<Vec<_>>(), vec!["STATE_KEY_ARN"]);
        assert_eq!(vars.required, vars.read);

        let arn: DynLookup = Box::new(|k| (k == "STATE_KEY_ARN").then(|| "arn:x".to_owned()));
        let given = Env::new(arn).with_secrets(Secrets::given([("STATE_KEY", "s3cret")]));
        assert_eq!(read(given).unwrap().expose_secret(), "s3cret");

        // A value in the environment itself is never taken for the secret.
        let plain: DynLookup = Box::new(|k| match k {
            "STATE_KEY_ARN" => Some("arn:x".to_owned()),
            "STATE_KEY" => Some("plain".to_owned()),
            _ => None,
        });
        let err = read(Env::new(plain)).unwrap_err();
        assert_eq!(
            err.invalid,
            vec![(
                "STATE_KEY_ARN".to_owned(),
                "the secret it names was not read".to_owned()
            )]
        );
    }

    #[test]
    fn a_checked_secret_is_refused_by_name_without_its_value() {
        let lookup: DynLookup = Box::new(|k| (k == "KEY_ARN").then(|| "arn:x".to_owned()));
        let mut env = Env::new(lookup).with_secrets(Secrets::given([("KEY", "too-short")]));
        let key = env.secret_checked("KEY", |v| {
            if v.len() >= 32 {
                Ok(())
            } else {
                Err("must be at least 32 characters".into())
            }
        });
        assert_eq!(key, None);
        let err = env.finish(()).unwrap_err();
        assert!(!err.to_string().contains("too-short"), "{err}");
        assert!(err.to_string().contains("KEY_ARN is invalid"), "{err}");
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let err = load(&[("TENANCY_TABLE", "")]).unwrap_err();
        assert_eq!(err.missing, vec!["TENANCY_TABLE", "SYNC_JOBS_QUEUE_URL"]);
        assert_eq!(
            err.to_string(),
            "configuration is incomplete: missing environment variable(s) TENANCY_TABLE, SYNC_JOBS_QUEUE_URL"
        );
    }

    #[test]
    fn malformed_values_are_reported_with_their_name() {
        let err = load(&[
            ("TENANCY_TABLE", "t"),
            ("SYNC_JOBS_QUEUE_URL", "q"),
            ("BATCH", "ten"),
        ])
        .unwrap_err();
        assert!(err.missing.is_empty());
        assert_eq!(err.invalid[0].0, "BATCH");
        assert!(err.to_string().contains("BATCH is invalid"));
    }

    #[test]
    fn a_complete_environment_yields_the_configuration() {
        let cfg = load(&[
            ("TENANCY_TABLE", "t"),
            ("SYNC_JOBS_QUEUE_URL", "q"),
            ("BATCH", "3"),
        ])
        .unwrap();
        assert_eq!(
            cfg,
            Cfg {
                table: "t".into(),
                queue: "q".into(),
                batch: 3
            }
        );
    }
}
