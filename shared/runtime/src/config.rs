//! Configuration from the environment, read once at cold start.
//!
//! A function's typed configuration reads every variable it needs through [`Env`], which
//! collects *all* missing or malformed variables and reports them together by name, so a
//! misconfigured deployment fails at cold start with one clear message.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

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

/// Reads variables through a lookup function and remembers every problem.
pub struct Env<L> {
    lookup: L,
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
}

impl<L: Fn(&str) -> Option<String>> Env<L> {
    pub fn new(lookup: L) -> Self {
        Self {
            lookup,
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
