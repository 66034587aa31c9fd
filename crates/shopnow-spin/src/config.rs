//! Configuration from Spin component variables (`spin_sdk::variables`).

use shopnow_kernel::{ApiError, Secret};

/// A required variable is missing or invalid.
#[derive(Debug)]
pub struct ConfigError {
    /// Variable name.
    pub name: String,
    /// What is wrong (never the value).
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable `{}`: {}", self.name, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for ApiError {
    fn from(err: ConfigError) -> Self {
        Self::internal_from(err)
    }
}

/// Reads the component's variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config;

impl Config {
    /// The variable `name`; empty when unset.
    ///
    /// # Errors
    /// [`ConfigError`] when the host has no such variable or cannot resolve it.
    pub fn get(self, name: &str) -> Result<String, ConfigError> {
        spin_sdk::variables::get(name).map_err(|e| ConfigError {
            name: name.to_owned(),
            reason: format!("{e:?}"),
        })
    }

    /// The variable `name`, or `default` when it is not defined for this component.
    pub fn get_or(self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|_| default.to_owned())
    }

    /// A secret variable; the value is wrapped so it cannot be logged by accident.
    ///
    /// # Errors
    /// As [`Config::get`].
    pub fn secret(self, name: &str) -> Result<Secret<String>, ConfigError> {
        self.get(name).map(Secret::new)
    }

    /// A required, non-empty variable.
    ///
    /// # Errors
    /// [`ConfigError`] when it is missing or empty.
    pub fn required(self, name: &str) -> Result<String, ConfigError> {
        let value = self.get(name)?;
        if value.trim().is_empty() {
            return Err(ConfigError {
                name: name.to_owned(),
                reason: "is empty".into(),
            });
        }
        Ok(value)
    }
}
