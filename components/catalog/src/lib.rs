//! The catalog service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches on the surface this component instance serves (public
//! `/v1/...` or the private `/internal/v1/...` reservations), errors render as problem+json. The shared entry also
//! serves the events operations routes and relays the outbox after a write's response
//! (`shopnow_spin::serve_with_events`).
//!
//! One wasm serves two `spin.toml` components: `catalog` (public routes) and `catalog-internal`
//! (a private route, reachable only by service chaining), told apart by the `surface` variable.

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
fn handle_catalog(request: IncomingRequest, out: ResponseOutparam) {
    shopnow_spin::serve_with_events(
        "catalog",
        request,
        out,
        http::BODY_LIMIT.max(http::INTERNAL_BODY_LIMIT),
        settings::STORE_LABEL,
        shopnow_catalog::schema::MIGRATIONS,
        |request| {
            let app = wiring::App::from_variables()?;
            http::route(request, &app)
        },
    );
}
