//! Cart and checkout (signed in): change quantities, totals per currency, unavailable items
//! marked, and a checkout form whose hidden Idempotency-Key makes a double submit one order.

use maud::{Markup, html};
use serde_json::{Value, json};
use shopnow_kernel::http::Method;

use crate::api::{Call, Failure, Problem, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::Form;
use crate::pages::shop::product_page;
use crate::session;
use crate::views::{csrf_field, problem_box, text_input};
use crate::wire::{Cart, Order, Product};

/// Most units of one product in a cart (the API's limit).
const MAX_QUANTITY: i64 = 99;

fn load_cart(ctx: &Ctx<'_>) -> Result<Cart, PageError> {
    let token = ctx.token()?;
    let id = ctx.api.request_id().to_owned();
    Ok(ctx
        .api
        .run(&Call::get(Service::Orders, "/v1/cart").bearer(&token))?
        .parse(&id)?)
}

fn cart_view(ctx: &Ctx<'_>, cart: &Cart, problem: Option<&Problem>) -> Markup {
    let token = ctx.csrf_token();
    html! {
        h1 { "Your cart" }
        @if let Some(p) = problem { (problem_box(p)) }
        @if cart.items.is_empty() {
            p class="empty" { "Your cart is empty. " a href="/search" { "Browse products" } }
        } @else {
            table class="cart" {
                caption class="visually-hidden" { "Items in your cart" }
                thead { tr { th scope="col" { "Product" } th scope="col" { "Price" } th scope="col" { "Quantity" } th scope="col" { "Total" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for item in &cart.items {
                        @let qty_id = format!("qty-{}", item.product_id);
                        tr class=[(item.availability != "available").then_some("unavailable")] {
                            td {
                                a href=(format!("/products/{}", item.product_id)) { (item.title.as_deref().unwrap_or("Product")) }
                                @if item.availability == "unavailable" { " " span class="badge" { "Unavailable" } }
                                @if item.availability == "unknown" { " " span class="badge" { "Could not check availability" } }
                            }
                            td { (item.unit_price.as_ref().map(crate::wire::Money::text).unwrap_or_default()) }
                            td {
                                form class="inline" method="post" action=(format!("/cart/items/{}", item.product_id)) {
                                    (csrf_field(&token))
                                    label for=(qty_id) class="visually-hidden" { "Quantity of " (item.title.as_deref().unwrap_or("product")) }
                                    input id=(qty_id) name="quantity" type="number" min="0" max=(MAX_QUANTITY) value=(item.quantity);
                                    button type="submit" { "Update" }
                                }
                            }
                            td { (item.line_total.as_ref().map(crate::wire::Money::text).unwrap_or_default()) }
                            td {
                                form class="inline" method="post" action=(format!("/cart/items/{}", item.product_id)) {
                                    (csrf_field(&token))
                                    input type="hidden" name="quantity" value="0";
                                    button type="submit" class="link" { "Remove" span class="visually-hidden" { " " (item.title.as_deref().unwrap_or("product")) } }
                                }
                            }
                        }
                    }
                }
            }
            div class="totals" {
                h2 { "Total" }
                ul { @for total in &cart.totals { li class="total" { (total.text()) } } }
                @if cart.all_available {
                    a class="button primary" href="/checkout" { "Check out" }
                } @else {
                    p { "Remove the unavailable items to check out." }
                }
            }
        }
    }
}

/// `GET /cart`.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor; [`PageError::Unavailable`] when orders fails.
pub fn show(ctx: &mut Ctx<'_>) -> PageResult {
    let cart = load_cart(ctx)?;
    Ok(ctx.render(200, "Your cart", cart_view(ctx, &cart, None)))
}

fn quantity(form: &Form) -> Option<i64> {
    form.text("quantity")
        .parse::<i64>()
        .ok()
        .filter(|q| (0..=MAX_QUANTITY).contains(q))
}

/// `POST /cart/items` (`product_id`, `quantity`): adds to what the cart already holds.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor (back to the product afterwards), [`PageError::Csrf`].
pub fn add(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    let product_id = crate::pages::checked_id(form.text("product_id"))?.to_owned();
    let id = ctx.api.request_id().to_owned();
    let Some(adding) = quantity(&form).filter(|q| *q > 0) else {
        let product: Product = ctx
            .api
            .run(&Call::get(
                Service::Catalog,
                format!("/v1/products/{product_id}"),
            ))?
            .parse(&id)?;
        return Ok(product_page(
            ctx,
            &product,
            422,
            Some("enter a quantity from 1 to 99"),
        ));
    };
    let cart = load_cart(ctx)?;
    let held = cart
        .items
        .iter()
        .find(|i| i.product_id == product_id)
        .map_or(0, |i| i.quantity);
    let total = (held + adding).min(MAX_QUANTITY);
    set_quantity(ctx, &token, &product_id, total)
}

fn set_quantity(ctx: &mut Ctx<'_>, token: &str, product_id: &str, quantity: i64) -> PageResult {
    let outcome = ctx.api.run(
        &Call::send(
            Service::Orders,
            Method::Put,
            format!("/v1/cart/items/{product_id}"),
            Some(json!({ "quantity": quantity })),
        )
        .bearer(token),
    );
    match outcome {
        Ok(_) => Ok(ctx.redirect("/cart")),
        Err(Failure::Problem(problem)) if problem.status == 422 || problem.status == 409 => {
            let cart = load_cart(ctx)?;
            let status = problem.status;
            Ok(ctx.render(status, "Your cart", cart_view(ctx, &cart, Some(&*problem))))
        }
        Err(failure) => Err(failure.into()),
    }
}

/// `POST /cart/items/{product_id}` (`quantity`; 0 removes).
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`], [`PageError::BadRequest`] for a
/// quantity outside 0..=99.
pub fn set(ctx: &mut Ctx<'_>, product_id: &str) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    let Some(quantity) = quantity(&form) else {
        return Err(PageError::BadRequest(
            "the quantity must be a number from 0 to 99",
        ));
    };
    set_quantity(ctx, &token, product_id, quantity)
}

/// Address fields: form name, API field, label, autocomplete, required.
const ADDRESS: [(&str, &str, &str); 7] = [
    ("name", "Full name", "name"),
    ("line1", "Address", "address-line1"),
    ("line2", "Address line 2 (optional)", "address-line2"),
    ("city", "City", "address-level2"),
    ("region", "Region (optional)", "address-level1"),
    ("postal_code", "Postal code", "postal-code"),
    ("country", "Country code (2 letters, e.g. DE)", "country"),
];

fn checkout_view(
    ctx: &Ctx<'_>,
    cart: &Cart,
    form: &Form,
    key: &str,
    problem: Option<&Problem>,
) -> Markup {
    let token = ctx.csrf_token();
    let err = |field: &str| {
        problem.and_then(|p| {
            p.field(&format!("shipping_address.{field}"))
                .or_else(|| p.field(field))
        })
    };
    let tokens = &ctx.settings.payment_tokens;
    let chosen = form.text("payment_token");
    html! {
        h1 { "Check out" }
        @if let Some(p) = problem { (problem_box(p)) }
        section aria-labelledby="summary-h" {
            h2 id="summary-h" { "Order summary" }
            ul class="summary" {
                @for item in &cart.items {
                    li { (item.quantity) " × " (item.title.as_deref().unwrap_or("Product")) " — " (item.line_total.as_ref().map(crate::wire::Money::text).unwrap_or_default()) }
                }
            }
            p { "Total: " @for t in &cart.totals { strong class="total" { (t.text()) } " " } }
        }
        form class="stack once" method="post" action="/checkout" {
            (csrf_field(&token))
            input type="hidden" name="idempotency_key" value=(key);
            fieldset {
                legend { "Shipping address" }
                @for (name, label, autocomplete) in ADDRESS {
                    @let id = format!("address-{name}");
                    @let error = err(name);
                    div class="field" {
                        label for=(id) { (label) }
                        input id=(id) name=(name) type="text" value=(form.text(name)) autocomplete=(autocomplete)
                            required[!matches!(name, "line2" | "region")]
                            aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[error.map(|_| format!("{id}-error"))];
                        (crate::views::field_error(&id, error))
                    }
                }
            }
            fieldset {
                legend { "Payment" }
                @if tokens.is_empty() {
                    (text_input("payment_token", "payment_token", "Payment token from your provider", chosen, "text", err("payment.token")))
                } @else {
                    @for (i, t) in tokens.iter().enumerate() {
                        @let id = format!("pay-{i}");
                        div class="choice" {
                            input id=(id) type="radio" name="payment_token" value=(t) checked[chosen == t.as_str() || (chosen.is_empty() && i == 0)];
                            label for=(id) { "Test card " code { (t) } }
                        }
                    }
                }
            }
            button type="submit" class="primary" { "Place order" }
        }
    }
}

/// `GET /checkout`.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor.
pub fn checkout_form(ctx: &mut Ctx<'_>) -> PageResult {
    let cart = load_cart(ctx)?;
    if cart.items.is_empty() {
        return Ok(ctx.redirect("/cart"));
    }
    let key = session::new_id(ctx.ports.random).map_err(|e| PageError::Internal(e.0))?;
    Ok(ctx.render(
        200,
        "Check out",
        checkout_view(ctx, &cart, &Form::default(), &key, None),
    ))
}

/// `POST /checkout`: places the order from the cart with the form's Idempotency-Key, so a
/// repeated submit answers the same order.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`].
pub fn checkout(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.token()?;
    let key = form.text("idempotency_key").to_owned();
    if key.is_empty()
        || key.len() > 64
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(PageError::BadRequest(
            "the checkout form is incomplete; reload it",
        ));
    }
    let mut address = serde_json::Map::new();
    for (name, _, _) in ADDRESS {
        let value = form.text(name);
        if !value.is_empty() {
            let value = if name == "country" {
                value.to_ascii_uppercase()
            } else {
                value.to_owned()
            };
            address.insert(name.to_owned(), Value::String(value));
        } else if !matches!(name, "line2" | "region") {
            address.insert(name.to_owned(), Value::String(String::new()));
        }
    }
    let body = json!({
        "shipping_address": address,
        "payment": { "token": form.text("payment_token") },
    });
    let id = ctx.api.request_id().to_owned();
    let outcome = ctx.api.run(
        &Call::send(Service::Orders, Method::Post, "/v1/orders", Some(body))
            .bearer(&token)
            .header("idempotency-key", key)
            .timeout(ctx.settings.checkout_timeout_ms)
            .idempotent(),
    );
    match outcome {
        Ok(reply) => {
            let order: Order = reply.parse(&id)?;
            Ok(ctx.redirect(&format!("/orders/{}", order.id)))
        }
        Err(Failure::Problem(problem)) if problem.status == 401 => Err(PageError::SignIn),
        Err(Failure::Problem(problem)) if problem.slug == "idempotency-key-in-use" => {
            Ok(ctx.render(202, "Placing your order", html! {
                h1 { "Your order is being placed" }
                p { "We are still processing it. " a href="/orders" { "See your orders" } " in a moment." }
            }))
        }
        Err(Failure::Problem(problem)) => {
            // A fresh key: the next submit is a new attempt (the old one failed and changed
            // nothing, or was declined).
            let cart = load_cart(ctx)?;
            let fresh = session::new_id(ctx.ports.random).map_err(|e| PageError::Internal(e.0))?;
            let status = problem.status;
            Ok(ctx.render(status, "Check out", checkout_view(ctx, &cart, &form, &fresh, Some(&*problem))))
        }
        Err(Failure::Unavailable { request_id }) => Err(PageError::Unavailable(request_id)),
    }
}
