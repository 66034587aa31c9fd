//! The orders service as a Spin component. Thin entry: the shared helper reads or mints the
//! request id, `http::route` dispatches, errors render as problem+json; the shared entry also serves the events
//! operations routes and relays the outbox after a write's response
//! (`shopnow_spin::serve_with_events`). The same wasm is the orders consumer: its Redis entry
//! applies identity's events (`adapters::events_in`), in a process of its own
//! (`spin-consumers.toml`).

mod adapters;
mod http;
mod settings;
mod wiring;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::{http_component, redis_component};

/// The events wiring of this service: producer, and consumer of identity's stream.
const EVENTS: shopnow_spin::events::EventsService = shopnow_spin::events::EventsService {
    name: "orders",
    sqlite_label: settings::STORE_LABEL,
    migrations: shopnow_orders::schema::MIGRATIONS,
    subscriptions: Some(&adapters::events_in::SUBSCRIPTIONS),
};

#[http_component]
fn handle_orders(request: IncomingRequest, out: ResponseOutparam) {
    shopnow_spin::serve_with_events(&EVENTS, request, out, http::BODY_LIMIT, |request| {
        let app = wiring::App::from_variables()?;
        http::route(request, &app)
    });
}

/// The consumer entry (`spin-consumers.toml`): woken by the relay's `PUBLISH` on a producer's
/// stream channel, it applies that stream's new events (`adapters::events_in`).
#[redis_component]
fn on_event(message: Vec<u8>) -> Result<(), String> {
    shopnow_spin::consumers::on_notification(&EVENTS, &message)
}
