//! The catalog service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches on the surface this component instance serves (public
//! `/v1/...` or the private `/internal/v1/...` reservations), errors render as problem+json.
//!
//! One wasm serves two `spin.toml` components: `catalog` (public routes) and `catalog-internal`
//! (a private route, reachable only by service chaining), told apart by the `surface` variable.

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle_catalog(request: IncomingRequest) -> Response {
    shopnow_spin::serve(
        "catalog",
        request,
        http::BODY_LIMIT.max(http::INTERNAL_BODY_LIMIT),
        |request| {
            let app = wiring::App::from_variables()?;
            http::route(request, &app)
        },
    )
}
