//! Spin-backed implementations of the catalog's ports: the SQL store (PostgreSQL or SQLite) with
//! the migrations from `shopnow_catalog::schema`, and the key-value store behind the product cache.

pub mod logging_kv;
pub mod sql_store;
