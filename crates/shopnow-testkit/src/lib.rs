//! Test kit for black-box API tests: [`TestApp`] starts the application under the Spin-compatible
//! test host on a free port with fresh state, and [`api_test!`] runs one test body on every
//! backend.
//!
//! Backends:
//! - [`Backend::Embedded`]: a fresh temporary directory holds every key-value store and SQLite
//!   database the components list (Spin's `spin` type).
//! - [`Backend::Postgres`]: each application variable named `*_database_url` gets a fresh
//!   PostgreSQL database (`shopnow_t_<random>`, dropped with the `TestApp`), and every key-value
//!   store is Redis. Needs `SHOPNOW_TEST_DATABASE_URL` and `SHOPNOW_TEST_REDIS_URL`; without them
//!   the test is skipped (a line on stderr), or fails when `CI` is set. Redis data is shared by
//!   all tests; keep them apart with random ids.
//!
//!
//! Hosts ([`Host`]): the repository's test host (in process, fast, and it can report what Spin
//! hides), or real Spin (`spin up` as a child process, see [`spin_binary`]): the same fresh state
//! and variables, so one test body runs on both. Where the two disagree, Spin is right.
//!
//! A variant that cannot run here (no PostgreSQL/Redis configured, no Spin binary) prints a
//! `skipped:` line and appends it to the file named by `SHOPNOW_TEST_SKIPS`, so `scripts/test`
//! counts it as skipped rather than passed.
//!
//! [`browser::Browser`] drives a headless Chromium through chromedriver for end-to-end tests of
//! pages (forms, navigation, screenshots, axe-core accessibility checks).
//!
//! Setup failures panic with a message saying what to do: this crate is for tests only.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit fails the test loudly when its setup fails"
)]

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use shopnow_testhost::manifest::Manifest;
use shopnow_testhost::{HostConfig, RunningHost};

pub mod browser;
mod spin;
pub use spin::{SPIN_BIN_ENV, spin_binary};

/// Environment variable with an admin URL of the PostgreSQL server for the Postgres backend.
pub const DATABASE_URL_ENV: &str = "SHOPNOW_TEST_DATABASE_URL";
/// Environment variable with the Redis URL for the Postgres backend.
pub const REDIS_URL_ENV: &str = "SHOPNOW_TEST_REDIS_URL";

/// Which backing services a [`TestApp`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite for SQL and key-value (Spin's defaults).
    Embedded,
    /// PostgreSQL for SQL (fresh database per `*_database_url` variable) and Redis for key-value.
    Postgres,
}

/// What serves the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `shopnow-testhost`, in this process.
    TestHost,
    /// Real Spin: `spin up` from [`spin_binary`].
    Spin,
}

/// Environment variable naming a file that collects one line per skipped test variant.
pub const SKIPS_ENV: &str = "SHOPNOW_TEST_SKIPS";

/// Reports the current test as skipped: a line on stderr, and one in `SHOPNOW_TEST_SKIPS`'s file.
pub fn record_skip(reason: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("test").to_owned();
    eprintln!("skipped: {test}: {reason}");
    if let Some(path) = std::env::var_os(SKIPS_ENV) {
        let line = format!("{test}: {reason}\n");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            // One write per line: appends from parallel test binaries do not interleave.
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Whether `host` can run here. The test host always can. Spin needs [`spin_binary`]; without one
/// the test is recorded as skipped (also under `CI`: the machine has no Spin to prove anything
/// on), with one it must run.
pub fn host_available(host: Host) -> bool {
    if host == Host::TestHost || spin_binary().is_some() {
        return true;
    }
    record_skip(&format!(
        "no Spin binary (set {SPIN_BIN_ENV} or put it at ../shared/bin/spin) for the real-Spin variant"
    ));
    false
}

/// Options for [`TestApp::spawn_with`].
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    variables: HashMap<String, String>,
    manifest: Option<PathBuf>,
    env: Vec<(String, String)>,
    test_host_binary: Option<PathBuf>,
    allow_leftovers: bool,
    with_consumers: bool,
}

impl SpawnOptions {
    /// Also runs the event consumers (`spin-consumers.toml`) beside the application, on the same
    /// host kind, state and variables, when the app has an event log. Off by default (another
    /// process per Spin test); without it, [`TestApp::start_consumers`] starts them later (a
    /// consumer that was down).
    pub fn with_consumers(mut self) -> Self {
        self.with_consumers = true;
        self
    }

    /// Sets an application variable (as `SPIN_VARIABLE_<NAME>` would); wins over the fresh
    /// database URL the Postgres backend would give a `*_database_url` variable.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets an environment variable of the host process (e.g. OpenSSL's `SSL_CERT_FILE`). Only a
    /// host that runs as its own process gets it: Spin, or the test host's binary given by
    /// [`SpawnOptions::test_host_binary`]; the in-process test host shares the test's
    /// environment, so [`TestApp::spawn_on`] refuses this for it.
    pub fn process_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Lets the test end with stock reservations still held or orders still `pending` (see
    /// [`TestApp`]'s teardown check): only for a test that leaves them on purpose, saying why.
    pub fn allow_leftovers(mut self, _why: &str) -> Self {
        self.allow_leftovers = true;
        self
    }

    /// Runs [`Host::TestHost`] as a child process of this `shopnow-testhost` binary (as a user
    /// would run it) instead of in the test's process. Tests of the test host crate have its path
    /// in `env!("CARGO_BIN_EXE_shopnow-testhost")`.
    pub fn test_host_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.test_host_binary = Some(path.into());
        self
    }

    /// Serves another manifest instead of the repository's `spin.toml` (relative paths resolve
    /// against the repository root).
    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }
}

/// The process or task serving a [`TestApp`].
enum Running {
    TestHost(RunningHost),
    /// A child process: `spin up`, or the test host's binary.
    Process(spin::SpinProcess),
}

/// A running application with fresh state, and an HTTP client for it.
pub struct TestApp {
    host: Option<Running>,
    kind: Host,
    addr: SocketAddr,
    client: reqwest::Client,
    databases: HashMap<String, String>,
    backend: Backend,
    allow_leftovers: bool,
    cleanup: Option<PgCleanup>,
    state: tempfile::TempDir,
    events: EventLog,
    /// Behind a lock so that tests (which hold a `TestApp`, not `&mut`) can stop and start them.
    consumers: std::sync::Mutex<Option<Running>>,
    consumer_launch: Option<ConsumerLaunch>,
}

/// What it takes to (re)start an app's consumers: the same runtime config, state and variables.
struct ConsumerLaunch {
    manifest: PathBuf,
    runtime_config: PathBuf,
    state_dir: PathBuf,
    variables: HashMap<String, String>,
    env: Vec<(String, String)>,
    channels: Vec<String>,
}

/// The manifest of the event consumers, beside `spin.toml`.
pub const CONSUMERS_MANIFEST: &str = "spin-consumers.toml";

/// Where this app's services relay their events: a Redis and a stream prefix of its own.
#[derive(Debug, Clone, Default)]
struct EventLog {
    redis_url: Option<String>,
    prefix: String,
}

struct PgCleanup {
    admin_url: String,
    names: Vec<String>,
}

/// The repository root: the nearest ancestor of `CARGO_MANIFEST_DIR` (else the current
/// directory) holding `Cargo.lock` and `spin.toml`, else the nearest holding `Cargo.lock`.
pub fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("no current directory"));
    let with_lock: Vec<&Path> = start
        .ancestors()
        .filter(|d| d.join("Cargo.lock").is_file())
        .collect();
    with_lock
        .iter()
        .find(|d| d.join("spin.toml").is_file())
        .or(with_lock.last())
        .map(|d| d.to_path_buf())
        .unwrap_or(start)
}

/// Whether `backend` can run here. Embedded always can. Postgres needs
/// `SHOPNOW_TEST_DATABASE_URL` and `SHOPNOW_TEST_REDIS_URL`: without them this prints a
/// "skipped" line and returns false, or panics when `CI` is set (CI must not skip silently).
pub fn backend_available(backend: Backend) -> bool {
    if backend == Backend::Embedded {
        return true;
    }
    let have = std::env::var(DATABASE_URL_ENV).is_ok() && std::env::var(REDIS_URL_ENV).is_ok();
    if have {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "PostgreSQL/Redis tests require {DATABASE_URL_ENV} (e.g. postgres://postgres@127.0.0.1:5432/postgres) and {REDIS_URL_ENV} (e.g. redis://127.0.0.1:6379); CI is set, so they may not be skipped"
        );
    }
    record_skip(&format!(
        "set {DATABASE_URL_ENV} and {REDIS_URL_ENV} to run the PostgreSQL/Redis variant"
    ));
    false
}

/// The admin URL with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", base.get(..host_end).unwrap_or(base));
    if let Some(q) = query {
        let _ = write!(out, "?{q}");
    }
    out
}

/// Whether `e` is PostgreSQL refusing a session because every slot is taken: another test's
/// burst (Spin pools up to 64 sessions per database) can hold them for a moment.
fn too_many_clients(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::TOO_MANY_CONNECTIONS)
}

async fn pg_admin(url: &str) -> tokio_postgres::Client {
    let mut waited_ms = 0;
    loop {
        match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                return client;
            }
            Err(e) if too_many_clients(&e) && waited_ms < 30_000 => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                waited_ms += 200;
            }
            Err(e) => {
                panic!("{DATABASE_URL_ENV}={url} is set but PostgreSQL is unreachable: {e}")
            }
        }
    }
}

async fn check_redis(url: &str) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url
        .strip_prefix("redis://")
        .unwrap_or_else(|| panic!("{REDIS_URL_ENV}={url}: only redis:// URLs are supported"));
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:6379")
    };
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap_or_else(|e| panic!("{REDIS_URL_ENV}={url} is set but Redis is unreachable: {e}"));
    stream.write_all(b"PING\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).await.unwrap();
    let reply = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
    assert!(
        reply.starts_with("+PONG") || reply.starts_with("-NOAUTH"),
        "{REDIS_URL_ENV}={url}: unexpected reply to PING: {reply:?}"
    );
}

/// The event log variables of an app: when the tests have a Redis (`SHOPNOW_TEST_REDIS_URL`) and
/// the manifest declares `events_redis_url`, every service relays to it (on both SQL backends)
/// under a stream prefix of this app's own, unless the test set those variables itself.
async fn events_log(
    manifest: &Manifest,
    opts: &SpawnOptions,
    variables: &mut HashMap<String, String>,
) -> EventLog {
    let prefix = opts
        .variables
        .get("events_stream_prefix")
        .cloned()
        .unwrap_or_else(|| format!("shopnow-t-{}", uuid::Uuid::new_v4().simple()));
    if !manifest.variables.contains_key("events_redis_url") {
        return EventLog::default();
    }
    variables.insert("events_stream_prefix".into(), prefix.clone());
    let redis_url = match opts.variables.get("events_redis_url") {
        Some(url) => Some(url.clone()).filter(|u| !u.is_empty()),
        None => match std::env::var(REDIS_URL_ENV).ok().filter(|u| !u.is_empty()) {
            Some(url) => {
                check_redis(&url).await;
                variables.insert("events_redis_url".into(), url.clone());
                if !opts.variables.contains_key("events_redis_host") {
                    variables.insert("events_redis_host".into(), redis_authority(&url));
                }
                Some(url)
            }
            None => None,
        },
    };
    EventLog { redis_url, prefix }
}

/// `host:port` of a `redis://` URL (port 6379 when absent), for `allowed_outbound_hosts`.
pub fn redis_authority(url: &str) -> String {
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:6379")
    }
}

/// Every entry of `stream` on the Redis at `url`: the JSON of each entry's `event` field.
///
/// # Panics
/// When Redis is unreachable or an entry is not an event envelope.
pub async fn read_stream(url: &str, stream: &str) -> Vec<serde_json::Value> {
    let client = redis::Client::open(url).unwrap_or_else(|e| panic!("redis {url}: {e}"));
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis {url}: {e}"));
    let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("XRANGE {stream}: {e}"));
    entries
        .into_iter()
        .map(|(id, fields)| {
            let event = fields
                .get("event")
                .unwrap_or_else(|| panic!("stream {stream} entry {id} has no `event` field"));
            serde_json::from_str(event)
                .unwrap_or_else(|e| panic!("stream {stream} entry {id}: not JSON: {e}"))
        })
        .collect()
}

/// Appends an entry whose `event` field is `envelope` to `stream` on the Redis at `url`, as the
/// relay does (tests that put on the log what no service would: a broken event).
///
/// # Panics
/// When Redis is unreachable or refuses the entry.
pub async fn append_to_stream(url: &str, stream: &str, envelope: &str) -> String {
    let client = redis::Client::open(url).unwrap_or_else(|e| panic!("redis {url}: {e}"));
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis {url}: {e}"));
    redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg("event")
        .arg(envelope)
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("XADD {stream}: {e}"))
}

fn delete_streams(url: String, streams: Vec<String>) {
    // Own thread and runtime: Drop can't await.
    let handle = std::thread::spawn(move || {
        let Ok(client) = redis::Client::open(url.as_str()) else {
            return;
        };
        if let Ok(mut conn) = client.get_connection() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&streams).query(&mut conn);
        }
    });
    let _ = handle.join();
}

/// The runtime config [`TestApp::spawn_on`] writes into the app's state directory.
fn runtime_path_of(state: &tempfile::TempDir) -> PathBuf {
    state.path().join("runtime-config.toml")
}

/// The consumers' launch: [`CONSUMERS_MANIFEST`], with the app's variables that it declares, and
/// the channels it subscribes to (for its readiness).
fn consumer_launch(
    root: &Path,
    runtime_config: &Path,
    state_dir: &Path,
    variables: &HashMap<String, String>,
    env: &[(String, String)],
    prefix: &str,
) -> ConsumerLaunch {
    let manifest = root.join(CONSUMERS_MANIFEST);
    let declared = Manifest::load(&manifest).unwrap_or_else(|e| panic!("{e:#}"));
    let variables = variables
        .iter()
        .filter(|(name, _)| declared.variables.contains_key(*name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    ConsumerLaunch {
        manifest,
        runtime_config: runtime_config.to_path_buf(),
        state_dir: state_dir.to_path_buf(),
        variables,
        env: env.to_vec(),
        channels: ["identity", "catalog", "orders"]
            .map(|source| format!("{prefix}:events:{source}"))
            .to_vec(),
    }
}

/// Labels of the stores and databases the manifest's components list.
fn labels(manifest: &Manifest) -> (BTreeSet<String>, BTreeSet<String>) {
    let kv = manifest
        .components
        .values()
        .flat_map(|c| c.key_value_stores.iter().cloned())
        .collect();
    let sql = manifest
        .components
        .values()
        .flat_map(|c| c.sqlite_databases.iter().cloned())
        .collect();
    (kv, sql)
}

/// A TOML basic string (paths and URLs carry no control characters).
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl TestApp {
    /// Starts the repository's `spin.toml` on `backend`.
    ///
    /// # Panics
    /// When the application can't start (a missing `.wasm`: the message has the build command),
    /// or the backend is unavailable or unreachable.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, SpawnOptions::default()).await
    }

    /// Starts an application with options under the test host.
    ///
    /// # Panics
    /// As [`TestApp::spawn`].
    pub async fn spawn_with(backend: Backend, opts: SpawnOptions) -> TestApp {
        Self::spawn_on(Host::TestHost, backend, opts).await
    }

    /// Starts an application with options under `host`.
    ///
    /// # Panics
    /// As [`TestApp::spawn`]; for [`Host::Spin`] also when there is no Spin binary or `spin up`
    /// does not come up (the message has its output).
    pub async fn spawn_on(host: Host, backend: Backend, opts: SpawnOptions) -> TestApp {
        let root = repo_root();
        let manifest_path = match &opts.manifest {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => root.join(p),
            None => root.join("spin.toml"),
        };
        let manifest = Manifest::load(&manifest_path).unwrap_or_else(|e| panic!("{e:#}"));
        for c in manifest.components.values() {
            if !c.source.exists() {
                let cmd = c.build_command.clone().unwrap_or_else(|| {
                    let pkg = c
                        .source
                        .file_stem()
                        .map(|s| s.to_string_lossy().replace('_', "-"))
                        .unwrap_or_default();
                    format!("cargo build --target wasm32-wasip2 --release -p {pkg}")
                });
                panic!(
                    "component `{}`: {} is missing; build it first with `{cmd}` (scripts/test does this)",
                    c.id,
                    c.source.display()
                );
            }
        }
        let state = tempfile::Builder::new()
            .prefix("shopnow-test-")
            .tempdir()
            .expect("cannot create a temporary state directory");
        let (kv_labels, sql_labels) = labels(&manifest);
        let mut variables = opts.variables.clone();
        let mut databases = HashMap::new();
        let mut cleanup = None;
        let mut runtime = String::new();
        let redis_url = match backend {
            Backend::Embedded => None,
            Backend::Postgres => {
                assert!(
                    backend_available(Backend::Postgres),
                    "PostgreSQL/Redis tests require {DATABASE_URL_ENV} and {REDIS_URL_ENV}"
                );
                let admin_url = std::env::var(DATABASE_URL_ENV).unwrap();
                let redis_url = std::env::var(REDIS_URL_ENV).unwrap();
                check_redis(&redis_url).await;
                let admin = pg_admin(&admin_url).await;
                let mut names = Vec::new();
                for name in manifest.variables.keys() {
                    if !name.ends_with("_database_url") || opts.variables.contains_key(name) {
                        continue;
                    }
                    let db = format!("shopnow_t_{}", uuid::Uuid::new_v4().simple());
                    admin
                        .batch_execute(&format!("CREATE DATABASE {db}"))
                        .await
                        .unwrap_or_else(|e| panic!("cannot create database {db}: {e}"));
                    let url = with_database(&admin_url, &db);
                    variables.insert(name.clone(), url.clone());
                    databases.insert(name.clone(), url);
                    names.push(db);
                }
                cleanup = Some(PgCleanup { admin_url, names });
                Some(redis_url)
            }
        };
        let events = events_log(&manifest, &opts, &mut variables).await;
        // With Redis, each key-value store is also reached the way production reaches it: the
        // components' outbound Redis (`*_kv_redis_url`, crates/shopnow-spin/src/kv.rs), not
        // only Spin's key-value store on Redis.
        if let Some(url) = &redis_url {
            for name in manifest.variables.keys() {
                if name.ends_with("_kv_redis_url") && !opts.variables.contains_key(name) {
                    variables.insert(name.clone(), url.clone());
                }
            }
            if manifest.variables.contains_key("kv_redis_host")
                && !opts.variables.contains_key("kv_redis_host")
            {
                variables.insert("kv_redis_host".into(), redis_authority(url));
            }
        }
        for label in &kv_labels {
            let _ = match &redis_url {
                Some(url) => writeln!(
                    runtime,
                    "[key_value_store.{label}]\ntype = \"redis\"\nurl = {}\n",
                    toml_str(url)
                ),
                None => writeln!(
                    runtime,
                    "[key_value_store.{label}]\ntype = \"spin\"\npath = {}\n",
                    toml_str(
                        &state
                            .path()
                            .join(format!("kv-{label}.db"))
                            .to_string_lossy()
                    )
                ),
            };
        }
        for label in &sql_labels {
            let _ = writeln!(
                runtime,
                "[sqlite_database.{label}]\ntype = \"spin\"\npath = {}\n",
                toml_str(
                    &state
                        .path()
                        .join(format!("sqlite-{label}.db"))
                        .to_string_lossy()
                )
            );
        }
        let runtime_path = state.path().join("runtime-config.toml");
        std::fs::write(&runtime_path, runtime).expect("cannot write the runtime config");

        let state_dir = state.path().join(".spin");
        // A host in its own process: Spin, or the test host's binary when one is given.
        let process = match (host, &opts.test_host_binary) {
            (Host::TestHost, Some(bin)) => Some((bin.clone(), None)),
            (Host::TestHost, None) => None,
            (Host::Spin, _) => Some((
                spin_binary().expect("no Spin binary: check host_available(Host::Spin)"),
                Some("up"),
            )),
        };
        let running = match process {
            Some((bin, subcommand)) => {
                std::fs::create_dir_all(&state_dir).expect("cannot create the state directory");
                spin::SpinProcess::start(spin::SpinLaunch {
                    bin: &bin,
                    subcommand,
                    env: &opts.env,
                    manifest: &manifest_path,
                    runtime_config: &runtime_path,
                    state_dir: &state_dir,
                    variables: &variables,
                })
                .await
                .map(Running::Process)
            }
            None => {
                assert!(
                    opts.env.is_empty(),
                    "process_env needs a host process: Spin, or SpawnOptions::test_host_binary"
                );
                let mut config = HostConfig::new(&manifest_path);
                config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
                config.runtime_config = Some(runtime_path);
                config.state_dir = state_dir;
                config.variables = variables.clone();
                // API suites prove no code path issues a zero-row query (Spin 4.0.2 hangs on one).
                config.strict_empty_queries = true;
                shopnow_testhost::start(config)
                    .await
                    .map(Running::TestHost)
                    .map_err(|e| format!("the test host did not start: {e:#}"))
            }
        };
        let running = match running {
            Ok(r) => r,
            Err(e) => {
                if let Some(c) = cleanup.take() {
                    drop_databases(c);
                }
                panic!("{e}");
            }
        };
        let addr = match &running {
            Running::TestHost(h) => h.addr(),
            Running::Process(s) => s.addr(),
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("cannot build the HTTP client");
        let consumer_launch = (events.redis_url.is_some() && opts.manifest.is_none()).then(|| {
            consumer_launch(
                &root,
                &runtime_path_of(&state),
                &state.path().join(".spin"),
                &variables,
                &opts.env,
                &events.prefix,
            )
        });
        let app = TestApp {
            addr,
            host: Some(running),
            kind: host,
            client,
            databases,
            backend,
            allow_leftovers: opts.allow_leftovers,
            cleanup,
            state,
            events,
            consumers: std::sync::Mutex::new(None),
            consumer_launch,
        };
        if app.consumer_launch.is_some() && opts.with_consumers {
            app.start_consumers().await;
        }
        app
    }

    /// Starts this app's event consumers (`spin-consumers.toml` on the same host kind, state and
    /// variables) if they are not running; waits until they have subscribed.
    ///
    /// # Panics
    /// When the app has no event log, or the consumers do not come up.
    pub async fn start_consumers(&self) {
        if self.consumers_running() {
            return;
        }
        let launch = self
            .consumer_launch
            .as_ref()
            .expect("consumers need an event log and the repository's manifest");
        let running = match self.kind {
            Host::Spin => spin::SpinProcess::start_without_http(
                spin::SpinLaunch {
                    bin: &spin_binary().expect("no Spin binary"),
                    subcommand: Some("up"),
                    env: &launch.env,
                    manifest: &launch.manifest,
                    runtime_config: &launch.runtime_config,
                    state_dir: &launch.state_dir,
                    variables: &launch.variables,
                },
                &launch.channels,
            )
            .await
            .map(Running::Process),
            Host::TestHost => {
                let mut config = HostConfig::new(&launch.manifest);
                config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
                config.runtime_config = Some(launch.runtime_config.clone());
                config.state_dir = launch.state_dir.clone();
                config.variables = launch.variables.clone();
                config.strict_empty_queries = true;
                shopnow_testhost::start(config)
                    .await
                    .map(Running::TestHost)
                    .map_err(|e| format!("the consumers did not start: {e:#}"))
            }
        };
        *self.consumers_slot() = Some(running.unwrap_or_else(|e| panic!("{e}")));
    }

    fn consumers_slot(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.consumers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops this app's event consumers (a consumer that is down); events wait on the log.
    pub async fn stop_consumers(&self) {
        let running = self.consumers_slot().take();
        match running {
            Some(Running::TestHost(host)) => host.shutdown().await,
            Some(Running::Process(process)) => drop(process),
            None => {}
        }
    }

    /// Whether the consumers run now.
    pub fn consumers_running(&self) -> bool {
        self.consumers_slot().is_some()
    }

    /// What the consumers' Spin printed so far (empty under the test host).
    pub fn consumers_output(&self) -> String {
        match &*self.consumers_slot() {
            Some(Running::Process(s)) => s.output(),
            _ => String::new(),
        }
    }

    /// The events `service` has relayed to the event log so far (the envelopes of its stream,
    /// oldest first), or `None` when this app has no event log (no Redis for the tests).
    pub async fn relayed_events(&self, service: &str) -> Option<Vec<serde_json::Value>> {
        let url = self.events.redis_url.as_deref()?;
        Some(read_stream(url, &self.event_stream(service)).await)
    }

    /// Whether this app relays to an event log. Without one (no `SHOPNOW_TEST_REDIS_URL`) the
    /// caller's test is recorded as skipped, and with `CI` set that is a failure.
    ///
    /// # Panics
    /// With `CI` set and no event log.
    pub fn has_event_log(&self) -> bool {
        if self.events.redis_url.is_some() {
            return true;
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "event tests need a Redis ({REDIS_URL_ENV}); CI is set, so they may not be skipped"
        );
        record_skip(&format!("no event log: {REDIS_URL_ENV} is not set"));
        false
    }

    /// The `redis://` URL of this app's event log, if it has one.
    pub fn event_log_url(&self) -> Option<&str> {
        self.events.redis_url.as_deref()
    }

    /// The stream `service`'s events go to in this app.
    pub fn event_stream(&self, service: &str) -> String {
        format!("{}:events:{service}", self.events.prefix)
    }

    /// Waits up to `timeout` until `service` has relayed events for which `done` holds; returns
    /// the last read (`None` without an event log).
    pub async fn wait_for_events(
        &self,
        service: &str,
        timeout: std::time::Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Option<Vec<serde_json::Value>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let events = self.relayed_events(service).await?;
            if done(&events) || std::time::Instant::now() >= deadline {
                return Some(events);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// The file of the SQLite database `label` on the embedded backend (`None` on PostgreSQL),
    /// for tests that must reach under the API (e.g. to break a table and see nothing written).
    pub fn sqlite_path(&self, label: &str) -> Option<PathBuf> {
        (self.backend == Backend::Embedded)
            .then(|| self.state.path().join(format!("sqlite-{label}.db")))
    }

    /// The file of the key-value store `label` on the embedded backend (`None` on Redis), for
    /// tests that must see what a component keeps server-side (Spin's `spin_key_value` table).
    pub fn kv_path(&self, label: &str) -> Option<PathBuf> {
        (self.backend == Backend::Embedded)
            .then(|| self.state.path().join(format!("kv-{label}.db")))
    }

    /// The largest linear memory any instance of `component` has had, in bytes: only the
    /// in-process test host reports it (`None` on Spin or for an unknown component).
    pub fn peak_linear_memory(&self, component: &str) -> Option<usize> {
        match &self.host {
            Some(Running::TestHost(h)) => h.peak_linear_memory(component),
            _ => None,
        }
    }

    /// The address the application listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A GET request to `path`.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    /// A POST request to `path`.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    /// A PUT request to `path`.
    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path))
    }

    /// A PATCH request to `path`.
    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.patch(self.url(path))
    }

    /// A DELETE request to `path`.
    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path))
    }

    /// The URL of the fresh PostgreSQL database given to `variable` (Postgres backend only).
    pub fn database_url(&self, variable: &str) -> Option<String> {
        self.databases.get(variable).cloned()
    }

    /// Which host serves this application.
    pub fn host(&self) -> Host {
        self.kind
    }

    /// What Spin has printed so far (its own log and the components' output); empty under the
    /// test host, which prints to this process's stderr.
    pub fn spin_output(&self) -> String {
        match &self.host {
            Some(Running::Process(s)) => s.output(),
            _ => String::new(),
        }
    }

    /// Stops the host and waits for in-flight requests (dropping a `TestApp` also stops it;
    /// Spin is killed).
    pub async fn shutdown(mut self) {
        self.stop_consumers().await;
        match self.host.take() {
            Some(Running::TestHost(host)) => host.shutdown().await,
            Some(Running::Process(process)) => drop(process),
            None => {}
        }
    }
}

fn drop_databases(c: PgCleanup) {
    if c.names.is_empty() {
        return;
    }
    // Own thread and runtime: Drop can't await, and the test's runtime may be shutting down.
    let handle = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let client = pg_admin(&c.admin_url).await;
            for db in c.names {
                if let Err(e) = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .await
                {
                    eprintln!("testkit: could not drop test database {db}: {e}");
                }
            }
        });
    });
    let _ = handle.join();
}

/// What a finished test must not leave behind, per service database: (variable and SQLite label,
/// what it is, the query listing it). Tables that do not exist (a service never used) list
/// nothing.
const LEFTOVERS: &[(&str, &str, &str)] = &[
    (
        "catalog",
        "held stock reservation",
        "SELECT order_id FROM reservations WHERE state = 'held'",
    ),
    (
        "orders",
        "pending order",
        "SELECT id FROM orders WHERE status = 'pending'",
    ),
];

impl TestApp {
    /// Held reservations and pending orders in this app's databases, as `what: id` lines. A
    /// checkout either finishes or compensates, and the sweep resolves what a crash leaves: a test
    /// that ends with either has found a bug (or must say why with
    /// [`SpawnOptions::allow_leftovers`]).
    fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (service, what, sql) in LEFTOVERS {
            let ids = match self.backend {
                Backend::Postgres => self
                    .databases
                    .get(&format!("{service}_database_url"))
                    .map(|url| pg_ids(url, sql))
                    .unwrap_or_default(),
                Backend::Embedded => {
                    sqlite_ids(&self.state.path().join(format!("sqlite-{service}.db")), sql)
                }
            };
            found.extend(ids.into_iter().map(|id| format!("{what}: {id}")));
        }
        found
    }
}

/// The first column of `sql`'s rows on PostgreSQL at `url` (none when the table is missing).
fn pg_ids(url: &str, sql: &str) -> Vec<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    // Own thread and runtime: Drop can't await.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .ok()?;
            tokio::spawn(conn);
            let rows = client.simple_query(&sql).await.ok()?;
            Some(
                rows.into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
        })
    })
    .join()
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// The first column of `sql`'s rows in the SQLite file at `path` (none when it or the table is
/// missing).
fn sqlite_ids(path: &Path, sql: &str) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    let Ok(db) = rusqlite::Connection::open(path) else {
        return Vec::new();
    };
    let _ = db.busy_timeout(Duration::from_secs(5));
    let Ok(mut stmt) = db.prepare(sql) else {
        return Vec::new();
    };
    stmt.query_map([], |row| row.get::<_, String>(0))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.consumers_slot().take());
        drop(self.host.take());
        if let Some(url) = self.events.redis_url.clone() {
            let streams = ["identity", "catalog", "orders"].map(|s| self.event_stream(s));
            delete_streams(url, streams.to_vec());
        }
        let leftovers = if self.allow_leftovers || std::thread::panicking() {
            Vec::new()
        } else {
            self.leftovers()
        };
        if let Some(c) = self.cleanup.take() {
            drop_databases(c);
        }
        assert!(
            leftovers.is_empty(),
            "the test left state a finished checkout never leaves (or allow it with \
             SpawnOptions::allow_leftovers): {leftovers:#?}"
        );
    }
}

/// Asserts that `resp` is an RFC 9457 problem: `status`, content type
/// `application/problem+json`, `type` ending in `/{type_slug}`, `status` in the body, and a
/// non-empty `request_id` equal to the `x-request-id` header. Returns the body.
///
/// # Panics
/// When any of those doesn't hold (the message shows the body).
pub async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    type_slug: &str,
) -> serde_json::Value {
    let actual = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let header_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.text().await.expect("cannot read the response body");
    assert_eq!(actual, status, "status; body: {text}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content-type {content_type:?}, expected application/problem+json; body: {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    let ty = body
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    assert!(
        ty.ends_with(&format!("/{type_slug}")),
        "problem type {ty:?} does not end with /{type_slug}; body: {text}"
    );
    assert_eq!(
        body.get("status").and_then(serde_json::Value::as_u64),
        Some(u64::from(status)),
        "body.status; body: {text}"
    );
    let request_id = body
        .get("request_id")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    assert!(
        !request_id.is_empty(),
        "body.request_id missing or empty; body: {text}"
    );
    assert_eq!(
        header_id.as_deref(),
        Some(request_id),
        "x-request-id header vs body.request_id; body: {text}"
    );
    body
}

/// Starts the variant `(host, backend)` of a test, or records it as skipped and returns `None`
/// when that host or backend is not available here (see [`host_available`] and
/// [`backend_available`]).
///
/// # Panics
/// As [`TestApp::spawn_on`].
pub async fn spawn_variant(host: Host, backend: Backend, opts: SpawnOptions) -> Option<TestApp> {
    if !host_available(host) || !backend_available(backend) {
        return None;
    }
    Some(TestApp::spawn_on(host, backend, opts).await)
}

/// Defines one API test run on every host and backend:
///
/// ```ignore
/// shopnow_testkit::api_test!(async fn register_returns_created(app) {
///     let resp = app.post("/v1/users").json(&serde_json::json!({})).send().await.unwrap();
///     assert_eq!(resp.status(), 201);
/// });
/// ```
///
/// expands to `mod register_returns_created { embedded, postgres, spin_embedded, spin_postgres }`
/// tokio tests (multi-thread, 2 workers), each with `app: TestApp` spawned on that host and
/// backend (`app` is `mut`): the test host on embedded stores and on PostgreSQL + Redis, and real
/// Spin on both. A variant that can't run here is skipped as [`spawn_variant`] says.
/// `api_test!(with OPTIONS, async fn ...)` spawns with those [`SpawnOptions`]. The
/// `embedded_only async fn ...` form defines only the test host's embedded test, for what only
/// the test host can show.
#[macro_export]
macro_rules! api_test {
    (async fn $name:ident($app:ident) $body:block) => {
        $crate::api_test!(with $crate::SpawnOptions::default(), async fn $name($app) $body);
    };
    (with $options:expr, async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[expect(unused_imports)]
            use super::*;

            $crate::api_test!(@variant embedded, TestHost, Embedded, $options, $app, $body);
            $crate::api_test!(@variant postgres, TestHost, Postgres, $options, $app, $body);
            $crate::api_test!(@variant spin_embedded, Spin, Embedded, $options, $app, $body);
            $crate::api_test!(@variant spin_postgres, Spin, Postgres, $options, $app, $body);
        }
    };
    (embedded_only async fn $name:ident($app:ident) $body:block) => {
        $crate::api_test!(embedded_only with $crate::SpawnOptions::default(), async fn $name($app) $body);
    };
    (embedded_only with $options:expr, async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[expect(unused_imports)]
            use super::*;

            $crate::api_test!(@variant embedded, TestHost, Embedded, $options, $app, $body);
        }
    };
    (@variant $variant:ident, $host:ident, $backend:ident, $options:expr, $app:ident, $body:block) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $variant() {
            #[expect(unused_mut)]
            let Some(mut $app) = $crate::spawn_variant(
                $crate::Host::$host,
                $crate::Backend::$backend,
                $options,
            )
            .await
            else {
                return;
            };
            $body
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=disable", "t2"),
            "postgres://u:p@h:1/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
