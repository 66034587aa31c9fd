//! Spin-compatible test host on wasmtime: serves a `spin.toml` application's HTTP components with
//! Spin's routing, `spin-*` headers, outbound rules and host interfaces (variables, key-value,
//! outbound Redis, SQLite, PostgreSQL), and runs its Redis-triggered components on the messages of
//! their channels. For tests and benchmarks only; production runs real Spin.
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
mod redis_trigger;
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
use std::sync::{Arc, Mutex};

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
    /// Address to listen on; port 0 picks a free port (see [`RunningHost::addr`]). Unused by an
    /// application without HTTP triggers (as `spin up`, the host then binds no port).
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

/// A host serving requests and messages; stops on [`RunningHost::shutdown`], when dropped, or
/// (as `spin up` exits) when a Redis trigger loses its server.
pub struct RunningHost {
    addr: Option<SocketAddr>,
    app: Arc<app::App>,
    routes: Vec<(String, String)>,
    channels: Vec<(String, String, Vec<String>)>,
    shutdown: Arc<watch::Sender<bool>>,
    exited: Arc<Mutex<Option<String>>>,
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

    /// The address the host listens on; `0.0.0.0:0` for an application without HTTP triggers
    /// (no port is bound, see [`RunningHost::serves_http`]).
    pub fn addr(&self) -> SocketAddr {
        self.addr
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Whether the application has HTTP triggers (and the host a listener).
    pub fn serves_http(&self) -> bool {
        self.addr.is_some()
    }

    /// The public routes as `(route, component id)`, wildcards shown as `/prefix (wildcard)`.
    pub fn routes(&self) -> &[(String, String)] {
        &self.routes
    }

    /// The Redis trigger's subscriptions as `(server, channel, component ids)`, each subscribed
    /// before [`start`] returned.
    pub fn redis_channels(&self) -> &[(String, String, Vec<String>)] {
        &self.channels
    }

    /// Why the host stopped on its own (a Redis trigger's server dropped the connection), or
    /// `None` while it runs or after [`RunningHost::shutdown`].
    pub fn exited(&self) -> Option<String> {
        self.exited.lock().ok().and_then(|e| e.clone())
    }

    /// Stops accepting connections and messages, lets in-flight requests and messages finish (up
    /// to 10 s for requests), closes the PostgreSQL pools.
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

/// Loads the application and starts serving it: binds the HTTP listener (when the application
/// has HTTP triggers) and connects and subscribes every Redis trigger.
///
/// Fails when anything Spin checks at startup is wrong (manifest, variables, runtime config,
/// missing `.wasm`, imports the host doesn't provide, undefined stores), the address can't be
/// bound, or a Redis trigger's server can't be reached.
pub async fn start(config: HostConfig) -> anyhow::Result<RunningHost> {
    let listen = config.listen;
    let (app, warnings) = tokio::task::spawn_blocking(move || app::App::build(&config))
        .await
        .context("application loading panicked")??;
    for w in warnings {
        eprintln!("shopnow-testhost: warning: {w}");
    }
    let routes = app.router.describe();
    let listener = if app.components.values().any(|c| c.http.is_some()) {
        Some(
            tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?,
        )
    } else {
        None
    };
    let addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
    let mut subscribers = Vec::new();
    for subscription in &app.redis {
        subscribers.push(redis_trigger::Subscriber::connect(subscription).await?);
    }
    let channels = subscribers
        .iter()
        .flat_map(redis_trigger::Subscriber::describe)
        .collect();
    let (tx, rx) = watch::channel(false);
    let tx = Arc::new(tx);
    let exited = Arc::new(Mutex::new(None));
    let app = Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(listener) = listener {
        tasks.spawn(server::serve(listener, app.clone(), rx.clone()));
    }
    for subscriber in subscribers {
        tasks.spawn(subscriber.run(app.clone(), rx.clone(), tx.clone(), exited.clone()));
    }
    let pools = app.clone();
    let task = tokio::spawn(async move {
        while tasks.join_next().await.is_some() {}
        pools.pg.close();
    });
    Ok(RunningHost {
        addr,
        app,
        routes,
        channels,
        shutdown: tx,
        exited,
        task: Some(task),
    })
}
