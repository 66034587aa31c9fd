//! The native counterpart of the component's `wiring`: the same `App` surface the handler files
//! call (`authenticate`, `optional_principal`, `run`, `settings.cursors`), over native ports. The
//! settings are read once at start (the component reads its variables per request: part of what
//! the comparison measures).

use shopnow_catalog::ports::{Ports, Settings as Tunables};
use shopnow_kernel::ApiError;
use shopnow_kernel::Secret;
use shopnow_kernel::auth::{Principal, PublicKey, TokenAudience, TokenVerifier};
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::ids::{Clock as _, UuidV7Ids};
use shopnow_kernel::pagination::CursorCodec;

use crate::adapters::pg::PgPool;
use crate::adapters::sql_store::SqlCatalogStore;
use crate::adapters::{NoCache, OsRandom, SystemClock};

/// What the handlers read from the settings.
pub struct Settings {
    /// Verifies access tokens issued by identity.
    pub verifier: TokenVerifier,
    /// Seals pagination cursors.
    pub cursors: CursorCodec,
    /// Cache (off) and reservation lifetimes.
    pub tunables: Tunables,
}

/// The application: settings and the connection pool.
pub struct App {
    /// Configuration.
    pub settings: Settings,
    pool: PgPool,
}

/// The configuration the binary's flags give.
pub struct Config<'a> {
    /// PostgreSQL URL of the catalog database.
    pub database_url: &'a str,
    /// `kid:base64url` public keys.
    pub jwt_public_keys: &'a str,
    /// Token issuer.
    pub jwt_issuer: &'a str,
    /// Token audience.
    pub jwt_audience: &'a str,
    /// Cursor secret (the same as the component's, so cursors interoperate).
    pub cursor_secret: &'a str,
    /// Reservation lifetime, seconds.
    pub reservation_ttl_secs: i64,
}

impl App {
    /// Parses the configuration and opens the pool.
    ///
    /// # Errors
    /// On malformed keys or an unreachable database.
    pub fn new(config: &Config<'_>) -> anyhow::Result<Self> {
        let keys = PublicKey::parse_list(config.jwt_public_keys)
            .map_err(|e| anyhow::anyhow!("bad --jwt-public-keys: {e}"))?;
        let verifier = TokenVerifier::new(
            keys,
            TokenAudience {
                issuer: config.jwt_issuer.to_owned(),
                audience: config.jwt_audience.to_owned(),
            },
        );
        anyhow::ensure!(
            config.cursor_secret.len() >= 16,
            "--cursor-secret must be at least 16 bytes"
        );
        Ok(Self {
            settings: Settings {
                verifier,
                cursors: CursorCodec::new(Secret::new(config.cursor_secret.as_bytes().to_vec())),
                tunables: Tunables {
                    cache_ttl_ms: 0,
                    reservation_ttl_ms: config.reservation_ttl_secs * 1000,
                },
            },
            pool: PgPool::connect(config.database_url)?,
        })
    }

    /// Verifies the bearer token of `request`.
    ///
    /// # Errors
    /// 401 `unauthenticated` without a bearer token, 401 `invalid-token` for a bad one.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Principal, ApiError> {
        let token = request.bearer_token()?;
        self.settings.verifier.verify(token, SystemClock.now_ms())
    }

    /// Anonymous without an `Authorization` header, else the verified principal.
    ///
    /// # Errors
    /// 401 for a present but invalid credential.
    pub fn optional_principal(&self, request: &HttpRequest) -> Result<Option<Principal>, ApiError> {
        if request.header("authorization").is_none() {
            return Ok(None);
        }
        self.authenticate(request).map(Some)
    }

    /// Takes a pooled connection and runs `use_case` with the ports.
    ///
    /// # Errors
    /// 503 when no connection can be had; the use case's error mapped to [`ApiError`].
    pub fn run<T, E: Into<ApiError>>(
        &self,
        _request: &HttpRequest,
        use_case: impl FnOnce(&Ports<'_>) -> Result<T, E>,
    ) -> Result<T, ApiError> {
        let db = self.pool.get()?;
        let ids = UuidV7Ids::new(SystemClock, OsRandom);
        let store = SqlCatalogStore::new(&db, &SystemClock, &ids, None);
        let ports = Ports {
            store: &store,
            cache: &NoCache,
            clock: &SystemClock,
            ids: &ids,
            settings: self.settings.tunables,
        };
        use_case(&ports).map_err(Into::into)
    }
}

/// Logs key-value failures a write reported after it committed (never happens with no cache).
pub fn log_kv_failures(request: &HttpRequest, failures: &[shopnow_kernel::kv::KvError]) {
    for failure in failures {
        eprintln!(
            "level=warn service=catalog-native request_id={} event=cache.invalidate_failed error={:?}",
            request.request_id,
            failure.to_string()
        );
    }
}
