//! The SQL port: a small `Database` trait over PostgreSQL and SQLite, a transaction helper
//! that always rolls back on error, and versioned migrations. Pure: the Spin adapters
//! (`PgDatabase`, `SqliteDatabase`) live in `shopnow-spin`.
//!
//! Portable SQL conventions: ids are TEXT UUIDv7, money and timestamps are BIGINT (minor units,
//! epoch milliseconds), booleans are avoided in favour of nullable timestamps, placeholders are
//! `$1..$n` (the SQLite adapter rewrites them to `?1..?n`). Anything dialect-specific goes
//! through [`Dialect`].

mod migrate;
mod never_empty;

pub use migrate::{MIGRATION_LOCK_KEY, Migration, Statement, migrate, with_migrations};
pub use never_empty::{PRESENT_COLUMN, never_empty, strip_marker};

use std::fmt;

/// Which SQL engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL (production).
    Postgres,
    /// Spin's embedded SQLite (local and tests).
    Sqlite,
}

impl Dialect {
    /// Statement opening a write transaction. SQLite takes the write lock up front
    /// (`IMMEDIATE`) so two writers never deadlock upgrading a read lock.
    pub fn begin(self) -> &'static str {
        match self {
            Self::Postgres => "BEGIN",
            Self::Sqlite => "BEGIN IMMEDIATE",
        }
    }
}

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// 64-bit integer (BIGINT).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (BYTEA / BLOB).
    Bytes(Vec<u8>),
    /// Boolean (PostgreSQL BOOLEAN; SQLite stores 0/1 and reads back as `Int`).
    Bool(bool),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// What kind of failure a [`DbError`] is, so callers can react without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// A table or column does not exist yet (PG 42P01/42703, SQLite "no such table/column"):
    /// migrations are pending.
    SchemaMissing,
    /// A unique constraint rejected the write (PG 23505, SQLite "UNIQUE constraint failed").
    UniqueViolation,
    /// The database could not be reached or opened.
    Unavailable,
    /// A row value had an unexpected type or a column was missing.
    Conversion,
    /// Any other failure.
    Other,
}

/// A database failure. The message may contain SQL and is for logs only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// Classification.
    pub kind: DbErrorKind,
    /// Detail for the log line.
    pub message: String,
}

impl DbError {
    /// A new error.
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Classifies an SQLite error message.
    pub fn from_sqlite_message(message: String) -> Self {
        let kind = if message.contains("no such table") || message.contains("no such column") {
            DbErrorKind::SchemaMissing
        } else if message.contains("UNIQUE constraint failed") {
            DbErrorKind::UniqueViolation
        } else if message.contains("database is locked") {
            // SQLITE_BUSY: another process holds the write lock (Spin opens SQLite without a
            // busy timeout); retrying later succeeds.
            DbErrorKind::Unavailable
        } else {
            DbErrorKind::Other
        };
        Self { kind, message }
    }

    /// Classifies a PostgreSQL SQLSTATE.
    pub fn from_pg_code(code: &str, message: String) -> Self {
        let kind = match code {
            "42P01" | "42703" => DbErrorKind::SchemaMissing,
            "23505" => DbErrorKind::UniqueViolation,
            // Connection failures and shutdowns, and the transient ones a retry resolves:
            // serialization failure, deadlock, lock not available (lock_timeout), cancelled.
            c if c.starts_with("08") || c.starts_with("57P") => DbErrorKind::Unavailable,
            "40001" | "40P01" | "55P03" | "57014" => DbErrorKind::Unavailable,
            _ => DbErrorKind::Other,
        };
        Self { kind, message }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error ({:?}): {}", self.kind, self.message)
    }
}

impl std::error::Error for DbError {}

impl From<DbError> for crate::ApiError {
    fn from(err: DbError) -> Self {
        match err.kind {
            DbErrorKind::Unavailable => Self::ServiceUnavailable {
                cause: Box::new(err),
            },
            _ => Self::internal_from(err),
        }
    }
}

/// A result row: values in `SELECT` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<SqlValue>);

impl Row {
    fn at(&self, index: usize) -> Result<&SqlValue, DbError> {
        self.0
            .get(index)
            .ok_or_else(|| DbError::new(DbErrorKind::Conversion, format!("no column {index}")))
    }

    /// Column `index` as text.
    ///
    /// # Errors
    /// [`DbErrorKind::Conversion`] if absent, NULL or not text.
    pub fn text(&self, index: usize) -> Result<String, DbError> {
        self.opt_text(index)?
            .ok_or_else(|| DbError::new(DbErrorKind::Conversion, format!("column {index} is NULL")))
    }

    /// Column `index` as nullable text.
    ///
    /// # Errors
    /// [`DbErrorKind::Conversion`] if absent or not text.
    pub fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self.at(index)? {
            SqlValue::Null => Ok(None),
            SqlValue::Text(s) => Ok(Some(s.clone())),
            other => Err(DbError::new(
                DbErrorKind::Conversion,
                format!("column {index}: expected text, got {other:?}"),
            )),
        }
    }

    /// Column `index` as an integer.
    ///
    /// # Errors
    /// [`DbErrorKind::Conversion`] if absent, NULL or not an integer.
    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        self.opt_int(index)?
            .ok_or_else(|| DbError::new(DbErrorKind::Conversion, format!("column {index} is NULL")))
    }

    /// Column `index` as a nullable integer.
    ///
    /// # Errors
    /// [`DbErrorKind::Conversion`] if absent or not an integer.
    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.at(index)? {
            SqlValue::Null => Ok(None),
            SqlValue::Int(v) => Ok(Some(*v)),
            SqlValue::Bool(b) => Ok(Some(i64::from(*b))),
            other => Err(DbError::new(
                DbErrorKind::Conversion,
                format!("column {index}: expected integer, got {other:?}"),
            )),
        }
    }
}

/// A connection to one service's database. Statements use `$1..$n` placeholders.
pub trait Database {
    /// The engine behind this connection.
    fn dialect(&self) -> Dialect;

    /// Runs a statement and returns the number of affected rows.
    ///
    /// On Spin's embedded SQLite the count is the shared connection's, read by a second host
    /// call, so a concurrent instance's statement can change it in between: never decide who won
    /// a race by it; use `UPDATE ... RETURNING` through [`Database::query`] instead.
    ///
    /// # Errors
    /// [`DbError`] classified by [`DbErrorKind`].
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, DbError>;

    /// Runs a query and returns its rows.
    ///
    /// # Errors
    /// [`DbError`] classified by [`DbErrorKind`].
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, DbError>;
}

/// Runs `work` inside a transaction on `db`'s single connection: commits on `Ok`, rolls back on
/// `Err` (and when COMMIT itself fails), so no connection returns to the pool mid-transaction.
///
/// # Errors
/// `work`'s error, or the BEGIN/COMMIT failure.
pub fn transaction<T, E: From<DbError>>(
    db: &dyn Database,
    work: impl FnOnce(&dyn Database) -> Result<T, E>,
) -> Result<T, E> {
    db.execute(db.dialect().begin(), &[])?;
    match work(db) {
        Ok(value) => match db.execute("COMMIT", &[]) {
            Ok(_) => Ok(value),
            Err(err) => {
                // The transaction is already aborted; ROLLBACK only resets the session state.
                let _ignored = db.execute("ROLLBACK", &[]);
                Err(err.into())
            }
        },
        Err(err) => {
            // The original error is what the caller needs; a failing ROLLBACK means the
            // connection is gone, and the host discards it.
            let _ignored = db.execute("ROLLBACK", &[]);
            Err(err)
        }
    }
}

/// Rewrites `$1..$n` placeholders to SQLite's `?1..?n`, leaving string literals and quoted
/// identifiers untouched.
pub fn numbered_to_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub mod memory;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_literals() {
        assert_eq!(
            numbered_to_sqlite("SELECT a FROM t WHERE a = $1 AND b = '$2' AND c = $10"),
            "SELECT a FROM t WHERE a = ?1 AND b = '$2' AND c = ?10"
        );
    }

    #[test]
    fn errors_are_classified() {
        assert_eq!(
            DbError::from_sqlite_message("no such table: users".into()).kind,
            DbErrorKind::SchemaMissing
        );
        assert_eq!(
            DbError::from_pg_code("42703", String::new()).kind,
            DbErrorKind::SchemaMissing
        );
        assert_eq!(
            DbError::from_pg_code("23505", String::new()).kind,
            DbErrorKind::UniqueViolation
        );
        assert_eq!(
            DbError::from_pg_code("08006", String::new()).kind,
            DbErrorKind::Unavailable
        );
    }

    #[test]
    fn rows_convert_and_report_bad_types() {
        let row = Row(vec![
            SqlValue::Text("a".into()),
            SqlValue::Null,
            SqlValue::Int(3),
        ]);
        assert_eq!(row.text(0).unwrap(), "a");
        assert_eq!(row.opt_text(1).unwrap(), None);
        assert_eq!(row.int(2).unwrap(), 3);
        assert!(row.int(0).is_err());
        assert!(row.text(9).is_err());
    }
}
