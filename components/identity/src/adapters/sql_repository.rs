//! `SqlIdentityRepository`: users, refresh-token families, the audit log and the sign-in attempt
//! counters over the kernel's
//! `Database` port — one implementation for PostgreSQL and SQLite (the SQL is portable; the
//! adapters in `shopnow-spin` isolate placeholders and error codes). Every method is one unit
//! of work, wrapped in `with_migrations` so a fresh database is migrated on first use.

use shopnow_identity::domain::audit::AuditRecord;
use shopnow_identity::domain::session::{NewRefreshToken, RefreshTokenHash, RefreshTokenRecord};
use shopnow_identity::domain::throttle::{ThrottleState, WINDOW_MS};
use shopnow_identity::domain::user::{PasswordHashText, roles_from_text, roles_to_text};
use shopnow_identity::domain::{DisplayName, Email, User};
use shopnow_identity::ports::{
    AuditLog, Erasure, RepoError, SessionRepository, SignInThrottle, UserRepository,
};
use shopnow_kernel::events::NewEvent;
use shopnow_kernel::ids::Clock;
use shopnow_kernel::sql::{
    Database, DbError, DbErrorKind, Row, SqlValue, transaction, with_migrations,
};

use shopnow_identity::schema::MIGRATIONS;

const USER_COLUMNS: &str =
    "id, email, email_normalized, display_name, password_hash, roles, created_at";

/// The identity repository over one database connection.
pub struct SqlIdentityRepository<'a> {
    db: &'a dyn Database,
    clock: &'a dyn Clock,
}

impl<'a> SqlIdentityRepository<'a> {
    /// A repository on `db`; `clock` stamps applied migrations.
    pub fn new(db: &'a dyn Database, clock: &'a dyn Clock) -> Self {
        Self { db, clock }
    }

    fn run<T>(&self, op: impl FnMut(&dyn Database) -> Result<T, DbError>) -> Result<T, RepoError> {
        with_migrations(self.db, MIGRATIONS, self.clock.now_ms(), op).map_err(repo_error)
    }
}

fn repo_error(err: DbError) -> RepoError {
    match err.kind {
        DbErrorKind::UniqueViolation => RepoError::EmailTaken,
        DbErrorKind::Unavailable => RepoError::Unavailable(err.to_string()),
        _ => RepoError::Failed(err.to_string()),
    }
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn user_from_row(row: &Row) -> Result<User, DbError> {
    Ok(User {
        id: row.text(0)?,
        email: Email::from_stored(row.text(1)?, row.text(2)?),
        display_name: DisplayName::from_stored(row.text(3)?),
        password_hash: PasswordHashText(row.text(4)?),
        roles: roles_from_text(&row.text(5)?),
        created_at_ms: row.int(6)?,
    })
}

fn first_user(rows: &[Row]) -> Result<Option<User>, DbError> {
    rows.first().map(user_from_row).transpose()
}

fn revoke_all_families(db: &dyn Database, user_id: &str, now_ms: i64) -> Result<u64, DbError> {
    db.execute(
        "UPDATE refresh_token_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        &[text(user_id), SqlValue::Int(now_ms)],
    )
}

/// `ThrottleState::after_attempt` as one statement: PostgreSQL's `ON CONFLICT DO UPDATE` takes
/// the row lock and re-reads the row, SQLite serialises writers, so two concurrent attempts on one
/// key never read the same count. `$3` is the oldest window start still open (`now - window`).
const COUNT_ATTEMPT: &str = "INSERT INTO sign_in_attempts (throttle_key, window_start_ms, attempts) \
     VALUES ($1, $2, 1) \
     ON CONFLICT (throttle_key) DO UPDATE SET \
     attempts = CASE WHEN sign_in_attempts.window_start_ms <= $3 THEN 1 \
     ELSE sign_in_attempts.attempts + 1 END, \
     window_start_ms = CASE WHEN sign_in_attempts.window_start_ms <= $3 THEN $2 \
     ELSE sign_in_attempts.window_start_ms END \
     RETURNING attempts, window_start_ms";

impl SignInThrottle for SqlIdentityRepository<'_> {
    fn count_attempt(&self, key: &str, now_ms: i64) -> Result<ThrottleState, RepoError> {
        let oldest_open = now_ms.saturating_sub(WINDOW_MS);
        self.run(|db| {
            let rows = db.query(
                COUNT_ATTEMPT,
                &[text(key), SqlValue::Int(now_ms), SqlValue::Int(oldest_open)],
            )?;
            let row = rows.first().ok_or_else(|| {
                DbError::new(DbErrorKind::Other, "the attempt upsert returned no row")
            })?;
            Ok(ThrottleState {
                attempts: u32::try_from(row.int(0)?).unwrap_or(u32::MAX),
                window_start_ms: row.int(1)?,
            })
        })
    }

    fn purge_passed(&self, now_ms: i64) -> Result<(), RepoError> {
        // Indexed by window start: deletes only what lapsed since the last purge.
        self.run(|db| {
            db.execute(
                "DELETE FROM sign_in_attempts WHERE window_start_ms <= $1",
                &[SqlValue::Int(now_ms.saturating_sub(WINDOW_MS))],
            )
            .map(|_| ())
        })
    }

    fn clear(&self, key: &str) -> Result<(), RepoError> {
        self.run(|db| {
            db.execute(
                "DELETE FROM sign_in_attempts WHERE throttle_key = $1",
                &[text(key)],
            )
            .map(|_| ())
        })
    }
}

fn insert_audit(db: &dyn Database, record: &AuditRecord) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO audit_log (id, occurred_at, event, user_id, request_id) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            text(&record.id),
            SqlValue::Int(record.occurred_at_ms),
            text(record.event.as_str()),
            SqlValue::from(record.user_id.clone()),
            text(&record.request_id),
        ],
    )
    .map(|_| ())
}

impl UserRepository for SqlIdentityRepository<'_> {
    fn insert(
        &self,
        user: &User,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<(), RepoError> {
        self.run(|db| {
            transaction(db, |tx| {
                tx.execute(
                    "INSERT INTO users (id, email, email_normalized, display_name, password_hash, roles, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    &[
                        text(&user.id),
                        text(user.email.as_str()),
                        text(user.email.normalized()),
                        text(user.display_name.as_str()),
                        text(&user.password_hash.0),
                        SqlValue::Text(roles_to_text(&user.roles)),
                        SqlValue::Int(user.created_at_ms),
                    ],
                )?;
                insert_audit(tx, audit)?;
                shopnow_kernel::events::record(tx, "identity", events)
            })
        })
    }

    fn find_by_email(&self, normalized_email: &str) -> Result<Option<User>, RepoError> {
        self.run(|db| {
            let rows = db.query(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE email_normalized = $1 AND erased_at IS NULL"
                ),
                &[text(normalized_email)],
            )?;
            first_user(&rows)
        })
    }

    fn find_by_id(&self, id: &str) -> Result<Option<User>, RepoError> {
        self.run(|db| {
            let rows = db.query(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND erased_at IS NULL"),
                &[text(id)],
            )?;
            first_user(&rows)
        })
    }

    fn update_display_name(
        &self,
        id: &str,
        name: &DisplayName,
        now_ms: i64,
    ) -> Result<Option<User>, RepoError> {
        self.run(|db| {
            let rows = db.query(
                &format!(
                    "UPDATE users SET display_name = $2, updated_at = $3 \
                     WHERE id = $1 AND erased_at IS NULL RETURNING {USER_COLUMNS}"
                ),
                &[text(id), text(name.as_str()), SqlValue::Int(now_ms)],
            )?;
            first_user(&rows)
        })
    }

    fn change_password(
        &self,
        id: &str,
        hash: &PasswordHashText,
        now_ms: i64,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        self.run(|db| {
            transaction(db, |tx| {
                // RETURNING, not the affected-row count: on SQLite the count is the shared
                // connection's, which another instance's statement may have changed meanwhile.
                let changed = !tx
                    .query(
                        "UPDATE users SET password_hash = $2, updated_at = $3 \
                         WHERE id = $1 AND erased_at IS NULL RETURNING id",
                        &[text(id), text(&hash.0), SqlValue::Int(now_ms)],
                    )?
                    .is_empty();
                if changed {
                    revoke_all_families(tx, id, now_ms)?;
                    insert_audit(tx, audit)?;
                }
                Ok(changed)
            })
        })
    }

    fn erase(
        &self,
        id: &str,
        erasure: &Erasure,
        now_ms: i64,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<bool, RepoError> {
        self.run(|db| {
            transaction(db, |tx| {
                let erased = tx.query(
                    "UPDATE users SET email = $2, email_normalized = $2, display_name = $3, \
                     password_hash = $4, erased_at = $5, updated_at = $5 \
                     WHERE id = $1 AND erased_at IS NULL RETURNING id",
                    &[
                        text(id),
                        text(&erasure.email_placeholder),
                        text(&erasure.display_name),
                        text(&erasure.password_hash.0),
                        SqlValue::Int(now_ms),
                    ],
                )?;
                if erased.is_empty() {
                    return Ok(false);
                }
                revoke_all_families(tx, id, now_ms)?;
                insert_audit(tx, audit)?;
                shopnow_kernel::events::record(tx, "identity", events)?;
                Ok(true)
            })
        })
    }
}

fn insert_token(db: &dyn Database, token: &NewRefreshToken) -> Result<u64, DbError> {
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            text(&token.token_hash.0),
            text(&token.family_id),
            text(&token.user_id),
            SqlValue::Int(token.issued_at_ms),
            SqlValue::Int(token.expires_at_ms),
        ],
    )
}

impl SessionRepository for SqlIdentityRepository<'_> {
    fn start_family(&self, token: &NewRefreshToken, now_ms: i64) -> Result<(), RepoError> {
        self.run(|db| {
            transaction(db, |tx| {
                tx.execute(
                    "INSERT INTO refresh_token_families (id, user_id, created_at) VALUES ($1, $2, $3)",
                    &[text(&token.family_id), text(&token.user_id), SqlValue::Int(now_ms)],
                )?;
                insert_token(tx, token).map(|_| ())
            })
        })
    }

    fn find(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshTokenRecord>, RepoError> {
        self.run(|db| {
            let rows = db.query(
                "SELECT t.token_hash, t.family_id, t.user_id, t.expires_at, t.spent_at, f.revoked_at \
                 FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id \
                 WHERE t.token_hash = $1",
                &[text(&hash.0)],
            )?;
            rows.first()
                .map(|row| {
                    Ok(RefreshTokenRecord {
                        token_hash: RefreshTokenHash(row.text(0)?),
                        family_id: row.text(1)?,
                        user_id: row.text(2)?,
                        expires_at_ms: row.int(3)?,
                        spent_at_ms: row.opt_int(4)?,
                        family_revoked_at_ms: row.opt_int(5)?,
                    })
                })
                .transpose()
        })
    }

    fn rotate(
        &self,
        spent: &RefreshTokenHash,
        next: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<bool, RepoError> {
        self.run(|db| {
            transaction(db, |tx| {
                // Conditional update: exactly one concurrent presenter wins the token.
                let won = tx.query(
                    "UPDATE refresh_tokens SET spent_at = $2 \
                     WHERE token_hash = $1 AND spent_at IS NULL RETURNING token_hash",
                    &[text(&spent.0), SqlValue::Int(now_ms)],
                )?;
                if won.is_empty() {
                    return Ok(false);
                }
                insert_token(tx, next)?;
                Ok(true)
            })
        })
    }

    fn revoke_family(&self, family_id: &str, now_ms: i64) -> Result<(), RepoError> {
        self.run(|db| {
            db.execute(
                "UPDATE refresh_token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[text(family_id), SqlValue::Int(now_ms)],
            )
            .map(|_| ())
        })
    }
}

impl AuditLog for SqlIdentityRepository<'_> {
    fn record(&self, record: &AuditRecord) -> Result<(), RepoError> {
        self.run(|db| insert_audit(db, record))
    }
}
