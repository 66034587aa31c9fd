//! Builds the use cases' ports from Spin adapters for one request.

use shopnow_catalog::ports::Ports;
use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Principal;
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::ids::UuidV7Ids;
use shopnow_spin::{AnyDatabase, HostRandom, SystemClock};

use crate::adapters::logging_kv::LoggingKv;
use crate::adapters::sql_store::SqlCatalogStore;
use crate::settings::{STORE_LABEL, Settings};

/// Per-request application state.
pub struct App {
    /// Configuration.
    pub settings: Settings,
}

impl App {
    /// Reads the configuration.
    ///
    /// # Errors
    /// As [`Settings::from_variables`].
    pub fn from_variables() -> Result<Self, ApiError> {
        Ok(Self {
            settings: Settings::from_variables()?,
        })
    }

    /// Verifies the bearer token of `request`.
    ///
    /// # Errors
    /// 401 `unauthenticated` without a bearer token, 401 `invalid-token` for a bad one.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Principal, ApiError> {
        self.settings.verifier.authenticate(request)
    }

    /// The caller on a public read: anonymous without an `Authorization` header, else the
    /// verified principal (a bad token is still a 401, never silently anonymous).
    ///
    /// # Errors
    /// 401 for a present but invalid credential.
    pub fn optional_principal(&self, request: &HttpRequest) -> Result<Option<Principal>, ApiError> {
        if request.header("authorization").is_none() {
            return Ok(None);
        }
        self.authenticate(request).map(Some)
    }

    /// Opens the database and cache and runs `use_case` with the ports.
    ///
    /// # Errors
    /// 503 when the database cannot be opened; the use case's error mapped to [`ApiError`].
    pub fn run<T, E: Into<ApiError>>(
        &self,
        request: &HttpRequest,
        use_case: impl FnOnce(&Ports<'_>) -> Result<T, E>,
    ) -> Result<T, ApiError> {
        let db = AnyDatabase::open(&self.settings.database_url, STORE_LABEL)?;
        let ids = UuidV7Ids::new(SystemClock, HostRandom);
        let store = SqlCatalogStore::new(&db, &SystemClock, &ids, self.settings.search_walk_rows);
        let cache = LoggingKv::new(&self.settings.cache_store, &request.request_id);
        let ports = Ports {
            store: &store,
            cache: &cache,
            clock: &SystemClock,
            ids: &ids,
            settings: self.settings.tunables,
        };
        use_case(&ports).map_err(Into::into)
    }
}

/// Logs key-value failures a write reported after it committed (the write stands; cached
/// copies may be served until they expire).
pub fn log_kv_failures(request: &HttpRequest, failures: &[shopnow_kernel::kv::KvError]) {
    use shopnow_kernel::log::{LogLine, Logger as _};
    for failure in failures {
        shopnow_spin::StderrLogger.log(
            LogLine::new("warn", "catalog", request.request_id.as_str())
                .event("cache.invalidate_failed")
                .field("error", failure),
        );
    }
}
