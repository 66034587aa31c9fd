//! Consuming another service's events exactly once. Each consumer (`<service>.<source>`, one per
//! stream it reads) keeps, in its own service's database, a cursor (the last stream entry it is
//! done with), the ids of the events it applied, and a failure count per entry. An entry is
//! applied in one transaction that also records its event id and moves the cursor, so an effect
//! happens once however often the entry (or a duplicate of its event under another entry id) is
//! delivered. Pure: the stream is the [`StreamReader`] port (Redis `XRANGE` in `shopnow-spin`).
//! Design: `docs/adr/0003-events-relay-and-consumers.md`; runbook: `docs/operations.md`.
//!
//! Order: entries are applied in stream order, one at a time; an entry that fails stops the round
//! (later entries wait behind it, so events of one aggregate never overtake each other) until it
//! succeeds or has failed [`MAX_FAILURES`] times, when it is parked (kept with its envelope and
//! last error, listed by [`stats`]) and the cursor moves past it. [`replay_parked`] applies a
//! parked event later, once its cause is fixed.

use serde::{Deserialize, Serialize};

use crate::events::LogError;
use crate::sql::{Database, DbError, DbErrorKind, Dialect, SqlValue, Statement, transaction};

/// Failures of one entry after which it is parked and the consumer moves on.
pub const MAX_FAILURES: i64 = 5;

/// Failures of one entry closer together than this count once: two consumer replicas and the
/// catch-up, woken by the same notification, are one attempt, not three.
pub const FAILURE_SPACING_MS: i64 = 1_000;

/// The most entries one consume round reads.
pub const CONSUME_BATCH: i64 = 100;

/// Where a new consumer starts: before the first entry the stream still holds.
pub const START_CURSOR: &str = "0-0";

/// The tables every consuming service's migrations add (one `Migration` lists these).
pub const CONSUMER_STATEMENTS: &[Statement] = &[
    Statement::Portable(
        "CREATE TABLE IF NOT EXISTS event_consumers (\
         name TEXT PRIMARY KEY, \
         stream TEXT NOT NULL, \
         cursor TEXT NOT NULL, \
         applied BIGINT NOT NULL, \
         updated_at BIGINT NOT NULL)",
    ),
    Statement::Portable(
        "CREATE TABLE IF NOT EXISTS event_processed (\
         consumer TEXT NOT NULL, \
         event_id TEXT NOT NULL, \
         processed_at BIGINT NOT NULL, \
         PRIMARY KEY (consumer, event_id))",
    ),
    Statement::Portable(
        "CREATE INDEX IF NOT EXISTS event_processed_at_idx ON event_processed (processed_at)",
    ),
    Statement::Portable(
        "CREATE TABLE IF NOT EXISTS event_failures (\
         consumer TEXT NOT NULL, \
         entry_id TEXT NOT NULL, \
         event_id TEXT, \
         event_type TEXT, \
         envelope TEXT NOT NULL, \
         failures BIGINT NOT NULL, \
         last_error TEXT NOT NULL, \
         last_failed_at BIGINT NOT NULL, \
         parked_at BIGINT, \
         PRIMARY KEY (consumer, entry_id))",
    ),
];

/// One stream entry: its id (`<ms>-<seq>`) and the envelope it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Redis stream entry id.
    pub id: String,
    /// The event envelope JSON (`docs/events.md`).
    pub envelope: String,
}

/// Reads a stream in order (Redis `XRANGE` in production).
pub trait StreamReader {
    /// At most `count` entries of `stream` after entry `after`, oldest first.
    ///
    /// # Errors
    /// [`LogError`] when the log cannot be read.
    fn read_after(
        &self,
        stream: &str,
        after: &str,
        count: i64,
    ) -> Result<Vec<StreamEntry>, LogError>;
}

/// An event as a consumer receives it: the envelope of `docs/events.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceivedEvent {
    /// UUIDv7; what a consumer deduplicates on.
    pub id: String,
    /// Stable type (`user.erased`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: i64,
    /// Producing service.
    pub source: String,
    /// What kind of thing it is about.
    pub aggregate_type: String,
    /// Which one.
    pub aggregate_id: String,
    /// Its version of the aggregate (1, 2, …).
    pub aggregate_version: i64,
    /// When it happened (epoch ms).
    pub occurred_at_ms: i64,
    /// The payload.
    pub data: serde_json::Value,
}

impl ReceivedEvent {
    /// The text field `name` of `data`.
    ///
    /// # Errors
    /// [`HandlerError::Rejected`] when it is missing or not a string.
    pub fn text(&self, name: &str) -> Result<&str, HandlerError> {
        self.data
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                HandlerError::Rejected(format!("{} without a text `{name}`", self.event_type))
            })
    }
}

/// Why a handler could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be applied as it is (a payload that breaks its schema): counted, and
    /// parked after [`MAX_FAILURES`].
    #[error("rejected: {0}")]
    Rejected(String),
    /// A statement failed. Counted unless the database was unreachable (then the round stops and
    /// the entry is tried again, uncounted).
    #[error(transparent)]
    Database(#[from] DbError),
}

/// What a consuming service does with the events of the streams it reads.
pub trait EventHandler {
    /// Applies `event` inside the consumer's transaction `tx` (which also records it as
    /// processed). Types it does not act on return `Ok` and are recorded as processed.
    ///
    /// # Errors
    /// [`HandlerError`]; the transaction is rolled back.
    fn apply(&self, tx: &dyn Database, event: &ReceivedEvent) -> Result<(), HandlerError>;

    /// Called after the transaction that applied `event` committed (cache invalidation).
    fn committed(&self, event: &ReceivedEvent) {
        let _unused = event;
    }
}

/// A consumer: its name (`<service>.<source>`), the stream it reads and what applies its events.
pub struct Consumer<'a> {
    /// Unique per consuming service and stream, e.g. `orders.identity`.
    pub name: &'a str,
    /// The stream it reads.
    pub stream: &'a str,
    /// What applies the events.
    pub handler: &'a dyn EventHandler,
}

/// What one consume call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsumeReport {
    /// Entries applied now.
    pub applied: u64,
    /// Entries whose event had been applied already (a duplicate delivery): skipped.
    pub duplicates: u64,
    /// Entries parked now.
    pub parked: u64,
    /// A full round: more may wait.
    pub more: bool,
    /// Why the round stopped at an entry that failed and will be tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// A consume failure that stops the round without counting against an entry.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// The consumer's database.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The log.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// How an entry's transaction ended.
enum Step {
    Applied(Box<ReceivedEvent>),
    Duplicate,
    /// Another instance of this consumer moved the cursor: it is consuming; stop.
    Moved,
}

/// Why an entry's transaction failed.
enum StepError {
    /// The consumer's own statements, or a database that cannot be reached: retried, uncounted.
    Store(DbError),
    /// The event (or its handler) failed: counted.
    Event(String),
}

impl From<DbError> for StepError {
    fn from(err: DbError) -> Self {
        Self::Store(err)
    }
}

impl From<HandlerError> for StepError {
    fn from(err: HandlerError) -> Self {
        match err {
            // Not the event's fault: an unreachable or busy database, or tables a migration has
            // yet to create (the round stops; `with_migrations` migrates and retries).
            HandlerError::Database(db)
                if matches!(
                    db.kind,
                    DbErrorKind::Unavailable | DbErrorKind::SchemaMissing
                ) =>
            {
                Self::Store(db)
            }
            other => Self::Event(other.to_string()),
        }
    }
}

/// Creates the consumer's row if it has none and returns its cursor.
fn cursor(db: &dyn Database, consumer: &Consumer<'_>, now_ms: i64) -> Result<String, DbError> {
    db.execute(
        "INSERT INTO event_consumers (name, stream, cursor, applied, updated_at) \
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT (name) DO NOTHING",
        &[
            consumer.name.into(),
            consumer.stream.into(),
            START_CURSOR.into(),
            SqlValue::Int(now_ms),
        ],
    )?;
    locked_cursor(db, consumer.name, false)
}

/// The consumer's cursor; `lock`: row-locked until the transaction ends (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already holds the database's write lock).
fn locked_cursor(db: &dyn Database, name: &str, lock: bool) -> Result<String, DbError> {
    let sql = if lock && db.dialect() == Dialect::Postgres {
        "SELECT cursor FROM event_consumers WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT cursor FROM event_consumers WHERE name = $1"
    };
    db.query(sql, &[name.into()])?
        .first()
        .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "no consumer row"))?
        .text(0)
}

/// Reads up to `batch` entries after the consumer's cursor and applies them in order (see the
/// module docs).
///
/// # Errors
/// [`ConsumeError`] when the database or the log failed; entries before it stay applied.
pub fn consume_round(
    db: &dyn Database,
    log: &dyn StreamReader,
    consumer: &Consumer<'_>,
    batch: i64,
    now_ms: i64,
) -> Result<ConsumeReport, ConsumeError> {
    let mut at = cursor(db, consumer, now_ms)?;
    let entries = log.read_after(consumer.stream, &at, batch)?;
    let mut report = ConsumeReport {
        more: i64::try_from(entries.len()).unwrap_or(i64::MAX) >= batch,
        ..ConsumeReport::default()
    };
    for entry in entries {
        match apply_entry(db, consumer, &at, &entry, now_ms) {
            Ok(Step::Applied(event)) => {
                consumer.handler.committed(&event);
                report.applied += 1;
            }
            Ok(Step::Duplicate) => report.duplicates += 1,
            Ok(Step::Moved) => {
                report.more = false;
                return Ok(report);
            }
            Err(StepError::Store(err)) => return Err(err.into()),
            Err(StepError::Event(reason)) => {
                if !count_failure(db, consumer, &at, &entry, &reason, now_ms)? {
                    report.more = false;
                    report.failed = Some(reason);
                    return Ok(report);
                }
                report.parked += 1;
            }
        }
        at = entry.id;
    }
    Ok(report)
}

fn apply_entry(
    db: &dyn Database,
    consumer: &Consumer<'_>,
    expected: &str,
    entry: &StreamEntry,
    now_ms: i64,
) -> Result<Step, StepError> {
    transaction(db, |tx| -> Result<Step, StepError> {
        if locked_cursor(tx, consumer.name, true)? != expected {
            return Ok(Step::Moved);
        }
        let event: ReceivedEvent = serde_json::from_str(&entry.envelope)
            .map_err(|e| StepError::Event(format!("unreadable envelope: {e}")))?;
        let fresh = mark_processed(tx, consumer.name, &event.id, now_ms)?;
        if fresh {
            consumer.handler.apply(tx, &event)?;
        }
        advance(tx, consumer.name, &entry.id, u64::from(fresh), now_ms)?;
        tx.execute(
            "DELETE FROM event_failures WHERE consumer = $1 AND entry_id = $2",
            &[consumer.name.into(), entry.id.as_str().into()],
        )?;
        Ok(if fresh {
            Step::Applied(Box::new(event))
        } else {
            Step::Duplicate
        })
    })
}

/// Records `event_id` as processed by `consumer`; false when it already was.
fn mark_processed(
    tx: &dyn Database,
    consumer: &str,
    event_id: &str,
    now_ms: i64,
) -> Result<bool, DbError> {
    // RETURNING, not the affected-row count: on SQLite the count is the shared connection's.
    Ok(!tx
        .query(
            "INSERT INTO event_processed (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id",
            &[consumer.into(), event_id.into(), SqlValue::Int(now_ms)],
        )?
        .is_empty())
}

fn advance(
    tx: &dyn Database,
    consumer: &str,
    entry_id: &str,
    applied: u64,
    now_ms: i64,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE event_consumers SET cursor = $2, applied = applied + $3, updated_at = $4 \
         WHERE name = $1",
        &[
            consumer.into(),
            entry_id.into(),
            SqlValue::Int(i64::try_from(applied).unwrap_or(0)),
            SqlValue::Int(now_ms),
        ],
    )?;
    Ok(())
}

/// Counts a failure of `entry`; parks it and moves the cursor past it at [`MAX_FAILURES`].
/// Returns whether it was parked (the round goes on) — false: the round stops.
fn count_failure(
    db: &dyn Database,
    consumer: &Consumer<'_>,
    expected: &str,
    entry: &StreamEntry,
    reason: &str,
    now_ms: i64,
) -> Result<bool, DbError> {
    let header: Option<ReceivedEvent> = serde_json::from_str(&entry.envelope).ok();
    transaction(db, |tx| {
        if locked_cursor(tx, consumer.name, true)? != expected {
            return Ok(false);
        }
        let failures = tx
            .query(
                "INSERT INTO event_failures (consumer, entry_id, event_id, event_type, envelope, \
                 failures, last_error, last_failed_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) \
                 ON CONFLICT (consumer, entry_id) DO UPDATE SET \
                 failures = event_failures.failures + CASE \
                 WHEN event_failures.last_failed_at <= $7 - $8 THEN 1 ELSE 0 END, \
                 last_error = $6, last_failed_at = CASE \
                 WHEN event_failures.last_failed_at <= $7 - $8 THEN $7 \
                 ELSE event_failures.last_failed_at END \
                 RETURNING failures",
                &[
                    consumer.name.into(),
                    entry.id.as_str().into(),
                    header.as_ref().map(|e| e.id.as_str()).into(),
                    header.as_ref().map(|e| e.event_type.as_str()).into(),
                    entry.envelope.as_str().into(),
                    reason.into(),
                    SqlValue::Int(now_ms),
                    SqlValue::Int(FAILURE_SPACING_MS),
                ],
            )?
            .first()
            .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "no failure count"))?
            .int(0)?;
        if failures < MAX_FAILURES {
            return Ok(false);
        }
        tx.execute(
            "UPDATE event_failures SET parked_at = $3 WHERE consumer = $1 AND entry_id = $2",
            &[
                consumer.name.into(),
                entry.id.as_str().into(),
                SqlValue::Int(now_ms),
            ],
        )?;
        advance(tx, consumer.name, &entry.id, 0, now_ms)?;
        Ok(true)
    })
}

/// What [`replay_parked`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayOutcome {
    /// Applied now; no longer parked.
    Applied,
    /// Its event had been applied meanwhile (a duplicate under another entry); unparked.
    Duplicate,
    /// No parked entry of that consumer has that id.
    NotParked,
}

/// Applies the parked entry `entry_id` of `consumer` from its kept envelope, as a consume round
/// would; on success it is no longer parked.
///
/// # Errors
/// [`HandlerError`] when it fails again (it stays parked, the failure is not counted) or the
/// database failed.
pub fn replay_parked(
    db: &dyn Database,
    consumer: &Consumer<'_>,
    entry_id: &str,
    now_ms: i64,
) -> Result<ReplayOutcome, HandlerError> {
    let applied = transaction(db, |tx| -> Result<Option<ReceivedEvent>, HandlerError> {
        // A consumer that never ran has no row to lock yet (and nothing parked).
        cursor(tx, consumer, now_ms)?;
        let _locked = locked_cursor(tx, consumer.name, true)?;
        let rows = tx.query(
            "SELECT envelope FROM event_failures \
             WHERE consumer = $1 AND entry_id = $2 AND parked_at IS NOT NULL",
            &[consumer.name.into(), entry_id.into()],
        )?;
        let Some(row) = rows.first() else {
            return Err(HandlerError::Rejected(NOT_PARKED.into()));
        };
        let event: ReceivedEvent = serde_json::from_str(&row.text(0)?)
            .map_err(|e| HandlerError::Rejected(format!("unreadable envelope: {e}")))?;
        let fresh = mark_processed(tx, consumer.name, &event.id, now_ms)?;
        if fresh {
            consumer.handler.apply(tx, &event)?;
        }
        tx.execute(
            "DELETE FROM event_failures WHERE consumer = $1 AND entry_id = $2",
            &[consumer.name.into(), entry_id.into()],
        )?;
        Ok(fresh.then_some(event))
    });
    match applied {
        Ok(Some(event)) => {
            consumer.handler.committed(&event);
            Ok(ReplayOutcome::Applied)
        }
        Ok(None) => Ok(ReplayOutcome::Duplicate),
        Err(HandlerError::Rejected(reason)) if reason == NOT_PARKED => Ok(ReplayOutcome::NotParked),
        Err(err) => Err(err),
    }
}

const NOT_PARKED: &str = "not parked";

/// Forgets processed ids older than `before_ms` (older than the stream keeps entries, so no
/// redelivery can need them); returns how many.
///
/// # Errors
/// [`DbError`] on storage failure.
pub fn purge_processed(db: &dyn Database, before_ms: i64) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM event_processed WHERE processed_at < $1",
        &[SqlValue::Int(before_ms)],
    )
}

/// A parked entry, as the stats route lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParkedEntry {
    /// Stream entry id (what the replay route takes).
    pub entry_id: String,
    /// Its event's id, when the envelope could be read.
    pub event_id: Option<String>,
    /// Its event's type, when the envelope could be read.
    pub event_type: Option<String>,
    /// Failures counted.
    pub failures: i64,
    /// The last failure's reason.
    pub last_error: String,
    /// When it was parked (epoch ms).
    pub parked_at_ms: i64,
}

/// A consumer's health: position, lag and parked entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerStats {
    /// The consumer.
    pub name: String,
    /// The stream it reads.
    pub stream: String,
    /// The last entry it is done with.
    pub cursor: String,
    /// Events applied since it started.
    pub applied: i64,
    /// Whether an entry waits after the cursor (`None`: the log could not be read).
    pub behind: Option<bool>,
    /// Age of the oldest entry it has not applied, ms (0 when caught up; `None`: log unread).
    pub lag_ms: Option<i64>,
    /// Entries that failed and will be tried again (not parked).
    pub retrying: i64,
    /// Parked entries.
    pub parked: i64,
    /// The latest parked entries (at most 20).
    pub parked_entries: Vec<ParkedEntry>,
}

/// `consumer`'s stats at `now_ms`; the lag needs the log, and is `None` when it cannot be read.
///
/// # Errors
/// [`DbError`] on storage failure.
pub fn stats(
    db: &dyn Database,
    log: Option<&dyn StreamReader>,
    consumer: &Consumer<'_>,
    now_ms: i64,
) -> Result<ConsumerStats, DbError> {
    let at = cursor(db, consumer, now_ms)?;
    let row = db
        .query(
            "SELECT applied, \
             (SELECT COUNT(*) FROM event_failures WHERE consumer = $1 AND parked_at IS NULL), \
             (SELECT COUNT(*) FROM event_failures WHERE consumer = $1 AND parked_at IS NOT NULL) \
             FROM event_consumers WHERE name = $1",
            &[consumer.name.into()],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "no consumer row"))?;
    let parked_entries = db
        .query(
            "SELECT entry_id, event_id, event_type, failures, last_error, parked_at \
             FROM event_failures WHERE consumer = $1 AND parked_at IS NOT NULL \
             ORDER BY parked_at DESC, entry_id DESC LIMIT 20",
            &[consumer.name.into()],
        )?
        .iter()
        .map(|r| {
            Ok(ParkedEntry {
                entry_id: r.text(0)?,
                event_id: r.opt_text(1)?,
                event_type: r.opt_text(2)?,
                failures: r.int(3)?,
                last_error: r.text(4)?,
                parked_at_ms: r.int(5)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let next = log.map(|log| log.read_after(consumer.stream, &at, 1));
    let (behind, lag_ms) = match next {
        Some(Ok(entries)) => match entries.first() {
            Some(entry) => (
                Some(true),
                Some(now_ms.saturating_sub(entry_ms(&entry.id)).max(0)),
            ),
            None => (Some(false), Some(0)),
        },
        Some(Err(_)) | None => (None, None),
    };
    Ok(ConsumerStats {
        name: consumer.name.to_owned(),
        stream: consumer.stream.to_owned(),
        cursor: at,
        applied: row.int(0)?,
        behind,
        lag_ms,
        retrying: row.int(1)?,
        parked: row.int(2)?,
        parked_entries,
    })
}

/// The milliseconds part of a stream entry id (`<ms>-<seq>`); 0 when it has none.
pub fn entry_ms(id: &str) -> i64 {
    id.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Row;
    use crate::sql::memory::ScriptedDb;
    use std::cell::RefCell;

    struct Log(Vec<StreamEntry>);

    impl StreamReader for Log {
        fn read_after(
            &self,
            _stream: &str,
            after: &str,
            count: i64,
        ) -> Result<Vec<StreamEntry>, LogError> {
            Ok(self
                .0
                .iter()
                .filter(|e| entry_ms(&e.id) > entry_ms(after))
                .take(usize::try_from(count).unwrap())
                .cloned()
                .collect())
        }
    }

    #[derive(Default)]
    struct Handler {
        fail: bool,
        applied: RefCell<Vec<String>>,
    }

    impl EventHandler for Handler {
        fn apply(&self, _tx: &dyn Database, event: &ReceivedEvent) -> Result<(), HandlerError> {
            if self.fail {
                return Err(HandlerError::Rejected("no".into()));
            }
            self.applied.borrow_mut().push(event.id.clone());
            Ok(())
        }
    }

    fn envelope(id: &str) -> String {
        serde_json::json!({"id": id, "type": "user.erased", "schema_version": 1,
            "source": "identity", "aggregate_type": "user", "aggregate_id": "u",
            "aggregate_version": 1, "occurred_at_ms": 1, "data": {"user_id": "u"}})
        .to_string()
    }

    fn entry(ms: i64, id: &str) -> StreamEntry {
        StreamEntry {
            id: format!("{ms}-0"),
            envelope: envelope(id),
        }
    }

    fn text_row(value: &str) -> Vec<Row> {
        vec![Row(vec![SqlValue::Text(value.into())])]
    }

    #[test]
    fn an_event_is_applied_once_and_its_duplicate_only_moves_the_cursor() {
        let db = ScriptedDb::new(Dialect::Postgres);
        db.push_rows(text_row("0-0")); // cursor
        db.push_rows(text_row("0-0")); // locked cursor, entry 1
        db.push_rows(text_row("e1")); // processed: fresh
        db.push_rows(text_row("1-0")); // locked cursor, entry 2
        db.push_rows(Vec::new()); // processed: already
        let handler = Handler::default();
        let consumer = Consumer {
            name: "orders.identity",
            stream: "s",
            handler: &handler,
        };
        let log = Log(vec![entry(1, "e1"), entry(2, "e1")]);
        let report = consume_round(&db, &log, &consumer, 100, 9).unwrap();
        assert_eq!((report.applied, report.duplicates), (1, 1));
        assert_eq!(*handler.applied.borrow(), ["e1"]);
        let statements = db.log();
        assert_eq!(
            statements
                .iter()
                .filter(|s| s.starts_with("UPDATE event_consumers"))
                .count(),
            2
        );
        assert!(statements.iter().any(|s| s.ends_with("FOR UPDATE")));
    }

    #[test]
    fn a_cursor_moved_by_another_instance_stops_the_round() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(text_row("0-0"));
        db.push_rows(text_row("5-0")); // someone else got further
        let handler = Handler::default();
        let consumer = Consumer {
            name: "c",
            stream: "s",
            handler: &handler,
        };
        let report = consume_round(&db, &Log(vec![entry(1, "e1")]), &consumer, 100, 9).unwrap();
        assert_eq!(report, ConsumeReport::default());
        assert!(handler.applied.borrow().is_empty());
        assert!(
            !db.log()
                .iter()
                .any(|s| s.starts_with("INSERT INTO event_processed"))
        );
    }

    #[test]
    fn a_failing_entry_stops_the_round_until_it_is_parked_then_the_cursor_moves_on() {
        let handler = Handler {
            fail: true,
            ..Handler::default()
        };
        let consumer = Consumer {
            name: "c",
            stream: "s",
            handler: &handler,
        };
        let log = Log(vec![entry(1, "e1"), entry(2, "e2")]);
        let count = |failures: i64| vec![Row(vec![SqlValue::Int(failures)])];
        // Below the limit: counted, round stops, cursor stays.
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(text_row("0-0"));
        db.push_rows(text_row("0-0"));
        db.push_rows(text_row("e1"));
        db.push_rows(text_row("0-0")); // count_failure's lock
        db.push_rows(count(1));
        let report = consume_round(&db, &log, &consumer, 100, 9).unwrap();
        assert_eq!(report.failed.as_deref(), Some("rejected: no"));
        assert!(
            !db.log()
                .iter()
                .any(|s| s.starts_with("UPDATE event_consumers"))
        );
        // At the limit: parked, the cursor moves past it, the next entry is tried.
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(text_row("0-0"));
        db.push_rows(text_row("0-0"));
        db.push_rows(text_row("e1"));
        db.push_rows(text_row("0-0"));
        db.push_rows(count(MAX_FAILURES));
        db.push_rows(text_row("1-0")); // entry 2
        db.push_rows(text_row("e2"));
        db.push_rows(text_row("1-0"));
        db.push_rows(count(1));
        let report = consume_round(&db, &log, &consumer, 100, 9).unwrap();
        assert_eq!(report.parked, 1);
        assert!(report.failed.is_some());
        let statements = db.log();
        assert!(statements.iter().any(|s| s.contains("SET parked_at")));
        assert_eq!(
            statements
                .iter()
                .filter(|s| s.starts_with("UPDATE event_consumers"))
                .count(),
            1
        );
    }

    #[test]
    fn an_unreachable_database_or_a_missing_table_in_a_handler_is_retried_uncounted() {
        let err: StepError =
            HandlerError::Database(DbError::new(DbErrorKind::Unavailable, "down")).into();
        assert!(matches!(err, StepError::Store(_)));
        let err: StepError =
            HandlerError::Database(DbError::new(DbErrorKind::SchemaMissing, "no table")).into();
        assert!(matches!(err, StepError::Store(_)));
        for transient in ["40001", "40P01", "55P03", "57014"] {
            let err: StepError =
                HandlerError::Database(DbError::from_pg_code(transient, String::new())).into();
            assert!(matches!(err, StepError::Store(_)), "{transient}");
        }
        let err: StepError =
            HandlerError::Database(DbError::new(DbErrorKind::Other, "constraint")).into();
        assert!(matches!(err, StepError::Event(_)));
    }

    #[test]
    fn entry_ids_give_their_milliseconds() {
        assert_eq!(entry_ms("1700000000123-4"), 1_700_000_000_123);
        assert_eq!(entry_ms("0-0"), 0);
        assert_eq!(entry_ms("junk"), 0);
    }
}
