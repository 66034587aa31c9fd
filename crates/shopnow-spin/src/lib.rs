//! spin-sdk adapters shared by every ShopNow component: SQL (PostgreSQL via `pg4`, SQLite via
//! `sqlite3`), key-value, configuration from Spin variables, host clock and randomness, outbound
//! HTTP with deadlines, bearer-token verification, the request entry helper, and per-request step
//! timings of those host calls. Only components depend on this crate; pure crates never do, so
//! native tests never call a Spin host function (which would abort the test binary).

pub mod auth;
pub mod config;
pub mod consumers;
pub mod db;
pub mod entry;
pub mod events;
pub mod host;
pub mod kv;
pub mod outbound;
pub mod timing;

pub use config::Config;
pub use db::AnyDatabase;
pub use entry::{serve, serve_then};
pub use events::serve_with_events;
pub use host::{HostRandom, StderrLogger, SystemClock};
pub use kv::SpinKv;
pub use outbound::WasiHttpClient;
