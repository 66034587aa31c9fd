//! The storefront as a Spin component: reads its variables, opens its key-value store (the
//! sessions), and serves pages through `shopnow_storefront::handle` with outbound calls to
//! identity, catalog and orders by service chaining (`allowed_outbound_hosts` lists exactly
//! those three). Thin: every decision is in `shopnow-storefront`.

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_spin::{Config, HostRandom, SpinKv, StderrLogger, SystemClock, WasiHttpClient};
use shopnow_storefront::api::ServiceUrls;
use shopnow_storefront::cookie::CookieMode;
use shopnow_storefront::{Ports, Settings};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

/// Label of the session store.
const STORE_LABEL: &str = "storefront";

/// Largest form body, bytes (a product description is the biggest field).
const BODY_LIMIT: usize = 32 * 1024;

fn millis(config: Config, name: &str, default: &str) -> Result<u64, ApiError> {
    let value: u64 = config
        .get_or(name, default)
        .trim()
        .parse()
        .map_err(|_| ApiError::internal(format!("variable `{name}` is not a whole number")))?;
    if !(10..=60_000).contains(&value) {
        return Err(ApiError::internal(format!(
            "variable `{name}` must be 10..=60000 ms"
        )));
    }
    Ok(value)
}

fn settings() -> Result<Settings, ApiError> {
    let config = Config;
    let csrf_secret = config.secret("csrf_secret")?;
    if csrf_secret.expose().len() < 16 {
        return Err(ApiError::internal(
            "variable `csrf_secret` must be at least 16 bytes",
        ));
    }
    let cookie_mode = CookieMode::parse(&config.get_or("cookie_mode", "auto"))
        .ok_or_else(|| ApiError::internal("variable `cookie_mode` must be auto or secure"))?;
    let payment_tokens = config
        .get_or("payment_test_tokens", "")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Settings {
        urls: ServiceUrls {
            identity: config.required("identity_url")?,
            catalog: config.required("catalog_url")?,
            orders: config.required("orders_url")?,
        },
        csrf_secret,
        cookie_mode,
        payment_tokens,
        call_timeout_ms: millis(config, "call_timeout_ms", "2000")?,
        checkout_timeout_ms: millis(config, "checkout_timeout_ms", "5000")?,
    })
}

fn route(request: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let settings = settings()?;
    let kv = SpinKv::open(STORE_LABEL)?;
    let ports = Ports {
        http: &WasiHttpClient,
        kv: &kv,
        clock: &SystemClock,
        random: &HostRandom,
        logger: &StderrLogger,
    };
    shopnow_storefront::handle(&settings, &ports, request)
}

#[http_component]
fn handle_storefront(request: IncomingRequest) -> Response {
    shopnow_spin::serve("storefront", request, BODY_LIMIT, route)
}
