//! The storefront's client of identity, catalog and orders: the same public `/v1` API any client
//! uses (never their databases or private routes), over the kernel's `HttpClient` port with a
//! deadline per call. Every call forwards the page request's id, so a page's failure and the
//! service logs share one id. Pure: the wasi:http adapter is in the component.

use serde::de::DeserializeOwned;
use serde_json::Value;
use shopnow_kernel::http::{HttpRequest, Method};
use shopnow_kernel::ids::Clock;
use shopnow_kernel::outbound::{
    Budget, HttpClient, OutboundRequest, OutboundResponse, Retry, call, forwarded_headers, join_url,
};

/// A service the storefront calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Accounts and sign-in.
    Identity,
    /// Products and categories.
    Catalog,
    /// Cart, checkout, orders, fulfilments.
    Orders,
}

/// Base URLs of the services (service chaining locally: `http://identity.spin.internal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrls {
    /// identity.
    pub identity: String,
    /// catalog.
    pub catalog: String,
    /// orders.
    pub orders: String,
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The `ETag`, if any.
    pub etag: Option<String>,
    /// The JSON body (`Null` when empty).
    pub body: Value,
}

impl Reply {
    /// The body as `T`.
    ///
    /// # Errors
    /// [`Failure::Unavailable`] when the body does not have the documented shape (an upstream
    /// bug, shown as the retry page).
    pub fn parse<T: DeserializeOwned>(self, request_id: &str) -> Result<T, Failure> {
        serde_json::from_value(self.body).map_err(|_| Failure::Unavailable {
            request_id: request_id.to_owned(),
        })
    }
}

/// One field error of a 422 problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The JSON path of the field (`shipping_address.city`).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

/// A 4xx problem+json answer, kept to show in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The status.
    pub status: u16,
    /// The last segment of the problem `type` (`validation`, `out-of-stock`, ...).
    pub slug: String,
    /// The problem's title.
    pub title: String,
    /// The problem's detail.
    pub detail: String,
    /// Field errors (422).
    pub errors: Vec<FieldProblem>,
    /// The request id the service answered with.
    pub request_id: String,
}

impl Problem {
    /// The message for `field`, if the problem names it.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// Why a call gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A 4xx problem.
    Problem(Box<Problem>),
    /// A 5xx, a timeout or an unreachable service: the page offers a retry.
    Unavailable {
        /// The id to quote.
        request_id: String,
    },
}

/// A prepared call.
#[derive(Debug, Clone)]
pub struct Call {
    service: Service,
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Value>,
    headers: Vec<(String, String)>,
    retry: Retry,
    timeout_ms: Option<u64>,
}

impl Call {
    /// `GET path` (retried once on a transport failure).
    pub fn get(service: Service, path: impl Into<String>) -> Self {
        Self {
            service,
            method: Method::Get,
            path: path.into(),
            token: None,
            body: None,
            headers: Vec::new(),
            retry: Retry::Idempotent,
            timeout_ms: None,
        }
    }

    /// `method path` with a JSON body (never retried unless [`Call::idempotent`]).
    pub fn send(
        service: Service,
        method: Method,
        path: impl Into<String>,
        body: Option<Value>,
    ) -> Self {
        Self {
            service,
            method,
            path: path.into(),
            token: None,
            body,
            headers: Vec::new(),
            retry: Retry::Never,
            timeout_ms: None,
        }
    }

    /// With the user's access token.
    #[must_use]
    pub fn bearer(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// With one more header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// With its own deadline instead of the page's per-call one (a checkout runs the whole saga
    /// inside its call).
    #[must_use]
    pub fn timeout(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// Marks a write safe to repeat (it carries an `Idempotency-Key`).
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.retry = Retry::Idempotent;
        self
    }
}

/// The services as one page request sees them.
pub struct Api<'a> {
    client: &'a dyn HttpClient,
    clock: &'a dyn Clock,
    urls: &'a ServiceUrls,
    forwarded: Vec<(String, String)>,
    request_id: String,
    budget: Budget,
    call_timeout_ms: u64,
}

impl<'a> Api<'a> {
    /// Calls made for `request`, each bounded by `call_timeout_ms` and all together by
    /// `budget_ms`.
    pub fn new(
        client: &'a dyn HttpClient,
        clock: &'a dyn Clock,
        urls: &'a ServiceUrls,
        request: &HttpRequest,
        call_timeout_ms: u64,
        budget_ms: u64,
    ) -> Self {
        let mut forwarded = forwarded_headers(request);
        // As a proxy does: the incoming X-Forwarded-For with the address this hop saw appended,
        // so identity's per-client sign-in limits count visitors, not the storefront (it takes
        // a chained request's sender as one more trusted proxy: `HttpRequest::client_address`).
        let peer = request.header("spin-client-addr").and_then(|peer| {
            peer.parse::<std::net::SocketAddr>()
                .map(|a| a.ip().to_string())
                .ok()
        });
        let chain = [request.header("x-forwarded-for").map(str::to_owned), peer]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        if !chain.is_empty() {
            forwarded.push(("x-forwarded-for".into(), chain));
        }
        Self {
            client,
            clock,
            urls,
            forwarded,
            request_id: request.request_id.as_str().to_owned(),
            budget: Budget::starting_now(clock, budget_ms),
            call_timeout_ms,
        }
    }

    /// The page request's id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    fn outbound(&self, call: &Call) -> OutboundRequest {
        let base = match call.service {
            Service::Identity => &self.urls.identity,
            Service::Catalog => &self.urls.catalog,
            Service::Orders => &self.urls.orders,
        };
        let mut request = OutboundRequest::new(call.method, join_url(base, &call.path))
            .headers(self.forwarded.iter().cloned())
            .header("accept", "application/json");
        if let Some(token) = &call.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in &call.headers {
            request = request.header(name, value.clone());
        }
        if let Some(body) = &call.body {
            request = request.json_body(serde_json::to_vec(body).unwrap_or_default());
        }
        request
    }

    fn interpret(
        &self,
        outcome: Result<OutboundResponse, shopnow_kernel::outbound::OutboundError>,
    ) -> Result<Reply, Failure> {
        let unavailable = || Failure::Unavailable {
            request_id: self.request_id.clone(),
        };
        let response = outcome.map_err(|_| unavailable())?;
        let body: Value = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).map_err(|_| unavailable())?
        };
        match response.status {
            200..=299 => Ok(Reply {
                status: response.status,
                etag: response.header("etag").map(str::to_owned),
                body,
            }),
            400..=499 => Err(Failure::Problem(Box::new(problem_from(
                response.status,
                &body,
                &self.request_id,
            )))),
            _ => Err(unavailable()),
        }
    }

    /// Makes `call`.
    ///
    /// # Errors
    /// [`Failure`] for a 4xx (the problem), a 5xx, a timeout or an unreadable answer.
    pub fn run(&self, spec: &Call) -> Result<Reply, Failure> {
        let outcome = call(
            self.client,
            self.clock,
            &self.budget,
            spec.timeout_ms.unwrap_or(self.call_timeout_ms),
            spec.retry,
            self.outbound(spec),
        );
        self.interpret(outcome)
    }

    /// Makes `calls` concurrently (reads a page needs together), each once (no retry: a retry
    /// of one would wait for the others); results in order.
    pub fn run_all(&self, calls: &[Call]) -> Vec<Result<Reply, Failure>> {
        let timeout = self
            .budget
            .timeout_for(self.clock, self.call_timeout_ms)
            .unwrap_or(0);
        let requests: Vec<OutboundRequest> = calls
            .iter()
            .map(|c| {
                let mut request = self.outbound(c);
                request.timeout_ms = timeout;
                request
            })
            .collect();
        self.client
            .send_all(&requests)
            .into_iter()
            .map(|outcome| self.interpret(outcome))
            .collect()
    }
}

fn problem_from(status: u16, body: &Value, fallback_id: &str) -> Problem {
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let slug = text("type").rsplit('/').next().unwrap_or("").to_owned();
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    Some(FieldProblem {
                        field: e.get("field")?.as_str()?.to_owned(),
                        message: e.get("message")?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let request_id = Some(text("request_id"))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| fallback_id.to_owned());
    Problem {
        status,
        slug,
        title: text("title"),
        detail: text("detail"),
        errors,
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_keep_their_slug_fields_and_request_id() {
        let body = serde_json::json!({
            "type": "https://shopnow.dev/problems/validation", "title": "Validation failed",
            "status": 422, "detail": "2 fields", "instance": "/v1/users", "request_id": "r-1",
            "errors": [{"field": "email", "message": "not an address"}, {"bad": 1}]
        });
        let problem = problem_from(422, &body, "page-id");
        assert_eq!(problem.slug, "validation");
        assert_eq!(problem.field("email"), Some("not an address"));
        assert_eq!(problem.errors.len(), 1);
        assert_eq!(problem.request_id, "r-1");
        assert_eq!(
            problem_from(404, &Value::Null, "page-id").request_id,
            "page-id"
        );
    }
}
