//! Identity's schema, as numbered migrations. Portable SQL: TEXT UUIDv7 ids, BIGINT
//! epoch-millisecond timestamps, no booleans. Data only, no I/O: it lives in the pure crate so
//! both the component's repository (which applies it when a statement finds the schema missing)
//! and the native `shopnow-migrate` tool (which applies it before a production rollout) use the
//! same list.

use shopnow_kernel::sql::{Migration, Statement};

/// All identity migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS users (\
                 id TEXT PRIMARY KEY, \
                 email TEXT NOT NULL, \
                 email_normalized TEXT NOT NULL, \
                 display_name TEXT NOT NULL, \
                 password_hash TEXT NOT NULL, \
                 roles TEXT NOT NULL, \
                 created_at BIGINT NOT NULL, \
                 updated_at BIGINT NOT NULL, \
                 erased_at BIGINT)",
            ),
            Statement::Portable(
                "CREATE UNIQUE INDEX IF NOT EXISTS users_email_normalized_key \
                 ON users (email_normalized)",
            ),
        ],
    },
    Migration {
        version: 2,
        name: "refresh_tokens",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS refresh_token_families (\
                 id TEXT PRIMARY KEY, \
                 user_id TEXT NOT NULL REFERENCES users (id), \
                 created_at BIGINT NOT NULL, \
                 revoked_at BIGINT)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS refresh_token_families_user_idx \
                 ON refresh_token_families (user_id)",
            ),
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS refresh_tokens (\
                 token_hash TEXT PRIMARY KEY, \
                 family_id TEXT NOT NULL REFERENCES refresh_token_families (id), \
                 user_id TEXT NOT NULL, \
                 issued_at BIGINT NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 spent_at BIGINT)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx \
                 ON refresh_tokens (family_id)",
            ),
        ],
    },
    Migration {
        version: 3,
        name: "audit_log",
        statements: &[
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS audit_log (\
                 id TEXT PRIMARY KEY, \
                 occurred_at BIGINT NOT NULL, \
                 event TEXT NOT NULL, \
                 user_id TEXT, \
                 request_id TEXT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS audit_log_user_idx ON audit_log (user_id, occurred_at)",
            ),
        ],
    },
    Migration {
        version: 4,
        name: "sign_in_attempts",
        statements: &[
            // Attempt counters (domain::throttle): one row per hashed account or client key,
            // counted by one conditional upsert so concurrent attempts never overwrite each
            // other. Rows of passed windows are deleted as new windows start.
            Statement::Portable(
                "CREATE TABLE IF NOT EXISTS sign_in_attempts (\
                 throttle_key TEXT PRIMARY KEY, \
                 window_start_ms BIGINT NOT NULL, \
                 attempts BIGINT NOT NULL)",
            ),
            Statement::Portable(
                "CREATE INDEX IF NOT EXISTS sign_in_attempts_window_idx \
                 ON sign_in_attempts (window_start_ms)",
            ),
        ],
    },
    // The outbox (shopnow_kernel::events, docs/events.md): events written in the transaction of
    // the change they describe, relayed to the event log after the response.
    Migration {
        version: 5,
        name: "event_outbox",
        statements: shopnow_kernel::events::OUTBOX_STATEMENTS,
    },
];
