//! CPU accounting from Linux's `/proc`: the CPU time the server, the generator and everything else
//! used during a run. It gives the server's CPU cost per request (independent of which side
//! saturates first), and it detects a run disturbed by another process — on a 2-core machine a
//! build starting mid-run skews every figure — so that run can be waited out and repeated.
//! Knows nothing of HTTP; on a system without `/proc` every sample is `None`.

use std::time::{Duration, Instant};

use serde::Serialize;

/// `/proc` times are in USER_HZ ticks, 100 per second on every Linux architecture Rust targets
/// here (`getconf CLK_TCK`); reading it needs libc, which this crate avoids.
const USER_HZ: f64 = 100.0;

/// CPU counters at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    at: Instant,
    /// Machine-wide user + nice + system ticks (irq, softirq and steal apart).
    busy: u64,
    softirq: u64,
    steal: u64,
    /// This process's user + system ticks.
    own: u64,
    /// The server's user + system ticks, when a server pid was given and is alive.
    server: Option<u64>,
}

/// Reads the counters; `None` when `/proc` cannot be read.
pub(crate) fn snapshot(server_pid: Option<u32>) -> Option<Snapshot> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    Some(Snapshot {
        at: Instant::now(),
        busy: field(0) + field(1) + field(2),
        softirq: field(6),
        steal: field(7),
        own: process_ticks("self")?,
        server: server_pid.and_then(|pid| process_ticks(&pid.to_string())),
    })
}

/// utime + stime of `/proc/<pid>/stat` (fields 14 and 15; the command name may hold spaces, so
/// count from the closing parenthesis).
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU used between two snapshots, in CPU-seconds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Usage {
    pub(crate) wall_s: f64,
    pub(crate) server_cpu_s: Option<f64>,
    pub(crate) generator_cpu_s: f64,
    /// Everything else on the machine (user + system time not of the server or the generator).
    pub(crate) other_cpu_s: f64,
    /// Softirq time (loopback networking lands here, for either side).
    pub(crate) softirq_cpu_s: f64,
    /// Time the hypervisor took from this VM.
    pub(crate) steal_cpu_s: f64,
}

impl Usage {
    pub(crate) fn between(a: &Snapshot, b: &Snapshot) -> Self {
        let secs = |ticks: u64| ticks as f64 / USER_HZ;
        let own = b.own.saturating_sub(a.own);
        let server = match (a.server, b.server) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x)),
            _ => None,
        };
        let busy = b.busy.saturating_sub(a.busy);
        let other = busy.saturating_sub(own).saturating_sub(server.unwrap_or(0));
        Self {
            wall_s: b.at.saturating_duration_since(a.at).as_secs_f64(),
            server_cpu_s: server.map(secs),
            generator_cpu_s: secs(own),
            other_cpu_s: secs(other),
            softirq_cpu_s: secs(b.softirq.saturating_sub(a.softirq)),
            steal_cpu_s: secs(b.steal.saturating_sub(a.steal)),
        }
    }

    /// Average cores used by other processes.
    pub(crate) fn other_cores(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.other_cpu_s / self.wall_s
        } else {
            0.0
        }
    }
}

/// Waits (up to `limit`) until one second passes with other processes using at most
/// `max_other_cores`; returns whether it got quiet. Without `/proc`, returns `true` at once.
pub(crate) async fn wait_quiet(
    server_pid: Option<u32>,
    max_other_cores: f64,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    let mut reported = false;
    loop {
        let Some(a) = snapshot(server_pid) else {
            return true;
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(b) = snapshot(server_pid) else {
            return true;
        };
        let usage = Usage::between(&a, &b);
        if usage.other_cores() <= max_other_cores {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        if !reported {
            eprintln!(
                "shopnow-bench: other processes use {:.2} cores; waiting for the machine to be quiet",
                usage.other_cores()
            );
            reported = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_can_be_sampled() {
        let Some(a) = snapshot(Some(std::process::id())) else {
            return; // not Linux
        };
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        let b = snapshot(Some(std::process::id())).unwrap();
        let usage = Usage::between(&a, &b);
        assert!(usage.wall_s > 0.0);
        assert_eq!(usage.server_cpu_s.map(|s| s >= 0.0), Some(true));
    }
}
