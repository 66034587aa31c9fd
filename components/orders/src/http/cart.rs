//! `/v1/cart`: the signed-in customer's cart.

use serde::Deserialize;
use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Role;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_orders::app::clear_cart::clear_cart;
use shopnow_orders::app::remove_cart_item::remove_cart_item;
use shopnow_orders::app::set_cart_item::set_cart_item;
use shopnow_orders::app::view_cart::view_cart;
use shopnow_orders::domain::ProductId;

use super::{BODY_LIMIT, caller};
use crate::wiring::App;

/// `PUT /v1/cart/items/{product_id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutItemWire {
    quantity: Option<i64>,
}

fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    // A malformed id names no product: the item is as absent as an unknown one.
    ProductId::parse(raw).map_err(|_| ApiError::NotFound)
}

/// `GET /v1/cart`.
pub fn get(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Customer)?;
    let view = app.run(request, |ports| view_cart(ports, &me.user_id))?;
    HttpResponse::json(200, &view)
}

/// `PUT /v1/cart/items/{product_id}` `{quantity}`: 1..=99 sets, 0 removes.
pub fn put_item(request: &HttpRequest, app: &App, raw_id: &str) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Customer)?;
    let product = product_id(raw_id)?;
    let (wire, mut errors) = parse_body::<PutItemWire>(request, BODY_LIMIT)?;
    let quantity = required(wire.quantity, "quantity", &mut errors);
    if let Some(q) = quantity
        && !(0..=99).contains(&q)
    {
        errors.add("quantity", "must be an integer from 0 to 99");
    }
    let quantity = errors.finish(|| quantity)?;
    let view = app.run(request, |ports| {
        set_cart_item(ports, &me.user_id, product, quantity)
    })?;
    HttpResponse::json(200, &view)
}

/// `DELETE /v1/cart/items/{product_id}`.
pub fn delete_item(
    request: &HttpRequest,
    app: &App,
    raw_id: &str,
) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Customer)?;
    let product = product_id(raw_id)?;
    let view = app.run(request, |ports| {
        remove_cart_item(ports, &me.user_id, &product)
    })?;
    HttpResponse::json(200, &view)
}

/// `DELETE /v1/cart`: 204.
pub fn clear(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Customer)?;
    app.run(request, |ports| clear_cart(ports, &me.user_id))?;
    Ok(HttpResponse::empty(204))
}
