//! The event log on Redis streams (Spin's outbound Redis), the relay every component runs after
//! it has answered a write, and the two operations routes every service serves under
//! `/internal/v1/<service>/events/` (`relay`: the sweep; `stats`: outbox lag). Design:
//! `docs/adr/0003-events-relay-and-consumers.md`.
//!
//! A stream entry has one field, `event`, holding the envelope JSON, so Spin's flattened
//! `execute` answer of `XRANGE` reads back as `id, "event", envelope` triples.

use std::cell::OnceCell;

use shopnow_kernel::ApiError;
use shopnow_kernel::events::{self, EventLog, LogError, OutboxStats, RelayError, RelayReport};
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::log::{LogLine, Logger as _};
use shopnow_kernel::service_auth::ServiceCredentials;
use shopnow_kernel::sql::{Database, Migration, with_migrations};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

use crate::config::{Config, ConfigError};
use crate::{AnyDatabase, StderrLogger, SystemClock};

/// How long the relay after a response keeps sending rounds, ms.
const AFTER_RESPONSE_BUDGET_MS: i64 = 500;

/// How long the sweep route keeps sending rounds, ms (below every route deadline).
const SWEEP_BUDGET_MS: i64 = 10_000;

const HOUR_MS: i64 = 3_600_000;

/// The events settings every service reads (`events_*` variables in spin.toml).
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// `redis://…` of the event log; empty: events stay in the outbox (nothing relays).
    pub redis_url: String,
    /// Stream name prefix (`<prefix>:events:<service>`).
    pub prefix: String,
    /// How long relayed outbox rows are kept, ms.
    pub outbox_retention_ms: i64,
    /// How long stream entries are kept (XADD trims older ones), ms.
    pub stream_retention_ms: i64,
}

impl EventsConfig {
    /// Reads `events_redis_url`, `events_stream_prefix`, `events_outbox_retention_hours`,
    /// `events_stream_retention_hours` (the operations routes read their credential themselves, so
    /// the relay never depends on it).
    ///
    /// # Errors
    /// [`ConfigError`] for a retention that is not a positive number of hours.
    pub fn from_variables() -> Result<Self, ConfigError> {
        let config = Config;
        let hours = |name: &str| -> Result<i64, ConfigError> {
            let value = config.get_or(name, "");
            value
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|h| (1..=24 * 366).contains(h))
                .map(|h| h * HOUR_MS)
                .ok_or_else(|| ConfigError {
                    name: name.to_owned(),
                    reason: "must be a number of hours, 1 to 8784".into(),
                    refused: false,
                })
        };
        Ok(Self {
            redis_url: config.get_or("events_redis_url", "").trim().to_owned(),
            prefix: match config.get_or("events_stream_prefix", "shopnow").trim() {
                "" => "shopnow".to_owned(),
                p => p.to_owned(),
            },
            outbox_retention_ms: hours("events_outbox_retention_hours")?,
            stream_retention_ms: hours("events_stream_retention_hours")?,
        })
    }

    /// The stream `service`'s events go to.
    pub fn stream(&self, service: &str) -> String {
        events::stream_name(&self.prefix, service)
    }
}

/// Redis streams through Spin's outbound Redis; connects on the first append.
pub struct RedisEventLog<'a> {
    url: &'a str,
    min_age_ms: i64,
    conn: OnceCell<Result<Connection, LogError>>,
}

impl<'a> RedisEventLog<'a> {
    /// The log at `url`, keeping entries for `retention_ms`.
    pub fn new(url: &'a str, retention_ms: i64) -> Self {
        Self {
            url,
            min_age_ms: retention_ms,
            conn: OnceCell::new(),
        }
    }

    fn conn(&self) -> Result<&Connection, LogError> {
        self.conn
            .get_or_init(|| {
                Connection::open(self.url).map_err(|e| LogError(format!("open: {e:?}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `XLEN` and the last entry id of `stream` (for the stats route).
    ///
    /// # Errors
    /// [`LogError`] when Redis is unreachable.
    pub fn describe(&self, stream: &str) -> Result<(i64, Option<String>), LogError> {
        let conn = self.conn()?;
        let length = match conn
            .execute("XLEN", &[bin(stream)])
            .map_err(|e| LogError(format!("XLEN: {e:?}")))?
            .first()
        {
            Some(RedisResult::Int64(n)) => *n,
            _ => 0,
        };
        let last = conn
            .execute(
                "XREVRANGE",
                &[
                    bin(stream),
                    bin("+"),
                    bin("-"),
                    bin("COUNT"),
                    RedisParameter::Int64(1),
                ],
            )
            .map_err(|e| LogError(format!("XREVRANGE: {e:?}")))?
            .into_iter()
            .next()
            .and_then(|first| match first {
                RedisResult::Binary(id) => String::from_utf8(id).ok(),
                _ => None,
            });
        Ok((length, last))
    }
}

fn bin(text: &str) -> RedisParameter {
    RedisParameter::Binary(text.as_bytes().to_vec())
}

impl EventLog for RedisEventLog<'_> {
    fn append(&self, stream: &str, envelopes: &[String]) -> Result<(), LogError> {
        let conn = self.conn()?;
        // Entries older than the retention are trimmed as new ones arrive (`MINID ~`: whole
        // macro nodes only, cheap); a consumer must catch up within the retention.
        let min_id = SystemClock.now_ms().saturating_sub(self.min_age_ms).max(0);
        for envelope in envelopes {
            conn.execute(
                "XADD",
                &[
                    bin(stream),
                    bin("MINID"),
                    bin("~"),
                    RedisParameter::Int64(min_id),
                    bin("*"),
                    bin("event"),
                    RedisParameter::Binary(envelope.as_bytes().to_vec()),
                ],
            )
            .map_err(|e| LogError(format!("XADD: {e:?}")))?;
        }
        Ok(())
    }

    fn notify(&self, stream: &str) -> Result<(), LogError> {
        self.conn()?
            .publish(stream, b"new".as_ref())
            .map_err(|e| LogError(format!("PUBLISH: {e:?}")))
    }
}

/// Relays `service`'s outbox in `db` for up to `budget_ms`: rounds until one is not full.
/// Applies pending migrations first if the outbox table is missing.
///
/// # Errors
/// The first failing round's [`RelayError`]; rounds before it stay relayed.
pub fn relay(
    service: &str,
    request_id: &str,
    db: &dyn Database,
    migrations: &[Migration],
    config: &EventsConfig,
    budget_ms: i64,
) -> Result<RelayReport, RelayError> {
    let log = RedisEventLog::new(&config.redis_url, config.stream_retention_ms);
    let stream = config.stream(service);
    let started = SystemClock.now_ms();
    let mut total = RelayReport::default();
    // Most writes that record nothing (sign-ins, cart changes, holds) find nothing pending: one
    // indexed read instead of a locked transaction.
    if !with_migrations(db, migrations, started, events::has_pending)? {
        return Ok(total);
    }
    loop {
        let now = SystemClock.now_ms();
        // The database half of a round's error goes out to `with_migrations`, so a missing
        // outbox table (a database older than this code) is migrated and the round retried.
        let round = with_migrations(db, migrations, now, |db| {
            match events::relay_round(db, &log, &stream, events::RELAY_BATCH, now) {
                Ok(round) => Ok(Ok(round)),
                Err(RelayError::Database(err)) => Err(err),
                Err(RelayError::Log(err)) => Ok(Err(err)),
            }
        })??;
        total.relayed += round.relayed;
        total.more = round.more;
        if !round.more || SystemClock.now_ms().saturating_sub(started) >= budget_ms {
            break;
        }
    }
    if total.relayed > 0 {
        // Best effort: a consumer that misses it catches up on its own schedule.
        if let Err(err) = log.notify(&stream) {
            log_line(
                "warn",
                service,
                request_id,
                "events.notify_failed",
                &err.to_string(),
                total,
            );
        }
    }
    Ok(total)
}

/// The relay a component runs after it has sent its response to a write: never fails, logs what
/// it did not do. Does nothing when no event log is configured.
pub fn relay_after_response(
    service: &str,
    request_id: &str,
    db: &dyn Database,
    migrations: &[Migration],
    config: &EventsConfig,
) {
    if config.redis_url.is_empty() {
        return;
    }
    match relay(
        service,
        request_id,
        db,
        migrations,
        config,
        AFTER_RESPONSE_BUDGET_MS,
    ) {
        Ok(report) if report.relayed > 0 => {
            log_line("info", service, request_id, "events.relayed", "", report);
        }
        Ok(_) => {}
        Err(err) => relay_failed(service, request_id, &err),
    }
}

fn relay_failed(service: &str, request_id: &str, err: &dyn std::fmt::Display) {
    log_line(
        "warn",
        service,
        request_id,
        "events.relay_failed",
        &err.to_string(),
        RelayReport::default(),
    );
}

fn log_line(
    level: &str,
    service: &str,
    request_id: &str,
    event: &str,
    error: &str,
    report: RelayReport,
) {
    let mut line = LogLine::new(level, service, request_id)
        .event(event)
        .field("events.relayed", report.relayed);
    if !error.is_empty() {
        line = line.field("error", error);
    }
    StderrLogger.log(line);
}

/// `POST /internal/v1/<service>/events/relay` and `GET /internal/v1/<service>/events/stats`, or
/// `None` for any other path. Both need the events service credential; the database (the
/// `database_url` variable, else the SQLite database `sqlite_label`) is opened only then.
///
/// # Errors
/// 401 without the credential, 405 for another method, 503 when the database or the log cannot
/// be reached.
pub fn route(
    service: &str,
    request: &HttpRequest,
    sqlite_label: &str,
    migrations: &[Migration],
) -> Option<Result<HttpResponse, ApiError>> {
    let prefix = format!("/internal/v1/{service}/events/");
    let action = request.path.strip_prefix(&prefix)?;
    let allowed = match action {
        "relay" => Method::Post,
        "stats" => Method::Get,
        _ => return None,
    };
    Some(operation(
        service,
        request,
        sqlite_label,
        migrations,
        action,
        allowed,
    ))
}

/// Serves one request of `service` as [`crate::serve_then`] does, with the events operations
/// routes ([`route`]) in front of `handler` and the relay ([`relay_after_write`]) after the
/// response: the one entry every event-producing component's `lib.rs` calls.
pub fn serve_with_events(
    service: &str,
    incoming: IncomingRequest,
    out: ResponseOutparam,
    body_limit: usize,
    sqlite_label: &str,
    migrations: &[Migration],
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
) {
    crate::serve_then(
        service,
        incoming,
        out,
        body_limit,
        |request| {
            route(service, request, sqlite_label, migrations).unwrap_or_else(|| handler(request))
        },
        |request, status| relay_after_write(service, request, status, sqlite_label, migrations),
    );
}

/// Answers that by contract changed nothing (malformed, unauthenticated, forbidden, not found,
/// not allowed, too large, invalid, precondition missing, throttled): no relay after them, so a
/// flood of refused writes costs no database work. A payment refusal (402), a conflict (409) or
/// a failure (5xx) may have recorded events (a failed checkout's `order.failed`) and relays.
const CHANGES_NOTHING: &[u16] = &[400, 401, 403, 404, 405, 411, 413, 415, 422, 428, 429];

/// Runs the relay after a write's response `status` (see [`relay_after_response`]); reads
/// (`GET`, `HEAD`, `OPTIONS`) and [`CHANGES_NOTHING`] answers skip it.
pub fn relay_after_write(
    service: &str,
    request: &HttpRequest,
    status: u16,
    sqlite_label: &str,
    migrations: &[Migration],
) {
    if matches!(request.method, Method::Get | Method::Head | Method::Options)
        || CHANGES_NOTHING.contains(&status)
    {
        return;
    }
    let config = match EventsConfig::from_variables() {
        Ok(config) => config,
        Err(err) => {
            relay_failed(service, request.request_id.as_str(), &err);
            return;
        }
    };
    if config.redis_url.is_empty() {
        return;
    }
    match AnyDatabase::open(&Config.get_or("database_url", ""), sqlite_label) {
        Ok(db) => relay_after_response(
            service,
            request.request_id.as_str(),
            &db,
            migrations,
            &config,
        ),
        Err(err) => relay_failed(service, request.request_id.as_str(), &err),
    }
}

fn operation(
    service: &str,
    request: &HttpRequest,
    sqlite_label: &str,
    migrations: &[Migration],
    action: &str,
    allowed: Method,
) -> Result<HttpResponse, ApiError> {
    ServiceCredentials::parse(&Config.secret("events_service_tokens")?).require(request)?;
    let config = EventsConfig::from_variables()?;
    if request.method != allowed {
        return Err(ApiError::MethodNotAllowed {
            allow: vec![allowed.as_str()],
        });
    }
    let db = AnyDatabase::open(&Config.get_or("database_url", ""), sqlite_label)?;
    let db: &dyn Database = &db;
    let unavailable = |err: RelayError| match err {
        RelayError::Database(db) => ApiError::from(db),
        RelayError::Log(log) => ApiError::ServiceUnavailable {
            cause: Box::new(log),
        },
    };
    let now = SystemClock.now_ms();
    let stream = config.stream(service);
    if action == "relay" {
        if config.redis_url.is_empty() {
            return Err(ApiError::ServiceUnavailable {
                cause: Box::new(LogError("events_redis_url is empty: no event log".into())),
            });
        }
        let report = relay(
            service,
            request.request_id.as_str(),
            db,
            migrations,
            &config,
            SWEEP_BUDGET_MS,
        )
        .map_err(unavailable)?;
        let purged = events::purge(db, now.saturating_sub(config.outbox_retention_ms))?;
        let outbox = outbox_stats(db, migrations, now)?;
        return HttpResponse::json(
            200,
            &serde_json::json!({
                "stream": stream, "relayed": report.relayed, "more": report.more,
                "purged": purged, "outbox": outbox,
            }),
        );
    }
    let outbox = outbox_stats(db, migrations, now)?;
    let log = if config.redis_url.is_empty() {
        serde_json::json!({"configured": false})
    } else {
        match RedisEventLog::new(&config.redis_url, config.stream_retention_ms).describe(&stream) {
            Ok((length, last_id)) => {
                serde_json::json!({"configured": true, "reachable": true, "length": length, "last_id": last_id})
            }
            Err(err) => {
                serde_json::json!({"configured": true, "reachable": false, "error": err.to_string()})
            }
        }
    };
    let body =
        serde_json::json!({"service": service, "stream": stream, "outbox": outbox, "log": log});
    StderrLogger.log(
        LogLine::new("info", service, request.request_id.as_str())
            .event("events.stats")
            .field("outbox.pending", outbox.pending)
            .field("outbox.oldest_pending_age_ms", outbox.oldest_pending_age_ms),
    );
    HttpResponse::json(200, &body)
}

fn outbox_stats(
    db: &dyn Database,
    migrations: &[Migration],
    now: i64,
) -> Result<OutboxStats, ApiError> {
    Ok(with_migrations(db, migrations, now, |db| {
        events::stats(db, now)
    })?)
}
