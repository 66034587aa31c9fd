//! Real Spin as a [`TestApp`](crate::TestApp) host: `spin up` as a child process on a free
//! loopback port, with the same fresh state, runtime config and variables the test host gets.
//!
//! The binary is `SHOPNOW_SPIN_BIN`, else `../shared/bin/spin` beside the repository (the Spin
//! 4.0.2 build these machines carry). Without either, Spin variants are skipped; with `CI` set and
//! a binary present they must run. Depends on nothing of the test host: Spin is the reference the
//! test host is measured against.

use std::io::Read as _;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the Spin CLI to run the Spin variants with.
pub const SPIN_BIN_ENV: &str = "SHOPNOW_SPIN_BIN";

/// How long `spin up` may take to answer its health route: the first start compiles every
/// component (seconds on a loaded 2-core machine); later starts load them from Wasmtime's cache.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The Spin CLI to use, if there is one: `SHOPNOW_SPIN_BIN` (which must exist when set), else
/// `../shared/bin/spin` next to the repository root.
///
/// # Panics
/// When `SHOPNOW_SPIN_BIN` names a file that does not exist.
pub fn spin_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(SPIN_BIN_ENV).filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "{SPIN_BIN_ENV}={} does not exist",
            bin.display()
        );
        return Some(bin);
    }
    let root = crate::repo_root();
    let shared = root.parent()?.join("shared/bin/spin");
    shared.is_file().then_some(shared)
}

/// A running `spin up`; killed when dropped.
pub(crate) struct SpinProcess {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

/// What [`SpinProcess::start`] needs.
pub(crate) struct SpinLaunch<'a> {
    pub bin: &'a Path,
    /// `Some("up")` for the Spin CLI; `None` for a host that takes `up`'s flags directly (the
    /// test host's own binary).
    pub subcommand: Option<&'a str>,
    /// Extra environment for the process (e.g. OpenSSL's `SSL_CERT_FILE`).
    pub env: &'a [(String, String)],
    pub manifest: &'a Path,
    pub runtime_config: &'a Path,
    pub state_dir: &'a Path,
    pub variables: &'a std::collections::HashMap<String, String>,
}

/// A loopback port nobody listens on right now (Spin cannot be told to pick one itself).
fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

impl SpinProcess {
    /// Starts `spin up` and waits until it answers `/.well-known/spin/health`.
    ///
    /// # Errors
    /// When Spin exits, or does not answer within [`READY_TIMEOUT`]; the message has the tail of
    /// its output. A port taken between choosing and binding it is retried on another.
    pub(crate) async fn start(launch: SpinLaunch<'_>) -> Result<Self, String> {
        let mut last = String::new();
        for attempt in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = launch.state_dir.join(format!("spin-{attempt}.log"));
            let child = spawn(&launch, addr, &log)?;
            let mut process = SpinProcess { child, addr, log };
            match process.wait_ready().await {
                Ok(()) => return Ok(process),
                Err(e) => {
                    let address_taken = e.contains("Address already in use");
                    last = e;
                    drop(process);
                    if !address_taken {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    /// Starts `spin up` of an application without HTTP triggers (the event consumers: Spin binds
    /// no port for it) and waits until its output shows every one of `channels` subscribed
    /// (Spin's Redis trigger prints `\t<addr>/<channel>: [<components>]` after each SUBSCRIBE).
    ///
    /// # Errors
    /// When Spin exits or has not subscribed within [`READY_TIMEOUT`]; with its output's tail.
    pub(crate) async fn start_without_http(
        launch: SpinLaunch<'_>,
        channels: &[String],
    ) -> Result<Self, String> {
        let log = launch.state_dir.join("spin-consumers.log");
        let child = spawn_args(&launch, None, &log)?;
        let mut process = SpinProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(format!(
                    "spin up (consumers) exited with {status}:\n{}",
                    tail(&process.output())
                ));
            }
            let output = process.output();
            if channels
                .iter()
                .all(|c| output.contains(&format!("/{c}: [")))
            {
                return Ok(process);
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "spin up (consumers) did not subscribe to {channels:?} within {} s:\n{}",
                    READY_TIMEOUT.as_secs(),
                    tail(&output)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Spin's output so far (its log, components' stdout and stderr included).
    pub(crate) fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("http://{}/.well-known/spin/health", self.addr);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "spin up exited with {status} before answering:\n{}",
                    tail(&self.output())
                ));
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "spin up did not answer {url} within {} s:\n{}",
                    READY_TIMEOUT.as_secs(),
                    tail(&self.output())
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn spawn(launch: &SpinLaunch<'_>, addr: SocketAddr, log: &Path) -> Result<Child, String> {
    spawn_args(launch, Some(addr), log)
}

/// `spin up` of `launch`, listening on `listen` when given (an application with HTTP triggers).
fn spawn_args(
    launch: &SpinLaunch<'_>,
    listen: Option<SocketAddr>,
    log: &Path,
) -> Result<Child, String> {
    let out = std::fs::File::create(log).map_err(|e| format!("cannot create {log:?}: {e}"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(launch.bin);
    if let Some(sub) = launch.subcommand {
        cmd.arg(sub);
    }
    cmd.arg("--from").arg(launch.manifest);
    if let Some(addr) = listen {
        cmd.arg("--listen").arg(addr.to_string());
    }
    cmd.arg("--runtime-config-file")
        .arg(launch.runtime_config)
        .arg("--state-dir")
        .arg(launch.state_dir)
        .env_remove("SPIN_ALWAYS_BUILD")
        // Its own process group: `spin up` runs the HTTP trigger as a child process, which a
        // kill of `spin up` alone would leave running (holding memory and database sessions).
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // Only the test's variables: a developer's own SPIN_VARIABLE_* must not leak in.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SPIN_VARIABLE_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in launch.env {
        cmd.env(key, value);
    }
    for (name, value) in launch.variables {
        cmd.env(
            format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
            value,
        );
    }
    cmd.spawn()
        .map_err(|e| format!("cannot run {}: {e}", launch.bin.display()))
}

/// The last 60 lines of `text`.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(60)..)
        .unwrap_or_default()
        .join("\n")
}

/// Kills `child`'s whole process group (it was started as a group leader with
/// `process_group(0)`), falling back to the child alone, and reaps it.
pub(crate) fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !killed {
        let _ = child.kill();
    }
    let _ = child.wait();
}

impl Drop for SpinProcess {
    fn drop(&mut self) {
        // The whole group: `spin up` and the trigger process it started.
        kill_group(&mut self.child);
    }
}
