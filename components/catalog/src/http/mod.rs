//! The route tables: every catalog route, its method and its handler, in one place. The public
//! table serves shoppers, sellers and admins; the internal table serves other services and is
//! mounted only on the private `catalog-internal` component. Handlers live one file per
//! resource with their wire types.

mod categories;
mod products;
mod query;
mod reservations;
mod stock;
mod strict;

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method, not_allowed};

use crate::settings::Surface;
use crate::wiring::App;

/// Largest JSON body a public route accepts (a product with its attributes fits easily).
pub const BODY_LIMIT: usize = 32 * 1024;
/// Largest JSON body an internal route accepts (100 reservation items).
pub const INTERNAL_BODY_LIMIT: usize = 32 * 1024;

/// Dispatches `request` on the surface this component serves.
///
/// # Errors
/// 404 for an unknown path, 405 for a known path with another method, else the handler's.
pub fn route(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    match app.settings.surface {
        Surface::Public => public(request, app),
        Surface::Internal => internal(request, app),
    }
}

fn public(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let segments = request.segments();
    let method = request.method;
    match segments.as_slice() {
        ["v1", "categories"] => match method {
            Method::Get => categories::list(request, app),
            Method::Post => categories::create(request, app),
            _ => not_allowed(&["GET", "POST"]),
        },
        ["v1", "products"] => match method {
            Method::Get => products::list(request, app),
            Method::Post => products::create(request, app),
            _ => not_allowed(&["GET", "POST"]),
        },
        ["v1", "products", id] => match method {
            Method::Get => products::get(request, app, id),
            Method::Patch => products::update(request, app, id),
            Method::Delete => products::archive(request, app, id),
            _ => not_allowed(&["GET", "PATCH", "DELETE"]),
        },
        ["v1", "products", id, "stock"] => match method {
            Method::Put => stock::put(request, app, id),
            _ => not_allowed(&["PUT"]),
        },
        _ => Err(ApiError::NotFound),
    }
}

fn internal(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    // Every internal route needs the service credential, checked before anything else so an
    // unauthenticated caller learns nothing about the routes.
    app.settings.service_credentials.require(request)?;
    let segments = request.segments();
    let method = request.method;
    match segments.as_slice() {
        ["internal", "v1", "reservations"] => match method {
            Method::Post => reservations::reserve(request, app),
            _ => not_allowed(&["POST"]),
        },
        ["internal", "v1", "reservations", order_id] => match method {
            Method::Delete => reservations::release(request, app, order_id),
            _ => not_allowed(&["DELETE"]),
        },
        ["internal", "v1", "reservations", order_id, "commit"] => match method {
            Method::Post => reservations::commit(request, app, order_id),
            _ => not_allowed(&["POST"]),
        },
        ["internal", "v1", "reservations", order_id, "restock"] => match method {
            Method::Post => reservations::restock(request, app, order_id),
            _ => not_allowed(&["POST"]),
        },
        _ => Err(ApiError::NotFound),
    }
}
