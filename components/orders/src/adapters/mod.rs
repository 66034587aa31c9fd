//! Spin adapters of the orders ports: SQL (PostgreSQL or SQLite), key-value carts, and HTTP
//! clients of the catalog and the payment provider; the handler of the events it consumes.

pub mod events_in;
pub mod http_catalog;
pub mod http_payments;
pub mod kv_carts;
pub mod lazy_db;
pub mod sql_orders;
