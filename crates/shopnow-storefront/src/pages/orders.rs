//! A buyer's orders (signed in): the list, one order with each seller's fulfilment status and
//! tracking, and cancelling while nothing has shipped. Another buyer's order is a 404, as the API
//! answers.

use maud::{Markup, html};
use shopnow_kernel::http::Method;

use crate::api::{Call, Failure, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::query;
use crate::views::{csrf_field, problem_box};
use crate::wire::{Order, OrderPage};

/// The words for an order or fulfilment status.
pub fn status_text(status: &str) -> &str {
    match status {
        "pending" => "Being placed",
        "confirmed" => "Confirmed",
        "payment_failed" => "Payment failed",
        "failed" => "Failed",
        "cancelled" => "Cancelled",
        "partially_shipped" => "Partly shipped",
        "shipped" => "Shipped",
        "awaiting_shipment" => "Awaiting shipment",
        "void" => "Not shipped",
        other => other,
    }
}

fn date(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// `GET /orders?cursor=`.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor.
pub fn list(ctx: &mut Ctx<'_>) -> PageResult {
    let token = ctx.token()?;
    let params = ctx.query()?;
    let id = ctx.api.request_id().to_owned();
    let path = format!(
        "/v1/orders?{}",
        query(&[("limit", "20"), ("cursor", params.text("cursor"))])
    );
    let page: OrderPage = ctx
        .api
        .run(&Call::get(Service::Orders, path).bearer(&token))?
        .parse(&id)?;
    Ok(ctx.render(200, "Your orders", html! {
        h1 { "Your orders" }
        @if page.orders.is_empty() {
            p class="empty" { "No orders yet." }
        } @else {
            table class="orders" {
                caption class="visually-hidden" { "Your orders, newest first" }
                thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Items" } th scope="col" { "Total" } th scope="col" { "Status" } } }
                tbody {
                    @for o in &page.orders {
                        tr {
                            td { a href=(format!("/orders/{}", o.id)) { (o.id.get(..8).unwrap_or(&o.id)) } }
                            td { (date(&o.created_at)) }
                            td { (o.item_count) }
                            td { (o.total.text()) }
                            td class="status" { (status_text(&o.status)) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                nav aria-label="Pages" { a class="button" rel="next" href=(format!("/orders?{}", query(&[("cursor", cursor)]))) { "Older orders" } }
            }
        }
    }))
}

fn order_view(ctx: &Ctx<'_>, order: &Order, problem: Option<&crate::api::Problem>) -> Markup {
    let token = ctx.csrf_token();
    let cancellable = matches!(order.status.as_str(), "confirmed" | "pending")
        && order.fulfilments.iter().all(|f| f.status != "shipped");
    let address = &order.shipping_address;
    html! {
        h1 { "Order " (order.id.get(..8).unwrap_or(&order.id)) }
        @if let Some(p) = problem { (problem_box(p)) }
        p { "Status: " strong id="order-status" { (status_text(&order.status)) } " · placed " (date(&order.created_at)) " · payment " (order.payment.status.replace('_', " ")) }
        table class="lines" {
            caption { "Items" }
            thead { tr { th scope="col" { "Product" } th scope="col" { "Unit price" } th scope="col" { "Quantity" } th scope="col" { "Total" } } }
            tbody {
                @for line in &order.items {
                    tr {
                        td { a href=(format!("/products/{}", line.product_id)) { (line.title) } }
                        td { (line.unit_price.text()) }
                        td { (line.quantity) }
                        td { (line.line_total.text()) }
                    }
                }
            }
        }
        p { "Total: " strong { (order.total.text()) } }
        section aria-labelledby="fulfilment-h" {
            h2 id="fulfilment-h" { "Delivery" }
            ul class="fulfilments" {
                @for f in &order.fulfilments {
                    @let titles: Vec<&str> = order.items.iter().filter(|l| l.seller_id == f.seller_id).map(|l| l.title.as_str()).collect();
                    li class="fulfilment" data-status=(f.status) {
                        (titles.join(", ")) ": "
                        strong class="fulfilment-status" { (status_text(&f.status)) }
                        @if let Some(tracking) = &f.tracking_number { " · tracking " code class="tracking" { (tracking) } }
                    }
                }
            }
        }
        section aria-labelledby="address-h" {
            h2 id="address-h" { "Shipping to" }
            address {
                (address.name) br;
                (address.line1) br;
                @if let Some(l2) = &address.line2 { (l2) br; }
                (address.postal_code) " " (address.city) br;
                @if let Some(r) = &address.region { (r) br; }
                (address.country)
            }
        }
        @if cancellable {
            form method="post" action=(format!("/orders/{}/cancel", order.id)) {
                (csrf_field(&token))
                button type="submit" class="danger" { "Cancel order" }
            }
        }
        p { a href="/orders" { "All orders" } }
    }
}

fn load(ctx: &Ctx<'_>, id: &str) -> Result<Order, PageError> {
    let token = ctx.token()?;
    let request_id = ctx.api.request_id().to_owned();
    Ok(ctx
        .api
        .run(&Call::get(Service::Orders, format!("/v1/orders/{id}")).bearer(&token))?
        .parse(&request_id)?)
}

/// `GET /orders/{id}` (its buyer; anyone else gets the 404 page).
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::NotFound`] for another buyer's order.
pub fn show(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let order = load(ctx, id)?;
    Ok(ctx.render(200, "Your order", order_view(ctx, &order, None)))
}

/// `POST /orders/{id}/cancel`.
///
/// # Errors
/// [`PageError::SignIn`] for a visitor, [`PageError::Csrf`], [`PageError::NotFound`].
pub fn cancel(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    ctx.form()?;
    let token = ctx.token()?;
    let outcome = ctx.api.run(
        &Call::send(
            Service::Orders,
            Method::Post,
            format!("/v1/orders/{id}/cancel"),
            None,
        )
        .bearer(&token),
    );
    match outcome {
        Ok(_) => Ok(ctx.redirect(&format!("/orders/{id}"))),
        Err(Failure::Problem(problem)) if problem.status == 409 || problem.status == 422 => {
            let order = load(ctx, id)?;
            let status = problem.status;
            Ok(ctx.render(
                status,
                "Your order",
                order_view(ctx, &order, Some(&*problem)),
            ))
        }
        Err(failure) => Err(failure.into()),
    }
}
