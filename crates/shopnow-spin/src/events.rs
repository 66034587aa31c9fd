//! The event log on Redis streams (Spin's outbound Redis), the relay every component runs after
//! it has answered a write, and the two operations routes every service serves under
//! `/internal/v1/<service>/events/` (`relay`: the sweep; `stats`: outbox lag). Design:
//! `docs/adr/0003-events-relay-and-consumers.md`.
//!
//! A stream entry has one field, `event`, holding the envelope JSON, so Spin's flattened
//! `execute` answer of `XRANGE` reads back as `id, "event", envelope` triples.

use std::cell::OnceCell;

use shopnow_kernel::ApiError;
use shopnow_kernel::consumer::{self, ConsumeError};
use shopnow_kernel::events::{self, EventLog, LogError, OutboxStats, RelayError, RelayReport};
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::log::{LogLine, Logger as _};
use shopnow_kernel::service_auth::ServiceCredentials;
use shopnow_kernel::sql::{Database, Migration, with_migrations};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

use crate::config::{Config, ConfigError};
use crate::consumers::{CONSUME_BUDGET_MS, Consuming, Subscriptions};
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

    /// The connection, opened on first use.
    pub(crate) fn connection(&self) -> Result<&Connection, LogError> {
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
        let conn = self.connection()?;
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
        let conn = self.connection()?;
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
        self.connection()?
            .publish(stream, stream.as_bytes())
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

/// The events operations routes under `/internal/v1/<service>/events/`, or `None` for any other
/// path: `POST relay` (the sweep), `GET stats` (outbox, log and consumer lag), and for a service
/// that consumes (`subscriptions`) `POST consume` (the catch-up) and
/// `POST consumers/<consumer>/parked/<entry id>/replay`. All need the events service credential;
/// the database (the `database_url` variable, else the SQLite database `sqlite_label`) is opened
/// only then.
///
/// # Errors
/// 401 without the credential, 405 for another method, 503 when the database or the log cannot
/// be reached.
pub fn route(
    service: &str,
    request: &HttpRequest,
    sqlite_label: &str,
    migrations: &[Migration],
    subscriptions: Option<&Subscriptions>,
) -> Option<Result<HttpResponse, ApiError>> {
    let prefix = format!("/internal/v1/{service}/events/");
    let path = request.path.strip_prefix(&prefix)?;
    let action = match (path, subscriptions) {
        ("relay", _) => Action::Relay,
        ("stats", _) => Action::Stats,
        ("consume", Some(_)) => Action::Consume,
        (other, Some(_)) => {
            let parts: Vec<&str> = other.split('/').collect();
            match parts.as_slice() {
                ["consumers", name, "parked", entry, "replay"]
                    if !name.is_empty() && !entry.is_empty() =>
                {
                    Action::Replay {
                        consumer: (*name).to_owned(),
                        entry: (*entry).to_owned(),
                    }
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(operation(
        service,
        request,
        sqlite_label,
        migrations,
        subscriptions,
        &action,
    ))
}

/// An events operations route.
enum Action {
    Relay,
    Stats,
    Consume,
    Replay { consumer: String, entry: String },
}

impl Action {
    fn method(&self) -> Method {
        match self {
            Self::Stats => Method::Get,
            Self::Relay | Self::Consume | Self::Replay { .. } => Method::Post,
        }
    }
}

/// What a service's events wiring needs: its name, its database (the `database_url` variable,
/// else the SQLite database `sqlite_label`), its migrations, and for a consuming service the
/// streams it reads. Each component's `lib.rs` declares one and hands it to
/// [`serve_with_events`] and, if it consumes, [`crate::consumers::on_notification`].
pub struct EventsService {
    /// `identity`, `catalog`, `orders`.
    pub name: &'static str,
    /// The SQLite database label used when `database_url` is empty.
    pub sqlite_label: &'static str,
    /// The service's migrations (applied when an events table is missing).
    pub migrations: &'static [Migration],
    /// The streams it consumes, `None` for a service that consumes none.
    pub subscriptions: Option<&'static Subscriptions>,
}

/// Serves one request of `service` as [`crate::serve_then`] does, with the events operations
/// routes ([`route`]) in front of `handler` and the relay ([`relay_after_write`]) after the
/// response: the one entry every event-producing component's `lib.rs` calls.
pub fn serve_with_events(
    service: &EventsService,
    incoming: IncomingRequest,
    out: ResponseOutparam,
    body_limit: usize,
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
) {
    crate::serve_then(
        service.name,
        incoming,
        out,
        body_limit,
        |request| {
            route(
                service.name,
                request,
                service.sqlite_label,
                service.migrations,
                service.subscriptions,
            )
            .unwrap_or_else(|| handler(request))
        },
        |request, status| {
            relay_after_write(
                service.name,
                request,
                status,
                service.sqlite_label,
                service.migrations,
            );
        },
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
    subscriptions: Option<&Subscriptions>,
    action: &Action,
) -> Result<HttpResponse, ApiError> {
    ServiceCredentials::parse(&Config.secret("events_service_tokens")?).require(request)?;
    let config = EventsConfig::from_variables()?;
    let allowed = action.method();
    if request.method != allowed {
        return Err(ApiError::MethodNotAllowed {
            allow: vec![allowed.as_str()],
        });
    }
    let db = AnyDatabase::open(&Config.get_or("database_url", ""), sqlite_label)?;
    let db: &dyn Database = &db;
    let now = SystemClock.now_ms();
    let stream = config.stream(service);
    let no_log = || ApiError::ServiceUnavailable {
        cause: Box::new(LogError("events_redis_url is empty: no event log".into())),
    };
    let handler = subscriptions.map(|s| (s.handler)()).transpose()?;
    let consuming = match (subscriptions, &handler) {
        (Some(subscriptions), Some(handler)) => Some(Consuming {
            service,
            db,
            migrations,
            config: &config,
            subscriptions,
            handler: handler.as_ref(),
        }),
        _ => None,
    };
    match (action, consuming) {
        (Action::Relay, _) => {
            if config.redis_url.is_empty() {
                return Err(no_log());
            }
            let report = relay(
                service,
                request.request_id.as_str(),
                db,
                migrations,
                &config,
                SWEEP_BUDGET_MS,
            )
            .map_err(|err| match err {
                RelayError::Database(db) => ApiError::from(db),
                RelayError::Log(log) => ApiError::ServiceUnavailable {
                    cause: Box::new(log),
                },
            })?;
            let purged = events::purge(db, now.saturating_sub(config.outbox_retention_ms))?;
            let outbox = outbox_stats(db, migrations, now)?;
            HttpResponse::json(
                200,
                &serde_json::json!({
                    "stream": stream, "relayed": report.relayed, "more": report.more,
                    "purged": purged, "outbox": outbox,
                }),
            )
        }
        (Action::Consume, Some(consuming)) => {
            if config.redis_url.is_empty() {
                return Err(no_log());
            }
            let reports = consuming
                .consume(request.request_id.as_str(), None, CONSUME_BUDGET_MS)
                .map_err(|err| match err {
                    ConsumeError::Database(db) => ApiError::from(db),
                    ConsumeError::Log(log) => ApiError::ServiceUnavailable {
                        cause: Box::new(log),
                    },
                })?;
            // Processed ids older than the stream keeps entries can never be redelivered.
            let purged = with_migrations(db, migrations, now, |db| {
                consumer::purge_processed(db, now.saturating_sub(config.stream_retention_ms))
            })?;
            let consumers: Vec<serde_json::Value> = reports
                .into_iter()
                .map(|(name, report)| serde_json::json!({"name": name, "report": report}))
                .collect();
            HttpResponse::json(
                200,
                &serde_json::json!({"consumers": consumers, "purged_processed": purged}),
            )
        }
        (Action::Replay { consumer, entry }, Some(consuming)) => {
            let outcome = consuming.replay(consumer, entry)?;
            if outcome == consumer::ReplayOutcome::NotParked {
                return Err(ApiError::NotFound);
            }
            HttpResponse::json(
                200,
                &serde_json::json!({"consumer": consumer, "entry_id": entry, "outcome": outcome}),
            )
        }
        (Action::Stats, consuming) => {
            let outbox = outbox_stats(db, migrations, now)?;
            let log = if config.redis_url.is_empty() {
                serde_json::json!({"configured": false})
            } else {
                match RedisEventLog::new(&config.redis_url, config.stream_retention_ms)
                    .describe(&stream)
                {
                    Ok((length, last_id)) => serde_json::json!({"configured": true,
                        "reachable": true, "length": length, "last_id": last_id}),
                    Err(err) => serde_json::json!({"configured": true, "reachable": false,
                        "error": err.to_string()}),
                }
            };
            let consumers = match &consuming {
                Some(consuming) => consuming.stats()?,
                None => Vec::new(),
            };
            let mut line = LogLine::new("info", service, request.request_id.as_str())
                .event("events.stats")
                .field("outbox.pending", outbox.pending)
                .field("outbox.oldest_pending_age_ms", outbox.oldest_pending_age_ms);
            for c in &consumers {
                line = line
                    .field(
                        &format!("consumer.{}.lag_ms", c.name),
                        c.lag_ms.unwrap_or(-1),
                    )
                    .field(&format!("consumer.{}.parked", c.name), c.parked)
                    .field(&format!("consumer.{}.retrying", c.name), c.retrying);
            }
            StderrLogger.log(line);
            HttpResponse::json(
                200,
                &serde_json::json!({"service": service, "stream": stream, "outbox": outbox,
                    "log": log, "consumers": consumers}),
            )
        }
        // Routes of a consuming service only; `route` never builds them without subscriptions.
        (Action::Consume | Action::Replay { .. }, None) => Err(ApiError::NotFound),
    }
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
