//! `LazyDatabase`: the configured database, opened on the first statement (requests that touch
//! only the cart never open a connection).

use std::cell::OnceCell;

use shopnow_kernel::sql::{Database, DbError, Dialect, Row, SqlValue};
use shopnow_spin::AnyDatabase;

/// The component's database, opened on first use.
pub struct LazyDatabase<'a> {
    url: &'a str,
    label: &'a str,
    db: OnceCell<Result<AnyDatabase, DbError>>,
}

impl<'a> LazyDatabase<'a> {
    /// PostgreSQL at `url`, or the SQLite database `label` when `url` is empty.
    pub fn new(url: &'a str, label: &'a str) -> Self {
        Self {
            url,
            label,
            db: OnceCell::new(),
        }
    }

    fn get(&self) -> Result<&AnyDatabase, DbError> {
        self.db
            .get_or_init(|| AnyDatabase::open(self.url, self.label))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Database for LazyDatabase<'_> {
    fn dialect(&self) -> Dialect {
        if self.url.trim().is_empty() {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, DbError> {
        self.get()?.execute(sql, params)
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        self.get()?.query(sql, params)
    }
}
