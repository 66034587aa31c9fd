//! Catalog: categories, sellers' products with flexible attributes, stock and the reservations
//! the orders service holds against it — the rules and use cases.
//!
//! Pure: no spin-sdk and no I/O. Use cases in `app/` take ports (`ports.rs`) as traits; the
//! component crate (`components/catalog`) supplies the SQL and key-value adapters, and unit tests
//! supply in-memory key-value and a fixed clock. The read-through product cache (`cache.rs`) is
//! written here, over the kernel's key-value port, so its invalidation rule is unit-tested natively.

pub mod app;
pub mod cache;
pub mod domain;
pub mod error;
pub mod ports;
pub mod schema;
#[cfg(test)]
mod testing;

pub use error::CatalogError;
