//! The storefront: ShopNow's web shop and seller workspace, rendered on the server as a
//! backend-for-frontend over the services' public API (docs/storefront.md).
//!
//! Pure by design: no spin-sdk. Service calls go through the kernel's `HttpClient`, sessions
//! through its `KeyValue`; the component wires the host adapters in.

pub mod api;
pub mod app;
pub mod assets;
pub mod cookie;
pub mod csrf;
pub mod form;
pub mod pages;
pub mod session;
pub mod views;
pub mod wire;

pub use app::{Ports, Settings, handle};
