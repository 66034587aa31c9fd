//! The consuming half of the events (`shopnow_kernel::consumer` on Spin): reading a producer's
//! Redis stream with `XRANGE`, the Redis-trigger entry a consumer component exports (woken by
//! the relay's `PUBLISH`), and the catch-up a scheduler calls over HTTP
//! (`POST /internal/v1/<service>/events/consume`). Design: `docs/adr/0003-events-relay-and-consumers.md`.

use shopnow_kernel::ApiError;
use shopnow_kernel::consumer::{
    self, CONSUME_BATCH, ConsumeError, ConsumeReport, Consumer, ConsumerStats, EventHandler,
    HandlerError, ReplayOutcome, StreamEntry, StreamReader,
};
use shopnow_kernel::events::LogError;
use shopnow_kernel::ids::Clock as _;
use shopnow_kernel::log::{LogLine, Logger as _};
use shopnow_kernel::sql::{Database, DbErrorKind, Migration, with_migrations};
use spin_sdk::redis::{RedisParameter, RedisResult};

use crate::config::Config;
use crate::events::{EventsConfig, EventsService, RedisEventLog};
use crate::{AnyDatabase, StderrLogger, SystemClock};

/// How long a catch-up call or a notification keeps consuming, ms.
pub const CONSUME_BUDGET_MS: i64 = 10_000;

/// What a consuming service reads and what applies it: the producers whose streams it reads
/// (`identity`, `orders`, …) and a constructor of its handler (which may read variables).
pub struct Subscriptions {
    /// Producer services, one consumer each (`<service>.<source>`).
    pub sources: &'static [&'static str],
    /// Builds the service's handler for one call.
    pub handler: fn() -> Result<Box<dyn EventHandler>, ApiError>,
}

/// The consumer name of `service` reading `source`'s stream.
pub fn consumer_name(service: &str, source: &str) -> String {
    format!("{service}.{source}")
}

impl StreamReader for RedisEventLog<'_> {
    fn read_after(
        &self,
        stream: &str,
        after: &str,
        count: i64,
    ) -> Result<Vec<StreamEntry>, LogError> {
        let reply = self
            .connection()?
            .execute(
                "XRANGE",
                &[
                    bin(stream),
                    bin(&format!("({after}")),
                    bin("+"),
                    bin("COUNT"),
                    RedisParameter::Int64(count),
                ],
            )
            .map_err(|e| LogError(format!("XRANGE: {e:?}")))?;
        entries(reply)
    }
}

fn bin(text: &str) -> RedisParameter {
    RedisParameter::Binary(text.as_bytes().to_vec())
}

/// Spin flattens `XRANGE`'s `[[id, [field, value]], …]` into `id, field, value, …`; every entry
/// the relay writes has the one field `event`.
fn entries(reply: Vec<RedisResult>) -> Result<Vec<StreamEntry>, LogError> {
    let text = |value: RedisResult| match value {
        RedisResult::Binary(bytes) => {
            String::from_utf8(bytes).map_err(|_| LogError("XRANGE: not UTF-8".into()))
        }
        RedisResult::Status(text) => Ok(text),
        other => Err(LogError(format!("XRANGE: unexpected {other:?}"))),
    };
    let mut out = Vec::with_capacity(reply.len() / 3);
    let mut values = reply.into_iter();
    while let Some(id) = values.next() {
        let (Some(field), Some(envelope)) = (values.next(), values.next()) else {
            return Err(LogError(
                "XRANGE: an entry without its `event` field".into(),
            ));
        };
        if text(field)? != "event" {
            return Err(LogError(
                "XRANGE: an entry whose field is not `event`".into(),
            ));
        }
        out.push(StreamEntry {
            id: text(id)?,
            envelope: text(envelope)?,
        });
    }
    Ok(out)
}

/// One service's consumers at work: where they keep their state and what applies their events.
pub struct Consuming<'a> {
    /// The consuming service (`orders`, `catalog`).
    pub service: &'a str,
    /// Its database.
    pub db: &'a dyn Database,
    /// Its migrations (applied when the consumer tables are missing).
    pub migrations: &'a [Migration],
    /// The events settings (log address, stream prefix).
    pub config: &'a EventsConfig,
    /// The streams it reads.
    pub subscriptions: &'a Subscriptions,
    /// What applies the events.
    pub handler: &'a dyn EventHandler,
}

impl Consuming<'_> {
    fn log(&self) -> RedisEventLog<'_> {
        RedisEventLog::new(&self.config.redis_url, self.config.stream_retention_ms)
    }

    /// Runs the consumers (only the one reading `stream` when given) for up to `budget_ms` in
    /// all: rounds until one is not full or stops at a failing entry (a consumer reached after
    /// the budget still runs one round). Logs one `events.consumed` line per consumer that did
    /// anything. What the handlers record is relayed by the caller: after the catch-up route's
    /// response, as after any write, or by [`on_notification`].
    ///
    /// # Errors
    /// [`ConsumeError`] of the first consumer whose database or log failed; consumers before it
    /// stay consumed.
    pub fn consume(
        &self,
        request_id: &str,
        stream: Option<&str>,
        budget_ms: i64,
    ) -> Result<Vec<(String, ConsumeReport)>, ConsumeError> {
        let log = self.log();
        let mut reports = Vec::new();
        // One budget for the whole call, whatever the number of streams: the catch-up route
        // answers within about `budget_ms` (its scheduler's timeout counts on it).
        let started = SystemClock.now_ms();
        for source in self.subscriptions.sources {
            let source_stream = self.config.stream(source);
            if stream.is_some_and(|s| s != source_stream) {
                continue;
            }
            let name = consumer_name(self.service, source);
            let consumer = Consumer {
                name: &name,
                stream: &source_stream,
                handler: self.handler,
            };
            let mut total = ConsumeReport::default();
            loop {
                let now = SystemClock.now_ms();
                let round = with_migrations(self.db, self.migrations, now, |db| {
                    match consumer::consume_round(db, &log, &consumer, CONSUME_BATCH, now) {
                        Ok(round) => Ok(Ok(round)),
                        Err(ConsumeError::Database(err)) => Err(err),
                        Err(ConsumeError::Log(err)) => Ok(Err(err)),
                    }
                });
                let round = match round {
                    Ok(Ok(round)) => Ok(round),
                    Ok(Err(err)) => Err(ConsumeError::from(err)),
                    Err(err) => Err(ConsumeError::from(err)),
                };
                let round = match round {
                    Ok(round) => round,
                    Err(err) => {
                        log_report(
                            self.service,
                            request_id,
                            &name,
                            &total,
                            Some(&err.to_string()),
                        );
                        return Err(err);
                    }
                };
                total.applied += round.applied;
                total.duplicates += round.duplicates;
                total.parked += round.parked;
                total.more = round.more;
                total.failed = round.failed;
                if !round.more || SystemClock.now_ms().saturating_sub(started) >= budget_ms {
                    break;
                }
            }
            if total.applied + total.duplicates + total.parked > 0 || total.failed.is_some() {
                log_report(self.service, request_id, &name, &total, None);
            }
            reports.push((name, total));
        }
        Ok(reports)
    }

    /// Stats of each consumer (lag from the log when it can be read).
    ///
    /// # Errors
    /// [`ApiError`] when the database failed.
    pub fn stats(&self) -> Result<Vec<ConsumerStats>, ApiError> {
        let log = self.log();
        let reader: Option<&dyn StreamReader> = if self.config.redis_url.is_empty() {
            None
        } else {
            Some(&log)
        };
        let now = SystemClock.now_ms();
        let mut out = Vec::new();
        for source in self.subscriptions.sources {
            let name = consumer_name(self.service, source);
            let stream = self.config.stream(source);
            let consumer = Consumer {
                name: &name,
                stream: &stream,
                handler: self.handler,
            };
            out.push(with_migrations(self.db, self.migrations, now, |db| {
                consumer::stats(db, reader, &consumer, now)
            })?);
        }
        Ok(out)
    }

    /// Replays the parked entry `entry_id` of the consumer named `name`.
    ///
    /// # Errors
    /// 404 for a consumer this service does not have; 409 when the event fails again (it stays
    /// parked); 503 when the database cannot be reached (nothing was tried).
    pub fn replay(&self, name: &str, entry_id: &str) -> Result<ReplayOutcome, ApiError> {
        let Some(source) = self
            .subscriptions
            .sources
            .iter()
            .find(|source| consumer_name(self.service, source) == name)
        else {
            return Err(ApiError::NotFound);
        };
        let stream = self.config.stream(source);
        let consumer = Consumer {
            name,
            stream: &stream,
            handler: self.handler,
        };
        let now = SystemClock.now_ms();
        let outcome =
            with_migrations(
                self.db,
                self.migrations,
                now,
                |db| match consumer::replay_parked(db, &consumer, entry_id, now) {
                    Ok(outcome) => Ok(Ok(outcome)),
                    // Missing tables: migrate and retry; an unreachable database: 503 (the
                    // event did not fail, it was not tried).
                    Err(HandlerError::Database(err))
                        if matches!(
                            err.kind,
                            DbErrorKind::SchemaMissing | DbErrorKind::Unavailable
                        ) =>
                    {
                        Err(err)
                    }
                    Err(other) => Ok(Err(other)),
                },
            )?;
        outcome.map_err(|err| ApiError::Conflict {
            detail: format!("the parked event failed again and stays parked: {err}"),
        })
    }
}

fn log_report(
    service: &str,
    request_id: &str,
    consumer: &str,
    report: &ConsumeReport,
    error: Option<&str>,
) {
    let level = if error.is_some() || report.failed.is_some() || report.parked > 0 {
        "warn"
    } else {
        "info"
    };
    let mut line = LogLine::new(level, service, request_id)
        .event("events.consumed")
        .field("consumer", consumer)
        .field("events.applied", report.applied)
        .field("events.duplicates", report.duplicates)
        .field("events.parked", report.parked);
    if let Some(failed) = &report.failed {
        line = line.field("events.failed", failed.as_str());
    }
    if let Some(error) = error {
        line = line.field("error", error);
    }
    StderrLogger.log(line);
}

/// What a consumer component's `#[redis_component]` calls with the message the relay published
/// (the stream's name): consumes that stream (every subscribed one for another payload).
///
/// # Errors
/// A one-line reason (Spin logs it as the handler's failure) when the service consumes nothing,
/// or the configuration, the database or the log failed; the next notification or catch-up
/// tries again.
pub fn on_notification(service: &EventsService, payload: &[u8]) -> Result<(), String> {
    let request_id = format!("redis-{}", SystemClock.now_ms());
    let result = (|| -> Result<(), String> {
        let subscriptions = service
            .subscriptions
            .ok_or("this service consumes no stream")?;
        let config = EventsConfig::from_variables().map_err(|e| e.to_string())?;
        if config.redis_url.is_empty() {
            return Err("events_redis_url is empty: no event log to read".into());
        }
        let db = AnyDatabase::open(&Config.get_or("database_url", ""), service.sqlite_label)
            .map_err(|e| format!("{e:?}"))?;
        let handler = (subscriptions.handler)().map_err(|e| e.to_string())?;
        let stream = std::str::from_utf8(payload).ok().filter(|p| {
            subscriptions
                .sources
                .iter()
                .any(|source| config.stream(source) == *p)
        });
        let reports = Consuming {
            service: service.name,
            db: &db,
            migrations: service.migrations,
            config: &config,
            subscriptions,
            handler: handler.as_ref(),
        }
        .consume(&request_id, stream, CONSUME_BUDGET_MS)
        .map_err(|e| e.to_string())?;
        // What the handlers recorded (catalog's `product.archived`) goes out now: a consumer
        // process serves no request whose response would be followed by the relay.
        if reports.iter().any(|(_, report)| report.applied > 0) {
            crate::events::relay_after_response(
                service.name,
                &request_id,
                &db,
                service.migrations,
                &config,
            );
        }
        Ok(())
    })();
    result.map_err(|reason| format!("{} consumer: {reason}", service.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(text: &str) -> RedisResult {
        RedisResult::Binary(text.as_bytes().to_vec())
    }

    #[test]
    fn a_flattened_xrange_reads_back_as_entries() {
        let reply = vec![
            bin("1-0"),
            bin("event"),
            bin("{}"),
            bin("2-0"),
            bin("event"),
            bin("[]"),
        ];
        let got = entries(reply).unwrap();
        assert_eq!(
            got,
            [
                StreamEntry {
                    id: "1-0".into(),
                    envelope: "{}".into()
                },
                StreamEntry {
                    id: "2-0".into(),
                    envelope: "[]".into()
                }
            ]
        );
    }

    #[test]
    fn an_entry_of_another_shape_is_refused() {
        assert!(entries(vec![bin("1-0"), bin("event")]).is_err());
        assert!(entries(vec![bin("1-0"), bin("other"), bin("{}")]).is_err());
    }
}
