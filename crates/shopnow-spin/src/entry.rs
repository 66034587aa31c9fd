//! The request entry helper every component's `lib.rs` calls: read or mint the request id, read
//! the body through the component's limit, hand a host-neutral request to the service's router,
//! render `ApiError` as problem+json, log the failure once as one structured line, and echo
//! `x-request-id` on every response.
//!
//! The body is read from the host's stream, never whole before a size check: a declared
//! `Content-Length` over the limit is answered 413 before a byte of the body is read (the client
//! need not send it), and an undeclared (chunked) body is read in bounded chunks and answered 413
//! as soon as it passes the limit, so an instance never holds more than the limit plus one byte.

use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};
use shopnow_kernel::ids::{Clock as _, IdSource as _, UuidV7Ids};
use shopnow_kernel::request_id::REQUEST_ID_HEADER;
use shopnow_kernel::{ApiError, RequestId};
use spin_sdk::http::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, Response, ResponseOutparam,
};
use wasi::io::streams::StreamError;

use shopnow_kernel::log::{LogLine, Logger as _};

use crate::{HostRandom, StderrLogger, SystemClock};

/// The most a body is read per host call.
const READ_CHUNK: usize = 64 * 1024;

/// Serves one request with `handler` and never fails: every error becomes problem+json. Bodies
/// over `body_limit` bytes are refused with 413 while they are read (see the module docs).
pub fn serve(
    service: &str,
    incoming: IncomingRequest,
    body_limit: usize,
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
) -> Response {
    let (request, response) = answer(service, incoming, body_limit, handler);
    to_spin(response, &request.request_id)
}

/// As [`serve`], but sends the response through `out` and then runs `after` with the request
/// and the status it was answered: the client has its answer before `after` starts (Spin keeps
/// the instance until the handler returns), so work that must not delay it (the event relay)
/// goes there.
pub fn serve_then(
    service: &str,
    incoming: IncomingRequest,
    out: ResponseOutparam,
    body_limit: usize,
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
    after: impl FnOnce(&HttpRequest, u16),
) {
    let (request, response) = answer(service, incoming, body_limit, handler);
    let status = response.status;
    send(out, response, &request.request_id);
    after(&request, status);
}

fn answer(
    service: &str,
    incoming: IncomingRequest,
    body_limit: usize,
    handler: impl FnOnce(&HttpRequest) -> Result<HttpResponse, ApiError>,
) -> (HttpRequest, HttpResponse) {
    let started_ms = SystemClock.now_ms();
    let mut request = to_kernel(&incoming);
    let result =
        read_body(incoming, request.header("content-length"), body_limit).and_then(|body| {
            request.body = body;
            handler(&request)
        });
    let response = match result {
        Ok(response) => response,
        Err(err) => {
            let duration_ms = SystemClock.now_ms().saturating_sub(started_ms);
            log_failure(service, &request, &err, duration_ms);
            HttpResponse::problem(&err, &request.path, &request.request_id)
        }
    };
    (request, response)
}

/// Writes `response` to `out` and finishes the body. A client that went away is not an error
/// worth more than ignoring: there is no one left to tell.
fn send(out: ResponseOutparam, response: HttpResponse, request_id: &RequestId) {
    let mut entries: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    entries.push((
        REQUEST_ID_HEADER.to_owned(),
        request_id.as_str().as_bytes().to_vec(),
    ));
    let headers = match Fields::from_list(&entries) {
        Ok(headers) => headers,
        // Header values come from this code, not the client; a bad one is a bug, answered
        // without headers rather than not at all.
        Err(_) => Fields::new(),
    };
    let outgoing = OutgoingResponse::new(headers);
    let _ignored = outgoing.set_status_code(response.status);
    let Ok(body) = outgoing.body() else {
        return;
    };
    out.set(outgoing);
    if let Ok(stream) = body.write() {
        for chunk in response.body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
        drop(stream);
    }
    let _ignored = OutgoingBody::finish(body, None);
}

/// The request line and headers; the body is read by [`read_body`].
fn to_kernel(request: &IncomingRequest) -> HttpRequest {
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .filter_map(|(name, value)| {
            String::from_utf8(value)
                .ok()
                .map(|v| (name.to_ascii_lowercase(), v))
        })
        .collect();
    let incoming_id = headers
        .iter()
        .find(|(name, _)| name == REQUEST_ID_HEADER)
        .map(|(_, v)| v.clone());
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
    let path_with_query = request.path_with_query().unwrap_or_default();
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((path_with_query.as_str(), ""));
    HttpRequest {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: Vec::new(),
        request_id,
    }
}

/// Reads the body of `request` through `limit` bytes.
///
/// # Errors
/// 413 when `content_length` declares more than `limit` (nothing is read) or the body passes
/// `limit` while it is read; 400 `malformed-body` when the client's stream fails mid-body.
fn read_body(
    request: IncomingRequest,
    content_length: Option<&str>,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    // The host has already refused a Content-Length that is not a number.
    if content_length
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|declared| declared > limit as u64)
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let body = request
        .consume()
        .map_err(|()| ApiError::internal("the request body was already consumed"))?;
    let stream = body
        .stream()
        .map_err(|()| ApiError::internal("the request body stream was already taken"))?;
    let mut bytes = Vec::new();
    loop {
        // At most one byte past the limit is ever read: enough to know it was passed.
        let want = limit
            .saturating_add(1)
            .saturating_sub(bytes.len())
            .min(READ_CHUNK);
        match stream.blocking_read(want as u64) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => {
                return Err(ApiError::MalformedBody {
                    detail: "The body could not be read to its end.".into(),
                });
            }
        }
    }
    Ok(bytes)
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
    let (level, error) = if status >= 500 {
        ("error", err.log_chain())
    } else {
        ("info", err.slug().to_owned())
    };
    StderrLogger.log(
        LogLine::new(level, service, request.request_id.as_str())
            .field("method", request.method.as_str())
            .field("path", &request.path)
            .field("status", status)
            .field("duration_ms", duration_ms)
            .field("error", error),
    );
}
