//! `HttpPaymentGateway`: the `PaymentGateway` port over the provider's HTTP API (the one
//! `payments-sim` implements): authorisations keyed by the order id (`Idempotency-Key` header and
//! path), so a retried call never charges twice; void and refund by order id. The secret key is
//! sent as a bearer credential and never logged; the payment token only travels in the body.

use serde::{Deserialize, Serialize};
use shopnow_kernel::Secret;
use shopnow_kernel::http::Method;
use shopnow_kernel::ids::Clock;
use shopnow_kernel::outbound::{
    Budget, HttpClient, OutboundRequest, OutboundResponse, Retry, call, join_url,
};
use shopnow_money::Money;
use shopnow_orders::domain::{OrderId, PaymentToken};
use shopnow_orders::ports::{AuthorizeOutcome, PaymentError, PaymentGateway};

/// The provider over HTTP, for one request.
pub struct HttpPaymentGateway<'a> {
    /// Outbound HTTP.
    pub http: &'a dyn HttpClient,
    /// Time, for deadlines.
    pub clock: &'a dyn Clock,
    /// Base URL of the provider.
    pub base_url: &'a str,
    /// The provider's secret API key.
    pub secret_key: &'a Secret<String>,
    /// Request id and trace headers to forward.
    pub forwarded: &'a [(String, String)],
    /// Cap per call.
    pub call_ms: u64,
}

#[derive(Serialize)]
struct AuthorizeBody<'a> {
    reference: &'a str,
    amount: Money,
    token: &'a str,
}

#[derive(Serialize)]
struct RefundBody {
    amount: Money,
}

#[derive(Deserialize)]
struct AuthorizationWire {
    id: String,
    status: String,
}

impl HttpPaymentGateway<'_> {
    fn request(&self, method: Method, path: &str, order_id: &OrderId) -> OutboundRequest {
        OutboundRequest::new(method, join_url(self.base_url, path))
            .header(
                "authorization",
                format!("Bearer {}", self.secret_key.expose()),
            )
            .header("idempotency-key", order_id.as_str())
            .headers(self.forwarded.iter().cloned())
    }

    fn send(
        &self,
        budget: &Budget,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, PaymentError> {
        // Every provider call is keyed by the order id, so all of them may be retried.
        call(
            self.http,
            self.clock,
            budget,
            self.call_ms,
            Retry::Idempotent,
            request,
        )
        .map_err(|e| PaymentError::Unavailable(e.to_string()))
    }
}

fn status_error(response: &OutboundResponse) -> PaymentError {
    if response.status >= 500 {
        PaymentError::Unavailable(format!("status {}", response.status))
    } else {
        PaymentError::Rejected(format!("status {}", response.status))
    }
}

impl PaymentGateway for HttpPaymentGateway<'_> {
    fn authorize(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        amount: Money,
        token: &PaymentToken,
    ) -> Result<AuthorizeOutcome, PaymentError> {
        let body = serde_json::to_vec(&AuthorizeBody {
            reference: order_id.as_str(),
            amount,
            token: token.expose(),
        })
        .map_err(|e| PaymentError::Rejected(format!("request serialisation: {e}")))?;
        let request = self
            .request(Method::Post, "/v1/authorizations", order_id)
            .json_body(body);
        let response = self.send(budget, request)?;
        match response.status {
            200 | 201 => {
                let wire: AuthorizationWire = serde_json::from_slice(&response.body)
                    .map_err(|e| PaymentError::Rejected(format!("authorization body: {e}")))?;
                if wire.status == "authorized" {
                    Ok(AuthorizeOutcome::Approved { reference: wire.id })
                } else {
                    // Voided before it could be approved (a late retry of a cancelled checkout).
                    Ok(AuthorizeOutcome::Declined)
                }
            }
            402 => Ok(AuthorizeOutcome::Declined),
            _ => Err(status_error(&response)),
        }
    }

    fn void(&self, budget: &Budget, order_id: &OrderId) -> Result<(), PaymentError> {
        let path = format!("/v1/authorizations/{order_id}/void");
        let response = self.send(budget, self.request(Method::Post, &path, order_id))?;
        match response.status {
            200 | 204 => Ok(()),
            _ => Err(status_error(&response)),
        }
    }

    fn refund(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        amount: Money,
    ) -> Result<(), PaymentError> {
        let body = serde_json::to_vec(&RefundBody { amount })
            .map_err(|e| PaymentError::Rejected(format!("request serialisation: {e}")))?;
        let path = format!("/v1/authorizations/{order_id}/refund");
        let response = self.send(
            budget,
            self.request(Method::Post, &path, order_id).json_body(body),
        )?;
        match response.status {
            200 | 204 => Ok(()),
            _ => Err(status_error(&response)),
        }
    }
}
