//! The loaded application: components pre-instantiated against the host's linker, the router,
//! and the stores and databases the components may open. Built once per host at startup; every
//! check Spin makes at load time (missing imports, undefined stores, unresolvable variables)
//! fails here, before the listener opens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::HostConfig;
use crate::kv::KvBackend;
use crate::manifest::Manifest;
use crate::outbound::AllowedHosts;
use crate::pg::PgPools;
use crate::routing::Router;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::sqlite::SharedDb;
use crate::state::InstanceState;
use crate::variables::AppVariables;

/// One component, ready to instantiate per request or message.
pub(crate) struct AppComponent {
    pub(crate) id: String,
    /// The component pre-instantiated against the host's linker.
    pub(crate) instance: InstancePre<InstanceState>,
    /// Its `wasi:http/incoming-handler`; `None` for a component only Redis triggers invoke (Spin
    /// looks up a Redis component's handler per message, [`crate::redis_trigger`]).
    pub(crate) http: Option<ProxyPre<InstanceState>>,
    pub(crate) variables: BTreeMap<String, String>,
    pub(crate) allowed_hosts: AllowedHosts,
    pub(crate) kv_stores: HashSet<String>,
    pub(crate) sqlite_dbs: HashSet<String>,
    /// The largest linear memory any instance of this component has asked for, in bytes
    /// (recorded by [`InstanceState`]'s resource limiter; Spin does not report it).
    pub(crate) peak_memory: std::sync::atomic::AtomicUsize,
}

/// The application a host serves.
pub(crate) struct App {
    pub(crate) components: HashMap<String, Arc<AppComponent>>,
    pub(crate) router: Router,
    pub(crate) kv: HashMap<String, KvBackend>,
    pub(crate) sqlite: HashMap<String, SharedDb>,
    pub(crate) pg: PgPools,
    /// The Redis trigger's subscriptions, resolved: one per server address.
    pub(crate) redis: Vec<crate::redis_trigger::Subscription>,
    /// [`crate::HostConfig::strict_empty_queries`].
    pub(crate) strict_empty_queries: bool,
}

/// The cargo package that builds a `.wasm` file, guessed from its name (`foo_bar.wasm` is built
/// by package `foo-bar`).
fn build_hint(source: &std::path::Path) -> String {
    let package = source
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_default();
    format!("cargo build --target wasm32-wasip2 --release -p {package}")
}

impl App {
    /// Loads the manifest, runtime config and components. Blocking (compiles components).
    ///
    /// Fails on any invalid input: manifest, variables, runtime config, a missing or invalid
    /// `.wasm`, an import the host doesn't provide, a store or database no runtime config defines.
    pub(crate) fn build(config: &HostConfig) -> anyhow::Result<(Self, Vec<String>)> {
        let manifest = Manifest::load(&config.manifest)?;
        let vars = AppVariables::resolve(&manifest.variables, &config.variables)?;
        let runtime = RuntimeConfig::load(config.runtime_config.as_deref(), &config.state_dir)?;
        let engine = crate::engine::engine()?;

        let mut linker: Linker<InstanceState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot add WASI to the linker")?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot add wasi:http to the linker")?;
        crate::bindings::SpinHost::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("cannot add the Spin interfaces to the linker")?;

        let (router, warnings) = Router::build(
            manifest
                .http_triggers
                .iter()
                .filter_map(|t| t.route.as_deref().map(|r| (t.component.as_str(), r))),
        );

        let mut used_kv = HashSet::new();
        let mut used_sqlite = HashSet::new();
        let mut components = HashMap::new();
        let http_triggered: HashSet<&str> = manifest
            .http_triggers
            .iter()
            .map(|t| t.component.as_str())
            .collect();
        let triggered = http_triggered
            .iter()
            .copied()
            .chain(manifest.redis_triggers.iter().map(|t| t.component.as_str()))
            .collect::<HashSet<&str>>();
        for id in triggered {
            let decl = manifest
                .components
                .get(id)
                .with_context(|| format!("unknown component `{id}`"))?;
            let component = Self::load_component(
                &engine,
                &linker,
                &manifest,
                decl,
                &vars,
                &runtime,
                http_triggered.contains(id),
            )
            .with_context(|| format!("cannot load component `{id}`"))?;
            used_kv.extend(component.kv_stores.iter().cloned());
            used_sqlite.extend(component.sqlite_dbs.iter().cloned());
            components.insert(id.to_owned(), Arc::new(component));
        }

        let mut kv = HashMap::new();
        for label in used_kv {
            let backend = match runtime.key_value_stores.get(&label) {
                Some(KvStoreConfig::Sqlite(path)) => KvBackend::sqlite(&label, path.as_deref())
                    .with_context(|| format!("key-value store `{label}`"))?,
                Some(KvStoreConfig::Redis(url)) => KvBackend::redis(url),
                None => anyhow::bail!("key-value store `{label}` is not defined"),
            };
            kv.insert(label, backend);
        }
        let mut sqlite = HashMap::new();
        for label in used_sqlite {
            let cfg = runtime
                .sqlite_databases
                .get(&label)
                .with_context(|| format!("SQLite database `{label}` is not defined"))?;
            let db = crate::sqlite::open_db(cfg.path.as_deref())
                .with_context(|| format!("SQLite database `{label}`"))?;
            sqlite.insert(label, db);
        }

        let redis = crate::redis_trigger::Subscription::resolve(&manifest, &vars)?;

        Ok((
            Self {
                components,
                router,
                kv,
                sqlite,
                pg: PgPools::default(),
                redis,
                strict_empty_queries: config.strict_empty_queries,
            },
            warnings,
        ))
    }

    fn load_component(
        engine: &wasmtime::Engine,
        linker: &Linker<InstanceState>,
        manifest: &Manifest,
        decl: &crate::manifest::ComponentDecl,
        vars: &AppVariables,
        runtime: &RuntimeConfig,
        serves_http: bool,
    ) -> anyhow::Result<AppComponent> {
        if !decl.source.exists() {
            anyhow::bail!(
                "component file {} does not exist; build it with `{}` (in {})",
                decl.source.display(),
                decl.build_command
                    .clone()
                    .unwrap_or_else(|| build_hint(&decl.source)),
                manifest.dir().display()
            );
        }
        let variables = decl
            .variables
            .iter()
            .map(|(k, tpl)| {
                Ok((
                    k.clone(),
                    vars.expand(tpl)
                        .with_context(|| format!("variable `{k}`"))?,
                ))
            })
            .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
        let hosts = decl
            .allowed_outbound_hosts
            .iter()
            .map(|h| vars.expand(h))
            .collect::<anyhow::Result<Vec<_>>>()
            .context("allowed_outbound_hosts")?;
        let allowed_hosts = AllowedHosts::parse(&hosts).context("allowed_outbound_hosts")?;
        for label in &decl.key_value_stores {
            if !runtime.key_value_stores.contains_key(label) {
                anyhow::bail!(
                    "key_value_stores: `{label}` is not defined; add [key_value_store.{label}] to the runtime config"
                );
            }
        }
        for label in &decl.sqlite_databases {
            if !runtime.sqlite_databases.contains_key(label) {
                anyhow::bail!(
                    "sqlite_databases: `{label}` is not defined; add [sqlite_database.{label}] to the runtime config"
                );
            }
        }
        let component = crate::engine::load_component(engine, &decl.source)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("the component needs an import the test host does not provide")?;
        let http = if serves_http {
            Some(
                ProxyPre::new(pre.clone())
                    .map_err(anyhow::Error::from)
                    .context("the component does not export wasi:http/incoming-handler")?,
            )
        } else {
            None
        };
        Ok(AppComponent {
            id: decl.id.clone(),
            instance: pre,
            http,
            variables,
            allowed_hosts,
            kv_stores: decl.key_value_stores.iter().cloned().collect(),
            sqlite_dbs: decl.sqlite_databases.iter().cloned().collect(),
            peak_memory: std::sync::atomic::AtomicUsize::new(0),
        })
    }
}
