//! Spin adapters of the orders ports: SQL (PostgreSQL or SQLite), key-value carts, and HTTP
//! clients of the catalog and the payment provider; the handler of the events it consumes and
//! the seller event feed it writes.

pub mod events_in;
pub mod http_catalog;
pub mod http_payments;
pub mod kv_carts;
pub mod lazy_db;
pub mod seller_feed;
pub mod sql_orders;
