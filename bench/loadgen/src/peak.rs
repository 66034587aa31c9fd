//! `find-peak`: the highest offered rate a target sustains with p99 latency under each bound.
//! Steps the rate up geometrically until the loosest bound fails (or `--max-rate`), then bisects
//! between the last passing and first failing rate for each bound. A step passes a bound when it
//! had no errors, achieved at least 95 % of the offered rate and its overall p99 (intended time →
//! last byte) is within the bound. Every step is a full, separate open-model run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use crate::mix::Workload;
use crate::report::{Context, CpuReport, EndpointReport, RunReport};
use crate::run::{Quiet, RunConfig, run_quietly};
use crate::target::Target;

/// Options of `find-peak`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PeakArgs {
    /// p99 bound in milliseconds (repeatable); the peak is reported for each.
    #[arg(long = "bound-ms", default_values_t = [300.0, 50.0])]
    pub(crate) bounds_ms: Vec<f64>,
    /// First rate tried, requests per second.
    #[arg(long, default_value_t = 500.0)]
    pub(crate) start_rate: f64,
    /// Highest rate tried.
    #[arg(long, default_value_t = 100_000.0)]
    pub(crate) max_rate: f64,
    /// Factor between ramp steps.
    #[arg(long, default_value_t = 1.5)]
    pub(crate) growth: f64,
    /// Bisection steps per bound after the ramp.
    #[arg(long, default_value_t = 4)]
    pub(crate) refine: u32,
    /// Pause between steps, seconds (lets the server drain).
    #[arg(long, default_value_t = 2.0)]
    pub(crate) pause_s: f64,
}

/// Share of the offered rate a passing step must achieve.
const MIN_ACHIEVED: f64 = 0.95;

/// One measured step.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    pub(crate) rate: f64,
    pub(crate) errors: u64,
    pub(crate) overall: EndpointReport,
    /// CPU time per process during the step.
    pub(crate) cpu: Option<CpuReport>,
    /// Other processes used more CPU than allowed even after the retries.
    pub(crate) disturbed: bool,
    /// Per bound (same order as `bounds_ms`), whether this step passed it.
    pub(crate) passed: Vec<bool>,
}

/// The search's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PeakReport {
    pub(crate) name: String,
    pub(crate) workload: String,
    pub(crate) target: String,
    pub(crate) duration_s: f64,
    pub(crate) warmup_s: f64,
    pub(crate) connections: usize,
    pub(crate) generator_threads: usize,
    pub(crate) bounds_ms: Vec<f64>,
    /// Per bound, the highest passing rate (`None`: not even the start rate passed).
    pub(crate) peaks: Vec<Option<f64>>,
    /// Every step in the order measured.
    pub(crate) steps: Vec<Step>,
}

impl PeakReport {
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        for (bound, peak) in self.bounds_ms.iter().zip(&self.peaks) {
            match peak {
                Some(rate) => out.push_str(&format!("Peak with p99 ≤ {bound} ms: {rate} req/s\n")),
                None => out.push_str(&format!(
                    "Peak with p99 ≤ {bound} ms: none (the start rate already failed)\n"
                )),
            }
        }
        out.push_str(&format!(
            "\n`{}` — {} against {}: steps of {} s after {} s warm-up, {} connections, {} generator \
             runtime thread(s). A step passes a bound with no errors, achieved ≥ {}% of offered and \
             p99 within the bound.\n\n",
            self.name,
            self.workload,
            self.target,
            self.duration_s,
            self.warmup_s,
            self.connections,
            self.generator_threads,
            MIN_ACHIEVED * 100.0
        ));
        out.push_str(
            "| offered/s | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server cores | server µs/req | generator cores |",
        );
        for b in &self.bounds_ms {
            out.push_str(&format!(" ≤ {b} ms |"));
        }
        out.push_str(
            "\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        );
        out.push_str(&" :-: |".repeat(self.bounds_ms.len()));
        out.push('\n');
        for s in &self.steps {
            let l = &s.overall.latency;
            out.push_str(&format!(
                "| {} | {:.1} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
                s.rate,
                s.overall.achieved_rate,
                l.p50_ms,
                l.p90_ms,
                l.p99_ms,
                l.p99_9_ms,
                l.max_ms,
                s.errors
            ));
            let cores = |c: Option<f64>| c.map_or_else(|| "–".to_owned(), |c| format!("{c:.2}"));
            let per = |c: Option<f64>| c.map_or_else(|| "–".to_owned(), |c| format!("{c:.1}"));
            out.push_str(&format!(
                " {} | {} | {} |",
                cores(s.cpu.as_ref().and_then(|c| c.server_cores)),
                per(s.cpu.as_ref().and_then(|c| c.server_us_per_request)),
                cores(s.cpu.as_ref().map(|c| c.generator_cores)),
            ));
            for passed in &s.passed {
                out.push_str(if *passed { " pass |" } else { " fail |" });
            }
            if s.disturbed {
                out.push_str(" DISTURBED |");
            }
            out.push('\n');
        }
        out
    }
}

/// The fixed parts of every step.
pub(crate) struct Search<'a> {
    pub(crate) name: &'a str,
    pub(crate) target: &'a Target,
    pub(crate) workload: Arc<dyn Workload>,
    pub(crate) base: RunConfig,
    pub(crate) quiet: Quiet,
    pub(crate) generator_threads: usize,
    pub(crate) args: &'a PeakArgs,
}

impl Search<'_> {
    /// Runs the search; prints a line per step to stderr as it goes.
    ///
    /// Fails on invalid options or when a step cannot run at all (no connection).
    pub(crate) async fn run(&self) -> anyhow::Result<PeakReport> {
        let a = self.args;
        if a.bounds_ms.is_empty() || a.bounds_ms.iter().any(|b| !(b.is_finite() && *b > 0.0)) {
            bail!("--bound-ms must be positive milliseconds");
        }
        if !(a.growth.is_finite() && a.growth > 1.0) {
            bail!("--growth must be above 1");
        }
        if !(a.start_rate > 0.0 && a.start_rate <= a.max_rate) {
            bail!("need 0 < --start-rate <= --max-rate");
        }
        let loosest = a.bounds_ms.iter().copied().fold(0.0, f64::max);
        let mut steps: Vec<Step> = Vec::new();

        let mut rate = a.start_rate;
        loop {
            let step = self.step(rate).await?;
            let go_on = passes(&step, loosest);
            steps.push(step);
            if !go_on || rate >= a.max_rate {
                break;
            }
            rate = (rate * a.growth).min(a.max_rate).round();
        }

        let mut peaks = Vec::new();
        for (i, bound) in a.bounds_ms.iter().enumerate() {
            let passed_at = |s: &Step| s.passed.get(i).copied().unwrap_or(false);
            let mut lo = steps
                .iter()
                .filter(|s| passed_at(s))
                .map(|s| s.rate)
                .fold(None, max_opt);
            let mut hi = steps
                .iter()
                .filter(|s| !passed_at(s) && lo.is_none_or(|l| s.rate > l))
                .map(|s| s.rate)
                .fold(None, min_opt);
            for _ in 0..a.refine {
                let (Some(l), Some(h)) = (lo, hi) else { break };
                let mid = ((l + h) / 2.0).round();
                if h / l < 1.03 || mid <= l || mid >= h {
                    break;
                }
                let step = self.step(mid).await?;
                if step.passed.get(i).copied().unwrap_or(false) {
                    lo = Some(mid);
                } else {
                    hi = Some(mid);
                }
                steps.push(step);
            }
            eprintln!("find-peak: p99 ≤ {bound} ms: {lo:?} req/s");
            peaks.push(lo);
        }

        Ok(PeakReport {
            name: self.name.to_owned(),
            workload: self.workload.describe(),
            target: self.target.url.clone(),
            duration_s: self.base.duration.as_secs_f64(),
            warmup_s: self.base.warmup.as_secs_f64(),
            connections: self.base.connections,
            generator_threads: self.generator_threads,
            bounds_ms: a.bounds_ms.clone(),
            peaks,
            steps,
        })
    }

    async fn step(&self, rate: f64) -> anyhow::Result<Step> {
        tokio::time::sleep(Duration::from_secs_f64(self.args.pause_s.max(0.0))).await;
        let config = RunConfig {
            rate,
            ..self.base.clone()
        };
        let stats = run_quietly(self.target, self.workload.clone(), &config, &self.quiet).await?;
        let ctx = Context {
            name: self.name,
            workload: self.workload.describe(),
            target: &self.target.url,
            config: &config,
            generator_threads: self.generator_threads,
            kinds: self.workload.kinds(),
            max_other_cores: self.quiet.max_other_cores,
        };
        let report = RunReport::new(&ctx, &stats)?;
        let mut step = Step {
            rate,
            errors: report.errors,
            overall: report.overall,
            cpu: report.cpu,
            disturbed: report.disturbed,
            passed: Vec::new(),
        };
        step.passed = self
            .args
            .bounds_ms
            .iter()
            .map(|b| passes(&step, *b))
            .collect();
        let l = &step.overall.latency;
        eprintln!(
            "find-peak: {rate} req/s offered, {:.1} achieved, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {} errors",
            step.overall.achieved_rate, l.p50_ms, l.p99_ms, l.max_ms, step.errors
        );
        Ok(step)
    }
}

fn passes(step: &Step, bound_ms: f64) -> bool {
    step.errors == 0
        && step.overall.achieved_rate >= MIN_ACHIEVED * step.overall.offered_rate
        && step.overall.latency.p99_ms <= bound_ms
}

fn max_opt(acc: Option<f64>, x: f64) -> Option<f64> {
    Some(acc.map_or(x, |a| a.max(x)))
}

fn min_opt(acc: Option<f64>, x: f64) -> Option<f64> {
    Some(acc.map_or(x, |a| a.min(x)))
}
