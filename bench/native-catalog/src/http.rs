//! The catalog's public route table over the component's own handler files (compiled natively
//! from `components/catalog/src/http/`, so request parsing, use cases and JSON are the same code).

#[path = "../../../components/catalog/src/http/categories.rs"]
mod categories;
#[path = "../../../components/catalog/src/http/products.rs"]
mod products;
#[path = "../../../components/catalog/src/http/query.rs"]
mod query;
#[path = "../../../components/catalog/src/http/stock.rs"]
mod stock;

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method, not_allowed};

use crate::wiring::App;

/// Largest JSON body a public route accepts (as the component).
pub const BODY_LIMIT: usize = 32 * 1024;

/// Dispatches `request` as the component's public surface does.
///
/// # Errors
/// 404 for an unknown path, 405 for a known path with another method, else the handler's.
pub fn route(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
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
