//! The identity service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches, errors render as problem+json; after a write's response, the outbox is relayed to the event log
//! (`shopnow_spin::events`).

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
fn handle_identity(request: IncomingRequest, out: ResponseOutparam) {
    let migrations = shopnow_identity::schema::MIGRATIONS;
    shopnow_spin::serve_then(
        "identity",
        request,
        out,
        http::BODY_LIMIT,
        |request| {
            if let Some(answer) =
                shopnow_spin::events::route("identity", request, settings::STORE_LABEL, migrations)
            {
                return answer;
            }
            let app = wiring::App::from_variables()?;
            http::route(request, &app)
        },
        |request, status| {
            shopnow_spin::events::relay_after_write(
                "identity",
                request,
                status,
                settings::STORE_LABEL,
                migrations,
            );
        },
    );
}
