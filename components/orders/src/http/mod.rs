//! The route table: every orders route, its method and its handler, in one place. Handlers
//! live one file per resource with their wire types.
//!
//! | route | auth |
//! | --- | --- |
//! | `GET/DELETE /v1/cart`, `PUT/DELETE /v1/cart/items/{product_id}` | customer |
//! | `POST /v1/orders` (`Idempotency-Key`), `GET /v1/orders` | customer |
//! | `GET /v1/orders/{id}` | its buyer or an admin |
//! | `POST /v1/orders/{id}/cancel` | its buyer (or an admin) |
//! | `GET /v1/seller/fulfilments`, `POST /v1/seller/fulfilments/{id}/ship` | seller |
//! | `GET /v1/seller/events?after=&limit=` | seller (its own feed only) |
//! | `POST /internal/v1/orders/sweep` | service credential |

mod cart;
mod fulfilments;
mod internal;
mod orders;
mod query;
mod seller_events;

use shopnow_kernel::ApiError;
use shopnow_kernel::auth::{Principal, Role};
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method, not_allowed};

use crate::wiring::App;

/// Largest JSON body an orders route accepts (a checkout of 100 items with an address fits).
pub const BODY_LIMIT: usize = 32 * 1024;

/// Dispatches `request`.
///
/// # Errors
/// 404 for an unknown path, 405 for a known path with another method, else the handler's.
pub fn route(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let segments = request.segments();
    let method = request.method;
    match segments.as_slice() {
        ["v1", "cart"] => match method {
            Method::Get => cart::get(request, app),
            Method::Delete => cart::clear(request, app),
            _ => not_allowed(&["GET", "DELETE"]),
        },
        ["v1", "cart", "items", product_id] => match method {
            Method::Put => cart::put_item(request, app, product_id),
            Method::Delete => cart::delete_item(request, app, product_id),
            _ => not_allowed(&["PUT", "DELETE"]),
        },
        ["v1", "orders"] => match method {
            Method::Post => orders::checkout(request, app),
            Method::Get => orders::list(request, app),
            _ => not_allowed(&["GET", "POST"]),
        },
        ["v1", "orders", id] => match method {
            Method::Get => orders::get(request, app, id),
            _ => not_allowed(&["GET"]),
        },
        ["v1", "orders", id, "cancel"] => match method {
            Method::Post => orders::cancel(request, app, id),
            _ => not_allowed(&["POST"]),
        },
        ["v1", "seller", "fulfilments"] => match method {
            Method::Get => fulfilments::list(request, app),
            _ => not_allowed(&["GET"]),
        },
        ["v1", "seller", "events"] => match method {
            Method::Get => seller_events::list(request, app),
            _ => not_allowed(&["GET"]),
        },
        ["v1", "seller", "fulfilments", id, "ship"] => match method {
            Method::Post => fulfilments::ship(request, app, id),
            _ => not_allowed(&["POST"]),
        },
        ["internal", "v1", "orders", "sweep"] => {
            // The credential is checked before anything else, so a caller without one learns
            // nothing about the route.
            app.require_service(request)?;
            match method {
                Method::Post => internal::sweep(request, app),
                _ => not_allowed(&["POST"]),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}

/// The caller, who must hold `role`.
///
/// # Errors
/// 401 without a valid token, 403 without the role.
fn caller(request: &HttpRequest, app: &App, role: Role) -> Result<Principal, ApiError> {
    let principal = app.authenticate(request)?;
    principal.require_role(role)?;
    Ok(principal)
}
