//! Builds the use cases' ports from Spin adapters for one request. The database and the
//! key-value store are opened on first use, so a request that needs neither opens neither.

use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Principal;
use shopnow_kernel::http::HttpRequest;
use shopnow_kernel::ids::UuidV7Ids;
use shopnow_kernel::outbound::forwarded_headers;
use shopnow_orders::OrdersError;
use shopnow_orders::ports::Ports;
use shopnow_spin::{HostRandom, SystemClock, WasiHttpClient};

use crate::adapters::http_catalog::HttpCatalogClient;
use crate::adapters::http_payments::HttpPaymentGateway;
use crate::adapters::kv_carts::KvCartStore;
use crate::adapters::lazy_db::LazyDatabase;
use crate::adapters::sql_orders::SqlOrderRepository;
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

    /// Checks the service credential of an internal route.
    ///
    /// # Errors
    /// 401 `invalid-service-credential`.
    pub fn require_service(&self, request: &HttpRequest) -> Result<(), ApiError> {
        self.settings.accepted_service_tokens.require(request)
    }

    /// Builds the ports and runs `use_case` with them.
    ///
    /// # Errors
    /// The use case's error mapped to [`ApiError`].
    pub fn run<T>(
        &self,
        request: &HttpRequest,
        use_case: impl FnOnce(&Ports<'_>) -> Result<T, OrdersError>,
    ) -> Result<T, ApiError> {
        let settings = &self.settings;
        let ids = UuidV7Ids::new(SystemClock, HostRandom);
        let db = LazyDatabase::new(&settings.database_url, STORE_LABEL);
        let orders = SqlOrderRepository::new(&db, &SystemClock, &ids);
        let carts = KvCartStore::new(STORE_LABEL);
        let forwarded = forwarded_headers(request);
        let http = WasiHttpClient;
        let catalog = HttpCatalogClient {
            http: &http,
            clock: &SystemClock,
            public_url: &settings.catalog_url,
            internal_url: &settings.catalog_internal_url,
            service_token: &settings.catalog_service_token,
            forwarded: &forwarded,
            call_ms: settings.deadlines.catalog_call_ms,
        };
        let payments = HttpPaymentGateway {
            http: &http,
            clock: &SystemClock,
            base_url: &settings.payment_base_url,
            secret_key: &settings.payment_secret_key,
            forwarded: &forwarded,
            call_ms: settings.deadlines.payment_call_ms,
        };
        let ports = Ports {
            orders: &orders,
            carts: &carts,
            catalog: &catalog,
            payments: &payments,
            clock: &SystemClock,
            ids: &ids,
            deadlines: settings.deadlines,
            request_id: request.request_id.as_str(),
            logger: &shopnow_spin::StderrLogger,
        };
        use_case(&ports).map_err(ApiError::from)
    }
}
