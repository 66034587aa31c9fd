//! A scripted fake `Database` for unit tests of the SQL helpers: records statements and
//! returns queued result sets. Test-only.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::{Database, DbError, DbErrorKind, Dialect, Row, SqlValue};

/// Records every statement; `query` pops queued row sets (empty when none are queued).
#[derive(Debug)]
pub struct ScriptedDb {
    dialect: Dialect,
    log: RefCell<Vec<String>>,
    rows: RefCell<VecDeque<Vec<Row>>>,
    fail: RefCell<Option<(String, DbErrorKind)>>,
}

impl ScriptedDb {
    /// A fake of `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            log: RefCell::default(),
            rows: RefCell::default(),
            fail: RefCell::default(),
        }
    }

    /// Queues the result of the next query.
    pub fn push_rows(&self, rows: Vec<Row>) {
        self.rows.borrow_mut().push_back(rows);
    }

    /// Makes statements containing `needle` fail with `kind`.
    pub fn fail_when_contains(&self, needle: &str, kind: DbErrorKind) {
        *self.fail.borrow_mut() = Some((needle.to_owned(), kind));
    }

    /// Statements run so far.
    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    fn record(&self, sql: &str) -> Result<(), DbError> {
        self.log.borrow_mut().push(sql.to_owned());
        match &*self.fail.borrow() {
            Some((needle, kind)) if sql.contains(needle.as_str()) => {
                Err(DbError::new(*kind, "scripted failure"))
            }
            _ => Ok(()),
        }
    }
}

impl Database for ScriptedDb {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn execute(&self, sql: &str, _params: &[SqlValue]) -> Result<u64, DbError> {
        self.record(sql).map(|()| 1)
    }

    fn query(&self, sql: &str, _params: &[SqlValue]) -> Result<Vec<Row>, DbError> {
        self.record(sql)?;
        Ok(self.rows.borrow_mut().pop_front().unwrap_or_default())
    }
}
