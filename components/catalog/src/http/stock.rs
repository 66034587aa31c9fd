//! `/v1/products/{id}/stock`: set the units on hand (owning seller or admin).

use serde::{Deserialize, Serialize};
use shopnow_catalog::app::set_stock::set_stock;
use shopnow_catalog::domain::{OnHand, StockLevel};
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::{ApiError, FieldErrors};

use super::BODY_LIMIT;
use crate::wiring::{App, log_kv_failures};

/// `PUT /v1/products/{id}/stock` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBody {
    on_hand: Option<i64>,
}

impl StockBody {
    fn validate(self, mut errors: FieldErrors) -> Result<OnHand, ApiError> {
        let on_hand = required(self.on_hand, "on_hand", &mut errors)
            .and_then(|n| check(&mut errors, "on_hand", OnHand::parse(n)));
        errors.finish(|| on_hand)
    }
}

/// Stock on the wire: `{on_hand, reserved, available}`.
#[derive(Debug, Serialize)]
pub struct StockView {
    on_hand: i64,
    reserved: i64,
    available: i64,
}

impl From<&StockLevel> for StockView {
    fn from(s: &StockLevel) -> Self {
        Self {
            on_hand: s.on_hand(),
            reserved: s.reserved(),
            available: s.available(),
        }
    }
}

/// `PUT /v1/products/{id}/stock`: 200 with the new stock.
pub fn put(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, errors) = parse_body::<StockBody>(request, BODY_LIMIT)?;
    let on_hand = body.validate(errors)?;
    if !shopnow_kernel::ids::is_uuid(id) {
        return Err(ApiError::NotFound);
    }
    let (stock, kv_failure) = app.run(request, |ports| {
        set_stock(ports, &principal, &id.to_ascii_lowercase(), on_hand)
    })?;
    log_kv_failures(request, kv_failure.as_slice());
    HttpResponse::json(200, &StockView::from(&stock))
}
