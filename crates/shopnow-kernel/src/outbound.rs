//! Outbound HTTP for east–west calls: the `HttpClient` port a host adapter implements, request
//! budgets (every call gets a deadline inside the caller's budget), the retry rule (only
//! idempotent calls, only while the budget lasts) and the headers every call forwards (request id
//! and trace context). Pure: the wasi:http adapter is `shopnow_spin::WasiHttpClient`.

use std::fmt;

use crate::http::{HttpRequest, Method};
use crate::ids::{Clock, EpochMillis};
use crate::request_id::REQUEST_ID_HEADER;

/// The shortest timeout worth starting a call with; below it a call is not attempted.
pub const MIN_CALL_MS: u64 = 5;

/// Trace-context headers (W3C) forwarded unchanged besides the request id.
pub const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// A request to another service. `timeout_ms` bounds the whole exchange (connect, first byte
/// and body).
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Deadline for the exchange, in milliseconds.
    pub timeout_ms: u64,
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers carry credentials and bodies carry payment tokens: never print them.
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

impl OutboundRequest {
    /// A request without headers or body; the timeout is set by [`call`].
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: 0,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Adds several headers.
    #[must_use]
    pub fn headers(mut self, headers: impl IntoIterator<Item = (String, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    /// Sets a JSON body and its content type.
    #[must_use]
    pub fn json_body(mut self, body: Vec<u8>) -> Self {
        self.headers
            .push(("content-type".into(), "application/json".into()));
        self.body = body;
        self
    }
}

/// A response from another service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl OutboundResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a call produced no response. Messages are for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The deadline passed before the response was complete.
    #[error("deadline of {0} ms exceeded")]
    Timeout(u64),
    /// The destination could not be reached (DNS, connection, protocol failure).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The host refused the call (not in `allowed_outbound_hosts`).
    #[error("denied by the host: {0}")]
    Denied(String),
    /// The request could not be built (bad URL or header).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No budget was left to start the call.
    #[error("no time left in the request budget")]
    BudgetExhausted,
}

impl OutboundError {
    /// Whether the call may have reached the other side (its effect is unknown): a timeout or a
    /// broken connection. Denied, invalid and never-started calls had no effect.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Unreachable(_))
    }
}

/// Sends HTTP requests with a deadline.
pub trait HttpClient {
    /// Sends `request`, giving up after `request.timeout_ms`.
    ///
    /// # Errors
    /// [`OutboundError`] when no complete response arrived in time.
    fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, OutboundError>;

    /// Sends every request concurrently where the host allows it; results are in request order.
    /// The default sends them one after another.
    fn send_all(
        &self,
        requests: &[OutboundRequest],
    ) -> Vec<Result<OutboundResponse, OutboundError>> {
        requests.iter().map(|r| self.send(r)).collect()
    }
}

impl<T: HttpClient + ?Sized> HttpClient for &T {
    fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        (**self).send(request)
    }

    fn send_all(
        &self,
        requests: &[OutboundRequest],
    ) -> Vec<Result<OutboundResponse, OutboundError>> {
        (**self).send_all(requests)
    }
}

/// The time a request may still spend on outbound calls: a deadline on the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    deadline_ms: EpochMillis,
}

impl Budget {
    /// A budget of `total_ms` starting now.
    pub fn starting_now(clock: &dyn Clock, total_ms: u64) -> Self {
        let total = i64::try_from(total_ms).unwrap_or(i64::MAX);
        Self {
            deadline_ms: clock.now_ms().saturating_add(total),
        }
    }

    /// Milliseconds left (0 once the deadline passed).
    pub fn remaining_ms(&self, clock: &dyn Clock) -> u64 {
        u64::try_from(self.deadline_ms.saturating_sub(clock.now_ms())).unwrap_or(0)
    }

    /// The timeout for the next call: the remaining budget capped at `cap_ms`, or `None` when
    /// less than [`MIN_CALL_MS`] remains.
    pub fn timeout_for(&self, clock: &dyn Clock, cap_ms: u64) -> Option<u64> {
        let timeout = self.remaining_ms(clock).min(cap_ms);
        (timeout >= MIN_CALL_MS).then_some(timeout)
    }
}

/// Whether a call may be repeated without changing its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Idempotent (GET, or a write keyed by an idempotency key): retried once on a transport
    /// failure or a 502/503/504 while the budget lasts.
    Idempotent,
    /// Never retried.
    Never,
}

fn retryable(result: &Result<OutboundResponse, OutboundError>) -> bool {
    match result {
        Ok(response) => matches!(response.status, 502..=504),
        Err(err) => err.outcome_unknown(),
    }
}

/// Sends `request` with a timeout of at most `cap_ms` inside `budget`, retrying once when
/// `retry` allows and time remains. Any response (including 4xx/5xx) is returned as `Ok`.
///
/// # Errors
/// [`OutboundError::BudgetExhausted`] when no time is left to start; the client's error when
/// the last attempt failed.
pub fn call(
    client: &dyn HttpClient,
    clock: &dyn Clock,
    budget: &Budget,
    cap_ms: u64,
    retry: Retry,
    mut request: OutboundRequest,
) -> Result<OutboundResponse, OutboundError> {
    let attempts = match retry {
        Retry::Idempotent => 2,
        Retry::Never => 1,
    };
    let mut last = Err(OutboundError::BudgetExhausted);
    for _ in 0..attempts {
        let Some(timeout_ms) = budget.timeout_for(clock, cap_ms) else {
            break;
        };
        request.timeout_ms = timeout_ms;
        last = client.send(&request);
        if !retryable(&last) {
            break;
        }
    }
    last
}

/// The headers an outbound call forwards from the incoming `request`: its request id and the
/// W3C trace context, when present.
pub fn forwarded_headers(request: &HttpRequest) -> Vec<(String, String)> {
    let mut headers = vec![(
        REQUEST_ID_HEADER.to_owned(),
        request.request_id.as_str().to_owned(),
    )];
    for name in TRACE_HEADERS {
        if let Some(value) = request.header(name) {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    headers
}

/// Joins a base URL (without trailing slash, or with one) and an absolute path.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::RequestId;
    use crate::ids::FixedClock;

    /// Answers from a script and advances the clock by the time each answer "took".
    struct Scripted<'a> {
        clock: &'a FixedClock,
        answers: RefCell<Vec<(i64, Result<OutboundResponse, OutboundError>)>>,
        timeouts: RefCell<Vec<u64>>,
    }

    impl HttpClient for Scripted<'_> {
        fn send(&self, request: &OutboundRequest) -> Result<OutboundResponse, OutboundError> {
            self.timeouts.borrow_mut().push(request.timeout_ms);
            let (took, answer) = self.answers.borrow_mut().remove(0);
            self.clock.advance(took);
            answer
        }
    }

    fn status(code: u16) -> Result<OutboundResponse, OutboundError> {
        Ok(OutboundResponse {
            status: code,
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    fn scripted(
        clock: &FixedClock,
        answers: Vec<(i64, Result<OutboundResponse, OutboundError>)>,
    ) -> Scripted<'_> {
        Scripted {
            clock,
            answers: RefCell::new(answers),
            timeouts: RefCell::default(),
        }
    }

    #[test]
    fn each_call_gets_the_smaller_of_its_cap_and_the_remaining_budget() {
        let clock = FixedClock::at(1_000);
        let budget = Budget::starting_now(&clock, 300);
        let client = scripted(&clock, vec![(250, status(200)), (10, status(200))]);
        let req = || OutboundRequest::new(Method::Get, "http://x");
        call(&client, &clock, &budget, 200, Retry::Never, req()).unwrap();
        call(&client, &clock, &budget, 200, Retry::Never, req()).unwrap();
        assert_eq!(*client.timeouts.borrow(), [200, 50]);
    }

    #[test]
    fn idempotent_calls_are_retried_once_on_unavailable_answers() {
        let clock = FixedClock::at(0);
        let budget = Budget::starting_now(&clock, 300);
        let client = scripted(
            &clock,
            vec![
                (10, Err(OutboundError::Unreachable("reset".into()))),
                (10, status(201)),
            ],
        );
        let resp = call(
            &client,
            &clock,
            &budget,
            100,
            Retry::Idempotent,
            OutboundRequest::new(Method::Post, "http://x"),
        )
        .unwrap();
        assert_eq!(resp.status, 201);
        assert_eq!(client.timeouts.borrow().len(), 2);
    }

    #[test]
    fn other_calls_and_client_errors_are_never_retried() {
        let clock = FixedClock::at(0);
        let budget = Budget::starting_now(&clock, 300);
        let client = scripted(&clock, vec![(10, status(503))]);
        let resp = call(
            &client,
            &clock,
            &budget,
            100,
            Retry::Never,
            OutboundRequest::new(Method::Post, "http://x"),
        )
        .unwrap();
        assert_eq!(resp.status, 503);
        let client = scripted(&clock, vec![(10, status(409))]);
        let resp = call(
            &client,
            &clock,
            &budget,
            100,
            Retry::Idempotent,
            OutboundRequest::new(Method::Post, "http://x"),
        )
        .unwrap();
        assert_eq!(resp.status, 409);
        assert_eq!(client.timeouts.borrow().len(), 1);
    }

    #[test]
    fn no_call_starts_once_the_budget_is_spent() {
        let clock = FixedClock::at(0);
        let budget = Budget::starting_now(&clock, 100);
        let client = scripted(&clock, vec![(98, Err(OutboundError::Timeout(98)))]);
        let err = call(
            &client,
            &clock,
            &budget,
            500,
            Retry::Idempotent,
            OutboundRequest::new(Method::Get, "http://x"),
        )
        .unwrap_err();
        // The first attempt timed out; 2 ms are left, below MIN_CALL_MS: no retry.
        assert_eq!(err, OutboundError::Timeout(98));
        assert_eq!(client.timeouts.borrow().len(), 1);
        assert_eq!(budget.timeout_for(&clock, 500), None);
    }

    #[test]
    fn request_id_and_trace_context_are_forwarded() {
        let request = HttpRequest {
            method: Method::Post,
            path: "/v1/orders".into(),
            query: String::new(),
            headers: vec![
                ("traceparent".into(), "00-abc-def-01".into()),
                ("authorization".into(), "Bearer secret".into()),
            ],
            body: Vec::new(),
            request_id: RequestId::from_header_or(Some("rid-1"), String::new),
        };
        let headers = forwarded_headers(&request);
        assert_eq!(
            headers,
            [
                ("x-request-id".to_owned(), "rid-1".to_owned()),
                ("traceparent".to_owned(), "00-abc-def-01".to_owned())
            ]
        );
    }

    #[test]
    fn debug_never_shows_headers_or_body() {
        let req = OutboundRequest::new(Method::Post, "http://pay")
            .header("authorization", "Bearer sk_live_1")
            .json_body(b"{\"token\":\"tok_1\"}".to_vec());
        let shown = format!("{req:?}");
        assert!(!shown.contains("sk_live_1") && !shown.contains("tok_1"));
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join_url("http://a/", "/v1/x"), "http://a/v1/x");
        assert_eq!(join_url("http://a", "v1/x"), "http://a/v1/x");
    }
}
