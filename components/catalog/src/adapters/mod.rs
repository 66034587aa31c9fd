//! Spin-backed implementations of the catalog's ports: the SQL store (PostgreSQL or SQLite) with
//! its migrations, and the key-value store behind the product cache.

pub mod logging_kv;
pub mod migrations;
pub mod sql_store;
