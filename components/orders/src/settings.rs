//! Orders' configuration, read once per request from Spin variables (see `spin.toml` and
//! `docs/orders.md`). Invalid key material is a 500 with the cause logged, never a guess.

use shopnow_kernel::pagination::CursorCodec;
use shopnow_kernel::service_auth::ServiceCredentials;
use shopnow_kernel::{ApiError, Secret};
use shopnow_orders::ports::Deadlines;
use shopnow_spin::Config;
use shopnow_spin::auth::LazyVerifier;

/// Label of the component's SQLite database and key-value store (carts).
pub const STORE_LABEL: &str = "orders";

/// Resolved settings.
pub struct Settings {
    /// Verifies access tokens.
    pub verifier: LazyVerifier,
    /// Seals pagination cursors.
    pub cursors: CursorCodec,
    /// Credentials accepted on `/internal/v1/orders/...`.
    pub accepted_service_tokens: ServiceCredentials,
    /// The credential presented to the catalog's internal routes.
    pub catalog_service_token: Secret<String>,
    /// Base URL of the catalog's public API (product lookups).
    pub catalog_url: String,
    /// Base URL of the catalog's internal API (reservations).
    pub catalog_internal_url: String,
    /// Base URL of the payment provider.
    pub payment_base_url: String,
    /// The provider's secret API key.
    pub payment_secret_key: Secret<String>,
    /// Outbound deadlines.
    pub deadlines: Deadlines,
    /// PostgreSQL URL, or empty for the embedded SQLite database.
    pub database_url: String,
}

fn millis(config: Config, name: &str, default: u64) -> Result<u64, ApiError> {
    let raw = config.get_or(name, "");
    if raw.trim().is_empty() {
        return Ok(default);
    }
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| (5..=60_000).contains(ms))
        .ok_or_else(|| ApiError::internal(format!("variable `{name}` is not 5..=60000 ms")))
}

impl Settings {
    /// Reads every variable.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when a variable is missing or malformed.
    pub fn from_variables() -> Result<Self, ApiError> {
        let config = Config;
        let verifier = LazyVerifier::from_variables(config)?;
        let cursor_secret = config.secret("cursor_secret")?;
        if cursor_secret.expose().len() < 16 {
            return Err(ApiError::internal(
                "variable `cursor_secret` must have at least 16 bytes",
            ));
        }
        // The catalog accepts "new,old" while rotating; callers present the first (newest).
        let catalog_service_token = Secret::new(
            config
                .secret("service_token")?
                .expose()
                .split(',')
                .map(str::trim)
                .find(|t| !t.is_empty())
                .unwrap_or_default()
                .to_owned(),
        );
        let defaults = Deadlines::default();
        let call_ms = millis(config, "call_timeout_ms", defaults.catalog_call_ms)?;
        Ok(Self {
            verifier,
            cursors: CursorCodec::new(Secret::new(cursor_secret.expose().as_bytes().to_vec())),
            accepted_service_tokens: ServiceCredentials::parse(
                &config.secret("accepted_service_tokens")?,
            ),
            catalog_service_token,
            catalog_url: config.required("catalog_url")?,
            catalog_internal_url: config.required("catalog_internal_url")?,
            payment_base_url: config.required("payment_base_url")?,
            payment_secret_key: config.secret("payment_secret_key")?,
            deadlines: Deadlines {
                checkout_ms: millis(config, "checkout_budget_ms", defaults.checkout_ms)?,
                catalog_call_ms: call_ms,
                payment_call_ms: call_ms,
                compensation_ms: call_ms,
                lookup_ms: call_ms,
                key_lock_ms: millis(config, "idempotency_lock_ms", defaults.key_lock_ms)?,
            },
            database_url: config.get_or("database_url", ""),
        })
    }
}
