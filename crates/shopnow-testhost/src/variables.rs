//! Application variables and `{{ name }}` templates, resolved as Spin resolves them.
//!
//! Providers, highest priority first: the host's overrides (the `SPIN_VARIABLE_<NAME>` environment
//! variables for the binary, `HostConfig::variables` for the library), then the `default` in
//! `spin.toml`. Pure: no wasmtime, no environment access.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, bail};

use crate::manifest::VariableDecl;

/// Resolved application variables.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppVariables {
    values: HashMap<String, String>,
}

impl AppVariables {
    /// Resolves every declared variable.
    ///
    /// Fails when a `required` variable has no value, or an override names an undeclared
    /// variable (a typo that Spin would silently ignore is worth an error in tests).
    pub(crate) fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        overrides: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        for (name, decl) in decls {
            match overrides.get(name).or(decl.default.as_ref()) {
                Some(v) => {
                    values.insert(name.clone(), v.clone());
                }
                None if decl.required => missing.push(name.clone()),
                None => {}
            }
        }
        if !missing.is_empty() {
            bail!(
                "required variable(s) without a value: {} (set SPIN_VARIABLE_{} or give a default)",
                missing.join(", "),
                missing
                    .first()
                    .map(|n| n.to_ascii_uppercase())
                    .unwrap_or_default()
            );
        }
        for name in overrides.keys() {
            if !decls.contains_key(name) {
                bail!("variable `{name}` is set but not declared in [variables]");
            }
        }
        Ok(Self { values })
    }

    /// Expands the `{{ name }}` references in a template.
    ///
    /// Fails on an unterminated `{{`, or a reference to a variable that is undeclared or has no
    /// value.
    pub(crate) fn expand(&self, template: &str) -> anyhow::Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            let (literal, after) = rest.split_at(start);
            out.push_str(literal);
            let after = after.get(2..).unwrap_or_default();
            let end = after
                .find("}}")
                .with_context(|| format!("unterminated `{{{{` in template {template:?}"))?;
            let (name, tail) = after.split_at(end);
            let name = name.trim();
            let value = self.values.get(name).with_context(|| {
                format!("template {template:?} refers to variable `{name}`, which has no value")
            })?;
            out.push_str(value);
            rest = tail.get(2..).unwrap_or_default();
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(default: Option<&str>, required: bool) -> VariableDecl {
        VariableDecl {
            default: default.map(str::to_owned),
            required,
            ..VariableDecl::default()
        }
    }

    #[test]
    fn overrides_beat_defaults_and_templates_expand() {
        let decls = BTreeMap::from([
            ("host".to_owned(), decl(Some("example.com"), false)),
            ("port".to_owned(), decl(Some("80"), false)),
        ]);
        let overrides = HashMap::from([("port".to_owned(), "8080".to_owned())]);
        let vars = AppVariables::resolve(&decls, &overrides).unwrap();
        assert_eq!(
            vars.expand("http://{{ host }}:{{port}}/x").unwrap(),
            "http://example.com:8080/x"
        );
    }

    #[test]
    fn required_without_value_fails() {
        let decls = BTreeMap::from([("token".to_owned(), decl(None, true))]);
        let err = AppVariables::resolve(&decls, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("token"));
    }

    #[test]
    fn unknown_reference_fails() {
        let vars = AppVariables::default();
        assert!(vars.expand("{{ nope }}").is_err());
        assert!(vars.expand("{{ open").is_err());
    }
}
