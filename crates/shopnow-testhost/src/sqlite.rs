//! `spin:sqlite/sqlite@3.0.0` on embedded SQLite (rusqlite, bundled, FTS5 enabled).
//!
//! Like Spin's `spin` database type, each database is one connection shared by every instance
//! (so `changes` and `last-insert-rowid` are the shared connection's). A component opens only the
//! labels in its `sqlite_databases` (others: `access-denied`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::Connection;
use rusqlite::types::{Value as SqlValue, ValueRef};
use wasmtime::component::Resource;

use crate::bindings::spin::sqlite::sqlite::{
    Error, Host, HostConnection, QueryResult, RowResult, Value,
};
use crate::state::InstanceState;

/// A database shared by all instances.
pub(crate) type SharedDb = Arc<Mutex<Connection>>;

/// The `connection` resource a guest holds.
pub struct SqliteConnection {
    db: SharedDb,
}

/// Opens a SQLite file (creating its directory) or, for `None`, an in-memory database.
///
/// Fails when the directory or file can't be created or opened.
pub(crate) fn open_connection(path: Option<&Path>) -> anyhow::Result<Connection> {
    let conn = match path {
        None => Connection::open_in_memory()?,
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            Connection::open(path)
                .with_context(|| format!("cannot open SQLite file {}", path.display()))?
        }
    };
    // Concurrent instances share the connection; a busy timeout covers other processes using
    // the same file.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Opens a configured database.
///
/// Fails like [`open_connection`].
pub(crate) fn open_db(path: Option<&Path>) -> anyhow::Result<SharedDb> {
    Ok(Arc::new(Mutex::new(open_connection(path)?)))
}

fn to_sql(v: Value) -> SqlValue {
    match v {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(r) => SqlValue::Real(r),
        Value::Text(t) => SqlValue::Text(t),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn execute(
    conn: &Connection,
    statement: &str,
    params: Vec<SqlValue>,
) -> rusqlite::Result<QueryResult> {
    let mut stmt = conn.prepare_cached(statement)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let n = columns.len();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(from_sql(row.get_ref(i)?));
        }
        out.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows: out })
}

async fn blocking<T: Send + 'static>(
    db: SharedDb,
    f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(move || {
        let guard = db
            .lock()
            .map_err(|_| Error::Io("database connection poisoned".to_owned()))?;
        f(&guard)
    })
    .await
    .map_err(|e| Error::Io(e.to_string()))?
}

impl InstanceState {
    fn sqlite(&self, c: &Resource<SqliteConnection>) -> wasmtime::Result<SharedDb> {
        Ok(self.table.get(c)?.db.clone())
    }
}

impl Host for InstanceState {}

impl HostConnection for InstanceState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
        if !self.component.sqlite_dbs.contains(&database) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(db) = self.app.sqlite.get(&database).cloned() else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        Ok(Ok(self.table.push(SqliteConnection { db })?))
    }

    async fn execute(
        &mut self,
        c: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let db = self.sqlite(&c)?;
        let params: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
        Ok(blocking(db, move |conn| {
            execute(conn, &statement, params).map_err(|e| Error::Io(e.to_string()))
        })
        .await)
    }

    async fn last_insert_rowid(&mut self, c: Resource<SqliteConnection>) -> wasmtime::Result<i64> {
        let db = self.sqlite(&c)?;
        Ok(blocking(db, |conn| Ok(conn.last_insert_rowid()))
            .await
            .unwrap_or(0))
    }

    async fn changes(&mut self, c: Resource<SqliteConnection>) -> wasmtime::Result<u64> {
        let db = self.sqlite(&c)?;
        Ok(blocking(db, |conn| Ok(conn.changes())).await.unwrap_or(0))
    }

    async fn drop(&mut self, c: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_is_available() {
        let conn = open_connection(None).unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(body);
             INSERT INTO docs(body) VALUES ('red running shoes'), ('blue hat');",
        )
        .unwrap();
        let r = execute(
            &conn,
            "SELECT body FROM docs WHERE docs MATCH ?1",
            vec![SqlValue::Text("shoes".into())],
        )
        .unwrap();
        assert_eq!(r.rows.len(), 1);
    }
}
