//! `/internal/v1/orders/...`: operations for the platform, behind the service credential.

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_orders::app::sweep::sweep as run_sweep;

use crate::wiring::App;

/// `POST /internal/v1/orders/sweep`: resolves abandoned checkouts, retries missed compensations
/// and purges expired idempotency keys; answers what it did.
pub fn sweep(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let report = app.run(request, run_sweep)?;
    HttpResponse::json(200, &report)
}
