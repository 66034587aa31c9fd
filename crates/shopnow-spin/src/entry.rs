//! The request entry helper every component's `lib.rs` calls: read or mint the request id,
//! hand a host-neutral request to the service's router, render `ApiError` as problem+json, log
//! the failure once as one structured line, and echo `x-request-id` on every response.

use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::{Clock as _, IdSource as _, UuidV7Ids};
use shopnow_kernel::request_id::REQUEST_ID_HEADER;
use shopnow_kernel::{ApiError, RequestId};
use spin_sdk::http::{Request, Response};

use crate::{HostRandom, SystemClock};

/// Serves one request with `handler` and never fails: every error becomes problem+json.
pub fn serve(
    service: &str,
    request: Request,
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
) -> Response {
    let request = to_kernel(request);
    let started_ms = SystemClock.now_ms();
    let response = match handler(&request) {
        Ok(response) => response,
        Err(err) => {
            let duration_ms = SystemClock.now_ms().saturating_sub(started_ms);
            log_failure(service, &request, &err, duration_ms);
            HttpResponse::problem(&err, &request.path, &request.request_id)
        }
    };
    to_spin(response, &request.request_id)
}

fn to_kernel(request: Request) -> HttpRequest {
    let incoming_id = request
        .header(REQUEST_ID_HEADER)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let request_id = RequestId::from_header_or(incoming_id.as_deref(), || {
        UuidV7Ids::new(SystemClock, HostRandom)
            .new_id()
            // Without entropy an id is still needed to correlate logs; the clock is unique
            // enough for that and nothing security-relevant depends on it.
            .unwrap_or_else(|_| format!("t{}", SystemClock.now_ms()))
    });
    let method = match request.method() {
        spin_sdk::http::Method::Get => Method::Get,
        spin_sdk::http::Method::Post => Method::Post,
        spin_sdk::http::Method::Put => Method::Put,
        spin_sdk::http::Method::Patch => Method::Patch,
        spin_sdk::http::Method::Delete => Method::Delete,
        spin_sdk::http::Method::Head => Method::Head,
        spin_sdk::http::Method::Options => Method::Options,
        _ => Method::Other,
    };
    let headers = request
        .headers()
        .filter_map(|(name, value)| {
            value
                .as_str()
                .map(|v| (name.to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    HttpRequest {
        method,
        path: request.path().to_owned(),
        query: request.query().to_owned(),
        headers,
        body: request.into_body(),
        request_id,
    }
}

fn to_spin(response: HttpResponse, request_id: &RequestId) -> Response {
    let mut builder = Response::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    builder.header(REQUEST_ID_HEADER, request_id.as_str());
    builder.body(response.body);
    builder.build()
}

/// One structured line per failed request. 4xx are logged without a cause chain (they are the
/// client's doing); 5xx carry the full chain. No personal data or secrets: the chain is built
/// from error variants, which hold none.
fn log_failure(service: &str, request: &HttpRequest, err: &ApiError, duration_ms: i64) {
    let status = err.status();
    let method = request.method.as_str();
    if status >= 500 {
        eprintln!(
            "level=error service={service} request_id={} method={method} path={} status={status} duration_ms={duration_ms} error={:?}",
            request.request_id,
            request.path,
            err.log_chain(),
        );
    } else {
        eprintln!(
            "level=info service={service} request_id={} method={method} path={} status={status} duration_ms={duration_ms} error={}",
            request.request_id,
            request.path,
            err.slug(),
        );
    }
}
