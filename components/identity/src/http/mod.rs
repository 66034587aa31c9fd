//! The route table: every identity route, its method and its handler, in one place.
//! Handlers live one file per resource with their wire types.

mod auth;
mod jwks;
mod me;
mod users;

use shopnow_kernel::ApiError;
use shopnow_kernel::http::{HttpRequest, HttpResponse, Method, not_allowed};

use crate::wiring::App;

/// Largest JSON body any identity route accepts.
pub const BODY_LIMIT: usize = 8 * 1024;

/// Dispatches `request`.
///
/// # Errors
/// 404 for an unknown path, 405 for a known path with another method, else the handler's.
pub fn route(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let segments = request.segments();
    let method = request.method;
    match segments.as_slice() {
        ["v1", "users"] => match method {
            Method::Post => users::register(request, app),
            _ => not_allowed(&["POST"]),
        },
        ["v1", "users", "me"] => match method {
            Method::Get => me::get(request, app),
            Method::Patch => me::update(request, app),
            Method::Delete => me::erase(request, app),
            _ => not_allowed(&["GET", "PATCH", "DELETE"]),
        },
        ["v1", "users", "me", "password"] => match method {
            Method::Post => me::change_password(request, app),
            _ => not_allowed(&["POST"]),
        },
        ["v1", "users", id] => match method {
            Method::Get => users::get(request, app, id),
            _ => not_allowed(&["GET"]),
        },
        ["v1", "auth", "token"] => match method {
            Method::Post => auth::token(request, app),
            _ => not_allowed(&["POST"]),
        },
        ["v1", "auth", "refresh"] => match method {
            Method::Post => auth::refresh(request, app),
            _ => not_allowed(&["POST"]),
        },
        ["v1", "auth", "logout"] => match method {
            Method::Post => auth::logout(request, app),
            _ => not_allowed(&["POST"]),
        },
        [".well-known", "jwks.json"] => match method {
            Method::Get => jwks::get(app),
            _ => not_allowed(&["GET"]),
        },
        _ => Err(ApiError::NotFound),
    }
}
