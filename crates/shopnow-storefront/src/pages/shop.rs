//! Shopping pages anyone may open: home (categories and newest products), search with the API's
//! filters and paging, and the product page with its add-to-cart form.

use maud::{Markup, html};
use shopnow_kernel::http::HttpResponse;

use crate::api::{Call, Failure, Service};
use crate::app::{Ctx, PageError, PageResult};
use crate::form::{encode, query};
use crate::views::{csrf_field, field_error, money, parse_price, problem_box};
use crate::wire::{Categories, Category, Product, ProductPage};

/// Products per search page.
const PAGE_SIZE: &str = "20";

fn product_card(product: &Product) -> Markup {
    html! {
        li class="card" {
            a href=(format!("/products/{}", product.id)) {
                span class="card-title" { (product.title) }
            }
            span class="price" { (product.price.text()) }
            @if product.stock.available == 0 { span class="badge" { "Out of stock" } }
        }
    }
}

fn product_grid(products: &[Product]) -> Markup {
    html! {
        @if products.is_empty() {
            p class="empty" { "No products found." }
        } @else {
            ul class="grid" { @for p in products { (product_card(p)) } }
        }
    }
}

/// `GET /`: categories and the newest products.
///
/// # Errors
/// [`PageError::Unavailable`] when the catalog does not answer.
pub fn home(ctx: &mut Ctx<'_>) -> PageResult {
    let mut results = ctx
        .api
        .run_all(&[
            Call::get(Service::Catalog, "/v1/categories"),
            Call::get(Service::Catalog, "/v1/products?limit=12"),
        ])
        .into_iter();
    let id = ctx.api.request_id().to_owned();
    let categories: Categories = next(&mut results, &id)?.parse(&id)?;
    let newest: ProductPage = next(&mut results, &id)?.parse(&id)?;
    let top: Vec<&Category> = categories
        .items
        .iter()
        .filter(|c| c.parent_id.is_none())
        .collect();
    Ok(ctx.render(
        200,
        "Home",
        html! {
            h1 { "Welcome to ShopNow" }
            section aria-labelledby="categories-h" {
                h2 id="categories-h" { "Categories" }
                @if top.is_empty() { p class="empty" { "No categories yet." } }
                ul class="chips" {
                    @for c in &top {
                        li { a href=(format!("/search?category={}", encode(&c.id))) { (c.name) } }
                    }
                }
            }
            section aria-labelledby="newest-h" {
                h2 id="newest-h" { "New arrivals" }
                (product_grid(&newest.items))
            }
        },
    ))
}

fn next(
    results: &mut impl Iterator<Item = Result<crate::api::Reply, Failure>>,
    request_id: &str,
) -> Result<crate::api::Reply, PageError> {
    results
        .next()
        .unwrap_or(Err(Failure::Unavailable {
            request_id: request_id.to_owned(),
        }))
        .map_err(PageError::from)
}

/// The search form's values as the visitor typed them.
struct Filters {
    q: String,
    category: String,
    min_price: String,
    max_price: String,
    currency: String,
    sort: String,
    cursor: String,
}

const SORTS: [(&str, &str); 5] = [
    ("", "Best match / newest"),
    ("newest", "Newest"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("bestselling", "Best selling"),
];

const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "JPY"];

/// `GET /search?q=&category=&min_price=&max_price=&currency=&sort=&cursor=`.
///
/// # Errors
/// [`PageError::Unavailable`] when the catalog does not answer.
pub fn search(ctx: &mut Ctx<'_>) -> PageResult {
    let params = ctx.query()?;
    let filters = Filters {
        q: params.text("q").to_owned(),
        category: params.text("category").to_owned(),
        min_price: params.text("min_price").to_owned(),
        max_price: params.text("max_price").to_owned(),
        currency: params.text("currency").to_owned(),
        sort: params.text("sort").to_owned(),
        cursor: params.text("cursor").to_owned(),
    };
    // Prices are typed in major units and need a currency, as the API asks.
    let mut price_error: Option<&str> = None;
    let mut minor = |text: &str| -> String {
        if text.is_empty() {
            return String::new();
        }
        if filters.currency.is_empty() {
            price_error = Some("choose a currency to filter by price");
            return String::new();
        }
        match parse_price(text, &filters.currency) {
            Ok(amount) => amount.to_string(),
            Err(message) => {
                price_error = Some(message);
                String::new()
            }
        }
    };
    let min = minor(&filters.min_price);
    let max = minor(&filters.max_price);
    let currency = if min.is_empty() && max.is_empty() {
        ""
    } else {
        filters.currency.as_str()
    };
    let api_query = query(&[
        ("q", &filters.q),
        ("category", &filters.category),
        ("min_price", &min),
        ("max_price", &max),
        ("currency", currency),
        ("sort", &filters.sort),
        ("cursor", &filters.cursor),
        ("limit", PAGE_SIZE),
    ]);
    let mut results = ctx
        .api
        .run_all(&[
            Call::get(Service::Catalog, "/v1/categories"),
            Call::get(Service::Catalog, format!("/v1/products?{api_query}")),
        ])
        .into_iter();
    let id = ctx.api.request_id().to_owned();
    let categories: Categories = next(&mut results, &id)?.parse(&id)?;
    let (found, problem) = match next(&mut results, &id) {
        Ok(reply) => (Some(reply.parse::<ProductPage>(&id)?), None),
        Err(PageError::Problem(problem)) => (None, Some(problem)),
        Err(other) => return Err(other),
    };
    let status = if problem.is_some() { 400 } else { 200 };
    let next_link = found
        .as_ref()
        .and_then(|page| page.next_cursor.as_ref())
        .map(|cursor| {
            format!(
                "/search?{}",
                query(&[
                    ("q", &filters.q),
                    ("category", &filters.category),
                    ("min_price", &filters.min_price),
                    ("max_price", &filters.max_price),
                    ("currency", &filters.currency),
                    ("sort", &filters.sort),
                    ("cursor", cursor),
                ])
            )
        });
    let title = if filters.q.is_empty() {
        "Browse".to_owned()
    } else {
        format!("Search: {}", filters.q)
    };
    Ok(ctx.render(status, &title, html! {
        h1 { (title) }
        form class="filters" method="get" action="/search" {
            div class="field" {
                label for="q" { "Words" }
                input id="q" type="search" name="q" value=(filters.q) maxlength="200";
            }
            div class="field" {
                label for="category" { "Category" }
                select id="category" name="category" {
                    option value="" { "Any category" }
                    @for c in &categories.items {
                        option value=(c.id) selected[c.id == filters.category] { (c.name) }
                    }
                }
            }
            div class="field" {
                label for="min_price" { "Lowest price" }
                input id="min_price" name="min_price" inputmode="decimal" value=(filters.min_price)
                    aria-describedby=[price_error.map(|_| "price-error")];
            }
            div class="field" {
                label for="max_price" { "Highest price" }
                input id="max_price" name="max_price" inputmode="decimal" value=(filters.max_price);
            }
            div class="field" {
                label for="currency" { "Currency" }
                select id="currency" name="currency" {
                    option value="" { "Any" }
                    @for c in CURRENCIES { option value=(c) selected[c == filters.currency] { (c) } }
                }
            }
            div class="field" {
                label for="sort" { "Sort by" }
                select id="sort" name="sort" {
                    @for (value, label) in SORTS { option value=(value) selected[value == filters.sort] { (label) } }
                }
            }
            (field_error("price", price_error))
            button type="submit" { "Apply" }
        }
        @if let Some(problem) = &problem { (problem_box(problem)) }
        @if let Some(page) = &found {
            (product_grid(&page.items))
            @if let Some(link) = &next_link {
                nav aria-label="Pages" { a class="button" rel="next" href=(link) { "Next page" } }
            }
        }
    }))
}

/// `GET /products/{id}`.
///
/// # Errors
/// [`PageError::NotFound`] for an unknown (or archived) product.
pub fn product(ctx: &mut Ctx<'_>, id: &str) -> PageResult {
    let request_id = ctx.api.request_id().to_owned();
    let product: Product = ctx
        .api
        .run(&Call::get(Service::Catalog, format!("/v1/products/{id}")))?
        .parse(&request_id)?;
    Ok(product_page(ctx, &product, 200, None))
}

/// The product page, with an optional message next to the quantity (after a failed add).
pub fn product_page(
    ctx: &Ctx<'_>,
    product: &Product,
    status: u16,
    error: Option<&str>,
) -> HttpResponse {
    let available = product.stock.available.max(0);
    let max = available.min(99);
    let token = ctx.csrf_token();
    let main = html! {
        article class="product" {
            h1 { (product.title) }
            p class="price" { (money(product.price.amount, &product.price.currency)) }
            @if product.status != "active" {
                p class="badge" { "No longer sold" }
            } @else if available == 0 {
                p class="badge" { "Out of stock" }
            } @else {
                p class="stock" { (available) " available" }
            }
            p class="seller" { "Sold by seller " code { (product.seller_id.get(..8).unwrap_or(&product.seller_id)) } }
            div class="description" { @for para in product.description.split("\n\n") { p { (para) } } }
            @if !product.attributes.is_empty() {
                table class="attributes" {
                    caption { "Details" }
                    tbody {
                        @for (key, value) in &product.attributes {
                            tr { th scope="row" { (key.replace('_', " ")) } td { (value.as_str().map_or_else(|| value.to_string(), str::to_owned)) } }
                        }
                    }
                }
            }
            @if product.status == "active" && available > 0 {
                form class="add-to-cart" method="post" action="/cart/items" {
                    (csrf_field(&token))
                    input type="hidden" name="product_id" value=(product.id);
                    div class="field" {
                        label for="quantity" { "Quantity" }
                        input id="quantity" name="quantity" type="number" min="1" max=(max) value="1" required
                            aria-describedby=[error.map(|_| "quantity-error")];
                        (field_error("quantity", error))
                    }
                    button type="submit" { "Add to cart" }
                }
            }
        }
    };
    ctx.render(status, &product.title, main)
}
