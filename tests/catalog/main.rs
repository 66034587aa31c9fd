//! Catalog API tests: the built component under the test host, over HTTP only, on the embedded
//! backends and on PostgreSQL + Redis when configured. Tokens come from the identity service in
//! the same application (admins through its `identity_admin_emails` bootstrap). One file per
//! resource.

#![expect(
    clippy::unwrap_used,
    reason = "test code: helpers outside #[test] fns fail loudly too"
)]

#[macro_use]
mod support;

mod cache;
mod categories;
mod internal;
mod products;
mod reservations;
mod search;
mod stock;
