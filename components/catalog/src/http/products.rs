//! `/v1/products` (browse, search, create) and `/v1/products/{id}` (read with `ETag`, edit under
//! `If-Match`, archive).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use shopnow_catalog::CatalogError;
use shopnow_catalog::app::archive_product::archive_product;
use shopnow_catalog::app::create_product::{NewProduct, create_product};
use shopnow_catalog::app::get_product::get_product;
use shopnow_catalog::app::get_products::{MAX_IDS, get_products};
use shopnow_catalog::app::list_products::list_products;
use shopnow_catalog::app::update_product::{none_match, update_product};
use shopnow_catalog::domain::product::{ProductChanges, check_price};
use shopnow_catalog::domain::search::{ProductSearch, SearchParams, Sort};
use shopnow_catalog::domain::{Attributes, Description, OnHand, Product, Title};
use shopnow_kernel::error::check;
use shopnow_kernel::http::{HttpRequest, HttpResponse};
use shopnow_kernel::ids::is_uuid;
use shopnow_kernel::json::{parse_body, required};
use shopnow_kernel::pagination::page_size;
use shopnow_kernel::time::rfc3339;
use shopnow_kernel::{ApiError, FieldErrors};
use shopnow_money::{Currency, Money};

use super::BODY_LIMIT;
use super::query::Query;
use super::stock::StockView;
use crate::wiring::{App, log_kv_failures};

/// A product on the wire.
#[derive(Debug, Serialize)]
pub struct ProductView {
    id: String,
    seller_id: String,
    title: String,
    description: String,
    category_id: String,
    price: Money,
    attributes: Attributes,
    stock: StockView,
    units_sold: i64,
    status: &'static str,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.clone(),
            seller_id: p.seller_id.clone(),
            title: p.title.as_str().to_owned(),
            description: p.description.as_str().to_owned(),
            category_id: p.category_id.clone(),
            price: p.price,
            attributes: p.attributes.clone(),
            stock: StockView::from(&p.stock),
            units_sold: p.units_sold,
            status: p.status.as_str(),
            version: p.version,
            created_at: rfc3339(p.created_at_ms),
            updated_at: rfc3339(p.updated_at_ms),
        }
    }
}

fn product_response(status: u16, product: &Product) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::json(status, &ProductView::from(product))?
            .with_header("etag", product.etag()),
    )
}

/// Parses `{amount, currency}` into a positive price, recording errors under `price.*`.
fn price(value: &Value, errors: &mut FieldErrors) -> Option<Money> {
    let Value::Object(map) = value else {
        errors.add("price", "must be an object with amount and currency");
        return None;
    };
    for key in map.keys() {
        if key != "amount" && key != "currency" {
            errors.add(format!("price.{key}"), "is not a known field");
        }
    }
    let amount = match map.get("amount") {
        None | Some(Value::Null) => {
            errors.add("price.amount", "is required");
            None
        }
        Some(v) => v.as_i64().or_else(|| {
            errors.add("price.amount", "must be an integer number of minor units");
            None
        }),
    };
    let currency = match map.get("currency") {
        None | Some(Value::Null) => {
            errors.add("price.currency", "is required");
            None
        }
        Some(Value::String(code)) => check(errors, "price.currency", Currency::parse(code)),
        Some(_) => {
            errors.add("price.currency", "must be an ISO 4217 code");
            None
        }
    };
    let money = check(errors, "price.amount", Money::parse(amount?, currency?))?;
    check(errors, "price.amount", check_price(money))
}

/// `{on_hand}` of a new product, recording errors under `stock.*`.
fn initial_stock(value: &Value, errors: &mut FieldErrors) -> Option<OnHand> {
    let Value::Object(map) = value else {
        errors.add("stock", "must be an object with on_hand");
        return None;
    };
    for key in map.keys().filter(|k| *k != "on_hand") {
        errors.add(format!("stock.{key}"), "is not a known field");
    }
    match map.get("on_hand").and_then(Value::as_i64) {
        Some(n) => check(errors, "stock.on_hand", OnHand::parse(n)),
        None => {
            errors.add("stock.on_hand", "must be an integer from 0 to 1000000000");
            None
        }
    }
}

fn category_id(raw: String, errors: &mut FieldErrors) -> Option<String> {
    if is_uuid(&raw) {
        Some(raw.to_ascii_lowercase())
    } else {
        errors.add("category_id", "is not an existing category");
        None
    }
}

/// `POST /v1/products` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    title: Option<String>,
    description: Option<String>,
    category_id: Option<String>,
    price: Option<Value>,
    attributes: Option<Value>,
    stock: Option<Value>,
}

impl CreateBody {
    fn validate(self, mut errors: FieldErrors) -> Result<NewProduct, ApiError> {
        let title = required(self.title, "title", &mut errors)
            .and_then(|t| check(&mut errors, "title", Title::parse(&t)));
        let description = required(self.description, "description", &mut errors)
            .and_then(|d| check(&mut errors, "description", Description::parse(&d)));
        let category = required(self.category_id, "category_id", &mut errors)
            .and_then(|c| category_id(c, &mut errors));
        let price = required(self.price, "price", &mut errors).and_then(|p| price(&p, &mut errors));
        let attributes = match self.attributes {
            None => Some(Attributes::default()),
            Some(a) => check(&mut errors, "attributes", Attributes::parse(&a)),
        };
        let on_hand = match self.stock {
            None => OnHand::parse(0).ok(),
            Some(s) => initial_stock(&s, &mut errors),
        };
        errors.finish(|| {
            Some(NewProduct {
                title: title?,
                description: description?,
                category_id: category?,
                price: price?,
                attributes: attributes?,
                on_hand: on_hand?,
            })
        })
    }
}

/// A PATCH member: absent, explicitly `null`, or a value. `null` is an error rather than
/// "leave as is", so nothing a client sends is ignored.
#[derive(Debug, Default)]
enum Member<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Self::Null, Self::Value))
    }
}

impl<T> Member<T> {
    fn take(self, field: &str, errors: &mut FieldErrors) -> Option<T> {
        match self {
            Self::Absent => None,
            Self::Null => {
                errors.add(field, "must not be null");
                None
            }
            Self::Value(v) => Some(v),
        }
    }

    fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

/// `PATCH /v1/products/{id}` body: editable fields, plus the read-only ones named so that
/// sending them is a clear 422 "is read-only" rather than a generic unknown field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    title: Member<String>,
    #[serde(default)]
    description: Member<String>,
    #[serde(default)]
    category_id: Member<String>,
    #[serde(default)]
    price: Member<Value>,
    #[serde(default)]
    attributes: Member<Value>,
    #[serde(default)]
    id: Member<Value>,
    #[serde(default)]
    seller_id: Member<Value>,
    #[serde(default)]
    version: Member<Value>,
    #[serde(default)]
    stock: Member<Value>,
    #[serde(default)]
    status: Member<Value>,
    #[serde(default)]
    created_at: Member<Value>,
    #[serde(default)]
    updated_at: Member<Value>,
}

impl PatchBody {
    fn validate(self, mut errors: FieldErrors) -> Result<ProductChanges, ApiError> {
        for (field, present) in [
            ("id", self.id.is_present()),
            ("seller_id", self.seller_id.is_present()),
            ("version", self.version.is_present()),
            ("status", self.status.is_present()),
            ("created_at", self.created_at.is_present()),
            ("updated_at", self.updated_at.is_present()),
        ] {
            if present {
                errors.add(field, "is read-only");
            }
        }
        if self.stock.is_present() {
            errors.add(
                "stock",
                "is read-only here; use PUT /v1/products/{id}/stock",
            );
        }
        let mut changes = ProductChanges::default();
        let mut any = false;
        if let Some(t) = self.title.take("title", &mut errors) {
            any = true;
            changes.title = check(&mut errors, "title", Title::parse(&t));
        }
        if let Some(d) = self.description.take("description", &mut errors) {
            any = true;
            changes.description = check(&mut errors, "description", Description::parse(&d));
        }
        if let Some(c) = self.category_id.take("category_id", &mut errors) {
            any = true;
            changes.category_id = category_id(c, &mut errors);
        }
        if let Some(p) = self.price.take("price", &mut errors) {
            any = true;
            changes.price = price(&p, &mut errors);
        }
        if let Some(a) = self.attributes.take("attributes", &mut errors) {
            any = true;
            changes.attributes = check(&mut errors, "attributes", Attributes::parse(&a));
        }
        if !any && errors.is_empty() {
            errors.add(
                "body",
                "must change at least one of title, description, category_id, price, attributes",
            );
        }
        errors.finish(|| Some(changes))
    }
}

/// `POST /v1/products`: 201 with the product, its `Location` and `ETag` (sellers and admins).
pub fn create(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, errors) = parse_body::<CreateBody>(request, BODY_LIMIT)?;
    let new = body.validate(errors)?;
    let product = app.run(request, |ports| create_product(ports, &principal, new))?;
    let location = format!("/v1/products/{}", product.id);
    Ok(product_response(201, &product)?.with_header("location", location))
}

/// `GET /v1/products/{id}`: the product with its `ETag`; 304 when `If-None-Match` matches.
pub fn get(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let principal = app.optional_principal(request)?;
    if !is_uuid(id) {
        return Err(ApiError::NotFound);
    }
    let id = id.to_ascii_lowercase();
    let product = app.run(request, |ports| get_product(ports, principal.as_ref(), &id))?;
    let etag = product.etag();
    if request
        .header("if-none-match")
        .is_some_and(|tags| none_match(tags, &etag))
    {
        return Ok(HttpResponse::empty(304).with_header("etag", etag));
    }
    product_response(200, &product)
}

/// `PATCH /v1/products/{id}`: 200 with the edited product; `If-Match` required.
pub fn update(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    let (body, errors) = parse_body::<PatchBody>(request, BODY_LIMIT)?;
    let changes = body.validate(errors)?;
    if !is_uuid(id) {
        return Err(ApiError::NotFound);
    }
    let if_match = request
        .header("if-match")
        .ok_or(ApiError::PreconditionRequired)?;
    let id = id.to_ascii_lowercase();
    let (product, kv_failure) = app.run(request, |ports| {
        update_product(ports, &principal, &id, if_match, changes)
    })?;
    log_kv_failures(request, kv_failure.as_slice());
    product_response(200, &product)
}

/// `DELETE /v1/products/{id}`: 204 once archived (also when it already was).
pub fn archive(request: &HttpRequest, app: &App, id: &str) -> Result<HttpResponse, ApiError> {
    let principal = app.authenticate(request)?;
    if !is_uuid(id) {
        return Err(ApiError::NotFound);
    }
    let id = id.to_ascii_lowercase();
    let kv_failure = app.run(request, |ports| archive_product(ports, &principal, &id))?;
    log_kv_failures(request, kv_failure.as_slice());
    Ok(HttpResponse::empty(204))
}

#[derive(Debug, Serialize)]
struct ProductList {
    items: Vec<ProductView>,
    next_cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "ids",
    "q",
    "category",
    "seller",
    "min_price",
    "max_price",
    "currency",
    "sort",
    "limit",
    "cursor",
];

fn bad(detail: &str) -> ApiError {
    ApiError::BadRequest {
        detail: detail.to_owned(),
    }
}

fn id_param(query: &Query, name: &str) -> Result<Option<String>, ApiError> {
    query
        .get(name)
        .map(|v| {
            if is_uuid(v) {
                Ok(v.to_ascii_lowercase())
            } else {
                Err(ApiError::BadRequest {
                    detail: format!("`{name}` must be an id."),
                })
            }
        })
        .transpose()
}

/// `GET /v1/products?ids=a,b,…`: the listed products the caller may see, in the order asked
/// (unknown ids left out), `{items, next_cursor: null}` — one call for a whole cart. `ids` goes
/// alone: no other parameter applies to it.
fn batch(
    request: &HttpRequest,
    app: &App,
    query: &Query,
    ids: &str,
) -> Result<HttpResponse, ApiError> {
    if query.len() > 1 {
        return Err(bad("`ids` cannot be combined with other parameters."));
    }
    let ids: Vec<String> = ids
        .split(',')
        .map(|id| id.trim().to_ascii_lowercase())
        .collect();
    if ids.len() > MAX_IDS || ids.iter().any(|id| !is_uuid(id)) {
        return Err(bad(&format!(
            "`ids` must be 1 to {MAX_IDS} comma-separated product ids."
        )));
    }
    let principal = app.optional_principal(request)?;
    let products = app.run(request, |ports| {
        get_products(ports, principal.as_ref(), &ids)
    })?;
    HttpResponse::json(
        200,
        &ProductList {
            items: products.iter().map(ProductView::from).collect(),
            next_cursor: None,
        },
    )
}

/// `GET /v1/products`: a page of active products, `{items, next_cursor}`; with `ids`, the
/// batch read above.
pub fn list(request: &HttpRequest, app: &App) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&request.query, LIST_PARAMS)?;
    if let Some(ids) = query.get("ids") {
        return batch(request, app, &query, ids);
    }
    let limit = query
        .non_negative("limit")?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let params = SearchParams {
        q: query.get("q").map(str::to_owned),
        category_id: id_param(&query, "category")?,
        seller_id: id_param(&query, "seller")?,
        min_price: query.non_negative("min_price")?,
        max_price: query.non_negative("max_price")?,
        currency: query
            .get("currency")
            .map(|c| Currency::parse(c).map_err(|_| bad("`currency` must be an ISO 4217 code.")))
            .transpose()?,
        sort: query
            .get("sort")
            .map(|s| {
                Sort::parse(s).ok_or_else(|| {
                    bad("`sort` must be relevance, price, -price, newest or bestselling.")
                })
            })
            .transpose()?,
        limit: page_size(limit),
    };
    let search = ProductSearch::parse(params).map_err(CatalogError::from)?;
    let page = app.run(request, |ports| {
        list_products(ports, &app.settings.cursors, search, query.get("cursor"))
    })?;
    HttpResponse::json(
        200,
        &ProductList {
            items: page.items.iter().map(ProductView::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}
