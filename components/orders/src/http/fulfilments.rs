//! `/v1/seller/fulfilments`: a seller's part of orders — only its own lines and the shipping
//! address, never other sellers' lines or the buyer's payment.

use serde::Deserialize;
use shopnow_kernel::ApiError;
use shopnow_kernel::auth::Role;
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::parse_body;
use shopnow_orders::app::list_fulfilments::list_fulfilments;
use shopnow_orders::app::ship_fulfilment::ship_fulfilment;
use shopnow_orders::domain::fulfilment::TrackingNumber;

use super::query::{next_cursor, page};
use super::{BODY_LIMIT, caller};
use crate::wiring::App;

/// `POST /v1/seller/fulfilments/{id}/ship` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShipWire {
    tracking_number: Option<String>,
}

/// `GET /v1/seller/fulfilments?limit=&cursor=`.
pub fn list(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Seller)?;
    let query = page(&request.query, &app.settings.cursors)?;
    let page = app.run(request, |ports| {
        list_fulfilments(ports, &me, query.after.as_ref(), query.limit)
    })?;
    let next = next_cursor(page.next.as_ref(), &app.settings.cursors)?;
    HttpResponse::json(
        200,
        &serde_json::json!({"fulfilments": page.fulfilments, "next_cursor": next}),
    )
}

/// `POST /v1/seller/fulfilments/{id}/ship` `{tracking_number?}` (an empty body is allowed).
pub fn ship(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let me = caller(request, app, Role::Seller)?;
    let (wire, mut errors) = if request.body.is_empty() {
        (ShipWire::default(), shopnow_kernel::FieldErrors::new())
    } else {
        parse_body::<ShipWire>(request, BODY_LIMIT)?
    };
    let tracking = match wire.tracking_number {
        Some(raw) => check(&mut errors, "tracking_number", TrackingNumber::parse(&raw)).map(Some),
        None => Some(None),
    };
    let tracking = errors.finish(|| tracking)?;
    let view = app.run(request, |ports| ship_fulfilment(ports, &me, id, tracking))?;
    HttpResponse::json(200, &view)
}
