//! Spin adapters of the orders ports: SQL (PostgreSQL or SQLite), key-value carts, and HTTP
//! clients of the catalog and the payment provider.

pub mod http_catalog;
pub mod http_payments;
pub mod kv_carts;
pub mod lazy_db;
pub mod sql_orders;
