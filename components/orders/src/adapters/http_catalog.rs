//! `HttpCatalogClient`: the `CatalogClient` port over HTTP. Product lookups use the catalog's
//! public API (`GET /v1/products/{id}`, all of a cart's products concurrently); reservations use
//! its internal API with the service credential, and their bodies are the contract's types
//! generated from `wit/shopnow/catalog-reservations.wit`. Locally both are reached by Spin
//! service chaining (`http://catalog.spin.internal`, `http://catalog-internal.spin.internal`);
//! in Kubernetes the base URLs come from variables. Every call has a deadline inside the
//! caller's budget and forwards the request id; reservation calls are idempotent on the order
//! id, so they are retried once when the budget allows.

use serde::Deserialize;
use shopnow_catalog_contract as contract;
use shopnow_kernel::http::Method;
use shopnow_kernel::ids::Clock;
use shopnow_kernel::outbound::{
    Budget, HttpClient, OutboundError, OutboundRequest, OutboundResponse, Retry, call, join_url,
};
use shopnow_kernel::{Secret, StockShortage};
use shopnow_money::{Currency, Money};
use shopnow_orders::domain::{OrderId, ProductId, Quantity};
use shopnow_orders::ports::{
    CatalogClient, CatalogError, ProductInfo, ProductLookup, ReservedLine,
};

/// The catalog over HTTP, for one request.
pub struct HttpCatalogClient<'a> {
    /// Outbound HTTP.
    pub http: &'a dyn HttpClient,
    /// Time, for deadlines.
    pub clock: &'a dyn Clock,
    /// Base URL of the public API.
    pub public_url: &'a str,
    /// Base URL of the internal API.
    pub internal_url: &'a str,
    /// The service credential.
    pub service_token: &'a Secret<String>,
    /// Request id and trace headers to forward.
    pub forwarded: &'a [(String, String)],
    /// Cap per call.
    pub call_ms: u64,
}

/// The parts of the catalog's public product representation the cart shows (unknown members
/// are ignored: the catalog may add fields).
#[derive(Deserialize)]
struct ProductWire {
    id: String,
    title: String,
    seller_id: String,
    price: Money,
    status: String,
    stock: StockWire,
}

#[derive(Deserialize)]
struct StockWire {
    available: i64,
}

/// `GET /v1/products?ids=…`: the products found, in any order; absent ids are unknown or not
/// visible to the caller.
#[derive(Deserialize)]
struct ProductBatchWire {
    items: Vec<ProductWire>,
}

/// The `items` of a 409 `out-of-stock` problem.
#[derive(Deserialize)]
struct OutOfStockProblem {
    #[serde(rename = "type")]
    type_uri: String,
    #[serde(default)]
    items: Vec<StockShortage>,
}

fn unavailable(err: &OutboundError) -> CatalogError {
    CatalogError::Unavailable(err.to_string())
}

fn status_error(response: &OutboundResponse) -> CatalogError {
    if response.status >= 500 {
        CatalogError::Unavailable(format!("status {}", response.status))
    } else {
        CatalogError::Rejected(format!("status {}", response.status))
    }
}

fn reserved_line(line: contract::ReservationLine) -> Result<ReservedLine, CatalogError> {
    let bad = |what: &str| CatalogError::Rejected(format!("reservation line: bad {what}"));
    let currency = Currency::parse(&line.unit_price.currency).map_err(|_| bad("currency"))?;
    Ok(ReservedLine {
        product_id: ProductId::parse(&line.product_id).map_err(|_| bad("product id"))?,
        seller_id: line.seller_id,
        title: line.title,
        unit_price: Money::parse(line.unit_price.amount, currency).map_err(|_| bad("price"))?,
        quantity: Quantity::parse(i64::from(line.quantity)).map_err(|_| bad("quantity"))?,
    })
}

impl HttpCatalogClient<'_> {
    fn internal(&self, method: Method, path: &str) -> OutboundRequest {
        OutboundRequest::new(method, join_url(self.internal_url, path))
            .header(
                "authorization",
                format!("Service {}", self.service_token.expose()),
            )
            .headers(self.forwarded.iter().cloned())
    }

    fn send(
        &self,
        budget: &Budget,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, CatalogError> {
        call(
            self.http,
            self.clock,
            budget,
            self.call_ms,
            Retry::Idempotent,
            request,
        )
        .map_err(|e| unavailable(&e))
    }
}

impl CatalogClient for HttpCatalogClient<'_> {
    fn lookup(&self, budget: &Budget, ids: &[ProductId]) -> Vec<ProductLookup> {
        // One batch read for the whole cart (at most 100 distinct products), not one call per
        // product: `GET /v1/products?ids=…`, as the buyer (their token is forwarded, so a
        // seller sees its own archived products as the single read would).
        if ids.is_empty() {
            return Vec::new();
        }
        let Some(timeout_ms) = budget.timeout_for(self.clock, self.call_ms) else {
            return ids.iter().map(|_| ProductLookup::Unknown).collect();
        };
        let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let mut request = OutboundRequest::new(
            Method::Get,
            join_url(
                self.public_url,
                &format!("/v1/products?ids={}", list.join(",")),
            ),
        )
        .headers(self.forwarded.iter().cloned());
        request.timeout_ms = timeout_ms;
        let found = match self.http.send(&request) {
            Ok(r) if r.status == 200 => match serde_json::from_slice::<ProductBatchWire>(&r.body) {
                Ok(batch) => batch.items,
                Err(_) => return ids.iter().map(|_| ProductLookup::Unknown).collect(),
            },
            _ => return ids.iter().map(|_| ProductLookup::Unknown).collect(),
        };
        list.iter()
            .map(|id| match found.iter().find(|p| &p.id == id) {
                Some(p) => ProductLookup::Found(ProductInfo {
                    available: p.status == "active" && p.stock.available > 0,
                    title: p.title.clone(),
                    seller_id: p.seller_id.clone(),
                    price: p.price,
                }),
                None => ProductLookup::Missing,
            })
            .collect()
    }

    fn reserve(
        &self,
        budget: &Budget,
        order_id: &OrderId,
        items: &[(ProductId, Quantity)],
    ) -> Result<Vec<ReservedLine>, CatalogError> {
        let body = contract::ReservationRequest {
            order_id: order_id.to_string(),
            items: items
                .iter()
                .map(|(p, q)| contract::ReservationItem {
                    product_id: p.to_string(),
                    quantity: q.get(),
                })
                .collect(),
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| CatalogError::Rejected(format!("request serialisation: {e}")))?;
        let request = self
            .internal(Method::Post, contract::RESERVATIONS_PATH)
            .json_body(body);
        let response = self.send(budget, request)?;
        match response.status {
            200 | 201 => {
                let reservation: contract::Reservation = serde_json::from_slice(&response.body)
                    .map_err(|e| CatalogError::Rejected(format!("reservation body: {e}")))?;
                reservation.lines.into_iter().map(reserved_line).collect()
            }
            409 => match serde_json::from_slice::<OutOfStockProblem>(&response.body) {
                Ok(p) if p.type_uri.ends_with("/out-of-stock") => {
                    Err(CatalogError::OutOfStock(p.items))
                }
                _ => Err(CatalogError::Rejected("reservation conflict".into())),
            },
            _ => Err(status_error(&response)),
        }
    }

    fn commit(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        let request = self.internal(Method::Post, &contract::commit_path(order_id.as_str()));
        let response = self.send(budget, request)?;
        match response.status {
            200 | 204 => Ok(()),
            404 | 409 => Err(CatalogError::ReservationGone(format!(
                "status {}",
                response.status
            ))),
            _ => Err(status_error(&response)),
        }
    }

    fn release(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        let request = self.internal(Method::Delete, &contract::release_path(order_id.as_str()));
        let response = self.send(budget, request)?;
        match response.status {
            200 | 204 | 404 => Ok(()),
            409 => Err(CatalogError::Committed),
            _ => Err(status_error(&response)),
        }
    }

    fn restock(&self, budget: &Budget, order_id: &OrderId) -> Result<(), CatalogError> {
        let path = format!("{}/restock", contract::release_path(order_id.as_str()));
        let response = self.send(budget, self.internal(Method::Post, &path))?;
        match response.status {
            200 | 204 => Ok(()),
            404 | 405 => Err(CatalogError::Rejected(
                "the catalog offers no restock for committed reservations".into(),
            )),
            _ => Err(status_error(&response)),
        }
    }
}
