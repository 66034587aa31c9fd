//! Catalog's configuration, read once per request from Spin variables (see `spin.toml` and
//! `docs/security.md`). Malformed values are a 500 with the cause logged, never a guess.

use shopnow_catalog::ports::Settings as Tunables;
use shopnow_kernel::pagination::CursorCodec;
use shopnow_kernel::service_auth::ServiceCredentials;
use shopnow_kernel::{ApiError, Secret};
use shopnow_spin::Config;
use shopnow_spin::auth::LazyVerifier;

/// Label of the component's SQLite database (and default key-value store).
pub const STORE_LABEL: &str = "catalog";

/// Which routes this component instance serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/v1/...`: shoppers, sellers and admins.
    Public,
    /// `/internal/v1/...`: other services, with a service credential.
    Internal,
}

/// Resolved settings.
pub struct Settings {
    /// The routes served.
    pub surface: Surface,
    /// Verifies access tokens issued by identity.
    pub verifier: LazyVerifier,
    /// Accepted service credentials (internal surface).
    pub service_credentials: ServiceCredentials,
    /// Seals pagination cursors.
    pub cursors: CursorCodec,
    /// PostgreSQL URL, or empty for the embedded SQLite database.
    pub database_url: String,
    /// Key-value store label of the product cache.
    pub cache_store: String,
    /// Cache and reservation lifetimes.
    pub tunables: Tunables,
    /// Rows a PostgreSQL search walks before its index fallback (`search_walk_rows`); `None`
    /// is "auto" (√(page × products)).
    pub search_walk_rows: Option<u32>,
}

fn seconds(config: Config, name: &str, default: &str) -> Result<i64, ApiError> {
    let text = config.get_or(name, default);
    let secs: i64 = text
        .trim()
        .parse()
        .map_err(|_| ApiError::internal(format!("variable `{name}` is not a whole number")))?;
    if !(0..=86_400).contains(&secs) {
        return Err(ApiError::internal(format!(
            "variable `{name}` must be 0..=86400 seconds"
        )));
    }
    Ok(secs * 1000)
}

fn walk_rows(config: Config) -> Result<Option<u32>, ApiError> {
    let text = config.get_or("search_walk_rows", "auto");
    if text.trim() == "auto" {
        return Ok(None);
    }
    text.trim()
        .parse()
        .ok()
        .filter(|rows| (1..=1_000_000).contains(rows))
        .map(Some)
        .ok_or_else(|| {
            ApiError::internal("variable `search_walk_rows` must be auto or 1..=1000000")
        })
}

impl Settings {
    /// Reads every variable.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when a variable is missing or malformed.
    pub fn from_variables() -> Result<Self, ApiError> {
        let config = Config;
        let surface = match config.get_or("surface", "public").trim() {
            "public" => Surface::Public,
            "internal" => Surface::Internal,
            _ => {
                return Err(ApiError::internal(
                    "variable `surface` must be public or internal",
                ));
            }
        };
        let verifier = LazyVerifier::from_variables(config)?;
        let cursor_secret = config.secret("cursor_secret")?;
        if cursor_secret.expose().len() < 16 {
            return Err(ApiError::internal(
                "variable `cursor_secret` must be at least 16 bytes",
            ));
        }
        let reservation_ttl_ms = seconds(config, "reservation_ttl_secs", "900")?;
        if reservation_ttl_ms == 0 {
            return Err(ApiError::internal(
                "variable `reservation_ttl_secs` must be positive",
            ));
        }
        Ok(Self {
            surface,
            verifier,
            service_credentials: ServiceCredentials::parse(&config.secret("service_tokens")?),
            cursors: CursorCodec::new(Secret::new(cursor_secret.into_inner().into_bytes())),
            database_url: config.get_or("database_url", ""),
            cache_store: config.get_or("cache_store", STORE_LABEL),
            tunables: Tunables {
                cache_ttl_ms: seconds(config, "cache_ttl_secs", "60")?,
                reservation_ttl_ms,
            },
            search_walk_rows: walk_rows(config)?,
        })
    }
}
