//! ShopNow's shared kernel: the cross-cutting rules every service applies the same way.
//!
//! Pure by design: no spin-sdk, no I/O. Everything here compiles natively (and is unit-tested
//! there) and to `wasm32-wasip2`. Host adapters live in `shopnow-spin`.

pub mod auth;
pub mod consumer;
pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod json;
pub mod kv;
pub mod log;
pub mod outbound;
pub mod pagination;
pub mod request_id;
pub mod secret;
pub mod service_auth;
pub mod sql;
pub mod time;

pub use error::{ApiError, FieldError, FieldErrors, StockShortage};
pub use request_id::RequestId;
pub use secret::Secret;
