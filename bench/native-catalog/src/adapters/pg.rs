//! The kernel's `Database` port over native, synchronous PostgreSQL connections (the `postgres`
//! crate), pooled like the test host pools Spin's `pg` connections: statements go over the wire the
//! same way (prepare, then bind and execute). Conversions as in `shopnow-migrate`'s adapter.
//! Depends on no Spin crate.

use std::cell::RefCell;
use std::sync::Mutex;

use anyhow::Context as _;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};
use shopnow_kernel::sql::{Database, DbError, DbErrorKind, Dialect, Row, SqlValue};

/// Idle connections to one database; a request takes one (or opens one) and gives it back.
pub struct PgPool {
    url: String,
    idle: Mutex<Vec<Client>>,
}

impl PgPool {
    /// A pool for `url`, checked by opening one connection now.
    ///
    /// # Errors
    /// When the server can't be reached or refuses the credentials.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let first = Client::connect(url, NoTls)
            .with_context(|| "cannot connect to PostgreSQL (check --database-url)")?;
        Ok(Self {
            url: url.to_owned(),
            idle: Mutex::new(vec![first]),
        })
    }

    /// A connection for one request: an idle one, or a new one when none is idle.
    ///
    /// # Errors
    /// [`DbErrorKind::Unavailable`] when a new connection cannot be opened.
    pub fn get(&self) -> Result<PooledPg<'_>, DbError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => Client::connect(&self.url, NoTls)
                .map_err(|e| DbError::new(DbErrorKind::Unavailable, e.to_string()))?,
        };
        Ok(PooledPg {
            pool: self,
            client: RefCell::new(Some(client)),
        })
    }
}

/// A connection borrowed from a [`PgPool`] for one request; returns on drop.
pub struct PooledPg<'a> {
    pool: &'a PgPool,
    client: RefCell<Option<Client>>,
}

impl Drop for PooledPg<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take()
            && !client.is_closed()
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(client);
        }
    }
}

impl PooledPg<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, DbError>) -> Result<T, DbError> {
        let mut slot = self.client.borrow_mut();
        match slot.as_mut() {
            Some(client) => f(client),
            None => Err(DbError::new(DbErrorKind::Unavailable, "connection gone")),
        }
    }
}

fn params(values: &[SqlValue]) -> Vec<Box<dyn ToSql + Sync>> {
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

fn db_error(err: postgres::Error) -> DbError {
    match err.code() {
        Some(code) => DbError::from_pg_code(code.code(), err.to_string()),
        None => DbError::new(DbErrorKind::Unavailable, err.to_string()),
    }
}

fn cell(row: &postgres::Row, index: usize) -> Result<SqlValue, DbError> {
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

impl Database for PooledPg<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, values: &[SqlValue]) -> Result<u64, DbError> {
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        self.with(|c| c.execute(sql, &refs).map_err(db_error))
    }

    fn query(&self, sql: &str, values: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
        let rows = self.with(|c| c.query(sql, &refs).map_err(db_error))?;
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
