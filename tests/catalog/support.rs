//! Typed helpers for the catalog API tests: actors with tokens from identity, categories and
//! products through the public API, reservations through the internal API. Registration, sign-in
//! and [`Actor`] come from the shared `tests/support/`.
//!
//! Internal routes are private in `spin.toml` (only service chaining reaches them), so most
//! tests serve a copy of `spin.toml` whose only change is a public `/internal/...` route for
//! `catalog-internal` ([`exposed_manifest`]); the component, its variables and its service
//! credential check are the real ones. `internal.rs` proves the real manifest keeps them private.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};
use shopnow_testkit::{SpawnOptions, TestApp, repo_root};

#[macro_use]
#[path = "../support/mod.rs"]
mod shared;
pub use shared::*;

/// The service credential configured by [`options`].
pub const SERVICE_TOKEN: &str = "test-catalog-service-token";
/// The admin address configured by [`options`] (prefixed per app to keep Redis data apart).
pub const ADMIN_LOCAL: &str = "catalog-admin";

/// `spin.toml` with `catalog-internal` on a public `/internal/...` route, written once per test
/// process under `target/`.
pub fn exposed_manifest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = repo_root();
        let text = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
        let private = "route = { private = true }\ncomponent = \"catalog-internal\"";
        assert!(
            text.contains(private),
            "spin.toml no longer has the private catalog-internal trigger"
        );
        let target = root.join("target");
        let exposed = text
            .replace(
                private,
                "route = \"/internal/...\"\ncomponent = \"catalog-internal\"",
            )
            .replace(
                "source = \"target/",
                &format!("source = \"{}/", target.display()),
            );
        let dir = target.join("catalog-api-tests");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(format!("spin.exposed-internal.{}.toml", std::process::id()));
        std::fs::write(&path, exposed).expect("write manifest");
        path
    })
    .clone()
}

/// The options every catalog test starts from: the exposed manifest, an admin bootstrap
/// address and a known service credential. The suite plays orders' part on the reservation
/// routes, so the holds it leaves are its own subject, not a checkout's leftovers.
pub fn options() -> SpawnOptions {
    SpawnOptions::default()
        .allow_leftovers("the catalog suite holds stock itself to test reservations")
        .manifest(exposed_manifest())
        .variable(
            "identity_admin_emails",
            &format!("{ADMIN_LOCAL}@example.com"),
        )
        .variable("catalog_service_tokens", SERVICE_TOKEN)
}

/// Runs a test on both backends with `options()` plus extra variables.
macro_rules! catalog_test {
    (async fn $name:ident($app:ident) $body:block) => {
        catalog_test!([], async fn $name($app) $body);
    };
    ([$(($var:expr, $value:expr)),*], async fn $name:ident($app:ident) $body:block) => {
        api_test_with!(
            $crate::support::options()$(.variable($var, $value))*,
            async fn $name($app) $body
        );
    };
}

/// Everyone a test needs.
#[derive(Debug, Clone)]
pub struct Actors {
    pub admin: Actor,
    pub seller: Actor,
    pub other_seller: Actor,
    pub customer: Actor,
}

/// An admin, two sellers and a customer.
pub async fn actors(app: &TestApp) -> Actors {
    Actors {
        admin: sign_up(app, &format!("{ADMIN_LOCAL}@example.com"), "customer").await,
        seller: sign_up(app, &unique_email("seller"), "seller").await,
        other_seller: sign_up(app, &unique_email("other-seller"), "seller").await,
        customer: sign_up(app, &unique_email("customer"), "customer").await,
    }
}

/// A unique category slug.
pub fn slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Creates a category as `admin`; returns its id.
pub async fn category(app: &TestApp, admin: &Actor, parent: Option<&str>) -> String {
    let resp = app
        .post("/v1/categories")
        .header("authorization", admin.bearer())
        .json(&json!({"slug": slug("cat"), "name": "Lighting", "parent_id": parent}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "category: {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A product body.
pub fn product_body(category_id: &str, title: &str, amount: i64, on_hand: i64) -> Value {
    json!({
        "title": title,
        "description": format!("{title}, described."),
        "category_id": category_id,
        "price": {"amount": amount, "currency": "EUR"},
        "attributes": {"colour": "brass", "watts": 40, "dimmable": true},
        "stock": {"on_hand": on_hand},
    })
}

/// `POST /v1/products` as `who` with `body`.
pub async fn post_product(app: &TestApp, who: &Actor, body: &Value) -> reqwest::Response {
    app.post("/v1/products")
        .header("authorization", who.bearer())
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Creates a product as `seller`; returns its body.
pub async fn product(
    app: &TestApp,
    seller: &Actor,
    category_id: &str,
    title: &str,
    amount: i64,
    on_hand: i64,
) -> Value {
    let resp = post_product(
        app,
        seller,
        &product_body(category_id, title, amount, on_hand),
    )
    .await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "product: {body}");
    body
}

/// `GET /v1/products/{id}` as `who` (anonymous when `None`).
pub async fn get_product(app: &TestApp, id: &str, who: Option<&Actor>) -> reqwest::Response {
    let mut req = app.get(&format!("/v1/products/{id}"));
    if let Some(who) = who {
        req = req.header("authorization", who.bearer());
    }
    req.send().await.unwrap()
}

/// The product's JSON as `who` sees it; asserts 200.
pub async fn product_json(app: &TestApp, id: &str, who: Option<&Actor>) -> Value {
    let resp = get_product(app, id, who).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// `PUT /v1/products/{id}/stock`.
pub async fn put_stock(app: &TestApp, id: &str, who: &Actor, on_hand: i64) -> reqwest::Response {
    app.put(&format!("/v1/products/{id}/stock"))
        .header("authorization", who.bearer())
        .json(&json!({"on_hand": on_hand}))
        .send()
        .await
        .unwrap()
}

/// `POST /internal/v1/reservations` with the service credential.
pub async fn reserve(app: &TestApp, order_id: &str, items: &[(&str, u32)]) -> reqwest::Response {
    let items: Vec<Value> = items
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q}))
        .collect();
    app.post("/internal/v1/reservations")
        .header("authorization", format!("Service {SERVICE_TOKEN}"))
        .json(&json!({"order_id": order_id, "items": items}))
        .send()
        .await
        .unwrap()
}

/// `POST /internal/v1/reservations/{order}/commit` with the service credential.
pub async fn commit(app: &TestApp, order_id: &str) -> reqwest::Response {
    app.post(&format!("/internal/v1/reservations/{order_id}/commit"))
        .header("authorization", format!("Service {SERVICE_TOKEN}"))
        .send()
        .await
        .unwrap()
}

/// `DELETE /internal/v1/reservations/{order}` with the service credential.
pub async fn release(app: &TestApp, order_id: &str) -> reqwest::Response {
    app.delete(&format!("/internal/v1/reservations/{order_id}"))
        .header("authorization", format!("Service {SERVICE_TOKEN}"))
        .send()
        .await
        .unwrap()
}

/// The product's `stock` object as its seller sees it.
pub async fn stock_of(app: &TestApp, id: &str, seller: &Actor) -> Value {
    product_json(app, id, Some(seller)).await["stock"].clone()
}

/// A fresh order id.
pub fn order_id() -> String {
    format!("order-{}", uuid::Uuid::new_v4().simple())
}
