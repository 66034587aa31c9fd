//! `shopnow-bench`: ShopNow's HTTP load generator. Open model (requests leave at fixed intended
//! times whatever the server does), latency measured from the intended time (coordinated-omission
//! corrected) into per-endpoint HDR histograms, HTTP/1.1 keep-alive pool of a given size, bounded
//! in time and count, and loopback targets only.
//!
//! Modes: `single` (one request), `scenario` (a weighted mix with a setup phase) and `find-peak`
//! (the highest rate whose p99 stays under each bound). See `bench/README.md`.
//!
//! Depends on no ShopNow crate: it talks to the services over HTTP like any client.

mod client;
mod cpu;
mod mix;
mod peak;
mod report;
mod rng;
mod run;
mod stats;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::client::SetupClient;
use crate::mix::single::{Single, SingleArgs};
use crate::mix::{MixArgs, SETUP_TIMEOUT, Workload};
use crate::peak::{PeakArgs, Search};
use crate::report::{Context, RunReport};
use crate::run::{Quiet, RunConfig};
use crate::target::Target;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Open-model HTTP load generator for ShopNow (loopback targets only)"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// One fixed request at a fixed rate.
    Single {
        #[command(flatten)]
        common: CommonArgs,
        /// Offered rate, requests per second.
        #[arg(long)]
        rate: f64,
        #[command(flatten)]
        request: SingleArgs,
    },
    /// A weighted mix of request kinds, after its setup phase (users, tokens).
    Scenario {
        #[command(flatten)]
        common: CommonArgs,
        /// Offered rate, requests per second (all kinds together).
        #[arg(long)]
        rate: f64,
        #[command(flatten)]
        mix: MixArgs,
    },
    /// Steps the rate up and reports the highest one whose p99 stays under each bound.
    FindPeak {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        peak: PeakArgs,
        #[command(subcommand)]
        workload: PeakWorkload,
    },
}

/// The workload `find-peak` steps.
#[derive(Debug, Subcommand)]
enum PeakWorkload {
    /// One fixed request.
    Single(SingleArgs),
    /// A weighted mix.
    Scenario(MixArgs),
}

/// Options every mode shares.
#[derive(Debug, Clone, clap::Args)]
struct CommonArgs {
    /// Target origin; must resolve to loopback (127.0.0.0/8 or ::1).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    target: String,
    /// Measured time per run (or per find-peak step): `10`, `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unrecorded time at the same rate before the measured part.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// HTTP/1.1 keep-alive connections in the pool (the most requests in flight).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Per-request time limit.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Generator runtime threads (plus one scheduler thread); 1 runs a current-thread runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seed of the request-kind and user choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write `<OUT>.json` and `<OUT>.md` (e.g. `bench/results/host-hello-1k`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit 0 even when requests failed (the report still says so on its first line).
    #[arg(long)]
    allow_errors: bool,
    /// The server's pid: reports its CPU time per request, and enables the disturbance check
    /// (wait for a quiet machine, repeat runs other processes disturbed). Linux only.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A run is disturbed when other processes use more than this many cores on average.
    #[arg(long, default_value_t = 0.10)]
    max_other_cores: f64,
    /// Repeat a disturbed run (or find-peak step) up to this many times.
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Wait at most this long for a quiet machine before each run.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    quiet_wait: Duration,
}

impl CommonArgs {
    fn config(&self, rate: f64) -> RunConfig {
        RunConfig {
            rate,
            duration: self.duration,
            warmup: self.warmup,
            connections: self.connections,
            timeout: self.timeout,
            seed: self.seed,
            server_pid: self.server_pid,
        }
    }

    fn quiet(&self) -> Quiet {
        Quiet {
            max_other_cores: self.max_other_cores,
            retries: self.retries,
            wait: self.quiet_wait,
        }
    }

    fn name(&self, default: &str) -> String {
        self.out
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(|| default.to_owned(), |n| n.to_string_lossy().into_owned())
    }
}

/// `10`, `10s`, `500ms`, `2m` → a duration.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| s.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{s:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

fn main() -> ExitCode {
    match run_cli(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // The cause chain on one line; no backtrace: these are usage and connection errors.
            eprintln!("shopnow-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_cli(cli: Cli) -> anyhow::Result<ExitCode> {
    let threads = match &cli.mode {
        Mode::Single { common, .. }
        | Mode::Scenario { common, .. }
        | Mode::FindPeak { common, .. } => common.threads,
    };
    anyhow::ensure!((1..=64).contains(&threads), "--threads must be 1..=64");
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .context("cannot start the tokio runtime")?;
    runtime.block_on(run_mode(cli.mode, threads))
}

async fn run_mode(mode: Mode, threads: usize) -> anyhow::Result<ExitCode> {
    match mode {
        Mode::Single {
            common,
            rate,
            request,
        } => {
            let target = Target::resolve(&common.target).await?;
            let workload = Single::new(&target, &request)?;
            measure(&common, rate, &target, Arc::new(workload), threads).await
        }
        Mode::Scenario { common, rate, mix } => {
            let target = Target::resolve(&common.target).await?;
            let workload = setup(&target, &mix).await?;
            measure(&common, rate, &target, Arc::from(workload), threads).await
        }
        Mode::FindPeak {
            common,
            peak,
            workload,
        } => {
            let target = Target::resolve(&common.target).await?;
            let workload: Arc<dyn Workload> = match &workload {
                PeakWorkload::Single(request) => Arc::new(Single::new(&target, request)?),
                PeakWorkload::Scenario(mix) => Arc::from(setup(&target, mix).await?),
            };
            let name = common.name("find-peak");
            let search = Search {
                name: &name,
                target: &target,
                workload,
                base: common.config(1.0),
                quiet: common.quiet(),
                generator_threads: threads,
                args: &peak,
            };
            let report = search.run().await?;
            let markdown = report.markdown();
            print!("{markdown}");
            if let Some(out) = &common.out {
                report::write_pair(out, &serde_json::to_string_pretty(&report)?, &markdown)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn setup(target: &Target, mix: &MixArgs) -> anyhow::Result<Box<dyn Workload>> {
    let mut client = SetupClient::new(target.clone(), SETUP_TIMEOUT);
    mix::build(mix, &mut client)
        .await
        .context("setup phase failed")
}

/// One run at `rate`: prints the Markdown report, writes the files, and exits 2 on errors unless
/// `--allow-errors`.
async fn measure(
    common: &CommonArgs,
    rate: f64,
    target: &Target,
    workload: Arc<dyn Workload>,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    let config = common.config(rate);
    let stats = run::run_quietly(target, workload.clone(), &config, &common.quiet()).await?;
    let name = common.name("run");
    let ctx = Context {
        name: &name,
        workload: workload.describe(),
        target: &target.url,
        config: &config,
        generator_threads: threads,
        kinds: workload.kinds(),
        max_other_cores: common.max_other_cores,
    };
    let report = RunReport::new(&ctx, &stats)?;
    print!("{}", report.markdown());
    if let Some(out) = &common.out {
        report.write(out)?;
    }
    if report.errors > 0 && !common.allow_errors {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
