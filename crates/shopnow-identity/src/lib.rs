//! Identity: user accounts, passwords, sign-in sessions and roles — the rules and use cases.
//!
//! Pure: no spin-sdk and no I/O. Use cases in `app/` take ports (`ports.rs`) as traits; the
//! component crate (`components/identity`) supplies Spin adapters, and unit tests supply the
//! in-memory ones in `testing.rs` with a fixed clock and id source.

pub mod app;
pub mod domain;
pub mod error;
pub mod password_hashing;
pub mod ports;
pub mod schema;
#[cfg(test)]
mod testing;

pub use error::IdentityError;
