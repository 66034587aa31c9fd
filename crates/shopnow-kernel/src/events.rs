//! Domain events on their way out of a service: the envelope every event wears, the outbox they
//! are written to in the same transaction as the change, and the relay that moves them to the
//! event log at least once. Pure: the log itself (Redis streams through Spin's outbound Redis)
//! is the [`EventLog`] port, implemented in `shopnow-spin`. Design and the rejected options:
//! `docs/adr/0003-events-relay-and-consumers.md`; the events and their schemas: `docs/events.md`.
//!
//! Ordering: events of one aggregate reach the log in the order they were recorded. Each event
//! takes the next version of its aggregate from `event_versions` (an upsert that row-locks until
//! commit), so a later event of the same aggregate is inserted only after the earlier one
//! committed; the relay runs one at a time per database (an advisory lock on PostgreSQL, the
//! write lock on SQLite) and sends what it finds in insertion order, marking exactly the rows it
//! sent. Across aggregates there is no order.

use serde::Serialize;

use crate::ids::IdSource;
use crate::sql::{Database, DbError, DbErrorKind, Dialect, SqlValue, Statement, transaction};

/// Version of the envelope and of every payload schema it carries today (`schema_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// `pg_advisory_xact_lock` key serialising relays of one database ("SNRELAY").
pub const RELAY_LOCK_KEY: i64 = 0x0053_4e52_454c_4159;

/// The most events one relay round reads and sends.
pub const RELAY_BATCH: i64 = 100;

/// The tables every service's outbox needs, for its migrations (one `Migration` per service
/// lists these). `event_outbox.seq` is the insertion order the relay sends in; `envelope` is the
/// JSON sent as is; `relayed_at` is set only after the log accepted the event.
pub const OUTBOX_STATEMENTS: &[Statement] = &[
    Statement::Postgres(
        "CREATE TABLE IF NOT EXISTS event_outbox (\
         seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         id TEXT NOT NULL UNIQUE, \
         event_type TEXT NOT NULL, \
         aggregate_id TEXT NOT NULL, \
         aggregate_version BIGINT NOT NULL, \
         occurred_at BIGINT NOT NULL, \
         envelope TEXT NOT NULL, \
         relayed_at BIGINT)",
    ),
    Statement::Sqlite(
        "CREATE TABLE IF NOT EXISTS event_outbox (\
         seq INTEGER PRIMARY KEY AUTOINCREMENT, \
         id TEXT NOT NULL UNIQUE, \
         event_type TEXT NOT NULL, \
         aggregate_id TEXT NOT NULL, \
         aggregate_version BIGINT NOT NULL, \
         occurred_at BIGINT NOT NULL, \
         envelope TEXT NOT NULL, \
         relayed_at BIGINT)",
    ),
    // The relay's and the stats' only read: the unrelayed rows in order (a partial index stays
    // as small as the backlog).
    Statement::Portable(
        "CREATE INDEX IF NOT EXISTS event_outbox_pending_idx ON event_outbox (seq) \
         WHERE relayed_at IS NULL",
    ),
    // The purge's read.
    Statement::Portable(
        "CREATE INDEX IF NOT EXISTS event_outbox_relayed_idx ON event_outbox (relayed_at) \
         WHERE relayed_at IS NOT NULL",
    ),
    Statement::Portable(
        "CREATE TABLE IF NOT EXISTS event_versions (\
         aggregate_type TEXT NOT NULL, \
         aggregate_id TEXT NOT NULL, \
         version BIGINT NOT NULL, \
         PRIMARY KEY (aggregate_type, aggregate_id))",
    ),
];

/// An event a use case wants recorded; [`record`] gives it its aggregate version and envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUIDv7 (consumers deduplicate on it).
    pub id: String,
    /// Stable type (`user.erased`, `product.created`, …), listed in `docs/events.md`.
    pub event_type: String,
    /// What kind of thing it is about (`user`, `product`, `order`).
    pub aggregate_type: &'static str,
    /// Which one.
    pub aggregate_id: String,
    /// When it happened (epoch ms).
    pub occurred_at_ms: i64,
    /// The payload (`data`), as documented per type; no personal data.
    pub data: serde_json::Value,
}

impl NewEvent {
    /// An event of `event_type` about `aggregate_type` `aggregate_id` at `now_ms`, with a new id
    /// from `ids`.
    ///
    /// # Errors
    /// [`DbErrorKind::Other`] when no id can be made (no randomness).
    pub fn new(
        ids: &dyn IdSource,
        now_ms: i64,
        event_type: &str,
        aggregate_type: &'static str,
        aggregate_id: impl Into<String>,
        data: serde_json::Value,
    ) -> Result<Self, DbError> {
        Ok(Self {
            id: ids
                .new_id()
                .map_err(|e| DbError::new(DbErrorKind::Other, format!("event id: {e}")))?,
            event_type: event_type.to_owned(),
            aggregate_type,
            aggregate_id: aggregate_id.into(),
            occurred_at_ms: now_ms,
            data,
        })
    }
}

/// What goes on the log: one JSON object per event (`docs/events.md`, "Envelope").
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: i64,
    source: &'a str,
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    aggregate_version: i64,
    occurred_at_ms: i64,
    data: &'a serde_json::Value,
}

/// Writes `events` to the outbox of `db` as events of `source`. Call it inside the transaction
/// of the change they describe.
///
/// # Errors
/// [`DbError`] when a statement fails.
pub fn record(db: &dyn Database, source: &str, events: &[NewEvent]) -> Result<(), DbError> {
    for event in events {
        let version = db
            .query(
                "INSERT INTO event_versions (aggregate_type, aggregate_id, version) \
                 VALUES ($1, $2, 1) ON CONFLICT (aggregate_type, aggregate_id) \
                 DO UPDATE SET version = event_versions.version + 1 RETURNING version",
                &[
                    event.aggregate_type.into(),
                    event.aggregate_id.as_str().into(),
                ],
            )?
            .first()
            .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "no aggregate version"))?
            .int(0)?;
        let envelope = serde_json::to_string(&Envelope {
            id: &event.id,
            event_type: &event.event_type,
            schema_version: SCHEMA_VERSION,
            source,
            aggregate_type: event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            aggregate_version: version,
            occurred_at_ms: event.occurred_at_ms,
            data: &event.data,
        })
        .map_err(|e| DbError::new(DbErrorKind::Other, format!("event envelope: {e}")))?;
        db.execute(
            "INSERT INTO event_outbox \
             (id, event_type, aggregate_id, aggregate_version, occurred_at, envelope) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                event.id.as_str().into(),
                event.event_type.as_str().into(),
                event.aggregate_id.as_str().into(),
                version.into(),
                event.occurred_at_ms.into(),
                envelope.into(),
            ],
        )?;
    }
    Ok(())
}

/// Why the log refused or could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event log: {0}")]
pub struct LogError(pub String);

/// The durable, ordered log events are relayed to (Redis streams in production).
pub trait EventLog {
    /// Appends `envelopes` to `stream` in order. Returns only after the log accepted all of
    /// them; on an error some may have been appended (the relay then sends them again).
    ///
    /// # Errors
    /// [`LogError`] when the log is unreachable or refuses an entry.
    fn append(&self, stream: &str, envelopes: &[String]) -> Result<(), LogError>;

    /// Tells the consumers of `stream` that it has new entries (best effort: a consumer also
    /// catches up on its own schedule).
    ///
    /// # Errors
    /// [`LogError`] when the notification could not be sent.
    fn notify(&self, stream: &str) -> Result<(), LogError>;
}

/// A relay failure: the database or the log. Nothing was marked relayed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The outbox could not be read or marked.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The log refused or was unreachable.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// What one relay call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Events appended to the log and marked relayed.
    pub relayed: u64,
    /// Whether a round was full, so more may be waiting.
    pub more: bool,
}

/// Sends one round (at most `batch` events) of `db`'s unrelayed events to `stream`, oldest
/// first, and marks exactly those rows relayed at `now_ms` — only after the log accepted them,
/// so a crash in between sends them again (a duplicate, never a loss). Concurrent relays of one
/// database run one after the other.
///
/// # Errors
/// [`RelayError`]; the transaction is rolled back and no row is marked.
pub fn relay_round(
    db: &dyn Database,
    log: &dyn EventLog,
    stream: &str,
    batch: i64,
    now_ms: i64,
) -> Result<RelayReport, RelayError> {
    let report = transaction(db, |tx| -> Result<RelayReport, RelayError> {
        if tx.dialect() == Dialect::Postgres {
            // Bounded wait behind another relay (a request's relay is a few milliseconds); past
            // it this round fails and the events wait for the next relay or the sweep.
            tx.execute("SET LOCAL lock_timeout = '2s'", &[])?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[SqlValue::Int(RELAY_LOCK_KEY)],
            )?;
        }
        let rows = tx.query(
            "SELECT seq, envelope FROM event_outbox WHERE relayed_at IS NULL \
             ORDER BY seq LIMIT $1",
            &[SqlValue::Int(batch)],
        )?;
        if rows.is_empty() {
            return Ok(RelayReport::default());
        }
        let mut seqs = Vec::with_capacity(rows.len());
        let mut envelopes = Vec::with_capacity(rows.len());
        for row in &rows {
            seqs.push(row.int(0)?);
            envelopes.push(row.text(1)?);
        }
        log.append(stream, &envelopes)?;
        let placeholders = (2..seqs.len() + 2)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut params = vec![SqlValue::Int(now_ms)];
        params.extend(seqs.iter().map(|&seq| SqlValue::Int(seq)));
        tx.execute(
            &format!("UPDATE event_outbox SET relayed_at = $1 WHERE seq IN ({placeholders})"),
            &params,
        )?;
        Ok(RelayReport {
            relayed: seqs.len() as u64,
            more: i64::try_from(seqs.len()).unwrap_or(i64::MAX) >= batch,
        })
    })?;
    Ok(report)
}

/// Whether `db`'s outbox holds any unrelayed event (one indexed read).
///
/// # Errors
/// [`DbError`] on storage failure.
pub fn has_pending(db: &dyn Database) -> Result<bool, DbError> {
    Ok(!db
        .query(
            "SELECT seq FROM event_outbox WHERE relayed_at IS NULL LIMIT 1",
            &[],
        )?
        .is_empty())
}

/// Deletes relayed events older than `relayed_before_ms`; returns how many.
///
/// # Errors
/// [`DbError`] on storage failure.
pub fn purge(db: &dyn Database, relayed_before_ms: i64) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM event_outbox WHERE relayed_at IS NOT NULL AND relayed_at < $1",
        &[SqlValue::Int(relayed_before_ms)],
    )
}

/// The outbox's health (the stats route and the relay's log line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    /// Events not yet relayed.
    pub pending: i64,
    /// Age of the oldest of them, ms (0 when none).
    pub oldest_pending_age_ms: i64,
}

/// Counts what waits in the outbox of `db` at `now_ms`.
///
/// # Errors
/// [`DbError`] on storage failure.
pub fn stats(db: &dyn Database, now_ms: i64) -> Result<OutboxStats, DbError> {
    let row = db
        .query(
            "SELECT COUNT(*), MIN(occurred_at) FROM event_outbox WHERE relayed_at IS NULL",
            &[],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "no outbox count"))?;
    let pending = row.int(0)?;
    let oldest = row.opt_int(1)?;
    Ok(OutboxStats {
        pending,
        oldest_pending_age_ms: oldest.map_or(0, |at| now_ms.saturating_sub(at).max(0)),
    })
}

/// The stream (and notification channel) of `source`'s events under `prefix`:
/// `<prefix>:events:<source>`.
pub fn stream_name(prefix: &str, source: &str) -> String {
    format!("{prefix}:events:{source}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Row;
    use crate::sql::memory::ScriptedDb;
    use std::cell::RefCell;

    /// A log that keeps what it was sent, or refuses everything.
    #[derive(Default)]
    struct Log {
        refuse: bool,
        sent: RefCell<Vec<(String, Vec<String>)>>,
    }

    impl EventLog for Log {
        fn append(&self, stream: &str, envelopes: &[String]) -> Result<(), LogError> {
            if self.refuse {
                return Err(LogError("down".into()));
            }
            self.sent
                .borrow_mut()
                .push((stream.to_owned(), envelopes.to_vec()));
            Ok(())
        }

        fn notify(&self, _stream: &str) -> Result<(), LogError> {
            Ok(())
        }
    }

    fn pending(rows: &[(i64, &str)]) -> Vec<Row> {
        rows.iter()
            .map(|(seq, envelope)| {
                Row(vec![
                    SqlValue::Int(*seq),
                    SqlValue::Text((*envelope).into()),
                ])
            })
            .collect()
    }

    #[test]
    fn a_round_sends_in_order_then_marks_exactly_the_rows_it_sent() {
        let db = ScriptedDb::new(Dialect::Postgres);
        db.push_rows(pending(&[(7, "a"), (9, "b")]));
        let log = Log::default();
        let report = relay_round(&db, &log, "s", 100, 5).unwrap();
        assert_eq!(
            report,
            RelayReport {
                relayed: 2,
                more: false
            }
        );
        assert_eq!(
            *log.sent.borrow(),
            [("s".to_owned(), vec!["a".to_owned(), "b".to_owned()])]
        );
        let statements = db.log();
        assert!(
            statements
                .iter()
                .any(|s| s.contains("pg_advisory_xact_lock"))
        );
        let update = statements
            .iter()
            .position(|s| s.starts_with("UPDATE event_outbox"))
            .unwrap();
        assert!(
            statements[update].ends_with("WHERE seq IN ($2, $3)"),
            "{statements:?}"
        );
        assert_eq!(statements.last().map(String::as_str), Some("COMMIT"));
    }

    #[test]
    fn a_log_that_refuses_leaves_every_row_unmarked() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(pending(&[(1, "a")]));
        let log = Log {
            refuse: true,
            ..Log::default()
        };
        assert!(matches!(
            relay_round(&db, &log, "s", 100, 5),
            Err(RelayError::Log(_))
        ));
        let statements = db.log();
        assert!(
            !statements.iter().any(|s| s.starts_with("UPDATE")),
            "{statements:?}"
        );
        assert_eq!(statements.last().map(String::as_str), Some("ROLLBACK"));
    }

    #[test]
    fn a_full_round_says_more_may_wait_and_an_empty_one_sends_nothing() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(pending(&[(1, "a"), (2, "b")]));
        let log = Log::default();
        assert!(relay_round(&db, &log, "s", 2, 5).unwrap().more);
        let report = relay_round(&db, &log, "s", 2, 5).unwrap();
        assert_eq!(report, RelayReport::default());
        assert_eq!(log.sent.borrow().len(), 1);
    }

    #[test]
    fn streams_are_named_by_prefix_and_source() {
        assert_eq!(stream_name("shopnow", "orders"), "shopnow:events:orders");
    }

    #[test]
    fn the_envelope_carries_every_documented_field() {
        let data = serde_json::json!({"user_id": "u"});
        let json = serde_json::to_value(Envelope {
            id: "e",
            event_type: "user.erased",
            schema_version: SCHEMA_VERSION,
            source: "identity",
            aggregate_type: "user",
            aggregate_id: "u",
            aggregate_version: 2,
            occurred_at_ms: 7,
            data: &data,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "e", "type": "user.erased", "schema_version": 1,
                "source": "identity", "aggregate_type": "user", "aggregate_id": "u",
                "aggregate_version": 2, "occurred_at_ms": 7, "data": {"user_id": "u"}})
        );
    }
}
