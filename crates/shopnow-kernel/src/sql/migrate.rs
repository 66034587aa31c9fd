//! Versioned, idempotent migrations and the "migrate on missing schema, retry once" helper.
//!
//! Spin has no startup hook and instances live for one request, so a service cannot migrate
//! at boot. Instead its repository calls [`with_migrations`]: steady-state requests run their
//! statements directly and pay nothing; a statement failing because the schema is missing
//! (fresh checkout, new database) triggers [`migrate`] and one retry. Production applies the
//! same migrations explicitly before a rollout, so there the fallback never fires.

use super::{Database, DbError, DbErrorKind, Dialect, SqlValue, transaction};

/// `pg_advisory_xact_lock` key serialising concurrent migrators on PostgreSQL ("SHOPNOW").
pub const MIGRATION_LOCK_KEY: i64 = 0x0053_484f_504e_4f57;

/// One SQL statement of a migration, for both engines or one of them.
#[derive(Debug, Clone, Copy)]
pub enum Statement {
    /// Runs on both engines.
    Portable(&'static str),
    /// PostgreSQL only.
    Postgres(&'static str),
    /// SQLite only.
    Sqlite(&'static str),
}

impl Statement {
    fn for_dialect(self, dialect: Dialect) -> Option<&'static str> {
        match (self, dialect) {
            (Self::Portable(s), _)
            | (Self::Postgres(s), Dialect::Postgres)
            | (Self::Sqlite(s), Dialect::Sqlite) => Some(s),
            _ => None,
        }
    }
}

/// A numbered schema change. Statements must be idempotent (`IF NOT EXISTS`) so a migration
/// interrupted outside a transaction can be re-run.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing version.
    pub version: i64,
    /// Short name, recorded in `schema_migrations`.
    pub name: &'static str,
    /// Statements, run in order.
    pub statements: &'static [Statement],
}

/// Applies every migration not yet recorded in `schema_migrations`, in one transaction.
/// Concurrency-safe: PostgreSQL takes a transaction-scoped advisory lock, SQLite's
/// `BEGIN IMMEDIATE` takes the write lock; the version insert ignores conflicts.
///
/// # Errors
/// The first failing statement's [`DbError`]; nothing is applied then.
pub fn migrate(db: &dyn Database, migrations: &[Migration], now_ms: i64) -> Result<usize, DbError> {
    transaction(db, |tx| {
        if tx.dialect() == Dialect::Postgres {
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[SqlValue::Int(MIGRATION_LOCK_KEY)],
            )?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            &[],
        )?;
        let applied = tx
            .query("SELECT version FROM schema_migrations", &[])?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<Vec<_>, _>>()?;
        let mut count = 0;
        for migration in migrations.iter().filter(|m| !applied.contains(&m.version)) {
            for statement in migration.statements {
                if let Some(sql) = statement.for_dialect(tx.dialect()) {
                    tx.execute(sql, &[])?;
                }
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (version) DO NOTHING",
                &[
                    SqlValue::Int(migration.version),
                    SqlValue::Text(migration.name.to_owned()),
                    SqlValue::Int(now_ms),
                ],
            )?;
            count += 1;
        }
        Ok(count)
    })
}

/// Runs `op`; if it fails because the schema is missing, applies `migrations` and retries once.
/// `op` must be safe to re-run (its transaction was rolled back).
///
/// # Errors
/// `op`'s error, or the migration failure.
pub fn with_migrations<T>(
    db: &dyn Database,
    migrations: &[Migration],
    now_ms: i64,
    mut op: impl FnMut(&dyn Database) -> Result<T, DbError>,
) -> Result<T, DbError> {
    match op(db) {
        Err(err) if err.kind == DbErrorKind::SchemaMissing => {
            migrate(db, migrations, now_ms)?;
            op(db)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::memory::ScriptedDb;

    const MIGRATIONS: &[Migration] = &[
        Migration {
            version: 1,
            name: "users",
            statements: &[Statement::Portable(
                "CREATE TABLE IF NOT EXISTS users (id TEXT)",
            )],
        },
        Migration {
            version: 2,
            name: "index",
            statements: &[
                Statement::Postgres("CREATE INDEX IF NOT EXISTS pg_only ON users (id)"),
                Statement::Sqlite("CREATE INDEX IF NOT EXISTS sqlite_only ON users (id)"),
            ],
        },
    ];

    #[test]
    fn applies_only_pending_migrations_in_a_locked_transaction() {
        let db = ScriptedDb::new(Dialect::Postgres);
        db.push_rows(vec![crate::sql::Row(vec![SqlValue::Int(1)])]);
        assert_eq!(migrate(&db, MIGRATIONS, 5).unwrap(), 1);
        let log = db.log();
        assert_eq!(log.first().map(String::as_str), Some("BEGIN"));
        assert!(log.iter().any(|s| s.contains("pg_advisory_xact_lock")));
        assert!(log.iter().any(|s| s.contains("pg_only")));
        assert!(!log.iter().any(|s| s.contains("sqlite_only")));
        assert!(
            !log.iter()
                .any(|s| s.contains("CREATE TABLE IF NOT EXISTS users"))
        );
        assert_eq!(log.last().map(String::as_str), Some("COMMIT"));
    }

    #[test]
    fn a_failing_statement_rolls_back() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(Vec::new());
        db.fail_when_contains("sqlite_only", DbErrorKind::Other);
        assert!(migrate(&db, MIGRATIONS, 5).is_err());
        assert_eq!(db.log().last().map(String::as_str), Some("ROLLBACK"));
        assert_eq!(
            db.log().first().map(String::as_str),
            Some("BEGIN IMMEDIATE")
        );
    }

    #[test]
    fn missing_schema_triggers_one_migration_and_a_retry() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        db.push_rows(Vec::new());
        let mut calls = 0;
        let result = with_migrations(&db, MIGRATIONS, 5, |_| {
            calls += 1;
            if calls == 1 {
                Err(DbError::new(
                    DbErrorKind::SchemaMissing,
                    "no such table: users",
                ))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.unwrap(), 2);
        assert!(db.log().iter().any(|s| s.contains("schema_migrations")));
    }

    #[test]
    fn other_errors_are_not_retried() {
        let db = ScriptedDb::new(Dialect::Sqlite);
        let mut calls = 0;
        let result: Result<(), _> = with_migrations(&db, MIGRATIONS, 5, |_| {
            calls += 1;
            Err(DbError::new(DbErrorKind::Other, "boom"))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
        assert!(db.log().is_empty());
    }
}
