//! The identity service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches, errors render as problem+json; the shared entry also serves the events
//! operations routes and relays the outbox after a write's response
//! (`shopnow_spin::serve_with_events`).

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

/// The events wiring of this service: producer.
const EVENTS: shopnow_spin::events::EventsService = shopnow_spin::events::EventsService {
    name: "identity",
    sqlite_label: settings::STORE_LABEL,
    migrations: shopnow_identity::schema::MIGRATIONS,
    subscriptions: None,
};

#[http_component]
fn handle_identity(request: IncomingRequest, out: ResponseOutparam) {
    shopnow_spin::serve_with_events(&EVENTS, request, out, http::BODY_LIMIT, |request| {
        let app = wiring::App::from_variables()?;
        http::route(request, &app)
    });
}
