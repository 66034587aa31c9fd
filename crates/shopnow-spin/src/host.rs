//! Host clock and randomness for the kernel's `Clock` and `RandomSource` ports.

use shopnow_kernel::ids::{Clock, EpochMillis, RandomError, RandomSource};

/// Wall-clock time from WASI.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> EpochMillis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// Secure randomness from the host (`wasi:random` on wasm32-wasip2).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRandom;

impl RandomSource for HostRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
    }
}

/// Writes log lines to stderr, which Spin collects per component (one line per call).
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrLogger;

impl shopnow_kernel::log::Logger for StderrLogger {
    fn log(&self, line: shopnow_kernel::log::LogLine) {
        eprintln!("{}", line.render());
    }
}
