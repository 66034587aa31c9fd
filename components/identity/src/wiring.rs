//! Builds the use cases' ports from Spin adapters for one request.

use shopnow_identity::IdentityError;
use shopnow_identity::app::Client;
use shopnow_identity::password_hashing::Argon2idHasher;
use shopnow_identity::ports::Ports;
use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Principal;
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::ids::UuidV7Ids;
use shopnow_spin::{AnyDatabase, HostRandom, SystemClock};

use crate::adapters::sql_repository::SqlIdentityRepository;
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
        shopnow_spin::auth::authenticate(self.settings.keys.verifier()?, request)
    }

    /// The caller, for the per-client limit `limit` (one of the settings' client limits).
    pub fn client(&self, request: &HttpRequest, limit: u32) -> Client {
        Client::new(request.client_address(self.settings.trusted_proxies), limit)
    }

    /// Opens the database and runs `use_case` with the ports.
    ///
    /// # Errors
    /// 503 when the database cannot be opened; the use case's error mapped to [`ApiError`].
    pub fn run<T>(
        &self,
        request: &HttpRequest,
        use_case: impl FnOnce(&Ports<'_>) -> Result<T, IdentityError>,
    ) -> Result<T, ApiError> {
        let tokens = self.settings.keys.signer()?;
        let db = AnyDatabase::open(&self.settings.database_url, STORE_LABEL)?;
        let repository = SqlIdentityRepository::new(&db, &SystemClock);
        let ids = UuidV7Ids::new(SystemClock, HostRandom);
        let hasher = Argon2idHasher::default();
        let ports = Ports {
            users: &repository,
            sessions: &repository,
            audit: &repository,
            throttle: &repository,
            hasher: &hasher,
            clock: &SystemClock,
            ids: &ids,
            random: &HostRandom,
            tokens,
            request_id: request.request_id.as_str(),
        };
        use_case(&ports).map_err(ApiError::from)
    }
}
