//! `/v1/orders`: checkout, the buyer's orders, one order, cancellation.

use serde::Deserialize;
use shopnow_kernel::auth::Role;
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::parse_body_keeping;
use shopnow_kernel::{ApiError, FieldErrors};
use shopnow_orders::app::CheckoutOutcome;
use shopnow_orders::app::cancel_order::cancel_order;
use shopnow_orders::app::get_order::get_order;
use shopnow_orders::app::list_orders::list_orders;
use shopnow_orders::app::place_order::{Checkout, place_order};
use shopnow_orders::domain::address::AddressParts;
use shopnow_orders::domain::cart::MAX_ITEMS;
use shopnow_orders::domain::{
    Fingerprint, IdempotencyKey, OrderId, PaymentToken, ProductId, Quantity, ShippingAddress,
};
use shopnow_spin::timing;

use super::query::{next_cursor, page};
use super::{BODY_LIMIT, caller};
use crate::wiring::App;

/// Header carrying the client's idempotency key.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// `POST /v1/orders` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutWire {
    items: Option<Vec<ItemWire>>,
    shipping_address: Option<AddressWire>,
    payment: Option<PaymentWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemWire {
    product_id: Option<String>,
    quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressWire {
    name: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentWire {
    token: Option<String>,
}

impl std::fmt::Debug for PaymentWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentWire([redacted])")
    }
}

/// The key from `Idempotency-Key` (a bare token, or an RFC 8941 string in quotes).
fn idempotency_key(request: &HttpRequest) -> Result<IdempotencyKey, ApiError> {
    let raw = request
        .header(IDEMPOTENCY_KEY)
        .ok_or(ApiError::IdempotencyKeyRequired)?
        .trim();
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    IdempotencyKey::parse(raw).map_err(|_| ApiError::IdempotencyKeyRequired)
}

fn items(wire: Vec<ItemWire>, errors: &mut FieldErrors) -> Option<Vec<(ProductId, Quantity)>> {
    if wire.is_empty() || wire.len() > MAX_ITEMS {
        errors.add(
            "items",
            "must hold 1 to 100 items (or be left out to check out the cart)",
        );
        return None;
    }
    let mut items: Vec<(ProductId, Quantity)> = Vec::with_capacity(wire.len());
    let mut ok = true;
    for (i, item) in wire.into_iter().enumerate() {
        let product_field = format!("items[{i}].product_id");
        let product = match item.product_id {
            None => {
                errors.add(product_field.as_str(), "is required");
                None
            }
            Some(raw) => check(errors, &product_field, ProductId::parse(&raw)),
        };
        if let Some(p) = &product
            && items.iter().any(|(seen, _)| seen == p)
        {
            errors.add(
                product_field.as_str(),
                "appears more than once; merge the quantities",
            );
        }
        let quantity_field = format!("items[{i}].quantity");
        let quantity = match item.quantity {
            None => {
                errors.add(quantity_field.as_str(), "is required");
                None
            }
            Some(q) => check(errors, &quantity_field, Quantity::parse(q)),
        };
        match (product, quantity) {
            (Some(p), Some(q)) => items.push((p, q)),
            _ => ok = false,
        }
    }
    ok.then_some(items)
}

fn address(wire: Option<AddressWire>, errors: &mut FieldErrors) -> Option<ShippingAddress> {
    let Some(wire) = wire else {
        errors.add("shipping_address", "is required");
        return None;
    };
    let parts = AddressParts {
        name: wire.name.as_deref(),
        line1: wire.line1.as_deref(),
        line2: wire.line2.as_deref(),
        city: wire.city.as_deref(),
        region: wire.region.as_deref(),
        postal_code: wire.postal_code.as_deref(),
        country: wire.country.as_deref(),
    };
    ShippingAddress::parse(&parts)
        .map_err(|bad| {
            for (field, message) in bad {
                errors.add(format!("shipping_address.{field}"), message);
            }
        })
        .ok()
}

fn payment_token(wire: Option<PaymentWire>, errors: &mut FieldErrors) -> Option<PaymentToken> {
    match wire.map(|p| p.token) {
        None => {
            errors.add("payment", "is required");
            None
        }
        Some(None) => {
            errors.add("payment.token", "is required");
            None
        }
        Some(Some(token)) => check(errors, "payment.token", PaymentToken::parse(&token)),
    }
}

/// `POST /v1/orders`: checkout. Needs `Idempotency-Key`; 201 with `Location`, replayed with
/// `Idempotent-Replayed: true` for a retry with the same key and body.
///
/// Every checkout, whatever its outcome, logs one `event=checkout.steps` line: the time of each
/// SQL statement, catalog and payment call and key-value operation, in order
/// (`docs/operations.md`).
pub fn checkout(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    timing::logged("orders", "checkout.steps", request, || place(request, app))
}

/// The checkout itself, timed by [`checkout`].
fn place(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Customer)?;
    let key = idempotency_key(request)?;
    let (wire, mut errors, body) = parse_body_keeping::<CheckoutWire>(request, BODY_LIMIT)?;
    let items = match wire.items {
        Some(list) => items(list, &mut errors).map(Some),
        None => Some(None),
    };
    let shipping_address = address(wire.shipping_address, &mut errors);
    let token = payment_token(wire.payment, &mut errors);
    let (items, shipping_address, payment_token) =
        errors.finish(|| Some((items?, shipping_address?, token?)))?;
    // No field errors: `body` is the object as sent, parsed once.
    let checkout = Checkout {
        buyer_id: me.user_id,
        key,
        fingerprint: Fingerprint::of("POST", "/v1/orders", &body),
        items,
        shipping_address,
        payment_token,
    };
    let placed = app.run(request, |ports| place_order(ports, checkout))?;
    let replayed = placed.replayed;
    let response = match placed.outcome {
        CheckoutOutcome::Created { order } => HttpResponse::json(201, &order)?
            .with_header("location", format!("/v1/orders/{}", order.id)),
        CheckoutOutcome::OutOfStock { items } => return Err(ApiError::OutOfStock { items }),
        CheckoutOutcome::PaymentDeclined { .. } => return Err(ApiError::PaymentDeclined),
        CheckoutOutcome::MixedCurrencies { currencies } => {
            return Err(ApiError::field(
                "items",
                format!(
                    "are priced in several currencies ({}); place one order per currency",
                    currencies.join(", ")
                ),
            ));
        }
    };
    Ok(if replayed {
        response.with_header("idempotent-replayed", "true")
    } else {
        response
    })
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|_| ApiError::NotFound)
}

/// `GET /v1/orders?limit=&cursor=`: the caller's orders, newest first.
pub fn list(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = app.authenticate(request)?;
    let query = page(&request.query, &app.settings.cursors)?;
    let page = app.run(request, |ports| {
        list_orders(ports, &me, query.after.as_ref(), query.limit)
    })?;
    let next = next_cursor(page.next.as_ref(), &app.settings.cursors)?;
    HttpResponse::json(
        200,
        &serde_json::json!({"orders": page.orders, "next_cursor": next}),
    )
}

/// `GET /v1/orders/{id}`: the buyer or an admin; anyone else 404.
pub fn get(request: &HttpRequest, app: &App, raw_id: &str) -> Result<HttpResponse, ApiError> {
    let me = app.authenticate(request)?;
    let id = order_id(raw_id)?;
    let view = app.run(request, |ports| get_order(ports, &me, &id))?;
    HttpResponse::json(200, &view)
}

/// `POST /v1/orders/{id}/cancel`: while nothing has shipped; 409 otherwise.
pub fn cancel(request: &HttpRequest, app: &App, raw_id: &str) -> Result<HttpResponse, ApiError> {
    let me = app.authenticate(request)?;
    let id = order_id(raw_id)?;
    let view = app.run(request, |ports| cancel_order(ports, &me, &id))?;
    HttpResponse::json(200, &view)
}
