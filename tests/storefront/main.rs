//! Storefront tests: the built components (the storefront and the services it calls by service
//! chaining) under the test host and real Spin, driven over HTTP like a browser without
//! JavaScript (`pages.rs`) and by a real headless Chromium (`browser.rs`).

#[macro_use]
mod support;

mod browser;
mod pages;
