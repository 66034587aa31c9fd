//! What a run observed, per request kind: latency histograms and outcome counts. Filled by the
//! connection workers, read once by the report. Knows nothing of HTTP clients or mixes.
//!
//! Three histograms per kind, all in microseconds:
//! - `latency`: intended send time → last response byte. This is the number reported: an open-model
//!   run corrected for coordinated omission, so a stalled server is charged for every request that
//!   should have been sent during the stall, not only for the one that was in flight.
//! - `service`: actual send → last byte (what a closed-loop tool would report; for diagnosis).
//! - `send_delay`: intended → actual send: the generator's own lateness (timer wake-up, waiting for
//!   a free pooled connection). When this is large, the generator or its pool is the bottleneck.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Histograms cover 1 µs to 1 h at 3 significant digits (each value within 0.1 %).
const MAX_MICROS: u64 = 3_600_000_000;

pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_MICROS, 3)?)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response arrived in full; 2xx counts as success, anything else as an error by status.
    Status(u16),
    /// No (complete) response: the error class, e.g. `connect`, `timeout`, `connection closed`.
    Failed(&'static str),
}

/// One kind's observations.
#[derive(Debug, Clone)]
pub(crate) struct KindStats {
    pub(crate) latency: Histogram<u64>,
    pub(crate) service: Histogram<u64>,
    pub(crate) send_delay: Histogram<u64>,
    /// Measured requests scheduled (every one ends up as a success or an error).
    pub(crate) scheduled: u64,
    /// 2xx responses.
    pub(crate) ok: u64,
    /// Errors by class: `status 503`, `connect`, `timeout`, ...
    pub(crate) errors: BTreeMap<String, u64>,
    /// When the last measured request ended.
    pub(crate) last_done: Option<Instant>,
}

impl KindStats {
    pub(crate) fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latency: histogram()?,
            service: histogram()?,
            send_delay: histogram()?,
            scheduled: 0,
            ok: 0,
            errors: BTreeMap::new(),
            last_done: None,
        })
    }

    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds `other`'s observations to these.
    ///
    /// Fails only if the histograms' ranges differ, which [`histogram`] rules out.
    pub(crate) fn merge(&mut self, other: &Self) -> anyhow::Result<()> {
        self.latency.add(&other.latency)?;
        self.service.add(&other.service)?;
        self.send_delay.add(&other.send_delay)?;
        self.scheduled += other.scheduled;
        self.ok += other.ok;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.last_done = self.last_done.max(other.last_done);
        Ok(())
    }
}

/// One request's timeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    /// When the schedule said to send it.
    pub(crate) intended: Instant,
    /// When it was actually written to a connection (`None`: never sent).
    pub(crate) sent: Option<Instant>,
    /// When the last response byte arrived, or the attempt was given up.
    pub(crate) done: Instant,
}

/// The shared sink the workers record into (one short lock per request).
#[derive(Debug)]
pub(crate) struct Recorder {
    kinds: Mutex<Vec<KindStats>>,
}

impl Recorder {
    pub(crate) fn new(kinds: usize) -> anyhow::Result<Self> {
        let kinds = (0..kinds)
            .map(|_| KindStats::new())
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            kinds: Mutex::new(kinds),
        })
    }

    /// Records one measured request of kind `kind`.
    pub(crate) fn record(&self, kind: usize, timeline: Timeline, outcome: &Outcome) {
        let mut kinds = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(stats) = kinds.get_mut(kind) else {
            return;
        };
        stats.scheduled += 1;
        stats.last_done = stats.last_done.max(Some(timeline.done));
        match outcome {
            Outcome::Status(s) if (200..300).contains(s) => {
                stats.ok += 1;
                stats.latency.saturating_record(micros(
                    timeline.done.saturating_duration_since(timeline.intended),
                ));
            }
            Outcome::Status(s) => *stats.errors.entry(format!("status {s}")).or_default() += 1,
            Outcome::Failed(class) => *stats.errors.entry((*class).to_owned()).or_default() += 1,
        }
        if let Some(sent) = timeline.sent {
            stats
                .send_delay
                .saturating_record(micros(sent.saturating_duration_since(timeline.intended)));
            if matches!(outcome, Outcome::Status(_)) {
                stats
                    .service
                    .saturating_record(micros(timeline.done.saturating_duration_since(sent)));
            }
        }
    }

    pub(crate) fn into_kinds(self) -> Vec<KindStats> {
        self.kinds
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_counted_from_the_intended_time_and_only_for_successes() {
        let recorder = Recorder::new(1).unwrap();
        let intended = Instant::now();
        let timeline = Timeline {
            intended,
            sent: Some(intended + Duration::from_millis(40)),
            done: intended + Duration::from_millis(50),
        };
        recorder.record(0, timeline, &Outcome::Status(200));
        recorder.record(0, timeline, &Outcome::Status(503));
        recorder.record(
            0,
            Timeline {
                sent: None,
                ..timeline
            },
            &Outcome::Failed("connect"),
        );
        let stats = recorder.into_kinds().remove(0);
        assert_eq!((stats.scheduled, stats.ok, stats.error_count()), (3, 1, 2));
        assert_eq!(stats.latency.len(), 1);
        assert!(stats.latency.equivalent(stats.latency.max(), 50_000));
        assert!(stats.service.equivalent(stats.service.max(), 10_000));
        assert!(stats.send_delay.equivalent(stats.send_delay.min(), 40_000));
        assert_eq!(stats.errors.get("status 503"), Some(&1));
        assert_eq!(stats.errors.get("connect"), Some(&1));
    }
}
