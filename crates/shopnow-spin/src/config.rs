//! Configuration from Spin component variables (`spin_sdk::variables`).
//!
//! **Secrets fail closed.** Every secret in `spin.toml` has a public development default so that
//! `spin up --build` needs no configuration. A component bound to an `environment` other than
//! `development` (every manifest under `deploy/` says `production`) refuses to run with any of
//! those values: [`Config::secret`] and [`Config::public_keys`] answer 503 with the variable's
//! name logged (never its value) when a value, or one entry of a `,`/`:` list, is one of
//! [`DEVELOPMENT_VALUES`]. An unset `environment` is development; any other value, a typo
//! included, is production.

use shopnow_kernel::{ApiError, Secret};

/// The public development defaults of `spin.toml`'s secrets (and the public half of the
/// development signing key): refused outside development. A unit test keeps this list and
/// `spin.toml` in step.
pub const DEVELOPMENT_VALUES: &[&str] = &[
    "c2hvcG5vdy1ERVYtT05MWS1zaWduaW5nLWtleS0wMDE",
    "EWtQ4heMJHnrKcF0FXAQoQBG8rp2_nSmmXx3r174mEQ",
    "dev-only-catalog-service-token",
    "dev-only-catalog-cursor-secret",
    "dev-only-orders-cursor-secret",
    "dev-only-orders-service-token",
    "sk_test_dev_only_payments_sim",
    "dev-only-events-service-token",
    "dev-only-storefront-csrf-secret",
];

/// Whether `value`, or any entry of it as a `,`-separated list of `kid:key` or plain entries, is
/// a development value.
pub fn holds_development_value(value: &str) -> bool {
    value
        .split([',', ':'])
        .map(str::trim)
        .any(|part| DEVELOPMENT_VALUES.contains(&part))
}

/// A required variable is missing or invalid.
#[derive(Debug)]
pub struct ConfigError {
    /// Variable name.
    pub name: String,
    /// What is wrong (never the value).
    pub reason: String,
    /// The deployment is misconfigured in a way no request can fix (a development secret in
    /// production): 503 rather than 500.
    pub refused: bool,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable `{}`: {}", self.name, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for ApiError {
    fn from(err: ConfigError) -> Self {
        if err.refused {
            Self::ServiceUnavailable {
                cause: err.to_string().into(),
            }
        } else {
            Self::internal_from(err)
        }
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
            refused: false,
        })
    }

    /// Whether this component runs outside development (`environment` set and not
    /// `development`).
    pub fn is_production(self) -> bool {
        self.get_or("environment", "development").trim() != "development"
    }

    /// `value` of variable `name`, unless it holds a development value outside development (for
    /// a variable read some other way, e.g. an optional key list).
    ///
    /// # Errors
    /// [`ConfigError`] (refused: 503) for a development value in production.
    pub fn checked(self, name: &str, value: String) -> Result<String, ConfigError> {
        if holds_development_value(&value) && self.is_production() {
            return Err(ConfigError {
                name: name.to_owned(),
                reason: "holds a public development value outside development; bind the \
                         production secret (docs/security.md, \"Secrets handling\")"
                    .into(),
                refused: true,
            });
        }
        Ok(value)
    }

    /// A list of public keys (`kid:key,...`): a required, non-empty variable, checked as
    /// [`Config::secret`] is (the development signing key's public half verifies tokens anyone
    /// can mint).
    ///
    /// # Errors
    /// As [`Config::required`], and refused (503) for a development key in production.
    pub fn public_keys(self, name: &str) -> Result<String, ConfigError> {
        let value = self.required(name)?;
        self.checked(name, value)
    }

    /// The variable `name`, or `default` when it is not defined for this component.
    pub fn get_or(self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|_| default.to_owned())
    }

    /// A secret variable; the value is wrapped so it cannot be logged by accident.
    ///
    /// # Errors
    /// As [`Config::get`], and refused (503) when it holds a development value in production.
    pub fn secret(self, name: &str) -> Result<Secret<String>, ConfigError> {
        let value = self.get(name)?;
        self.checked(name, value).map(Secret::new)
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
                refused: false,
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_values_are_found_in_lists_and_key_entries() {
        assert!(holds_development_value("dev-only-catalog-service-token"));
        assert!(holds_development_value(
            "new-token, dev-only-catalog-service-token"
        ));
        assert!(holds_development_value(
            "prod-1:AAAA,dev-1:EWtQ4heMJHnrKcF0FXAQoQBG8rp2_nSmmXx3r174mEQ"
        ));
        assert!(!holds_development_value("prod-1:AAAA,prod-0:BBBB"));
        assert!(!holds_development_value(""));
    }

    /// Every secret default in spin.toml, and the development public key, is in the list.
    #[test]
    fn the_list_covers_every_secret_default_in_spin_toml() {
        let manifest = include_str!("../../../spin.toml");
        let mut defaults = Vec::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((name, decl)) = line.split_once(" = {") else {
                continue;
            };
            let Some(default) = decl
                .split_once("default = \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(d, _)| d)
            else {
                continue;
            };
            if (decl.contains("secret = true") || name.trim() == "jwt_public_keys")
                && !default.is_empty()
            {
                defaults.push((name.trim().to_owned(), default.to_owned()));
            }
        }
        assert!(defaults.len() >= 7, "{defaults:?}");
        for (name, default) in defaults {
            assert!(
                holds_development_value(&default),
                "{name}'s default is not in DEVELOPMENT_VALUES"
            );
        }
    }
}
