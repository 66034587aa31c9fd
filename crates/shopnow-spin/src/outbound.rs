//! `WasiHttpClient`: the kernel's `HttpClient` port over `wasi:http/outgoing-handler`, with a
//! deadline the guest enforces itself.
//!
//! The host is asked to honour the timeout too (`request-options`), but service chaining
//! (`*.spin.internal`) does not go through the network stack those options govern, so the guest
//! polls the response future together with a monotonic-clock pollable and drops the request
//! when the clock wins. Rejected alternative: `spin_sdk::http::send`, which has no deadline.
//! Several requests can be in flight at once ([`HttpClient::send_all`]): one `poll` waits on all.
//! Each request is a [`timing`](crate::timing) span from its start until its body is read.

use shopnow_kernel::http::Method;
use shopnow_kernel::outbound::{HttpClient, OutboundError, OutboundRequest, OutboundResponse};
use wasi::clocks::monotonic_clock::{self, Instant};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{Pollable, poll};
use wasi::io::streams::StreamError;

use crate::timing::{self, SpanGuard};

/// Largest response body read; a larger one is an error (east–west answers are small).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

const NANOS_PER_MS: u64 = 1_000_000;
const WRITE_CHUNK: usize = 4096;

/// Outbound HTTP through the host, with deadlines.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasiHttpClient;

/// The parts of an absolute `http(s)://authority/path?query` URL.
#[derive(Debug, PartialEq, Eq)]
struct Target<'a> {
    https: bool,
    authority: &'a str,
    path_and_query: &'a str,
}

fn parse_url(url: &str) -> Result<Target<'_>, OutboundError> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(OutboundError::Invalid("only http and https URLs".into()));
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(split);
    if authority.is_empty() {
        return Err(OutboundError::Invalid("URL has no host".into()));
    }
    Ok(Target {
        https,
        authority,
        path_and_query: if path_and_query.is_empty() {
            "/"
        } else {
            path_and_query
        },
    })
}

fn wasi_method(method: Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Patch => WasiMethod::Patch,
        Method::Delete => WasiMethod::Delete,
        Method::Head => WasiMethod::Head,
        Method::Options => WasiMethod::Options,
        Method::Other => WasiMethod::Other("OTHER".into()),
    }
}

fn map_error(code: &ErrorCode, timeout_ms: u64) -> OutboundError {
    match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::DnsTimeout => OutboundError::Timeout(timeout_ms),
        ErrorCode::HttpRequestDenied => {
            OutboundError::Denied("not an allowed outbound host".into())
        }
        ErrorCode::HttpRequestUriInvalid | ErrorCode::HttpRequestMethodInvalid => {
            OutboundError::Invalid(format!("{code:?}"))
        }
        other => OutboundError::Unreachable(format!("{other:?}")),
    }
}

/// A started request: the response future and the instant it must be complete by.
struct InFlight {
    future: FutureIncomingResponse,
    deadline: Instant,
    timeout_ms: u64,
}

fn start(request: &OutboundRequest) -> Result<InFlight, OutboundError> {
    let target = parse_url(&request.url)?;
    let entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries)
        .map_err(|e| OutboundError::Invalid(format!("header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let invalid = |what: &str| OutboundError::Invalid(what.to_owned());
    outgoing
        .set_method(&wasi_method(request.method))
        .map_err(|()| invalid("method"))?;
    outgoing
        .set_scheme(Some(if target.https {
            &Scheme::Https
        } else {
            &Scheme::Http
        }))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(Some(target.authority))
        .map_err(|()| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(target.path_and_query))
        .map_err(|()| invalid("path"))?;
    let body = outgoing.body().map_err(|()| invalid("body taken"))?;

    let timeout_ns = request.timeout_ms.saturating_mul(NANOS_PER_MS);
    let options = RequestOptions::new();
    // Hosts that do not support an option refuse it; the guest-side deadline still holds.
    let _ignored = options.set_connect_timeout(Some(timeout_ns));
    let _ignored = options.set_first_byte_timeout(Some(timeout_ns));
    let _ignored = options.set_between_bytes_timeout(Some(timeout_ns));
    let deadline = monotonic_clock::now().saturating_add(timeout_ns);
    let future = outgoing_handler::handle(outgoing, Some(options))
        .map_err(|e| map_error(&e, request.timeout_ms))?;

    let stream = body.write().map_err(|()| invalid("body stream"))?;
    for chunk in request.body.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| OutboundError::Unreachable(format!("writing the body: {e:?}")))?;
    }
    drop(stream);
    OutgoingBody::finish(body, None)
        .map_err(|e| OutboundError::Unreachable(format!("finishing the body: {e:?}")))?;
    Ok(InFlight {
        future,
        deadline,
        timeout_ms: request.timeout_ms,
    })
}

/// The response if it has arrived: `None` while pending.
fn ready(flight: &InFlight) -> Option<Result<IncomingResponse, OutboundError>> {
    let outcome = flight.future.get()?;
    Some(match outcome {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(map_error(&code, flight.timeout_ms)),
        Err(()) => Err(OutboundError::Unreachable("response already taken".into())),
    })
}

/// Waits for every in-flight request until it answers or its deadline passes.
fn await_all(flights: &[InFlight]) -> Vec<Result<IncomingResponse, OutboundError>> {
    let mut results: Vec<Option<Result<IncomingResponse, OutboundError>>> =
        flights.iter().map(|_| None).collect();
    loop {
        let now = monotonic_clock::now();
        let mut pollables: Vec<Pollable> = Vec::new();
        for (flight, slot) in flights.iter().zip(results.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            if let Some(outcome) = ready(flight) {
                *slot = Some(outcome);
            } else if now >= flight.deadline {
                *slot = Some(Err(OutboundError::Timeout(flight.timeout_ms)));
            } else {
                pollables.push(flight.future.subscribe());
                pollables.push(monotonic_clock::subscribe_instant(flight.deadline));
            }
        }
        if pollables.is_empty() {
            break;
        }
        let refs: Vec<&Pollable> = pollables.iter().collect();
        let _ready = poll(&refs);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(OutboundError::Unreachable("no outcome".into()))))
        .collect()
}

/// Reads the status, headers and body of `response` before `deadline`.
fn read_response(
    response: IncomingResponse,
    deadline: Instant,
    timeout_ms: u64,
) -> Result<OutboundResponse, OutboundError> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .filter_map(|(n, v)| {
            String::from_utf8(v)
                .ok()
                .map(|v| (n.to_ascii_lowercase(), v))
        })
        .collect();
    let body = response
        .consume()
        .map_err(|()| OutboundError::Unreachable("body already consumed".into()))?;
    let bytes = read_body(&body, deadline, timeout_ms);
    IncomingBody::finish(body);
    Ok(OutboundResponse {
        status,
        headers,
        body: bytes?,
    })
}

fn read_body(
    body: &IncomingBody,
    deadline: Instant,
    timeout_ms: u64,
) -> Result<Vec<u8>, OutboundError> {
    let stream = body
        .stream()
        .map_err(|()| OutboundError::Unreachable("body stream taken".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.read(64 * 1024) {
            Ok(chunk) if chunk.is_empty() => {
                if monotonic_clock::now() >= deadline {
                    return Err(OutboundError::Timeout(timeout_ms));
                }
                let data = stream.subscribe();
                let timer = monotonic_clock::subscribe_instant(deadline);
                let _ready = poll(&[&data, &timer]);
            }
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(OutboundError::Unreachable("response body too large".into()));
                }
            }
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(OutboundError::Unreachable(format!(
                    "reading the body: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
}

impl HttpClient for WasiHttpClient {
    fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        self.send_all(std::slice::from_ref(request))
            .pop()
            .unwrap_or(Err(OutboundError::Unreachable("no outcome".into())))
    }

    fn send_all(
        &self,
        requests: &[OutboundRequest],
    ) -> Vec<Result<OutboundResponse, OutboundError>> {
        let mut flights = Vec::new();
        let mut spans: Vec<SpanGuard> = Vec::new();
        let mut slots = Vec::new();
        for request in requests {
            let span = timing::http(request.method.as_str(), &request.url);
            match start(request) {
                Ok(flight) => {
                    slots.push(None);
                    flights.push(flight);
                    spans.push(span);
                }
                // The span ends here: a request that never started took only this long.
                Err(err) => slots.push(Some(Err(err))),
            }
        }
        let mut answers = await_all(&flights)
            .into_iter()
            .zip(flights.iter().zip(spans));
        slots
            .into_iter()
            .map(|slot| match slot {
                Some(err) => err,
                None => match answers.next() {
                    Some((Ok(response), (flight, span))) => {
                        let outcome = read_response(response, flight.deadline, flight.timeout_ms);
                        drop(span);
                        outcome
                    }
                    Some((Err(err), (_, span))) => {
                        drop(span);
                        Err(err)
                    }
                    None => Err(OutboundError::Unreachable("no outcome".into())),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        assert_eq!(
            parse_url("http://catalog.spin.internal/v1/products/1?x=2").unwrap(),
            Target {
                https: false,
                authority: "catalog.spin.internal",
                path_and_query: "/v1/products/1?x=2"
            }
        );
        assert_eq!(
            parse_url("https://pay.example.com:8443").unwrap(),
            Target {
                https: true,
                authority: "pay.example.com:8443",
                path_and_query: "/"
            }
        );
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("http:///path").is_err());
    }
}
