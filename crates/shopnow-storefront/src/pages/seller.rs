//! The seller workspace (sellers and admins): my products (create, edit under `If-Match` with a
//! concurrent edit's 412 shown as a conflict to resolve, archive, set stock) and my fulfilments
//! (ship with a tracking number). The API decides ownership: another seller's product is its 404.

use maud::{Markup, html};
use serde_json::json;
use shopnow_kernel::http::{HttpResponse, Method};

use crate::api::{Call, Failure, FieldProblem, Problem, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::{Form, query};
use crate::pages::orders::status_text;
use crate::views::{csrf_field, field_error, parse_price, problem_box, text_input};
use crate::wire::{Categories, FulfilmentPage, Product, ProductPage};

const ROLES: [&str; 2] = ["seller", "admin"];
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "JPY"];

/// `GET /seller/products?cursor=`.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`] without the seller role.
pub fn products(ctx: &mut Ctx<'_>) -> PageResult {
    let user = ctx.require_role(&ROLES)?.clone();
    let params = ctx.query()?;
    let id = ctx.api.request_id().to_owned();
    let path = format!(
        "/v1/products?{}",
        query(&[
            ("seller", &user.user_id),
            ("limit", "50"),
            ("cursor", params.text("cursor"))
        ])
    );
    let page: ProductPage = ctx
        .api
        .run(&Call::get(Service::Catalog, path).bearer(&user.access_token))?
        .parse(&id)?;
    let token = ctx.csrf_token();
    Ok(ctx.render(200, "My products", html! {
        h1 { "My products" }
        p { a class="button primary" href="/seller/products/new" { "New product" } }
        @if page.items.is_empty() {
            p class="empty" { "You have no products on sale." }
        } @else {
            table class="products" {
                caption class="visually-hidden" { "Your products" }
                thead { tr { th scope="col" { "Title" } th scope="col" { "Price" } th scope="col" { "On hand" } th scope="col" { "Available" } th scope="col" { "Stock" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for p in &page.items {
                        @let stock_id = format!("stock-{}", p.id);
                        tr {
                            td { a href=(format!("/products/{}", p.id)) { (p.title) } }
                            td { (p.price.text()) }
                            td { (p.stock.on_hand) }
                            td { (p.stock.available) }
                            td {
                                form class="inline" method="post" action=(format!("/seller/products/{}/stock", p.id)) {
                                    (csrf_field(&token))
                                    label for=(stock_id) class="visually-hidden" { "Units on hand of " (p.title) }
                                    input id=(stock_id) name="on_hand" type="number" min="0" value=(p.stock.on_hand);
                                    button type="submit" { "Set stock" }
                                }
                            }
                            td {
                                a href=(format!("/seller/products/{}/edit", p.id)) { "Edit" span class="visually-hidden" { " " (p.title) } }
                                " "
                                form class="inline" method="post" action=(format!("/seller/products/{}/archive", p.id)) {
                                    (csrf_field(&token))
                                    button type="submit" class="link" { "Archive" span class="visually-hidden" { " " (p.title) } }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                nav aria-label="Pages" { a class="button" rel="next" href=(format!("/seller/products?{}", query(&[("cursor", cursor)]))) { "More" } }
            }
        }
    }))
}

/// The product form's values: as typed, or from the product being edited.
struct ProductForm {
    title: String,
    description: String,
    category_id: String,
    price: String,
    currency: String,
    on_hand: String,
}

impl ProductForm {
    fn from_form(form: &Form) -> Self {
        Self {
            title: form.text("title").to_owned(),
            description: form.get("description").unwrap_or("").trim().to_owned(),
            category_id: form.text("category_id").to_owned(),
            price: form.text("price").to_owned(),
            currency: form.text("currency").to_owned(),
            on_hand: form.text("on_hand").to_owned(),
        }
    }

    fn from_product(product: &Product) -> Self {
        Self {
            title: product.title.clone(),
            description: product.description.clone(),
            category_id: product.category_id.clone(),
            price: crate::views::money(product.price.amount, &product.price.currency)
                .split(' ')
                .next()
                .unwrap_or("")
                .to_owned(),
            currency: product.price.currency.clone(),
            on_hand: product.stock.on_hand.to_string(),
        }
    }

    /// The API body, or the field errors found before asking it.
    fn body(&self, with_stock: bool) -> Result<serde_json::Value, Vec<FieldProblem>> {
        let mut errors = Vec::new();
        let amount = parse_price(&self.price, &self.currency).map_err(|message| {
            errors.push(FieldProblem {
                field: "price".into(),
                message: message.into(),
            });
        });
        let on_hand = if with_stock {
            let parsed = self.on_hand.parse::<i64>().ok().filter(|n| *n >= 0);
            if parsed.is_none() {
                errors.push(FieldProblem {
                    field: "stock".into(),
                    message: "enter a whole number of units, 0 or more".into(),
                });
            }
            parsed
        } else {
            None
        };
        let Ok(amount) = amount else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut body = json!({
            "title": self.title,
            "description": self.description,
            "category_id": self.category_id,
            "price": { "amount": amount, "currency": self.currency },
        });
        if let (Some(units), Some(object)) = (on_hand, body.as_object_mut()) {
            object.insert("stock".into(), json!({ "on_hand": units }));
        }
        Ok(body)
    }
}

fn local_problem(ctx: &Ctx<'_>, errors: Vec<FieldProblem>) -> Problem {
    Problem {
        status: 422,
        slug: "validation-failed".into(),
        title: "Some fields need attention".into(),
        detail: String::new(),
        errors,
        request_id: ctx.api.request_id().to_owned(),
    }
}

fn field_message<'p>(problem: Option<&'p Problem>, field: &str) -> Option<&'p str> {
    let problem = problem?;
    problem.field(field).or_else(|| {
        problem
            .errors
            .iter()
            .find(|e| e.field.starts_with(&format!("{field}.")))
            .map(|e| e.message.as_str())
    })
}

fn product_form_view(
    ctx: &Ctx<'_>,
    heading: &str,
    action: &str,
    values: &ProductForm,
    categories: &Categories,
    etag: Option<&str>,
    problem: Option<&Problem>,
) -> Markup {
    let token = ctx.csrf_token();
    let err = |field: &str| field_message(problem, field);
    html! {
        h1 { (heading) }
        @if let Some(p) = problem { (problem_box(p)) }
        form class="stack" method="post" action=(action) {
            (csrf_field(&token))
            @if let Some(etag) = etag { input type="hidden" name="etag" value=(etag); }
            (text_input("title", "title", "Title", &values.title, "text", err("title")))
            div class="field" {
                label for="description" { "Description" }
                textarea id="description" name="description" rows="6" aria-describedby=[err("description").map(|_| "description-error")] { (values.description) }
                (field_error("description", err("description")))
            }
            div class="field" {
                label for="category_id" { "Category" }
                select id="category_id" name="category_id" required aria-describedby=[err("category_id").map(|_| "category_id-error")] {
                    option value="" { "Choose a category" }
                    @for c in &categories.items { option value=(c.id) selected[c.id == values.category_id] { (c.name) } }
                }
                (field_error("category_id", err("category_id")))
            }
            (text_input("price", "price", "Price", &values.price, "text", err("price")))
            div class="field" {
                label for="currency" { "Currency" }
                select id="currency" name="currency" {
                    @for c in CURRENCIES { option value=(c) selected[c == values.currency] { (c) } }
                }
            }
            @if etag.is_none() {
                (text_input("on_hand", "on_hand", "Units in stock", &values.on_hand, "number", err("stock")))
            }
            button type="submit" class="primary" { "Save" }
        }
        p { a href="/seller/products" { "Back to my products" } }
    }
}

fn categories(ctx: &Ctx<'_>) -> Result<Categories, PageError> {
    let id = ctx.api.request_id().to_owned();
    Ok(ctx
        .api
        .run(&Call::get(Service::Catalog, "/v1/categories"))?
        .parse(&id)?)
}

/// `GET /seller/products/new`.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`] without the seller role.
pub fn new_form(ctx: &mut Ctx<'_>) -> PageResult {
    ctx.require_role(&ROLES)?;
    let categories = categories(ctx)?;
    let values =
        ProductForm::from_form(&Form::parse(b"currency=EUR&on_hand=0").unwrap_or_default());
    Ok(new_product_page(ctx, 200, &values, &categories, None))
}

fn new_product_page(
    ctx: &Ctx<'_>,
    status: u16,
    values: &ProductForm,
    categories: &Categories,
    problem: Option<&Problem>,
) -> HttpResponse {
    let form = product_form_view(
        ctx,
        "New product",
        "/seller/products",
        values,
        categories,
        None,
        problem,
    );
    ctx.render(status, "New product", form)
}

/// `POST /seller/products`: lists a new product.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`].
pub fn create(ctx: &mut Ctx<'_>) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    let values = ProductForm::from_form(&form);
    let outcome = match values.body(true) {
        Ok(body) => ctx
            .api
            .run(
                &Call::send(Service::Catalog, Method::Post, "/v1/products", Some(body))
                    .bearer(&token),
            )
            .map(|_| ()),
        Err(errors) => Err(Failure::Problem(Box::new(local_problem(ctx, errors)))),
    };
    match outcome {
        Ok(()) => Ok(ctx.redirect("/seller/products")),
        Err(Failure::Problem(problem)) if problem.status == 422 || problem.status == 400 => {
            let categories = categories(ctx)?;
            Ok(new_product_page(
                ctx,
                422,
                &values,
                &categories,
                Some(&*problem),
            ))
        }
        Err(failure) => Err(failure.into()),
    }
}

fn load_product(
    ctx: &Ctx<'_>,
    token: &str,
    id: &str,
) -> Result<(Product, Option<String>), PageError> {
    let request_id = ctx.api.request_id().to_owned();
    let reply = ctx
        .api
        .run(&Call::get(Service::Catalog, format!("/v1/products/{id}")).bearer(token))?;
    let etag = reply.etag.clone();
    Ok((reply.parse(&request_id)?, etag))
}

/// `GET /seller/products/{id}/edit`.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::NotFound`] for a product that
/// is not the seller's (the API's answer).
pub fn edit_form(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let user = ctx.require_role(&ROLES)?.clone();
    let (product, etag) = load_product(ctx, &user.access_token, id)?;
    if product.seller_id != user.user_id && !user.has_role("admin") {
        return Err(PageError::NotFound);
    }
    let categories = categories(ctx)?;
    let action = format!("/seller/products/{id}");
    Ok(ctx.render(
        200,
        "Edit product",
        product_form_view(
            ctx,
            "Edit product",
            &action,
            &ProductForm::from_product(&product),
            &categories,
            etag.as_deref(),
            None,
        ),
    ))
}

/// `POST /seller/products/{id}`: saves an edit under the ETag the form was rendered with; a
/// concurrent edit (412) shows the current values with the visitor's own, to resolve and save.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`], [`PageError::NotFound`].
pub fn update(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    let values = ProductForm::from_form(&form);
    let etag = form.text("etag").to_owned();
    // An entity tag as the catalog sends it: quoted visible ASCII (never `*`, which would skip
    // the concurrent-edit check, nor anything that could break the header).
    let quoted = etag.strip_prefix("W/").unwrap_or(&etag);
    let valid = quoted.len() >= 2
        && quoted.starts_with('"')
        && quoted.ends_with('"')
        && quoted.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(PageError::BadRequest(
            "the edit form is incomplete; reload it",
        ));
    }
    let action = format!("/seller/products/{id}");
    let outcome = match values.body(false) {
        Ok(body) => ctx
            .api
            .run(
                &Call::send(
                    Service::Catalog,
                    Method::Patch,
                    format!("/v1/products/{id}"),
                    Some(body),
                )
                .bearer(&token)
                .header("if-match", etag.clone()),
            )
            .map(|_| ()),
        Err(errors) => Err(Failure::Problem(Box::new(local_problem(ctx, errors)))),
    };
    match outcome {
        Ok(()) => Ok(ctx.redirect("/seller/products")),
        Err(Failure::Problem(problem)) if problem.status == 412 => {
            let (current, fresh_etag) = load_product(ctx, &token, id)?;
            let categories = categories(ctx)?;
            let theirs = ProductForm::from_product(&current);
            Ok(ctx.render(409, "Edit conflict", html! {
                div class="conflict" role="alert" {
                    h2 { "Someone else changed this product" }
                    p { "While you were editing, the product was saved by someone else. Its current values are below; your changes are in the form. Save again to keep yours." }
                    dl class="facts" {
                        dt { "Current title" } dd { (theirs.title) }
                        dt { "Current price" } dd { (current.price.text()) }
                        dt { "Current description" } dd { (theirs.description) }
                    }
                }
                (product_form_view(ctx, "Edit product", &action, &values, &categories, fresh_etag.as_deref(), None))
            }))
        }
        Err(Failure::Problem(problem)) if problem.status == 422 || problem.status == 400 => {
            let categories = categories(ctx)?;
            Ok(ctx.render(
                422,
                "Edit product",
                product_form_view(
                    ctx,
                    "Edit product",
                    &action,
                    &values,
                    &categories,
                    Some(&etag),
                    Some(&*problem),
                ),
            ))
        }
        Err(failure) => Err(failure.into()),
    }
}

/// `POST /seller/products/{id}/stock` (`on_hand`).
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`],
/// [`PageError::BadRequest`] for a count that is not a whole number.
pub fn set_stock(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    let Some(on_hand) = form.text("on_hand").parse::<i64>().ok().filter(|n| *n >= 0) else {
        return Err(PageError::BadRequest(
            "units on hand must be a whole number, 0 or more",
        ));
    };
    ctx.api.run(
        &Call::send(
            Service::Catalog,
            Method::Put,
            format!("/v1/products/{id}/stock"),
            Some(json!({ "on_hand": on_hand })),
        )
        .bearer(&token),
    )?;
    Ok(ctx.redirect("/seller/products"))
}

/// `POST /seller/products/{id}/archive`.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`], [`PageError::NotFound`].
pub fn archive(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    ctx.form()?;
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    ctx.api.run(
        &Call::send(
            Service::Catalog,
            Method::Delete,
            format!("/v1/products/{id}"),
            None,
        )
        .bearer(&token),
    )?;
    Ok(ctx.redirect("/seller/products"))
}

/// `GET /seller/fulfilments?cursor=`.
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`] without the seller role.
pub fn fulfilments(ctx: &mut Ctx<'_>) -> PageResult {
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    let params = ctx.query()?;
    let id = ctx.api.request_id().to_owned();
    let path = format!(
        "/v1/seller/fulfilments?{}",
        query(&[("limit", "20"), ("cursor", params.text("cursor"))])
    );
    let page: FulfilmentPage = ctx
        .api
        .run(&Call::get(Service::Orders, path).bearer(&token))?
        .parse(&id)?;
    let csrf = ctx.csrf_token();
    Ok(ctx.render(200, "Fulfilments", html! {
        h1 { "Fulfilments" }
        @if page.fulfilments.is_empty() {
            p class="empty" { "Nothing to ship yet." }
        }
        ul class="fulfilment-list" {
            @for f in &page.fulfilments {
                @let tracking_id = format!("tracking-{}", f.id);
                li class="fulfilment" data-status=(f.status) {
                    h2 { "Order " (f.order_id.get(..8).unwrap_or(&f.order_id)) " — " span class="fulfilment-status" { (status_text(&f.status)) } }
                    ul { @for line in &f.items { li { (line.quantity) " × " (line.title) } } }
                    p { "To: " (f.shipping_address.name) ", " (f.shipping_address.city) " " (f.shipping_address.country) }
                    @if let Some(t) = &f.tracking_number { p { "Tracking: " code { (t) } } }
                    @if f.status == "awaiting_shipment" {
                        form class="inline" method="post" action=(format!("/seller/fulfilments/{}/ship", f.id)) {
                            (csrf_field(&csrf))
                            label for=(tracking_id) { "Tracking number" }
                            input id=(tracking_id) name="tracking_number" type="text" maxlength="64" required;
                            button type="submit" { "Mark shipped" }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &page.next_cursor {
            nav aria-label="Pages" { a class="button" rel="next" href=(format!("/seller/fulfilments?{}", query(&[("cursor", cursor)]))) { "Older" } }
        }
    }))
}

/// `POST /seller/fulfilments/{id}/ship` (`tracking_number`).
///
/// # Errors
/// [`PageError::SignIn`] / [`PageError::Forbidden`], [`PageError::Csrf`], [`PageError::NotFound`].
pub fn ship(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let form = ctx.form()?;
    let token = ctx.require_role(&ROLES)?.access_token.clone();
    let tracking = form.text("tracking_number");
    let body = if tracking.is_empty() {
        json!({})
    } else {
        json!({ "tracking_number": tracking })
    };
    ctx.api.run(
        &Call::send(
            Service::Orders,
            Method::Post,
            format!("/v1/seller/fulfilments/{id}/ship"),
            Some(body),
        )
        .bearer(&token),
    )?;
    Ok(ctx.redirect("/seller/fulfilments"))
}
