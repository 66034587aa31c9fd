//! Spin application manifest (`spin.toml`, manifest version 2): the subset the test host serves.
//!
//! Pure parsing and validation; no wasmtime, no I/O beyond reading the file. The test kit reuses it
//! to learn which variables, stores and databases an application declares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// A parsed `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file the manifest was read from.
    pub path: PathBuf,
    /// `[application] name`.
    pub name: String,
    /// `[variables]`, by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]`, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[application.trigger.redis] address`, unresolved (may contain `{{ var }}` templates): the
    /// Redis server of every `[[trigger.redis]]` that names none.
    pub redis_address: Option<String>,
    /// `[[trigger.redis]]`, in manifest order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// `[component.<id>]`, by id.
    pub components: BTreeMap<String, ComponentDecl>,
}

/// One `[variables]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// Value used when no provider (override or `SPIN_VARIABLE_` env var) supplies one.
    #[serde(default)]
    pub default: Option<String>,
    /// Startup fails when a required variable has no value.
    #[serde(default)]
    pub required: bool,
    /// Secret values are never printed.
    #[serde(default)]
    pub secret: bool,
    /// Free text, ignored.
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The component id the trigger invokes.
    pub component: String,
    /// The route; `None` for `route = { private = true }` (reachable only by service chaining).
    pub route: Option<String>,
}

/// One `[[trigger.redis]]` entry (Spin's `TriggerConfig` of the Redis trigger).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisTrigger {
    /// The component id a message on the channel invokes.
    pub component: String,
    /// The channel to subscribe to, unresolved (may contain `{{ var }}` templates).
    pub channel: String,
    /// The Redis server, unresolved; `None` for the application's `redis_address`.
    #[serde(default)]
    pub address: Option<String>,
}

/// `[application.trigger.redis]` (Spin's `TriggerMetadata` of the Redis trigger).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedisMetadata {
    address: String,
}

/// One `[component.<id>]` table.
#[derive(Debug, Clone)]
pub struct ComponentDecl {
    /// The component id (the table key).
    pub id: String,
    /// Absolute path of the `.wasm` file (`source`, resolved against the manifest's directory).
    pub source: PathBuf,
    /// `allowed_outbound_hosts`, unresolved (may contain `{{ var }}` templates).
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores` labels.
    pub key_value_stores: Vec<String>,
    /// `sqlite_databases` labels.
    pub sqlite_databases: Vec<String>,
    /// `[component.<id>.variables]`: name to template.
    pub variables: BTreeMap<String, String>,
    /// `[component.<id>.build] command`, if any (not run; quoted when the `.wasm` is missing).
    pub build_command: Option<String>,
}

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Value>>,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
struct RawApplication {
    name: String,
    #[serde(default)]
    trigger: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawComponent {
    source: toml::Value,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Option<toml::Value>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    build: Option<RawBuild>,
}

#[derive(Deserialize)]
struct RawBuild {
    #[serde(default)]
    command: Option<String>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: toml::Value,
    component: toml::Value,
}

impl Manifest {
    /// Reads and validates a manifest.
    ///
    /// Fails when the file can't be read, isn't manifest version 2, uses a feature the test host
    /// doesn't support (inline components, remote sources, `allowed_http_hosts`), or is
    /// inconsistent (a trigger naming an unknown component, an invalid variable name).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let path = std::path::absolute(path)
            .with_context(|| format!("cannot resolve manifest path {}", path.display()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &path, &base)
            .with_context(|| format!("invalid manifest {}", path.display()))
    }

    fn parse(text: &str, path: &Path, base: &Path) -> anyhow::Result<Self> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.spin_manifest_version.as_integer() != Some(2) {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for name in raw.variables.keys() {
            validate_variable_name(name)?;
        }
        let mut components = BTreeMap::new();
        for (id, c) in raw.component {
            let source = match &c.source {
                toml::Value::String(s) => base.join(s),
                _ => bail!(
                    "component `{id}`: only a local file path `source` is supported by the test host"
                ),
            };
            if c.allowed_http_hosts.is_some() {
                bail!(
                    "component `{id}`: `allowed_http_hosts` is not supported; use `allowed_outbound_hosts`"
                );
            }
            for name in c.variables.keys() {
                validate_variable_name(name)
                    .with_context(|| format!("component `{id}` variables"))?;
            }
            components.insert(
                id.clone(),
                ComponentDecl {
                    id,
                    source,
                    allowed_outbound_hosts: c.allowed_outbound_hosts,
                    key_value_stores: c.key_value_stores,
                    sqlite_databases: c.sqlite_databases,
                    variables: c.variables,
                    build_command: c.build.and_then(|b| b.command),
                },
            );
        }
        let mut redis_address = None;
        for (kind, metadata) in raw.application.trigger {
            if kind != "redis" {
                bail!(
                    "[application.trigger.{kind}] is not supported by the test host (only `redis`)"
                );
            }
            let metadata: RawRedisMetadata = metadata
                .try_into()
                .context("invalid [application.trigger.redis]")?;
            redis_address = Some(metadata.address);
        }
        let mut http_triggers = Vec::new();
        let mut redis_triggers = Vec::new();
        for (kind, triggers) in raw.trigger {
            if kind == "redis" {
                for t in triggers {
                    let t: RedisTrigger = t.try_into().context("invalid [[trigger.redis]]")?;
                    if !components.contains_key(&t.component) {
                        bail!(
                            "[[trigger.redis]] names unknown component `{}`",
                            t.component
                        );
                    }
                    redis_triggers.push(t);
                }
                continue;
            }
            if kind != "http" {
                bail!(
                    "trigger type `{kind}` is not supported by the test host (only `http` and `redis`)"
                );
            }
            for t in triggers {
                let t: RawHttpTrigger = t.try_into().context("invalid [[trigger.http]]")?;
                let component = match t.component {
                    toml::Value::String(s) => s,
                    _ => bail!(
                        "[[trigger.http]]: inline components are not supported; name a [component.<id>]"
                    ),
                };
                if !components.contains_key(&component) {
                    bail!("[[trigger.http]] names unknown component `{component}`");
                }
                let route = match t.route {
                    toml::Value::String(s) => Some(s),
                    toml::Value::Table(tbl) => {
                        if tbl.get("private").and_then(toml::Value::as_bool) == Some(true) {
                            None
                        } else {
                            bail!(
                                "route must be a string pattern or '{{ private = true }}': component '{component}'"
                            );
                        }
                    }
                    _ => bail!("component `{component}`: invalid route"),
                };
                http_triggers.push(HttpTrigger { component, route });
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            name: raw.application.name,
            variables: raw.variables,
            http_triggers,
            redis_address,
            redis_triggers,
            components,
        })
    }

    /// The manifest's directory (relative `source` paths resolve against it).
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and underscores, starting with
/// a letter, no double or trailing underscore.
pub(crate) fn validate_variable_name(name: &str) -> anyhow::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if ok {
        Ok(())
    } else {
        bail!(
            "invalid variable name `{name}`: use lowercase letters, digits and single underscores, starting with a letter"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "web"
[[trigger.http]]
route = { private = true }
component = "internal"
[component.web]
source = "web.wasm"
allowed_outbound_hosts = ["http://internal.spin.internal"]
key_value_stores = ["default"]
[component.web.variables]
message = "{{ greeting }} there"
[component.web.build]
command = "cargo build"
[component.internal]
source = "web.wasm"
"#;

    #[test]
    fn parses_triggers_components_and_variables() {
        let m = Manifest::parse(MANIFEST, Path::new("/app/spin.toml"), Path::new("/app")).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.http_triggers.len(), 2);
        assert_eq!(m.http_triggers[1].route, None);
        assert_eq!(m.components["web"].source, Path::new("/app/web.wasm"));
        assert!(m.variables["token"].required);
        assert_eq!(
            m.components["web"].variables["message"],
            "{{ greeting }} there"
        );
    }

    #[test]
    fn rejects_unknown_component_in_trigger() {
        let text = MANIFEST.replace("component = \"web\"", "component = \"nope\"");
        assert!(Manifest::parse(&text, Path::new("/a/spin.toml"), Path::new("/a")).is_err());
    }

    const REDIS_MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "consumers"
[application.trigger.redis]
address = "{{ redis_url }}"
[variables]
redis_url = { required = true }
[[trigger.redis]]
channel = "events"
component = "worker"
[[trigger.redis]]
channel = "other"
component = "worker"
address = "redis://127.0.0.1:6380"
[component.worker]
source = "worker.wasm"
"#;

    #[test]
    fn parses_redis_triggers_and_their_default_address() {
        let m =
            Manifest::parse(REDIS_MANIFEST, Path::new("/a/spin.toml"), Path::new("/a")).unwrap();
        assert!(m.http_triggers.is_empty());
        assert_eq!(m.redis_address.as_deref(), Some("{{ redis_url }}"));
        assert_eq!(m.redis_triggers.len(), 2);
        assert_eq!(m.redis_triggers[0].channel, "events");
        assert_eq!(m.redis_triggers[0].address, None);
        assert_eq!(
            m.redis_triggers[1].address.as_deref(),
            Some("redis://127.0.0.1:6380")
        );
    }

    #[test]
    fn rejects_what_spin_rejects_in_redis_triggers() {
        let parse = |text: &str| Manifest::parse(text, Path::new("/a/spin.toml"), Path::new("/a"));
        let unknown_field = REDIS_MANIFEST.replace(
            "channel = \"events\"",
            "channel = \"events\"\nexecutor = \"x\"",
        );
        assert!(parse(&unknown_field).is_err());
        let no_channel = REDIS_MANIFEST.replace("channel = \"events\"\n", "");
        assert!(parse(&no_channel).is_err());
        let unknown_component = REDIS_MANIFEST.replace(
            "channel = \"events\"\ncomponent = \"worker\"",
            "channel = \"events\"\ncomponent = \"nope\"",
        );
        assert!(parse(&unknown_component).is_err());
        let unknown_metadata =
            REDIS_MANIFEST.replace("address = \"{{ redis_url }}\"", "adress = \"x\"");
        assert!(parse(&unknown_metadata).is_err());
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(validate_variable_name("database_url").is_ok());
        assert!(validate_variable_name("Database").is_err());
        assert!(validate_variable_name("a__b").is_err());
        assert!(validate_variable_name("1a").is_err());
    }
}
