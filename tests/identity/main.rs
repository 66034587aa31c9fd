//! Identity API tests: the built component under the test host, over HTTP only, on the embedded
//! backends and on PostgreSQL + Redis when configured. One file per route group.

#![expect(
    clippy::unwrap_used,
    reason = "test code: helpers outside #[test] fns fail loudly too"
)]

#[macro_use]
mod support;

mod auth;
mod bearer;
mod bodies;
mod jwks;
mod me;
mod secrets;
mod users;
