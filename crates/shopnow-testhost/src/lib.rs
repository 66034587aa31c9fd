//! Spin-compatible test host on wasmtime: serves a `spin.toml` application's HTTP components with
//! Spin's routing, `spin-*` headers, outbound rules and host interfaces (variables, key-value,
//! outbound Redis, SQLite, PostgreSQL). For tests and benchmarks only; production runs real Spin.
//! Every known difference from Spin is listed in `docs/testhost.md`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let host = shopnow_testhost::start(shopnow_testhost::HostConfig::new("spin.toml")).await?;
//! println!("listening on {}", host.addr());
//! host.shutdown().await;
//! # Ok(()) }
//! ```

mod app;
mod bindings;
mod engine;
mod kv;
pub mod manifest;
mod outbound;
mod pg;
mod redis;
mod routing;
mod runtime_config;
mod server;
mod sqlite;
mod state;
mod stdio;
mod variables;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

pub use kv::KvStoreHandle;
pub use pg::PgConnection;
pub use redis::RedisConnection;
pub use sqlite::SqliteConnection;

/// What to serve and how; the library's equivalent of `spin up`'s options.
///
/// `Debug` shows variable names only: values may be secrets.
#[derive(Clone)]
pub struct HostConfig {
    /// The application manifest (`spin up --from`).
    pub manifest: PathBuf,
    /// Address to listen on; port 0 picks a free port (see [`RunningHost::addr`]).
    pub listen: SocketAddr,
    /// Spin runtime config file (`--runtime-config-file`).
    pub runtime_config: Option<PathBuf>,
    /// Where the default key-value store and SQLite database live (`--state-dir`).
    pub state_dir: PathBuf,
    /// Application variable values by (lowercase) name, over the manifest defaults; the role of
    /// `SPIN_VARIABLE_<NAME>` environment variables, which the library itself does not read.
    pub variables: HashMap<String, String>,
    /// Fail loudly (trap the instance, log the statement) when a PostgreSQL `query` matches no
    /// rows: on Spin 4.0.0–4.0.2 such a call never returns (spinframework/spin#3671), so the API
    /// suites run with this on to prove no code path issues one. Off by default, as in Spin.
    pub strict_empty_queries: bool,
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.variables.keys().collect();
        names.sort();
        f.debug_struct("HostConfig")
            .field("manifest", &self.manifest)
            .field("listen", &self.listen)
            .field("runtime_config", &self.runtime_config)
            .field("state_dir", &self.state_dir)
            .field("variables", &names)
            .field("strict_empty_queries", &self.strict_empty_queries)
            .finish()
    }
}

impl HostConfig {
    /// Defaults as `spin up`: listen on 127.0.0.1:3000, state in `.spin` next to the manifest,
    /// no runtime config, no variable overrides.
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        let manifest = manifest.into();
        let state_dir = manifest
            .parent()
            .map_or_else(|| PathBuf::from(".spin"), |d| d.join(".spin"));
        Self {
            manifest,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            runtime_config: None,
            state_dir,
            variables: HashMap::new(),
            strict_empty_queries: false,
        }
    }
}

/// A host serving requests; stops on [`RunningHost::shutdown`] or when dropped.
pub struct RunningHost {
    addr: SocketAddr,
    app: Arc<app::App>,
    routes: Vec<(String, String)>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningHost {
    /// The largest linear memory, in bytes, any instance of component `id` has had since the
    /// host started (`None` for an unknown id). Spin does not report this; tests use it to show
    /// that a request cannot make an instance allocate what it sends.
    pub fn peak_linear_memory(&self, id: &str) -> Option<usize> {
        self.app
            .components
            .get(id)
            .map(|c| c.peak_memory.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The address the host listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The public routes as `(route, component id)`, wildcards shown as `/prefix (wildcard)`.
    pub fn routes(&self) -> &[(String, String)] {
        &self.routes
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 10 s), closes the
    /// PostgreSQL pools.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        // A host dropped without `shutdown` still stops accepting; its task ends on its own.
        let _ = self.shutdown.send(true);
    }
}

/// Loads the application and starts serving it.
///
/// Fails when anything Spin checks at startup is wrong (manifest, variables, runtime config,
/// missing `.wasm`, imports the host doesn't provide, undefined stores) or the address can't be
/// bound.
pub async fn start(config: HostConfig) -> anyhow::Result<RunningHost> {
    let listen = config.listen;
    let (app, warnings) = tokio::task::spawn_blocking(move || app::App::build(&config))
        .await
        .context("application loading panicked")??;
    for w in warnings {
        eprintln!("shopnow-testhost: warning: {w}");
    }
    let routes = app.router.describe();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let app = Arc::new(app);
    let task = tokio::spawn(server::serve(listener, app.clone(), rx));
    Ok(RunningHost {
        addr,
        app,
        routes,
        shutdown: tx,
        task: Some(task),
    })
}
