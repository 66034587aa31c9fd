//! The page map: one route table, one file per area (shop, account, cart and checkout, orders,
//! seller workspace, admin). Who may open each page is stated next to its route.

pub mod account;
pub mod admin;
pub mod cart;
pub mod orders;
pub mod seller;
pub mod shop;

use shopnow_kernel::http::Method;

use crate::app::{Ctx, PageError, PageResult};

/// Whether `id` looks like one of our ids (UUID text) before it goes into an API path; anything
/// else is a 404 without a call.
pub fn checked_id(id: &str) -> Result<&str, PageError> {
    let ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if ok { Ok(id) } else { Err(PageError::NotFound) }
}

/// Dispatches the request to its page.
///
/// # Errors
/// Whatever the page fails with; [`PageError::NotFound`] for an unknown path and
/// [`PageError::MethodNotAllowed`] for a known path with another method.
pub fn route(ctx: &mut Ctx<'_>) -> PageResult {
    let path = ctx.request.path.clone();
    let trimmed = path.trim_start_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    let method = ctx.request.method;
    let get = method == Method::Get || method == Method::Head;
    let post = method == Method::Post;
    match segments.as_slice() {
        // Anyone.
        [""] if get => shop::home(ctx),
        ["search"] if get => shop::search(ctx),
        ["products", id] if get => shop::product(ctx, checked_id(id)?),
        ["sign-up"] if get => account::sign_up_form(ctx),
        ["sign-up"] if post => account::sign_up(ctx),
        ["sign-in"] if get => account::sign_in_form(ctx),
        ["sign-in"] if post => account::sign_in(ctx),
        ["sign-out"] if post => account::sign_out(ctx),
        // Signed-in users (any role).
        ["account"] if get => account::show(ctx),
        ["account"] if post => account::update(ctx),
        ["account", "password"] if post => account::change_password(ctx),
        ["account", "delete"] if post => account::delete(ctx),
        ["cart"] if get => cart::show(ctx),
        ["cart", "items"] if post => cart::add(ctx),
        ["cart", "items", id] if post => cart::set(ctx, checked_id(id)?),
        ["checkout"] if get => cart::checkout_form(ctx),
        ["checkout"] if post => cart::checkout(ctx),
        ["orders"] if get => orders::list(ctx),
        ["orders", id] if get => orders::show(ctx, checked_id(id)?),
        ["orders", id, "cancel"] if post => orders::cancel(ctx, checked_id(id)?),
        // Sellers and admins.
        ["seller", "products"] if get => seller::products(ctx),
        ["seller", "products"] if post => seller::create(ctx),
        ["seller", "products", "new"] if get => seller::new_form(ctx),
        ["seller", "products", id, "edit"] if get => seller::edit_form(ctx, checked_id(id)?),
        ["seller", "products", id] if post => seller::update(ctx, checked_id(id)?),
        ["seller", "products", id, "stock"] if post => seller::set_stock(ctx, checked_id(id)?),
        ["seller", "products", id, "archive"] if post => seller::archive(ctx, checked_id(id)?),
        ["seller", "fulfilments"] if get => seller::fulfilments(ctx),
        ["seller", "fulfilments", id, "ship"] if post => seller::ship(ctx, checked_id(id)?),
        // Admins.
        ["admin", "categories"] if get => admin::categories(ctx),
        ["admin", "categories"] if post => admin::create_category(ctx),
        // Known pages with another method.
        [""]
        | ["search"]
        | ["products", _]
        | ["cart"]
        | ["orders"]
        | ["orders", _]
        | ["seller", "fulfilments"]
        | ["seller", "products", "new"]
        | ["seller", "products", _, "edit"] => Err(PageError::MethodNotAllowed("GET")),
        ["sign-out"]
        | ["account", "password" | "delete"]
        | ["cart", "items", ..]
        | ["orders", _, "cancel"]
        | ["seller", "products", _]
        | ["seller", "products", _, _]
        | ["seller", "fulfilments", _, "ship"] => Err(PageError::MethodNotAllowed("POST")),
        ["sign-up" | "sign-in" | "account" | "checkout"]
        | ["seller", "products"]
        | ["admin", "categories"] => Err(PageError::MethodNotAllowed("GET, POST")),
        _ => Err(PageError::NotFound),
    }
}
