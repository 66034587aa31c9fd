//! The identity service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches, errors render as problem+json.

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle_identity(request: IncomingRequest) -> Response {
    shopnow_spin::serve("identity", request, http::BODY_LIMIT, |request| {
        let app = wiring::App::from_variables()?;
        http::route(request, &app)
    })
}
