//! One open-model run: a scheduler thread emits requests at fixed intended times (`rate` per
//! second, regardless of how fast responses come back) into a queue; a pool of `connections`
//! keep-alive connections takes them in order and sends them. Every request's latency is measured
//! from its intended time, so queueing behind a slow server — in the generator's pool or in the
//! server — is charged to the server, as a user would see it (coordinated-omission correction).
//!
//! A run is bounded: it schedules `(warmup + duration) × rate` requests, stops sending at
//! `warmup + duration + timeout` (what is still queued then counts as `unsent` errors), and every
//! request has a `timeout`. Requests intended during the warm-up are sent but not recorded.
//!
//! The scheduler is an OS thread rather than a tokio timer because tokio's timer wheel has 1 ms
//! resolution: a 1 ms-late start would be charged to every sub-millisecond response.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use http::StatusCode;
use http_body_util::BodyExt as _;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::{Mutex, mpsc};

use crate::client::{Body, connect};
use crate::cpu::{self, Usage};
use crate::mix::{Picker, Workload};
use crate::rng::Rng;
use crate::stats::{KindStats, Outcome, Recorder, Timeline};
use crate::target::Target;

/// A run's shape.
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    /// Requests per second, offered whatever the responses do.
    pub(crate) rate: f64,
    /// Measured time.
    pub(crate) duration: Duration,
    /// Time before the measured part, at the same rate, not recorded.
    pub(crate) warmup: Duration,
    /// Keep-alive connections in the pool (the most requests in flight at once).
    pub(crate) connections: usize,
    /// Per-request time limit (connect, and send to last byte).
    pub(crate) timeout: Duration,
    /// Seed of the kind and user choices.
    pub(crate) seed: u64,
    /// The server's pid, for its CPU time and the disturbance check.
    pub(crate) server_pid: Option<u32>,
}

/// The most requests one run may schedule (bounds memory and time).
const MAX_REQUESTS: f64 = 50_000_000.0;

impl RunConfig {
    /// Fails on a rate, duration or pool size that is zero, not finite, or beyond the bounds.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            bail!("--rate must be a positive number of requests per second");
        }
        if self.duration.is_zero() {
            bail!("--duration must be above zero");
        }
        if self.duration + self.warmup > Duration::from_secs(3600) {
            bail!("--duration plus --warmup must stay within an hour");
        }
        if self.total_requests() > MAX_REQUESTS {
            bail!("rate × time schedules over {MAX_REQUESTS} requests; shorten the run");
        }
        if !(1..=10_000).contains(&self.connections) {
            bail!("--connections must be 1..=10000");
        }
        if self.timeout.is_zero() {
            bail!("--timeout must be above zero");
        }
        Ok(())
    }

    /// Requests intended in `[0, warmup + duration)`: the ceiling of time × rate, where a product
    /// within float noise of a whole number counts as that number (1.1 s × 100/s is 110, not 111).
    fn total_requests(&self) -> f64 {
        let exact = (self.warmup + self.duration).as_secs_f64() * self.rate;
        let nearest = exact.round();
        if (exact - nearest).abs() < 1e-6 {
            nearest
        } else {
            exact.ceil()
        }
    }
}

/// One scheduled request.
#[derive(Debug, Clone, Copy)]
struct Job {
    intended: Instant,
    kind: usize,
    measured: bool,
}

/// What a run observed.
#[derive(Debug)]
pub(crate) struct RunStats {
    /// Per kind, in the workload's order.
    pub(crate) kinds: Vec<KindStats>,
    /// Start of the measured window.
    pub(crate) measure_start: Instant,
    /// Wall-clock time of the schedule's start (warm-up included), for reports.
    pub(crate) started: SystemTime,
    /// Connections that could be opened before the schedule started.
    pub(crate) connections_opened: usize,
    /// Requests scheduled, warm-up included.
    pub(crate) requests_sent: u64,
    /// CPU used from the schedule's start until the last worker ended (`None` without `/proc`).
    pub(crate) cpu: Option<Usage>,
}

impl RunStats {
    /// Cores other processes used during the run (0 when unknown).
    pub(crate) fn other_cores(&self) -> f64 {
        self.cpu.as_ref().map_or(0.0, Usage::other_cores)
    }
}

/// When a run counts as disturbed by other processes, and what to do about it.
#[derive(Debug, Clone)]
pub(crate) struct Quiet {
    /// Other processes may use at most this many cores on average during a run.
    pub(crate) max_other_cores: f64,
    /// Disturbed runs are repeated up to this many times.
    pub(crate) retries: u32,
    /// How long to wait for a quiet machine before each attempt.
    pub(crate) wait: Duration,
}

/// [`run`], but first waits for the machine to be quiet and repeats a run other processes
/// disturbed (up to `quiet.retries` times; the last attempt is returned as it is). The check needs
/// the server's pid (otherwise the server's own CPU time would look like a disturbance); without
/// it this is plain [`run`].
///
/// Fails as [`run`] does.
pub(crate) async fn run_quietly(
    target: &Target,
    workload: Arc<dyn Workload>,
    config: &RunConfig,
    quiet: &Quiet,
) -> anyhow::Result<RunStats> {
    if config.server_pid.is_none() {
        return run(target, workload, config).await;
    }
    let mut attempt = 0;
    loop {
        if !cpu::wait_quiet(config.server_pid, quiet.max_other_cores, quiet.wait).await {
            eprintln!("shopnow-bench: the machine is still busy; measuring anyway");
        }
        let stats = run(target, workload.clone(), config).await?;
        let other = stats.other_cores();
        if other <= quiet.max_other_cores || attempt >= quiet.retries {
            return Ok(stats);
        }
        attempt += 1;
        eprintln!(
            "shopnow-bench: other processes used {other:.2} cores during the run; repeating it ({attempt}/{})",
            quiet.retries
        );
    }
}

/// Runs `workload` against `target` as `config` says.
///
/// Fails when the configuration is invalid, the mix has no weighted kind, or not one connection
/// can be opened before the start; errors during the run are counted, not returned.
pub(crate) async fn run(
    target: &Target,
    workload: Arc<dyn Workload>,
    config: &RunConfig,
) -> anyhow::Result<RunStats> {
    config.validate()?;
    let picker = Picker::new(workload.kinds())?;
    let recorder = Arc::new(Recorder::new(workload.kinds().len())?);

    // Open the pool first: connection set-up is not what a run measures.
    let mut pool = Vec::with_capacity(config.connections);
    let mut first_error = None;
    for _ in 0..config.connections {
        match connect(target, config.timeout).await {
            Ok(sender) => pool.push(Some(sender)),
            Err(e) => {
                first_error.get_or_insert(e);
                pool.push(None);
            }
        }
    }
    let connections_opened = pool.iter().filter(|c| c.is_some()).count();
    if connections_opened == 0 {
        let cause = first_error.context("no connection attempted")?;
        return Err(cause.context(format!("cannot open any connection to {}", target.url)));
    }

    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(Mutex::new(rx));
    // A short lead so the scheduler thread and the workers are up before the first intended time.
    let start = Instant::now() + Duration::from_millis(20);
    let started = SystemTime::now() + Duration::from_millis(20);
    let measure_start = start + config.warmup;
    let hard_deadline = measure_start + config.duration + config.timeout;

    let mut workers = Vec::with_capacity(pool.len());
    for (id, sender) in pool.into_iter().enumerate() {
        let worker = Worker {
            target: target.clone(),
            workload: workload.clone(),
            recorder: recorder.clone(),
            rng: Rng::fork(config.seed, id as u64 + 1),
            timeout: config.timeout,
            hard_deadline,
        };
        workers.push(tokio::spawn(worker.run(rx.clone(), sender)));
    }
    drop(rx);

    let schedule = Schedule {
        start,
        measure_start,
        rate: config.rate,
        total: config.total_requests() as u64,
        picker,
        rng: Rng::new(config.seed),
    };
    let before = cpu::snapshot(config.server_pid);
    let scheduler = std::thread::Builder::new()
        .name("bench-scheduler".into())
        .spawn(move || schedule.emit(&tx))
        .context("cannot start the scheduler thread")?;

    for worker in workers {
        worker.await.context("a connection worker failed")?;
    }
    // The workers end only once the queue is closed, i.e. the scheduler has returned.
    if scheduler.join().is_err() {
        bail!("the scheduler thread panicked");
    }
    let after = cpu::snapshot(config.server_pid);
    let recorder = Arc::into_inner(recorder).context("recorder still shared after the run")?;
    Ok(RunStats {
        kinds: recorder.into_kinds(),
        measure_start,
        started,
        connections_opened,
        requests_sent: config.total_requests() as u64,
        cpu: before.zip(after).map(|(a, b)| Usage::between(&a, &b)),
    })
}

/// The open-model schedule: request `i` is intended at `start + i / rate`.
struct Schedule {
    start: Instant,
    measure_start: Instant,
    rate: f64,
    total: u64,
    picker: Picker,
    rng: Rng,
}

impl Schedule {
    /// Sends every job at (or just after) its intended time; when the thread wakes late, it sends
    /// the overdue jobs at once, each still carrying its own intended time.
    fn emit(mut self, tx: &mpsc::UnboundedSender<Job>) {
        for i in 0..self.total {
            let intended = self.start + Duration::from_secs_f64(i as f64 / self.rate);
            let now = Instant::now();
            if intended > now {
                std::thread::sleep(intended - now);
            }
            let job = Job {
                intended,
                kind: self.picker.pick(&mut self.rng),
                measured: intended >= self.measure_start,
            };
            if tx.send(job).is_err() {
                return;
            }
        }
    }
}

/// One pooled connection's loop: take the next job, send it, record it.
struct Worker {
    target: Target,
    workload: Arc<dyn Workload>,
    recorder: Arc<Recorder>,
    rng: Rng,
    timeout: Duration,
    hard_deadline: Instant,
}

impl Worker {
    async fn run(
        mut self,
        queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
        mut sender: Option<SendRequest<Body>>,
    ) {
        loop {
            // Idle workers queue on the lock, so jobs go to connections in FIFO order.
            let job = queue.lock().await.recv().await;
            let Some(job) = job else { return };
            let (timeline, outcome, kept) = self.send(job, sender.take()).await;
            sender = kept;
            if job.measured {
                self.recorder.record(job.kind, timeline, &outcome);
            }
        }
    }

    /// Sends one job; returns its timeline, its outcome and the connection if it is still usable.
    async fn send(
        &mut self,
        job: Job,
        sender: Option<SendRequest<Body>>,
    ) -> (Timeline, Outcome, Option<SendRequest<Body>>) {
        let given_up = |outcome: &'static str, kept| {
            let timeline = Timeline {
                intended: job.intended,
                sent: None,
                done: Instant::now(),
            };
            (timeline, Outcome::Failed(outcome), kept)
        };
        if Instant::now() > self.hard_deadline {
            return given_up("unsent (run deadline passed)", sender);
        }
        let mut sender = match sender {
            Some(s) if !s.is_closed() => s,
            _ => match connect(&self.target, self.timeout).await {
                Ok(s) => s,
                Err(_) => return given_up("connect", None),
            },
        };
        let Ok(request) = self.workload.request(job.kind, &mut self.rng) else {
            return given_up("request could not be built", Some(sender));
        };
        let sent = Instant::now();
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<StatusCode, hyper::Error>(status)
        };
        let result = tokio::time::timeout(self.timeout, exchange).await;
        let timeline = Timeline {
            intended: job.intended,
            sent: Some(sent),
            done: Instant::now(),
        };
        match result {
            Ok(Ok(status)) => (timeline, Outcome::Status(status.as_u16()), Some(sender)),
            // The connection's state is unknown after an error or a timeout: drop it.
            Ok(Err(e)) => (timeline, Outcome::Failed(classify(&e)), None),
            Err(_) => (timeline, Outcome::Failed("timeout"), None),
        }
    }
}

/// A short, stable error class for reports.
fn classify(e: &hyper::Error) -> &'static str {
    if e.is_incomplete_message() {
        "connection closed mid-response"
    } else if e.is_closed() || e.is_canceled() {
        "connection closed"
    } else if e.is_parse() {
        "malformed response"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "connection error"
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicU64, Ordering};

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::server::conn::http1 as server_http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    use super::*;
    use crate::mix::single::{Single, SingleArgs};

    /// A loopback server answering 200, or 503 for paths containing `fail`; the request numbered
    /// `stall_at` (0-based, over the whole run) waits `stall` before answering.
    async fn server(stall_at: u64, stall: Duration) -> Target {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let n = seen.fetch_add(1, Ordering::SeqCst);
                        async move {
                            if n == stall_at {
                                tokio::time::sleep(stall).await;
                            }
                            let mut resp =
                                http::Response::new(Full::new(Bytes::from_static(b"ok")));
                            if req.uri().path().contains("fail") {
                                *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                            }
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = server_http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Target::resolve(&format!("http://{addr}")).await.unwrap()
    }

    fn single(target: &Target, path: &str) -> Arc<dyn Workload> {
        let args = SingleArgs {
            method: "GET".into(),
            path: path.into(),
            headers: vec![],
            bearer: None,
            body: None,
        };
        Arc::new(Single::new(target, &args).unwrap())
    }

    fn config(rate: f64, duration_ms: u64, connections: usize) -> RunConfig {
        RunConfig {
            rate,
            duration: Duration::from_millis(duration_ms),
            warmup: Duration::from_millis(100),
            connections,
            timeout: Duration::from_secs(5),
            seed: 1,
            server_pid: None,
        }
    }

    #[tokio::test]
    async fn an_open_model_run_sends_rate_times_duration_requests() {
        let target = server(u64::MAX, Duration::ZERO).await;
        let stats = run(&target, single(&target, "/x"), &config(200.0, 500, 4))
            .await
            .unwrap();
        let s = &stats.kinds[0];
        assert_eq!((s.scheduled, s.ok), (100, 100));
        assert!(s.errors.is_empty());
        assert_eq!(s.latency.len(), 100);
    }

    #[tokio::test]
    async fn error_statuses_are_counted_by_status() {
        let target = server(u64::MAX, Duration::ZERO).await;
        let stats = run(&target, single(&target, "/fail"), &config(100.0, 300, 2))
            .await
            .unwrap();
        let s = &stats.kinds[0];
        assert_eq!(s.ok, 0);
        assert_eq!(s.errors.get("status 503"), Some(&30));
    }

    #[tokio::test]
    async fn a_stall_is_charged_to_every_request_scheduled_during_it() {
        // One connection; the first measured request (warm-up sends 10 at 100/s) stalls 300 ms.
        // The 30 requests intended during the stall queue behind it: a closed-loop tool would
        // report one slow request, an open-model one reports them all.
        let target = server(10, Duration::from_millis(300)).await;
        let stats = run(&target, single(&target, "/x"), &config(100.0, 1000, 1))
            .await
            .unwrap();
        let s = &stats.kinds[0];
        assert_eq!(s.ok, 100);
        let over_100ms = s.latency.count_between(100_000, u64::MAX);
        assert!(over_100ms >= 15, "only {over_100ms} requests saw the stall");
        assert!(s.latency.value_at_quantile(0.99) >= 250_000);
        // Each queued request's own service time stays short.
        assert!(s.service.value_at_quantile(0.90) < 100_000);
    }

    #[tokio::test]
    async fn a_refused_target_fails_the_run_before_it_starts() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let target = Target::resolve(&format!("http://{addr}")).await.unwrap();
        let err = run(&target, single(&target, "/x"), &config(10.0, 100, 1))
            .await
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot open any connection"),
            "{err:#}"
        );
    }
}
