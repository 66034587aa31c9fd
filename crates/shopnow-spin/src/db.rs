//! SQL adapters for the kernel's `Database` port: `PgDatabase` over `spin_sdk::pg4` and
//! `SqliteDatabase` over `spin_sdk::sqlite3`, chosen at runtime by [`AnyDatabase::open`].
//!
//! pg4 has no transaction object: the kernel's `transaction` helper sends BEGIN/COMMIT/ROLLBACK
//! on the one connection each adapter holds, and rolls back on every error path.
//!
//! Every statement (and opening the connection) is a [`timing`](crate::timing) span labelled by
//! its verb and first table.
//!
//! Every PostgreSQL `query` goes out rewritten by the kernel's [`never_empty`] so that it cannot
//! return zero rows: Spin 4.0.0–4.0.2's synchronous `query` never returns on an empty result
//! (spinframework/spin#3671), and a synchronous host call cannot be timed out from the guest. To
//! remove it once a fixed Spin is the floor, send `sql` as it is in [`PgDatabase::query`] (see
//! `docs/adr/0001-postgres-queries-never-return-zero-rows.md`).

use shopnow_kernel::sql::{
    Database, DbError, DbErrorKind, Dialect, Row, SqlValue, never_empty, numbered_to_sqlite,
    strip_marker,
};
use spin_sdk::pg4::{self, DbValue, ParameterValue, PgError, QueryError};
use spin_sdk::sqlite3;

use crate::timing;

/// A PostgreSQL connection (pooled per address by the host).
pub struct PgDatabase(pg4::Connection);

/// A connection to one of the component's named SQLite databases.
pub struct SqliteDatabase(sqlite3::Connection);

/// Whichever backend the configuration selected.
pub enum AnyDatabase {
    /// PostgreSQL.
    Pg(PgDatabase),
    /// Embedded SQLite.
    Sqlite(SqliteDatabase),
}

impl std::fmt::Debug for AnyDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the connection string: it may hold a password.
        f.write_str(match self {
            Self::Pg(_) => "AnyDatabase::Pg",
            Self::Sqlite(_) => "AnyDatabase::Sqlite",
        })
    }
}

impl AnyDatabase {
    /// PostgreSQL when `database_url` is non-empty (`postgres://…`), otherwise the SQLite
    /// database labelled `sqlite_label` (declared in `sqlite_databases` and the runtime config).
    ///
    /// # Errors
    /// [`DbErrorKind::Unavailable`] when the connection cannot be opened.
    pub fn open(database_url: &str, sqlite_label: &str) -> Result<Self, DbError> {
        let _span = timing::span("sql:open");
        if database_url.trim().is_empty() {
            sqlite3::Connection::open(sqlite_label)
                .map(|c| Self::Sqlite(SqliteDatabase(c)))
                .map_err(|e| DbError::new(DbErrorKind::Unavailable, format!("sqlite open: {e:?}")))
        } else {
            let url = database_url.trim();
            pg4::Connection::open(url)
                .map(|c| Self::Pg(PgDatabase(c)))
                // The host's message says why (e.g. Spin: `certificate verify failed (IP address
                // mismatch)`); it could echo the URL, so its password is masked first.
                .map_err(|e| {
                    DbError::new(
                        DbErrorKind::Unavailable,
                        format!(
                            "pg open: {}: {}",
                            pg_kind(&e),
                            redact_password(pg_message(&e), url)
                        ),
                    )
                })
        }
    }
}

fn pg_kind(err: &PgError) -> &'static str {
    match err {
        PgError::ConnectionFailed(_) => "connection failed",
        PgError::BadParameter(_) => "bad parameter",
        PgError::QueryFailed(_) => "query failed",
        PgError::ValueConversionFailed(_) => "value conversion failed",
        PgError::Other(_) => "other",
    }
}

fn pg_message(err: &PgError) -> &str {
    match err {
        PgError::ConnectionFailed(m)
        | PgError::BadParameter(m)
        | PgError::ValueConversionFailed(m)
        | PgError::Other(m) => m,
        PgError::QueryFailed(QueryError::Text(m)) => m,
        PgError::QueryFailed(QueryError::DbError(db)) => &db.message,
    }
}

/// `message` with the password of `url` (`postgres://user:password@host/...` or
/// `password=...`) replaced by `***`, and on one line.
fn redact_password(message: &str, url: &str) -> String {
    let mut passwords = Vec::new();
    if let Some(rest) = url.split_once("://").map(|(_, rest)| rest)
        && let Some((userinfo, _)) = rest.split_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
        && !password.is_empty()
    {
        passwords.push(password.to_owned());
    }
    for pair in url.split(['?', '&', ' ']) {
        if let Some(password) = pair.strip_prefix("password=")
            && !password.is_empty()
        {
            passwords.push(password.to_owned());
        }
    }
    let mut out = message.replace(['\n', '\r'], " ");
    for password in passwords {
        out = out.replace(&password, "***");
    }
    out
}

fn pg_error(err: PgError) -> DbError {
    match err {
        PgError::QueryFailed(QueryError::DbError(db)) => DbError::from_pg_code(
            &db.code,
            format!("{} ({}): {}", db.severity, db.code, db.message),
        ),
        PgError::QueryFailed(QueryError::Text(text)) => {
            // Spin (and the test host) report an error with no server part as the text of
            // tokio-postgres' `Error`: a connection that closed or broke under a statement (the
            // primary died, a failover cut it) is an outage to retry, not a fault of ours
            // (deploy/dr/drill found it answering 500).
            if text.starts_with("Error { kind: Closed") || text.starts_with("Error { kind: Io") {
                return DbError::new(DbErrorKind::Unavailable, format!("connection lost: {text}"));
            }
            // Some hosts report server errors as text only; recognise the missing-schema ones.
            if text.contains("does not exist")
                && (text.contains("relation") || text.contains("column"))
            {
                DbError::new(DbErrorKind::SchemaMissing, text)
            } else {
                DbError::new(DbErrorKind::Other, text)
            }
        }
        PgError::ConnectionFailed(_) => DbError::new(DbErrorKind::Unavailable, "connection failed"),
        PgError::BadParameter(m) => DbError::new(DbErrorKind::Other, format!("bad parameter: {m}")),
        PgError::ValueConversionFailed(m) => {
            DbError::new(DbErrorKind::Conversion, format!("value conversion: {m}"))
        }
        PgError::Other(m) => DbError::new(DbErrorKind::Other, m),
    }
}

fn pg_params(params: &[SqlValue]) -> Vec<ParameterValue> {
    params
        .iter()
        .map(|p| match p {
            SqlValue::Null => ParameterValue::DbNull,
            SqlValue::Int(v) => ParameterValue::Int64(*v),
            SqlValue::Text(v) => ParameterValue::Str(v.clone()),
            SqlValue::Bytes(v) => ParameterValue::Binary(v.clone()),
            SqlValue::Bool(v) => ParameterValue::Boolean(*v),
        })
        .collect()
}

fn pg_value(value: DbValue) -> Result<SqlValue, DbError> {
    Ok(match value {
        DbValue::DbNull => SqlValue::Null,
        DbValue::Boolean(v) => SqlValue::Bool(v),
        DbValue::Int8(v) => SqlValue::Int(v.into()),
        DbValue::Int16(v) => SqlValue::Int(v.into()),
        DbValue::Int32(v) => SqlValue::Int(v.into()),
        DbValue::Int64(v) => SqlValue::Int(v),
        DbValue::Str(v) | DbValue::Uuid(v) => SqlValue::Text(v),
        DbValue::Binary(v) => SqlValue::Bytes(v),
        other => {
            return Err(DbError::new(
                DbErrorKind::Conversion,
                format!("unsupported column type {other:?}"),
            ));
        }
    })
}

impl Database for PgDatabase {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, DbError> {
        let _span = timing::sql(sql);
        self.0.execute(sql, &pg_params(params)).map_err(pg_error)
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        let _span = timing::sql(sql);
        let guarded = never_empty(sql)?;
        let set = self
            .0
            .query(&guarded, &pg_params(params))
            .map_err(pg_error)?;
        let rows = set
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(pg_value)
                    .collect::<Result<_, _>>()
                    .map(Row)
            })
            .collect::<Result<Vec<_>, _>>()?;
        strip_marker(rows)
    }
}

fn sqlite_error(err: sqlite3::Error) -> DbError {
    match err {
        sqlite3::Error::Io(message) => DbError::from_sqlite_message(message),
        sqlite3::Error::DatabaseFull => DbError::new(DbErrorKind::Other, "database full"),
        other => DbError::new(DbErrorKind::Unavailable, format!("{other:?}")),
    }
}

fn sqlite_params(params: &[SqlValue]) -> Vec<sqlite3::Value> {
    params
        .iter()
        .map(|p| match p {
            SqlValue::Null => sqlite3::Value::Null,
            SqlValue::Int(v) => sqlite3::Value::Integer(*v),
            SqlValue::Text(v) => sqlite3::Value::Text(v.clone()),
            SqlValue::Bytes(v) => sqlite3::Value::Blob(v.clone()),
            SqlValue::Bool(v) => sqlite3::Value::Integer(i64::from(*v)),
        })
        .collect()
}

fn sqlite_value(value: sqlite3::Value) -> Result<SqlValue, DbError> {
    Ok(match value {
        sqlite3::Value::Null => SqlValue::Null,
        sqlite3::Value::Integer(v) => SqlValue::Int(v),
        sqlite3::Value::Text(v) => SqlValue::Text(v),
        sqlite3::Value::Blob(v) => SqlValue::Bytes(v),
        sqlite3::Value::Real(v) => {
            return Err(DbError::new(
                DbErrorKind::Conversion,
                format!("unexpected REAL column {v}"),
            ));
        }
    })
}

/// Longest a `BEGIN` waits for another instance's transaction on the shared connection.
const BEGIN_WAIT_MS: u64 = 5_000;

/// Whether `err` is SQLite refusing a `BEGIN` because the connection is already in a transaction.
fn nested_transaction(err: &DbError) -> bool {
    err.message.contains("within a transaction")
}

/// Runs `begin` until it succeeds, backing off (1, 2, 4, 8, then 10 ms) while the shared
/// connection is inside another instance's transaction, for at most `max_wait_ms`; still busy then, it
/// fails with [`DbErrorKind::Unavailable`] (the services answer 503 with `Retry-After`).
///
/// The test host's embedded SQLite is one connection shared by every instance of a component,
/// and statements from concurrent instances interleave on it. (Spin 4.0.2 opens a connection per
/// `open` instead, so there a concurrent writer fails with "database is locked", which maps to
/// [`DbErrorKind::Unavailable`]; `docs/testhost.md`, "Known differences".) A second `BEGIN` then
/// fails ("cannot start a transaction within a transaction"); without waiting, the caller would
/// fail the request, and anything it wrote outside a transaction would join the other instance's.
/// Rejected alternative: a lock row — its acquisition would itself interleave on the connection.
fn begin_when_free(
    mut begin: impl FnMut() -> Result<u64, DbError>,
    mut sleep_ms: impl FnMut(u64),
    max_wait_ms: u64,
) -> Result<u64, DbError> {
    let mut waited = 0;
    let mut delay = 1;
    loop {
        match begin() {
            Err(err) if nested_transaction(&err) && waited < max_wait_ms => {
                sleep_ms(delay);
                waited += delay;
                delay = (delay * 2).min(10);
            }
            // Still busy after the whole wait: the database is overloaded, not broken, so the
            // caller answers 503 (retry later) rather than 500.
            Err(err) if nested_transaction(&err) => {
                return Err(DbError::new(
                    DbErrorKind::Unavailable,
                    format!(
                        "busy: no transaction free after {waited} ms ({})",
                        err.message
                    ),
                ));
            }
            other => return other,
        }
    }
}

impl SqliteDatabase {
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<sqlite3::QueryResult, DbError> {
        self.0
            .execute(&numbered_to_sqlite(sql), &sqlite_params(params))
            .map_err(sqlite_error)
    }
}

impl Database for SqliteDatabase {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, DbError> {
        // Includes any wait for another instance's transaction: that is where a BEGIN's time goes.
        let _span = timing::sql(sql);
        if sql.starts_with("BEGIN") {
            return begin_when_free(
                || self.run(sql, params).map(|_| 0),
                |ms| std::thread::sleep(std::time::Duration::from_millis(ms)),
                BEGIN_WAIT_MS,
            );
        }
        self.run(sql, params)?;
        Ok(self.0.changes())
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        let _span = timing::sql(sql);
        self.run(sql, params)?
            .rows
            .into_iter()
            .map(|row| {
                row.values
                    .into_iter()
                    .map(sqlite_value)
                    .collect::<Result<_, _>>()
                    .map(Row)
            })
            .collect()
    }
}

impl Database for AnyDatabase {
    fn dialect(&self) -> Dialect {
        match self {
            Self::Pg(db) => db.dialect(),
            Self::Sqlite(db) => db.dialect(),
        }
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, DbError> {
        match self {
            Self::Pg(db) => db.execute(sql, params),
            Self::Sqlite(db) => db.execute(sql, params),
        }
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        match self {
            Self::Pg(db) => db.query(sql, params),
            Self::Sqlite(db) => db.query(sql, params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_messages_never_show_the_password() {
        let url = "postgres://shop:s3cr3t@db:5432/identity?sslmode=require";
        let message = "error connecting to postgres://shop:s3cr3t@db:5432/identity:\ncertificate verify failed";
        let redacted = redact_password(message, url);
        assert_eq!(
            redacted,
            "error connecting to postgres://shop:***@db:5432/identity: certificate verify failed"
        );
        assert_eq!(
            redact_password("bad password hunter2", "host=db password=hunter2"),
            "bad password ***"
        );
        assert_eq!(
            redact_password(
                "certificate verify failed",
                "postgres://postgres@127.0.0.1/x"
            ),
            "certificate verify failed"
        );
    }

    #[test]
    fn a_connection_lost_under_a_statement_is_an_outage() {
        for text in [
            "Error { kind: Closed, cause: None }",
            "Error { kind: Io, cause: Some(Os { code: 104, kind: ConnectionReset }) }",
        ] {
            let error = pg_error(PgError::QueryFailed(QueryError::Text(text.to_owned())));
            assert_eq!(error.kind, DbErrorKind::Unavailable, "{text}");
        }
        let other = pg_error(PgError::QueryFailed(QueryError::Text("syntax".to_owned())));
        assert_eq!(other.kind, DbErrorKind::Other);
    }

    fn nested() -> DbError {
        DbError::from_sqlite_message("cannot start a transaction within a transaction".into())
    }

    #[test]
    fn begin_waits_for_the_other_transaction_then_succeeds() {
        let mut attempts = 0;
        let mut slept = Vec::new();
        let result = begin_when_free(
            || {
                attempts += 1;
                if attempts < 4 { Err(nested()) } else { Ok(0) }
            },
            |ms| slept.push(ms),
            5_000,
        );
        assert!(result.is_ok());
        assert_eq!(slept, [1, 2, 4]);
    }

    #[test]
    fn begin_gives_up_after_the_wait_limit_and_never_retries_other_errors() {
        let mut slept = 0;
        let result = begin_when_free(|| Err(nested()), |ms| slept += ms, 50);
        assert!(result.is_err_and(|e| e.kind == DbErrorKind::Unavailable));
        assert!((50..=60).contains(&slept));
        let mut attempts = 0;
        let result = begin_when_free(
            || {
                attempts += 1;
                Err(DbError::new(DbErrorKind::Unavailable, "gone"))
            },
            |_| {},
            5_000,
        );
        assert!(result.is_err());
        assert_eq!(attempts, 1);
    }
}
