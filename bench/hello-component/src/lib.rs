//! The trivial component for the test-host overhead benchmark: answers every request with a fixed
//! small JSON body, so that what a benchmark measures is the host (HTTP, instantiation, wasi:http
//! plumbing) and not the guest. Must not touch any host interface beyond `wasi:http`.
//!
//! `bench/native-hello` answers the same bytes natively; keep the two in step.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

/// The response body; `bench/native-hello` sends the same bytes.
const BODY: &str = r#"{"hello":"shopnow"}"#;

/// Answers any method and path with `200 OK`, `content-type: application/json` and [`BODY`].
#[http_component]
fn handle(_request: Request) -> impl IntoResponse {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(BODY)
        .build()
}
