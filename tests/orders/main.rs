//! Orders API tests: the built components (identity, catalog, orders, payments-sim) under the
//! test host, over HTTP only, on the embedded backends and on PostgreSQL + Redis when configured.
//! Files follow the routes: cart, checkout (the saga and each failure branch), idempotency,
//! orders (reads and ownership), cancel, fulfilments, the race for the last units, the full
//! journey, and the internal sweep.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: helpers outside #[test] fns fail loudly too"
)]

#[macro_use]
mod support;

mod cancel;
mod cart;
mod checkout;
mod consumers;
mod events;
mod fulfilments;
mod idempotency;
mod internal;
mod journey;
mod orders;
mod race;
mod seller_events;
