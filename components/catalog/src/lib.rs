//! The catalog service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches on the surface this component instance serves (public
//! `/v1/...` or the private `/internal/v1/...` reservations), errors render as problem+json; after a write's response, the outbox is relayed to the event log
//! (`shopnow_spin::events`).
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
    let migrations = shopnow_catalog::schema::MIGRATIONS;
    shopnow_spin::serve_then(
        "catalog",
        request,
        out,
        http::BODY_LIMIT.max(http::INTERNAL_BODY_LIMIT),
        |request| {
            if let Some(answer) =
                shopnow_spin::events::route("catalog", request, settings::STORE_LABEL, migrations)
            {
                return answer;
            }
            let app = wiring::App::from_variables()?;
            http::route(request, &app)
        },
        |request, status| {
            shopnow_spin::events::relay_after_write(
                "catalog",
                request,
                status,
                settings::STORE_LABEL,
                migrations,
            );
        },
    );
}
