//! The runtime config file (`--runtime-config-file`), in Spin's format.
//!
//! ```toml
//! [key_value_store.default]      # type "spin": SQLite file (no path = in memory)
//! type = "spin"
//! path = ".spin/sqlite_key_value.db"
//! [key_value_store.cache]        # type "redis"
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//! [sqlite_database.default]      # type "spin"; path ":memory:" or absent = in memory
//! type = "spin"
//! path = ".spin/sqlite_db.db"
//! ```
//! Relative paths resolve against the runtime config file's directory. Missing `default` entries
//! fall back to files in the state directory, as in Spin. Pure parsing; no connections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// Where a key-value store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KvStoreConfig {
    /// Embedded SQLite; `None` = in memory.
    Sqlite(Option<PathBuf>),
    /// A Redis server.
    Redis(String),
}

/// Where a SQLite database lives; `None` = in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteDbConfig {
    pub(crate) path: Option<PathBuf>,
}

/// The parsed runtime config with Spin's defaults applied.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuntimeConfig {
    pub(crate) key_value_stores: BTreeMap<String, KvStoreConfig>,
    pub(crate) sqlite_databases: BTreeMap<String, SqliteDbConfig>,
}

#[derive(Deserialize)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

fn resolve_path(base: &Path, path: Option<&str>) -> Option<PathBuf> {
    match path {
        None | Some(":memory:") => None,
        Some(p) => Some(base.join(p)),
    }
}

impl RuntimeConfig {
    /// Loads `file` (if any) and adds the defaults: the `default` key-value store at
    /// `<state_dir>/sqlite_key_value.db`, the `default` database at `<state_dir>/sqlite_db.db`.
    ///
    /// Fails on an unreadable file, an unknown store `type`, or a missing `url`.
    pub(crate) fn load(file: Option<&Path>, state_dir: &Path) -> anyhow::Result<Self> {
        let mut cfg = Self::default();
        if let Some(file) = file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read runtime config {}", file.display()))?;
            let base = std::path::absolute(file)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            cfg = Self::parse(&text, &base)
                .with_context(|| format!("invalid runtime config {}", file.display()))?;
        }
        cfg.key_value_stores
            .entry("default".to_owned())
            .or_insert_with(|| KvStoreConfig::Sqlite(Some(state_dir.join("sqlite_key_value.db"))));
        cfg.sqlite_databases
            .entry("default".to_owned())
            .or_insert_with(|| SqliteDbConfig {
                path: Some(state_dir.join("sqlite_db.db")),
            });
        Ok(cfg)
    }

    fn parse(text: &str, base: &Path) -> anyhow::Result<Self> {
        let table: toml::Table = toml::from_str(text)?;
        let mut cfg = Self::default();
        for (key, value) in table {
            match key.as_str() {
                "key_value_store" => {
                    let stores: BTreeMap<String, RawStore> = value.try_into()?;
                    for (name, s) in stores {
                        let store = match s.kind.as_str() {
                            "spin" => KvStoreConfig::Sqlite(resolve_path(base, s.path.as_deref())),
                            "redis" => KvStoreConfig::Redis(s.url.with_context(|| {
                                format!("key_value_store.{name}: type \"redis\" needs a url")
                            })?),
                            other => bail!(
                                "key_value_store.{name}: type {other:?} is not supported by the test host (spin, redis)"
                            ),
                        };
                        cfg.key_value_stores.insert(name, store);
                    }
                }
                "sqlite_database" => {
                    let dbs: BTreeMap<String, RawStore> = value.try_into()?;
                    for (name, d) in dbs {
                        if d.kind != "spin" {
                            bail!(
                                "sqlite_database.{name}: type {:?} is not supported by the test host (spin)",
                                d.kind
                            );
                        }
                        cfg.sqlite_databases.insert(
                            name,
                            SqliteDbConfig {
                                path: resolve_path(base, d.path.as_deref()),
                            },
                        );
                    }
                }
                other => eprintln!(
                    "shopnow-testhost: warning: runtime config section [{other}] is ignored by the test host"
                ),
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stores_and_applies_defaults() {
        let dir = Path::new("/cfg");
        let mut cfg = RuntimeConfig::parse(
            r#"
[key_value_store.cache]
type = "redis"
url = "redis://127.0.0.1:6379"
[key_value_store.sessions]
type = "spin"
path = "data/kv.db"
[sqlite_database.catalog]
type = "spin"
path = ":memory:"
"#,
            dir,
        )
        .unwrap();
        assert_eq!(
            cfg.key_value_stores["sessions"],
            KvStoreConfig::Sqlite(Some(PathBuf::from("/cfg/data/kv.db")))
        );
        assert_eq!(cfg.sqlite_databases["catalog"].path, None);
        cfg.key_value_stores.remove("default");
        assert!(!cfg.key_value_stores.contains_key("default"));
    }

    #[test]
    fn defaults_live_in_the_state_dir() {
        let cfg = RuntimeConfig::load(None, Path::new("/state")).unwrap();
        assert_eq!(
            cfg.key_value_stores["default"],
            KvStoreConfig::Sqlite(Some(PathBuf::from("/state/sqlite_key_value.db")))
        );
        assert_eq!(
            cfg.sqlite_databases["default"].path,
            Some(PathBuf::from("/state/sqlite_db.db"))
        );
    }

    #[test]
    fn unknown_type_fails() {
        assert!(
            RuntimeConfig::parse(
                "[key_value_store.x]\ntype = \"azure_cosmos\"\n",
                Path::new("/")
            )
            .is_err()
        );
    }
}
