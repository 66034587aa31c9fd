//! `/internal/v1/reservations`: hold, commit and release stock for orders (service credential
//! required, checked by the route table). Wire types are the contract's, generated from
//! `wit/shopnow/catalog-reservations.wit`.

use shopnow_catalog::app::commit_reservation::commit_reservation;
use shopnow_catalog::app::release_reservation::release_reservation;
use shopnow_catalog::app::reserve_stock::{Made, reserve_stock};
use shopnow_catalog::app::restock_reservation::restock_reservation;
use shopnow_catalog::domain::OrderId;
use shopnow_catalog::domain::reservation::ReservationRequest;
use shopnow_catalog_contract as contract;
use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_spin::timing;

use super::INTERNAL_BODY_LIMIT;
use super::strict::parse_strict;
use crate::wiring::{App, log_kv_failures};

/// Runs a reservation route with its steps timed: one `event=reservation.<route>.steps` log
/// line per request, whatever its outcome (the catalog's share of a checkout,
/// `docs/operations.md`).
fn timed(
    request: &HttpRequest,
    event: &str,
    handle: impl FnOnce() -> Result<HttpResponse, ApiError>,
) -> Result<HttpResponse, ApiError> {
    timing::logged("catalog", event, request, handle)
}

/// `POST /internal/v1/reservations`: 201 with the reservation, or 200 with the same one when
/// the order already has it.
pub fn reserve(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    timed(request, "reservation.reserve.steps", || {
        reserve_timed(request, app)
    })
}

fn reserve_timed(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let (wire, mut errors) =
        parse_strict::<contract::ReservationRequest>(request, INTERNAL_BODY_LIMIT)?;
    let parsed = ReservationRequest::parse(&wire, &mut errors);
    let reservation_request = errors.finish(|| parsed)?;
    let (reservation, made, kv_failures) =
        app.run(request, |ports| reserve_stock(ports, &reservation_request))?;
    log_kv_failures(request, &kv_failures);
    let status = match made {
        Made::Created => 201,
        Made::Replayed => 200,
    };
    HttpResponse::json(status, &reservation.to_contract())
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).ok_or(ApiError::NotFound)
}

/// `POST /internal/v1/reservations/{order_id}/commit`: 204 (also when already committed).
pub fn commit(request: &HttpRequest, app: &App, raw: &str) -> Result<HttpResponse, ApiError> {
    let order = order_id(raw)?;
    timed(request, "reservation.commit.steps", || {
        let kv_failures = app.run(request, |ports| commit_reservation(ports, &order))?;
        log_kv_failures(request, &kv_failures);
        Ok(HttpResponse::empty(204))
    })
}

/// `DELETE /internal/v1/reservations/{order_id}`: 204 (also when already released, lapsed or
/// never made).
pub fn release(request: &HttpRequest, app: &App, raw: &str) -> Result<HttpResponse, ApiError> {
    let order = order_id(raw)?;
    timed(request, "reservation.release.steps", || {
        let kv_failures = app.run(request, |ports| release_reservation(ports, &order))?;
        log_kv_failures(request, &kv_failures);
        Ok(HttpResponse::empty(204))
    })
}

/// `POST /internal/v1/reservations/{order_id}/restock`: 204 once a committed reservation's
/// units are back on hand (also when they already were).
pub fn restock(request: &HttpRequest, app: &App, raw: &str) -> Result<HttpResponse, ApiError> {
    let order = order_id(raw)?;
    timed(request, "reservation.restock.steps", || {
        let kv_failures = app.run(request, |ports| restock_reservation(ports, &order))?;
        log_kv_failures(request, &kv_failures);
        Ok(HttpResponse::empty(204))
    })
}
