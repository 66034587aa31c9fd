//! The kernel's `Database` port over a native, synchronous PostgreSQL connection (the `postgres`
//! crate). Only what migrations need: BIGINT, TEXT, BOOLEAN, BYTEA and NULL. The conversions are
//! public so other native tools (the benchmark's native catalog) share them instead of copying.

use std::cell::RefCell;

use anyhow::Context as _;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};
use shopnow_kernel::sql::{Database, DbError, DbErrorKind, Dialect, Row, SqlValue};

/// One PostgreSQL session. `Database` takes `&self`, the client needs `&mut`: a `RefCell`
/// suffices because the tool is single-threaded.
pub struct NativePg(RefCell<Client>);

impl NativePg {
    /// Connects to `url` (`postgres://user:password@host:port/database`), without TLS: the
    /// migration Job runs next to the database inside the cluster network.
    ///
    /// # Errors
    /// When the server can't be reached or refuses the credentials.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let client = Client::connect(url, NoTls)
            .with_context(|| "cannot connect to PostgreSQL (check the database URL)")?;
        Ok(Self(RefCell::new(client)))
    }
}

/// The kernel's values as `postgres` parameters (NULL binds as a text NULL).
pub fn params(values: &[SqlValue]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                SqlValue::Null => Box::new(None::<String>),
                SqlValue::Int(i) => Box::new(*i),
                SqlValue::Text(s) => Box::new(s.clone()),
                SqlValue::Bytes(b) => Box::new(b.clone()),
                SqlValue::Bool(b) => Box::new(*b),
            }
        })
        .collect()
}

/// Classifies a `postgres` error by its SQLSTATE (no code: the connection is unavailable).
pub fn db_error(err: postgres::Error) -> DbError {
    match err.code() {
        Some(code) => DbError::from_pg_code(code.code(), err.to_string()),
        None => DbError::new(DbErrorKind::Unavailable, err.to_string()),
    }
}

/// Column `index` of `row` as a kernel value (integers, booleans and bytes typed; the rest text).
///
/// # Errors
/// [`DbErrorKind::Conversion`] for a missing column or an undecodable value.
pub fn cell(row: &postgres::Row, index: usize) -> Result<SqlValue, DbError> {
    let conversion = |e: postgres::Error| DbError::new(DbErrorKind::Conversion, e.to_string());
    let column_type = row
        .columns()
        .get(index)
        .map(|c| c.type_().clone())
        .ok_or_else(|| DbError::new(DbErrorKind::Conversion, "column index out of range"))?;
    let value = match column_type {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)
            .map_err(conversion)?
            .map(SqlValue::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)
            .map_err(conversion)?
            .map(|v| SqlValue::Int(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)
            .map_err(conversion)?
            .map(|v| SqlValue::Int(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)
            .map_err(conversion)?
            .map(SqlValue::Bool),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(index)
            .map_err(conversion)?
            .map(SqlValue::Bytes),
        _ => row
            .try_get::<_, Option<String>>(index)
            .map_err(conversion)?
            .map(SqlValue::Text),
    };
    Ok(value.unwrap_or(SqlValue::Null))
}

impl Database for NativePg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, values: &[SqlValue]) -> Result<u64, DbError> {
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        self.0.borrow_mut().execute(sql, &refs).map_err(db_error)
    }

    fn query(&self, sql: &str, values: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        let rows = self.0.borrow_mut().query(sql, &refs).map_err(db_error)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| cell(row, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }
}
