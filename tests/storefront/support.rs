//! Helpers for the storefront tests: a cookie-keeping visitor that posts forms as a browser
//! would (no redirects followed, so each answer can be asserted), CSRF token extraction, and the
//! API-side arrangements (a category, a seller's product) the pages are tested against.

#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: not every test uses every helper, and they fail loudly"
)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};
use shopnow_testkit::{SpawnOptions, TestApp};

#[macro_use]
#[path = "../support/mod.rs"]
mod shared;
pub use shared::*;

/// The address identity makes an admin.
pub const ADMIN_EMAIL: &str = "shop-admin@example.com";

/// Spawn options of every storefront test.
pub fn options() -> SpawnOptions {
    SpawnOptions::default().variable("identity_admin_emails", ADMIN_EMAIL)
}

/// Runs a storefront test on every host and backend.
macro_rules! storefront_test {
    (async fn $name:ident($app:ident) $body:block) => {
        api_test_with!($crate::support::options(), async fn $name($app) $body);
    };
}

/// One answer of the storefront.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The redirect target.
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location on a {}: {}", self.status, excerpt(&self.body)))
    }

    /// The first form's CSRF token.
    pub fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in: {}", excerpt(&self.body)))
    }

    /// The value of the hidden field `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        attribute_after(&self.body, &format!("name=\"{name}\" value=\""))
    }

    /// Asserts an HTML page with `status`.
    pub fn assert_html(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", excerpt(&self.body));
        assert_eq!(
            self.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        self
    }
}

/// An attribute's value as a browser reads it (the HTML escapes decoded).
fn attribute_after(body: &str, prefix: &str) -> Option<String> {
    let start = body.find(prefix)? + prefix.len();
    let end = body[start..].find('"')?;
    Some(
        body[start..start + end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The first 600 characters of `text`, for assertion messages.
pub fn excerpt(text: &str) -> String {
    text.chars().take(600).collect()
}

/// A browser without JavaScript: keeps cookies, never follows redirects.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

impl Visitor {
    /// A new visitor of `app` with no cookies.
    pub fn new(app: &TestApp) -> Self {
        Self::from_address(app, "127.0.0.1")
    }

    /// A visitor whose connections come from `ip` (any loopback address: 127.0.0.2 is another
    /// client to the host).
    pub fn from_address(app: &TestApp, ip: &str) -> Self {
        Self {
            base: app.url(""),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
                .build()
                .expect("client"),
            jar: Mutex::new(BTreeMap::new()),
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().expect("jar");
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    /// Sets (or, with `None`, removes) a cookie as a browser holding it would send it.
    pub fn set_cookie(&self, name: &str, value: Option<&str>) {
        let mut jar = self.jar.lock().expect("jar");
        match value {
            Some(v) => jar.insert(name.to_owned(), v.to_owned()),
            None => jar.remove(name),
        };
    }

    async fn read(&self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        let page = Page {
            status,
            headers,
            body,
        };
        let mut jar = self.jar.lock().expect("jar");
        for line in page.set_cookies() {
            let pair = line.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if line.contains("Max-Age=0") || value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        self.read(response).await
    }

    /// `POST path` with exactly `fields` (no CSRF token added).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .expect("request");
        self.read(response).await
    }

    /// Opens `page`, then posts its form to `action` with its CSRF token and `fields`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(page).await.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in (as an unknown address) with an extra request header; the status.
    pub async fn client_with_header(&self, name: &str, value: &str) -> u16 {
        let token = self.get("/sign-in").await.csrf();
        let email = unique_email("nobody");
        let response = self
            .client
            .post(format!("{}/sign-in", self.base))
            .header("cookie", self.cookie_header())
            .header(name, value)
            .form(&[
                ("csrf", token.as_str()),
                ("email", email.as_str()),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("request");
        self.read(response).await.status
    }

    /// Creates an account through the sign-up page (signed in afterwards).
    pub async fn sign_up(&self, name: &str, email: &str, role: &str) {
        let page = self
            .submit(
                "/sign-up",
                "/sign-up",
                &[
                    ("display_name", name),
                    ("email", email),
                    ("password", PASSWORD),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "sign-up: {}", excerpt(&page.body));
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, email: &str) -> Page {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", PASSWORD)],
        )
        .await
    }
}

/// The session cookie's name on a loopback host.
pub const SESSION_COOKIE: &str = "shopnow_session";

/// A category created by the admin through the API.
pub async fn category(app: &TestApp, slug: &str) -> String {
    let admin = match post_token(app, ADMIN_EMAIL, PASSWORD)
        .await
        .status()
        .as_u16()
    {
        200 => sign_in(app, ADMIN_EMAIL, PASSWORD).await.access_token,
        _ => sign_up(app, ADMIN_EMAIL, "customer").await.token,
    };
    let response = app
        .post("/v1/categories")
        .header("authorization", bearer(&admin))
        .json(&json!({"slug": slug, "name": slug.replace('-', " ")}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 201);
    json_body(response).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// A product `title` by `seller` with `on_hand` units, through the API.
pub async fn product(
    app: &TestApp,
    seller: &Actor,
    category_id: &str,
    title: &str,
    on_hand: u32,
) -> Value {
    let response = app
        .post("/v1/products")
        .header("authorization", seller.bearer())
        .json(&json!({
            "title": title, "description": format!("{title}, made by hand"), "category_id": category_id,
            "price": {"amount": 2450, "currency": "EUR"}, "stock": {"on_hand": on_hand}
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 201);
    json_body(response).await
}

/// Places an order for `quantity` of `product_id` as `buyer`, through the API.
pub async fn order(app: &TestApp, buyer: &Actor, product_id: &str, quantity: u32) -> Value {
    let response = app
        .post("/v1/orders")
        .header("authorization", buyer.bearer())
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "items": [{"product_id": product_id, "quantity": quantity}],
            "shipping_address": {"name": "Bea", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "payment": {"token": "tok_ok"}
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 201);
    json_body(response).await
}

/// A category, a seller's product with `on_hand` units, and a buyer signed in to the storefront.
pub struct Shop {
    pub seller: Actor,
    pub product_id: String,
    pub buyer: Visitor,
}

/// Arranges a [`Shop`] in `app`.
pub async fn shop(app: &TestApp, on_hand: u32) -> Shop {
    let category = category(app, "lamps").await;
    let seller = sign_up(app, &unique_email("seller"), "seller").await;
    let product = product(app, &seller, &category, "Brass lamp", on_hand).await;
    let buyer = Visitor::new(app);
    buyer
        .sign_up("Bea", &unique_email("buyer"), "customer")
        .await;
    Shop {
        seller,
        product_id: product["id"].as_str().expect("id").to_owned(),
        buyer,
    }
}
