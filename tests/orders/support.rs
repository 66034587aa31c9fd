//! Typed helpers for the orders API tests: actors with access tokens, categories and products in
//! the catalog (its public API), stock levels, checkouts, the payment simulator's view of a
//! payment, and the sweep. Registration, sign-in and [`Actor`] come from the shared
//! `tests/support/`.
//!
//! Tokens are minted with the development signing key that `spin.toml` ships (its public half is
//! the default `jwt_public_keys`), as identity would issue them: the journey test registers real
//! users through identity; the others mint, because 30 argon2id registrations would dominate the
//! run time without testing anything about orders.

#![expect(
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use serde_json::{Value, json};
use shopnow_kernel::auth::{AccessClaims, Role, Roles};
use shopnow_testkit::{SpawnOptions, TestApp};

#[macro_use]
#[path = "../support/mod.rs"]
mod shared;
pub use shared::*;

/// `spin.toml`'s development signing key (public in the repository; never used outside dev).
pub const DEV_SEED: &str = "c2hvcG5vdy1ERVYtT05MWS1zaWduaW5nLWtleS0wMDE";
/// Its key id.
pub const DEV_KID: &str = "dev-1";
/// `spin.toml`'s default issuer and audience.
pub const DEV_ISSUER: &str = "https://identity.shopnow.dev";
pub const DEV_AUDIENCE: &str = "shopnow";
/// `spin.toml`'s development secret key of the payment simulator.
pub const SIM_KEY: &str = "sk_test_dev_only_payments_sim";
/// `spin.toml`'s development credential for orders' internal routes.
pub const ORDERS_SERVICE_TOKEN: &str = "dev-only-orders-service-token";

/// Spawn options for every orders test: outbound deadlines wide enough for a loaded 2-core CI
/// machine running API tests in parallel (the production defaults in `spin.toml` are 150 ms per
/// call and 250 ms per checkout, and a catalog answer took 163 ms under such load). Both stay well
/// under the payment simulator's 2 s `tok_slow`, so the deadline tests keep their meaning.
pub fn options() -> SpawnOptions {
    SpawnOptions::default()
        .variable("orders_call_timeout_ms", "1000")
        .variable("orders_checkout_budget_ms", "1200")
}

/// Runs a test on both backends with [`options`].
macro_rules! orders_test {
    (async fn $name:ident($app:ident) $body:block) => {
        api_test_with!($crate::support::options(), async fn $name($app) $body);
    };
}

/// A fresh user id and a token for it with `roles`.
pub fn mint(roles: &[Role]) -> Actor {
    let id = uuid::Uuid::new_v4().to_string();
    let roles: Roles = roles.iter().copied().collect();
    let token = sign_access_token(
        DEV_SEED,
        DEV_KID,
        DEV_ISSUER,
        DEV_AUDIENCE,
        &AccessClaims {
            subject: &id,
            roles: &roles,
            token_id: &uuid::Uuid::new_v4().to_string(),
            issued_at_ms: now_ms(),
            ttl_secs: 900,
        },
    );
    Actor { id, token }
}

pub fn customer() -> Actor {
    mint(&[Role::Customer])
}

pub fn seller() -> Actor {
    mint(&[Role::Seller])
}

pub fn admin() -> Actor {
    mint(&[Role::Customer, Role::Admin])
}

/// Creates a category as an admin; returns its id.
pub async fn category(app: &TestApp) -> String {
    let slug = format!("cat-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let resp = app
        .post("/v1/categories")
        .header("authorization", admin().bearer())
        .json(&json!({"slug": slug, "name": "Things"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "category: {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A catalog with one category, where sellers list products.
pub struct Shop {
    pub category: String,
}

impl Shop {
    pub async fn open(app: &TestApp) -> Self {
        Self {
            category: category(app).await,
        }
    }

    /// Lists a product as `seller` at `amount` minor units of `currency` with `on_hand` units;
    /// returns its id.
    pub async fn product_in(
        &self,
        app: &TestApp,
        seller: &Actor,
        title: &str,
        amount: i64,
        currency: &str,
        on_hand: i64,
    ) -> String {
        let resp = app
            .post("/v1/products")
            .header("authorization", seller.bearer())
            .json(&json!({
                "title": title,
                "description": format!("{title}, described."),
                "category_id": self.category,
                "price": {"amount": amount, "currency": currency},
                "attributes": {},
                "stock": {"on_hand": on_hand},
            }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "product: {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// [`Shop::product_in`] in EUR.
    pub async fn product(
        &self,
        app: &TestApp,
        seller: &Actor,
        title: &str,
        amount: i64,
        on_hand: i64,
    ) -> String {
        self.product_in(app, seller, title, amount, "EUR", on_hand)
            .await
    }
}

/// The usual two-seller shop: `s1` lists a lamp (1999 EUR minor units, 5 on hand), `s2` a rug
/// (5000, 3 on hand).
pub struct TwoSellers {
    pub shop: Shop,
    pub s1: Actor,
    pub s2: Actor,
    pub lamp: String,
    pub rug: String,
}

impl TwoSellers {
    pub async fn open(app: &TestApp) -> Self {
        let shop = Shop::open(app).await;
        let (s1, s2) = (seller(), seller());
        let lamp = shop.product(app, &s1, "Lamp", 1999, 5).await;
        let rug = shop.product(app, &s2, "Rug", 5000, 3).await;
        Self {
            shop,
            s1,
            s2,
            lamp,
            rug,
        }
    }
}

/// The product's stock as the public API shows it: `(on_hand, reserved, available)`.
pub async fn stock(app: &TestApp, product_id: &str) -> (i64, i64, i64) {
    let resp = app
        .get(&format!("/v1/products/{product_id}"))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let s = &body["stock"];
    (
        s["on_hand"]
            .as_i64()
            .unwrap_or_else(|| panic!("stock: {body}")),
        s["reserved"].as_i64().unwrap(),
        s["available"].as_i64().unwrap(),
    )
}

/// A shipping address.
pub fn address() -> Value {
    json!({
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    })
}

/// A checkout body for `items` (product id, quantity) paid with `token`.
pub fn checkout_body(items: &[(&str, u32)], token: &str) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q}))
        .collect();
    json!({"items": items, "shipping_address": address(), "payment": {"token": token}})
}

/// A cart checkout body paid with `token`.
pub fn cart_checkout_body(token: &str) -> Value {
    json!({"shipping_address": address(), "payment": {"token": token}})
}

/// A fresh idempotency key.
pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `POST /v1/orders` as `buyer` with `key` and `body`.
pub async fn post_order(
    app: &TestApp,
    buyer: &Actor,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.post("/v1/orders")
        .header("authorization", buyer.bearer())
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Checks out `items` with `token` under a fresh key; asserts 201 and returns the order.
pub async fn place(app: &TestApp, buyer: &Actor, items: &[(&str, u32)]) -> Value {
    let resp = post_order(app, buyer, &key(), &checkout_body(items, "tok_ok")).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "checkout: {body}");
    body
}

/// `PUT /v1/cart/items/{product}` as `who`.
pub async fn put_cart_item(
    app: &TestApp,
    who: &Actor,
    product: &str,
    quantity: i64,
) -> reqwest::Response {
    app.put(&format!("/v1/cart/items/{product}"))
        .header("authorization", who.bearer())
        .json(&json!({"quantity": quantity}))
        .send()
        .await
        .unwrap()
}

/// `GET` `path` as `who`, returning status and JSON body.
pub async fn get_json(app: &TestApp, who: &Actor, path: &str) -> (u16, Value) {
    let resp = app
        .get(path)
        .header("authorization", who.bearer())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST` `path` as `who` with an optional JSON body, returning status and JSON body.
pub async fn post_json(
    app: &TestApp,
    who: &Actor,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.post(path).header("authorization", who.bearer());
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The buyer's orders (first page).
pub async fn my_orders(app: &TestApp, buyer: &Actor) -> Vec<Value> {
    let (status, body) = get_json(app, buyer, "/v1/orders?limit=100").await;
    assert_eq!(status, 200, "orders: {body}");
    body["orders"].as_array().unwrap().clone()
}

/// The payment simulator's record for `order_id` (`None` when it has none).
pub async fn payment(app: &TestApp, order_id: &str) -> Option<Value> {
    let resp = app
        .get(&format!("/payments-sim/v1/authorizations/{order_id}"))
        .header("authorization", format!("Bearer {SIM_KEY}"))
        .send()
        .await
        .unwrap();
    match resp.status().as_u16() {
        200 => Some(resp.json().await.unwrap()),
        404 => None,
        other => panic!("payments-sim answered {other}"),
    }
}

/// `POST /internal/v1/orders/sweep` with the service credential; returns the report.
pub async fn sweep(app: &TestApp) -> Value {
    let resp = app
        .post("/internal/v1/orders/sweep")
        .header("authorization", format!("Service {ORDERS_SERVICE_TOKEN}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "sweep: {body}");
    body
}
