//! Turns a run's statistics into its report: per kind and overall offered and achieved rates,
//! latency percentiles and errors; rendered as Markdown (first line: whether there were errors)
//! and as JSON. Knows nothing of how the numbers were collected.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context as _;
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cpu::Usage;
use crate::mix::Kind;
use crate::run::{RunConfig, RunStats};
use crate::stats::KindStats;

/// Percentiles of one histogram, in milliseconds (microsecond resolution; each value is the top
/// of its 0.1 % histogram bucket, so never below the true value).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Percentiles {
    pub(crate) count: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p99_9_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) mean_ms: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        let at = |q: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(q))
            }
        };
        Self {
            count: h.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            p99_9_ms: at(0.999),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
            mean_ms: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
        }
    }
}

/// One kind's (or the whole run's) figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EndpointReport {
    pub(crate) name: String,
    /// Share of the mix in percent of all weight.
    pub(crate) weight_percent: f64,
    /// Measured requests scheduled.
    pub(crate) requests: u64,
    pub(crate) ok: u64,
    /// Scheduled measured requests per second of the measured window.
    pub(crate) offered_rate: f64,
    /// Successful responses per second, over the measured window or until the last measured
    /// request ended if that is later (a server that falls behind shows a lower achieved rate).
    pub(crate) achieved_rate: f64,
    /// Intended send → last byte, successes only (the coordinated-omission-corrected latency).
    pub(crate) latency: Percentiles,
    /// Actual send → last byte (closed-loop view, for diagnosis).
    pub(crate) service: Percentiles,
    /// Intended → actual send: the generator's own lateness plus waiting for a pooled connection.
    pub(crate) send_delay: Percentiles,
    pub(crate) errors: BTreeMap<String, u64>,
}

/// CPU time during the run (warm-up included), per process and per request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CpuReport {
    #[serde(flatten)]
    pub(crate) usage: Usage,
    /// Requests the CPU time is divided by: every one scheduled, warm-up included.
    pub(crate) requests_sent: u64,
    pub(crate) server_us_per_request: Option<f64>,
    pub(crate) generator_us_per_request: f64,
    /// Average cores used.
    pub(crate) server_cores: Option<f64>,
    pub(crate) generator_cores: f64,
    pub(crate) other_cores: f64,
}

impl CpuReport {
    fn new(usage: &Usage, requests_sent: u64) -> Self {
        let per_request = |cpu_s: f64| {
            if requests_sent == 0 {
                0.0
            } else {
                cpu_s * 1e6 / requests_sent as f64
            }
        };
        let cores = |cpu_s: f64| {
            if usage.wall_s > 0.0 {
                cpu_s / usage.wall_s
            } else {
                0.0
            }
        };
        Self {
            usage: usage.clone(),
            requests_sent,
            server_us_per_request: usage.server_cpu_s.map(per_request),
            generator_us_per_request: per_request(usage.generator_cpu_s),
            server_cores: usage.server_cpu_s.map(cores),
            generator_cores: cores(usage.generator_cpu_s),
            other_cores: usage.other_cores(),
        }
    }

    /// One sentence for the Markdown report.
    pub(crate) fn sentence(&self) -> String {
        let u = &self.usage;
        let server = match (
            u.server_cpu_s,
            self.server_us_per_request,
            self.server_cores,
        ) {
            (Some(s), Some(per), Some(cores)) => {
                format!("server {s:.2} s = {per:.1} µs per request ({cores:.2} cores), ")
            }
            _ => String::new(),
        };
        format!(
            "CPU over {:.1} s and {} requests (warm-up included): {server}generator {:.2} s = {:.1} µs \
             per request ({:.2} cores), other processes {:.2} cores, softirq {:.2} s, steal {:.2} s.",
            u.wall_s,
            self.requests_sent,
            u.generator_cpu_s,
            self.generator_us_per_request,
            self.generator_cores,
            self.other_cores,
            u.softirq_cpu_s,
            u.steal_cpu_s
        )
    }
}

/// The run's settings, as recorded in the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Settings {
    pub(crate) rate: f64,
    pub(crate) duration_s: f64,
    pub(crate) warmup_s: f64,
    pub(crate) connections: usize,
    pub(crate) connections_opened: usize,
    pub(crate) timeout_s: f64,
    pub(crate) generator_threads: usize,
    pub(crate) seed: u64,
    pub(crate) server_pid: Option<u32>,
    pub(crate) max_other_cores: f64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport {
    pub(crate) name: String,
    pub(crate) workload: String,
    pub(crate) target: String,
    pub(crate) started_unix_s: u64,
    pub(crate) settings: Settings,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    /// Other processes used more than `max_other_cores` during the run.
    pub(crate) disturbed: bool,
    pub(crate) cpu: Option<CpuReport>,
    pub(crate) overall: EndpointReport,
    pub(crate) endpoints: Vec<EndpointReport>,
}

/// What the report needs besides the statistics.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub(crate) name: &'a str,
    pub(crate) workload: String,
    pub(crate) target: &'a str,
    pub(crate) config: &'a RunConfig,
    pub(crate) generator_threads: usize,
    pub(crate) kinds: &'a [Kind],
    /// Above this many cores used by other processes, a run is reported as disturbed.
    pub(crate) max_other_cores: f64,
}

impl RunReport {
    /// Fails only if histograms cannot be merged, which cannot happen for histograms of one run.
    pub(crate) fn new(ctx: &Context<'_>, stats: &RunStats) -> anyhow::Result<Self> {
        let total_weight: u64 = ctx.kinds.iter().map(|k| u64::from(k.weight)).sum();
        let window = ctx.config.duration;
        let mut overall = KindStats::new()?;
        let mut endpoints = Vec::new();
        for (kind, s) in ctx.kinds.iter().zip(&stats.kinds) {
            overall.merge(s)?;
            let share = if total_weight == 0 {
                0.0
            } else {
                100.0 * f64::from(kind.weight) / total_weight as f64
            };
            endpoints.push(endpoint(&kind.name, share, s, stats, window));
        }
        let errors = overall.error_count();
        let overall = endpoint("all", 100.0, &overall, stats, window);
        Ok(Self {
            name: ctx.name.to_owned(),
            workload: ctx.workload.clone(),
            target: ctx.target.to_owned(),
            started_unix_s: stats
                .started
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            settings: Settings {
                rate: ctx.config.rate,
                duration_s: ctx.config.duration.as_secs_f64(),
                warmup_s: ctx.config.warmup.as_secs_f64(),
                connections: ctx.config.connections,
                connections_opened: stats.connections_opened,
                timeout_s: ctx.config.timeout.as_secs_f64(),
                generator_threads: ctx.generator_threads,
                seed: ctx.config.seed,
                server_pid: ctx.config.server_pid,
                max_other_cores: ctx.max_other_cores,
            },
            requests: overall.requests,
            errors,
            disturbed: ctx.config.server_pid.is_some() && stats.other_cores() > ctx.max_other_cores,
            cpu: stats
                .cpu
                .as_ref()
                .map(|u| CpuReport::new(u, stats.requests_sent)),
            overall,
            endpoints,
        })
    }

    /// The first line of every rendering: `OK` or `ERRORS` with the counts.
    pub(crate) fn headline(&self) -> String {
        if self.errors == 0 {
            format!("OK: no errors in {} measured requests", self.requests)
        } else {
            let classes: Vec<String> = self
                .overall
                .errors
                .iter()
                .map(|(class, n)| format!("{class}: {n}"))
                .collect();
            format!(
                "ERRORS: {} of {} measured requests failed ({})",
                self.errors,
                self.requests,
                classes.join(", ")
            )
        }
    }

    /// The Markdown report: headline, settings, one table row per kind and one for all.
    pub(crate) fn markdown(&self) -> String {
        let s = &self.settings;
        let mut out = format!("{}\n", self.headline());
        if self.disturbed {
            out.push_str(&format!(
                "DISTURBED: other processes used {:.2} cores on average during this run (limit {}); \
                 its figures are not reliable.\n",
                self.cpu.as_ref().map_or(0.0, |c| c.other_cores),
                self.settings.max_other_cores
            ));
        }
        out.push('\n');
        out.push_str(&format!(
            "`{}` — {} against {}: {} req/s offered for {} s after {} s warm-up, {} connections \
             ({} open at start), timeout {} s, {} generator runtime thread(s), seed {}.\n\n",
            self.name,
            self.workload,
            self.target,
            s.rate,
            s.duration_s,
            s.warmup_s,
            s.connections,
            s.connections_opened,
            s.timeout_s,
            s.generator_threads,
            s.seed
        ));
        out.push_str(
            "| endpoint | mix % | requests | offered/s | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |\n",
        );
        out.push_str(
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        );
        let rows = self.endpoints.iter().chain(std::iter::once(&self.overall));
        for e in rows {
            let errors = if e.errors.is_empty() {
                "0".to_owned()
            } else {
                e.errors
                    .iter()
                    .map(|(class, n)| format!("{class}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let l = &e.latency;
            out.push_str(&format!(
                "| {} | {:.1} | {} | {:.1} | {:.1} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |\n",
                e.name,
                e.weight_percent,
                e.requests,
                e.offered_rate,
                e.achieved_rate,
                l.p50_ms,
                l.p90_ms,
                l.p99_ms,
                l.p99_9_ms,
                l.max_ms,
                errors
            ));
        }
        let o = &self.overall;
        out.push_str(&format!(
            "\nLatency is from each request's intended send time to its last response byte \
             (coordinated-omission corrected), successes only. Service time (actual send → last \
             byte): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms. Send delay (intended → actual send: \
             generator lateness and waiting for a pooled connection): p50 {:.3} ms, p99 {:.3} ms, \
             max {:.3} ms.\n",
            o.service.p50_ms,
            o.service.p99_ms,
            o.service.max_ms,
            o.send_delay.p50_ms,
            o.send_delay.p99_ms,
            o.send_delay.max_ms
        ));
        if let Some(cpu) = &self.cpu {
            out.push_str(&format!("\n{}\n", cpu.sentence()));
        }
        out
    }

    /// Writes `<out>.json` and `<out>.md`, creating the folder.
    ///
    /// Fails when the folder or files cannot be written.
    pub(crate) fn write(&self, out: &Path) -> anyhow::Result<()> {
        write_pair(out, &serde_json::to_string_pretty(self)?, &self.markdown())
    }
}

/// Writes `<out>.json` and `<out>.md`.
///
/// Fails when the folder or files cannot be written.
pub(crate) fn write_pair(out: &Path, json: &str, markdown: &str) -> anyhow::Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Appended, not `with_extension`: a name like `host-1.5k` must keep its dot.
    let with = |ext: &str| {
        let mut p = out.as_os_str().to_owned();
        p.push(ext);
        std::path::PathBuf::from(p)
    };
    let json_path = with(".json");
    let md_path = with(".md");
    std::fs::write(&json_path, format!("{json}\n"))
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    std::fs::write(&md_path, markdown)
        .with_context(|| format!("cannot write {}", md_path.display()))?;
    Ok(())
}

fn endpoint(
    name: &str,
    weight_percent: f64,
    s: &KindStats,
    stats: &RunStats,
    window: Duration,
) -> EndpointReport {
    let window_s = window.as_secs_f64();
    let until_last = s.last_done.map_or(0.0, |t| {
        t.saturating_duration_since(stats.measure_start)
            .as_secs_f64()
    });
    EndpointReport {
        name: name.to_owned(),
        weight_percent,
        requests: s.scheduled,
        ok: s.ok,
        offered_rate: s.scheduled as f64 / window_s,
        achieved_rate: s.ok as f64 / window_s.max(until_last),
        latency: Percentiles::of(&s.latency),
        service: Percentiles::of(&s.service),
        send_delay: Percentiles::of(&s.send_delay),
        errors: s.errors.clone(),
    }
}
