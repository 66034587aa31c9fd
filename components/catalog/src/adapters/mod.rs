//! Spin-backed implementations of the catalog's ports: the SQL store (PostgreSQL or SQLite) with
//! the migrations from `shopnow_catalog::schema`, the key-value store behind the product cache,
//! and the handler of the events it consumes.

pub mod events_in;
pub mod logging_kv;
pub mod sql_store;
