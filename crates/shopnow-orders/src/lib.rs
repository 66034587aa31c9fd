//! Orders: carts, the checkout saga, the order and fulfilment lifecycles — the rules and use
//! cases.
//!
//! Pure: no spin-sdk and no I/O. Use cases in `app/` take ports (`ports.rs`) as traits; the
//! component crate (`components/orders`) supplies the Spin adapters (SQL, key-value, HTTP to the
//! catalog and the payment provider), and unit tests supply the in-memory ones in `testing.rs`
//! with a fixed clock and id source.

pub mod app;
pub mod domain;
pub mod error;
pub mod ports;
pub mod schema;
#[cfg(test)]
mod testing;

pub use error::OrdersError;
