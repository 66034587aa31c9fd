//! The orders service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches, errors render as problem+json; the shared entry also serves the events
//! operations routes and relays the outbox after a write's response
//! (`shopnow_spin::serve_with_events`).

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
fn handle_orders(request: IncomingRequest, out: ResponseOutparam) {
    shopnow_spin::serve_with_events(
        "orders",
        request,
        out,
        http::BODY_LIMIT,
        settings::STORE_LABEL,
        shopnow_orders::schema::MIGRATIONS,
        |request| {
            let app = wiring::App::from_variables()?;
            http::route(request, &app)
        },
    );
}
