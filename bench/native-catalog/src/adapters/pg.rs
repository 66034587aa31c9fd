//! The kernel's `Database` port over native, synchronous PostgreSQL connections (the `postgres`
//! crate), pooled like the test host pools Spin's `pg` connections: statements go over the wire the
//! same way (prepare, then bind and execute). Value conversions come from `shopnow-migrate`'s adapter.
//! Depends on no Spin crate.

use std::cell::RefCell;
use std::sync::Mutex;

use anyhow::Context as _;
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use shopnow_kernel::sql::{Database, DbError, DbErrorKind, Dialect, Row, SqlValue};
use shopnow_migrate::pg::{cell, db_error, params};

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
