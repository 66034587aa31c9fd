//! `shopnow-testhost`: serve a Spin application like `spin up` (for tests and benchmarks).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use shopnow_testhost::{HostConfig, manifest::Manifest};

/// Serve a Spin application's HTTP and Redis-triggered components on wasmtime, like `spin up`.
///
/// Application variables come from `SPIN_VARIABLE_<NAME>` environment variables over the
/// manifest defaults.
#[derive(Parser)]
#[command(name = "shopnow-testhost", version)]
struct Cli {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    from: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// A Spin runtime config file (key-value stores, SQLite databases).
    #[arg(long = "runtime-config-file")]
    runtime_config_file: Option<PathBuf>,
    /// Where default stores live [default: .spin next to the manifest].
    #[arg(long = "state-dir")]
    state_dir: Option<PathBuf>,
    /// Trap an instance whose PostgreSQL `query` matches no rows (Spin 4.0.2 would hang there).
    #[arg(long = "strict-empty-queries")]
    strict_empty_queries: bool,
}

fn variables_from_env(manifest: &Manifest) -> HashMap<String, String> {
    manifest
        .variables
        .keys()
        .filter_map(|name| {
            let key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            std::env::var(key).ok().map(|v| (name.clone(), v))
        })
        .collect()
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let manifest = Manifest::load(&cli.from)?;
    let mut config = HostConfig::new(&cli.from);
    config.listen = cli.listen;
    config.runtime_config = cli.runtime_config_file;
    if let Some(dir) = cli.state_dir {
        config.state_dir = dir;
    }
    config.variables = variables_from_env(&manifest);
    config.strict_empty_queries = cli.strict_empty_queries;
    let host = shopnow_testhost::start(config).await?;
    if host.serves_http() {
        println!("Serving http://{}", host.addr());
        println!("Available Routes:");
        for (route, component) in host.routes() {
            println!("  {component}: http://{}{route}", host.addr());
        }
    }
    // As Spin's Redis trigger prints them, once subscribed.
    let mut server = None;
    for (address, channel, components) in host.redis_channels() {
        if server != Some(address) {
            println!("Active Channels on {address}:");
            server = Some(address);
        }
        println!("\t{address}/{channel}: [{}]", components.join(","));
    }
    tokio::select! {
        r = wait_for_signal() => r?,
        reason = exited(&host) => anyhow::bail!("{reason}"),
    }
    eprintln!("shopnow-testhost: shutting down");
    host.shutdown().await;
    Ok(())
}

/// Resolves when the host stopped on its own (a Redis trigger lost its server), with why.
async fn exited(host: &shopnow_testhost::RunningHost) -> String {
    loop {
        if let Some(reason) = host.exited() {
            return reason;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
