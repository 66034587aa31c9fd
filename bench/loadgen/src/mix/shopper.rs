//! The shopper mix: what a marketplace's customers do, over a seeded catalog
//! (`shopnow-catalog-seed --products N`). Setup reads the categories and the products (titles give
//! the search terms; products with deep stock take the checkouts), then signs up (or reuses)
//! `--users` customers concurrently and signs each in for a real access token. The load phase sends
//!
//! | kind | weight | request |
//! | --- | --- | --- |
//! | `search` | 40 | `GET /v1/products?q=<one or two words of a real title>&limit=20` |
//! | `browse` | 20 | `GET /v1/products?category=<id>&limit=20` |
//! | `product` | 20 | `GET /v1/products/{id}` |
//! | `cart.put` | 5 | `PUT /v1/cart/items/{id}` `{quantity: 1..=3}` (bearer) |
//! | `cart.get` | 5 | `GET /v1/cart` (bearer; the orders service prices it through the catalog) |
//! | `checkout` | 4 | `POST /v1/orders` one deep-stock item, `tok_ok`, a fresh `Idempotency-Key` (bearer) |
//! | `orders` | 3 | `GET /v1/orders?limit=20` (bearer) |
//! | `sign-in` | 3 | `POST /v1/auth/token` (argon2id on the server) |
//!
//! Cart puts pick from a fixed slate of [`CART_SLATE`] products per user, so a cart never grows
//! past that many lines however long the runs: `cart.get` costs the same in the first run and the
//! hundredth. Checkouts send explicit `items` (not the cart), so they leave the cart as it is, and
//! pick only products with at least [`DEEP_STOCK`] units available so they succeed. Idempotency
//! keys carry a per-process nonce: two runs with the same `--seed` never replay each other's
//! orders.
//!
//! Wire shapes live here in one place; a change of the public API is a change here.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Kind, Template, Workload};
use crate::client::{Body, SetupClient};
use crate::rng::Rng;
use crate::target::Target;

const SIGN_UP_PATH: &str = "/v1/users";
const SIGN_IN_PATH: &str = "/v1/auth/token";
const CATEGORIES_PATH: &str = "/v1/categories";
pub(crate) const PRODUCTS_PATH: &str = "/v1/products";
const CART_PATH: &str = "/v1/cart";
const ORDERS_PATH: &str = "/v1/orders";

/// Kind indexes, in [`ShopperMix::kinds`] order.
const SEARCH: usize = 0;
const BROWSE: usize = 1;
const PRODUCT: usize = 2;
const CART_PUT: usize = 3;
const CART_GET: usize = 4;
const CHECKOUT: usize = 5;
const ORDERS: usize = 6;
const SIGN_IN: usize = 7;

/// Products per user that cart puts choose from.
const CART_SLATE: usize = 5;
/// A checkout product has at least this many units available at setup.
const DEEP_STOCK: i64 = 100;
/// Products read at most in setup (pages of 100).
const MAX_PRODUCTS: usize = 100_000;

/// Not a secret: benchmark accounts exist only in throwaway test-host state.
pub(crate) const PASSWORD: &str = "bench-password-0123456789";

pub(crate) fn email(i: u32) -> String {
    format!("bench-shopper-{i}@example.com")
}

/// What setup learnt, for the report.
#[derive(Debug, Clone, Copy)]
struct SetupTimes {
    catalog_s: f64,
    users_s: f64,
}

/// One customer's prepared requests.
#[derive(Debug)]
struct Shopper {
    sign_in: Template,
    cart_get: Template,
    orders: Template,
    bearer: String,
    /// Indexes into `products` for cart puts.
    slate: [usize; CART_SLATE],
}

/// The shopper mix, ready to run.
#[derive(Debug)]
pub(crate) struct ShopperMix {
    kinds: Vec<Kind>,
    target: Target,
    shoppers: Vec<Shopper>,
    products: Vec<String>,
    deep: Vec<String>,
    categories: Vec<String>,
    terms: Vec<String>,
    nonce: u64,
    times: SetupTimes,
}

/// Every item of a paged `{items, next_cursor}` listing body, plus the cursor.
pub(crate) fn page(body: &[u8]) -> anyhow::Result<(Vec<Value>, Option<String>)> {
    let mut value: Value = serde_json::from_slice(body).context("listing answered non-JSON")?;
    let cursor = value
        .get("next_cursor")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match value.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Ok((items, cursor)),
        _ => bail!("listing has no items array"),
    }
}

/// Percent-encodes a query value (letters, digits and `-._~` pass; a space is `%20`).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Search terms from product titles: each distinct word of four letters or more, and each
/// title's last two words (`oak chair`), lowercased, letters only.
pub(crate) fn terms_from(titles: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for title in titles {
        let words: Vec<String> = title
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|w| w.chars().all(char::is_alphabetic))
            .collect();
        terms.extend(words.iter().filter(|w| w.len() >= 4).cloned());
        if let [.., a, b] = words.as_slice() {
            terms.push(format!("{a} {b}"));
        }
    }
    terms.sort();
    terms.dedup();
    terms
}

/// The access token in a sign-in response.
fn access_token(body: &[u8]) -> anyhow::Result<String> {
    let value: Value = serde_json::from_slice(body).context("sign-in answered non-JSON")?;
    match value.get("access_token").and_then(Value::as_str) {
        Some(token) => Ok(token.to_owned()),
        None => bail!("sign-in response has no access_token string"),
    }
}

/// What setup reads of the catalog: every product id, those with [`DEEP_STOCK`] units
/// available, and the titles (search terms come from them).
pub(crate) struct CatalogSample {
    pub(crate) products: Vec<String>,
    pub(crate) deep: Vec<String>,
    pub(crate) titles: Vec<String>,
}

/// Reads the newest products, pages of 100, until `max` or the end.
///
/// Fails when a listing request fails or answers something that is not a listing.
pub(crate) async fn read_products(
    client: &mut SetupClient,
    max: usize,
) -> anyhow::Result<CatalogSample> {
    let target = client.target().clone();
    let mut sample = CatalogSample {
        products: Vec::new(),
        deep: Vec::new(),
        titles: Vec::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{PRODUCTS_PATH}?limit=100&cursor={}", encode(c)),
            None => format!("{PRODUCTS_PATH}?limit=100"),
        };
        let request = Template::new(&target, Method::GET, &path)?.build()?;
        let (_, body) = client.expect(request, &[StatusCode::OK]).await?;
        let (items, next) = page(&body)?;
        for item in &items {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            let available = item
                .pointer("/stock/available")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if available >= DEEP_STOCK {
                sample.deep.push(id.to_owned());
            }
            sample.products.push(id.to_owned());
            if let Some(title) = item.get("title").and_then(Value::as_str) {
                sample.titles.push(title.to_owned());
            }
        }
        cursor = next;
        if cursor.is_none() || sample.products.len() >= max {
            return Ok(sample);
        }
    }
}

/// Signs up (or reuses) customer `i` and signs in: its sign-in template and bearer token.
pub(crate) async fn enrol(client: &mut SetupClient, i: u32) -> anyhow::Result<(Template, String)> {
    let target = client.target().clone();
    let email = email(i);
    let sign_up = Template::new(&target, Method::POST, SIGN_UP_PATH)?.json(&json!({
        "email": email, "password": PASSWORD, "display_name": format!("Bench Shopper {i}")
    }))?;
    client
        .expect(
            sign_up.build()?,
            &[StatusCode::CREATED, StatusCode::CONFLICT],
        )
        .await
        .with_context(|| format!("cannot sign up {email}"))?;
    let sign_in = Template::new(&target, Method::POST, SIGN_IN_PATH)?
        .json(&json!({ "email": email, "password": PASSWORD }))?;
    let (_, body) = client
        .expect(sign_in.build()?, &[StatusCode::OK])
        .await
        .with_context(|| format!("cannot sign in {email}"))?;
    Ok((sign_in, access_token(&body)?))
}

impl ShopperMix {
    /// Reads the catalog, then enrols `users` customers with `concurrency` setup connections.
    ///
    /// Fails when the catalog has no categories, no products or no product with deep stock
    /// (seed one first), or when a sign-up or sign-in fails.
    pub(crate) async fn setup(
        client: &mut SetupClient,
        users: u32,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        if users == 0 {
            bail!("--users must be at least 1");
        }
        let target = client.target().clone();
        let started = Instant::now();

        let categories_request = Template::new(&target, Method::GET, CATEGORIES_PATH)?.build()?;
        let (_, body) = client.expect(categories_request, &[StatusCode::OK]).await?;
        let (items, _) = page(&body)?;
        let categories: Vec<String> = items
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();

        let CatalogSample {
            products,
            deep,
            titles,
        } = read_products(client, MAX_PRODUCTS).await?;
        if categories.is_empty() || products.is_empty() || deep.is_empty() {
            bail!(
                "the catalog has {} categories, {} products, {} with {DEEP_STOCK}+ units: seed it \
                 first (shopnow-catalog-seed --products 10000)",
                categories.len(),
                products.len(),
                deep.len()
            );
        }
        let terms = terms_from(&titles);
        let catalog_s = started.elapsed().as_secs_f64();

        // Sign-ups and sign-ins hash passwords (tens of ms each by design): run them on
        // `concurrency` connections at once, each taking the next user number.
        let started = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let mut tasks = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let next = next.clone();
            let mut client = SetupClient::new(target.clone(), super::SETUP_TIMEOUT);
            tasks.spawn(async move {
                let mut enrolled = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= users {
                        break;
                    }
                    enrolled.push((i, enrol(&mut client, i).await?));
                }
                anyhow::Ok(enrolled)
            });
        }
        let mut enrolled = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            enrolled.extend(joined.context("a setup task panicked")??);
        }
        enrolled.sort_by_key(|(i, _)| *i);
        let users_s = started.elapsed().as_secs_f64();

        let mut shoppers = Vec::with_capacity(enrolled.len());
        for (i, (sign_in, token)) in enrolled {
            let bearer = format!("Bearer {token}");
            let slate = std::array::from_fn(|k| {
                (i as usize * CART_SLATE + k * 7919) % products.len().max(1)
            });
            shoppers.push(Shopper {
                sign_in,
                cart_get: Template::new(&target, Method::GET, CART_PATH)?
                    .header("authorization", &bearer)?,
                orders: Template::new(&target, Method::GET, &format!("{ORDERS_PATH}?limit=20"))?
                    .header("authorization", &bearer)?,
                bearer,
                slate,
            });
        }
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(Self {
            kinds: vec![
                Kind::new("search", 40),
                Kind::new("browse", 20),
                Kind::new("product", 20),
                Kind::new("cart.put", 5),
                Kind::new("cart.get", 5),
                Kind::new("checkout", 4),
                Kind::new("orders", 3),
                Kind::new("sign-in", 3),
            ],
            target,
            shoppers,
            products,
            deep,
            categories,
            terms,
            nonce,
            times: SetupTimes { catalog_s, users_s },
        })
    }

    fn shopper(&self, rng: &mut Rng) -> anyhow::Result<&Shopper> {
        pick(&self.shoppers, rng).context("no benchmark shopper")
    }

    fn get(&self, path: &str) -> anyhow::Result<Request<Body>> {
        Template::new(&self.target, Method::GET, path)?.build()
    }
}

pub(crate) fn pick<'a, T>(items: &'a [T], rng: &mut Rng) -> Option<&'a T> {
    let i = usize::try_from(rng.below(items.len() as u64)).ok()?;
    items.get(i)
}

impl Workload for ShopperMix {
    fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    fn kinds_mut(&mut self) -> &mut [Kind] {
        &mut self.kinds
    }

    fn request(&self, kind: usize, rng: &mut Rng) -> anyhow::Result<Request<Body>> {
        match kind {
            SEARCH => {
                let term = pick(&self.terms, rng).context("no search term")?;
                self.get(&format!("{PRODUCTS_PATH}?q={}&limit=20", encode(term)))
            }
            BROWSE => {
                let category = pick(&self.categories, rng).context("no category")?;
                self.get(&format!("{PRODUCTS_PATH}?category={category}&limit=20"))
            }
            PRODUCT => {
                let id = pick(&self.products, rng).context("no product")?;
                self.get(&format!("{PRODUCTS_PATH}/{id}"))
            }
            CART_PUT => {
                let shopper = self.shopper(rng)?;
                let slot = pick(&shopper.slate, rng).context("empty slate")?;
                let id = self.products.get(*slot).context("slate out of range")?;
                let quantity = 1 + rng.below(3);
                Template::new(
                    &self.target,
                    Method::PUT,
                    &format!("{CART_PATH}/items/{id}"),
                )?
                .header("authorization", &shopper.bearer)?
                .json(&json!({ "quantity": quantity }))?
                .build()
            }
            CART_GET => self.shopper(rng)?.cart_get.build(),
            CHECKOUT => {
                let shopper = self.shopper(rng)?;
                let id = pick(&self.deep, rng).context("no deep-stock product")?;
                let key = format!(
                    "bench-{:016x}-{:016x}{:016x}",
                    self.nonce,
                    rng.next_u64(),
                    rng.next_u64()
                );
                let body = json!({
                    "items": [{ "product_id": id, "quantity": 1 }],
                    "shipping_address": {
                        "name": "Bench Shopper",
                        "line1": "1 Load Street",
                        "city": "Benchville",
                        "postal_code": "10115",
                        "country": "DE"
                    },
                    "payment": { "token": "tok_ok" }
                });
                Template::new(&self.target, Method::POST, ORDERS_PATH)?
                    .header("authorization", &shopper.bearer)?
                    .header("idempotency-key", &key)?
                    .json(&body)?
                    .build()
            }
            ORDERS => self.shopper(rng)?.orders.build(),
            SIGN_IN => self.shopper(rng)?.sign_in.build(),
            other => bail!("shopper mix has no kind {other}"),
        }
    }

    fn describe(&self) -> String {
        format!(
            "shopper mix over {} users, {} products ({} with {DEEP_STOCK}+ units for checkout), \
             {} categories, {} search terms; setup {:.1} s reading the catalog + {:.1} s \
             enrolling users",
            self.shoppers.len(),
            self.products.len(),
            self.deep.len(),
            self.categories.len(),
            self.terms.len(),
            self.times.catalog_s,
            self.times.users_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_come_from_titles() {
        let terms = terms_from(&["Sturdy oak chair".to_owned(), "Red lamp".to_owned()]);
        assert!(terms.contains(&"sturdy".to_owned()));
        assert!(terms.contains(&"chair".to_owned()));
        assert!(terms.contains(&"oak chair".to_owned()));
        assert!(terms.contains(&"lamp".to_owned()));
        assert!(terms.contains(&"red lamp".to_owned()));
        assert!(!terms.contains(&"red".to_owned()));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("oak chair"), "oak%20chair");
        assert_eq!(encode("a+b/c"), "a%2Bb%2Fc");
    }

    #[test]
    fn listings_parse() {
        let (items, cursor) = page(br#"{"items":[{"id":"a"}],"next_cursor":"x"}"#).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(cursor.as_deref(), Some("x"));
        assert!(page(b"{}").is_err());
    }

    #[test]
    fn checkout_bodies_carry_a_fresh_key_each() {
        let target = Target {
            url: "http://127.0.0.1:3000".to_owned(),
            authority: "127.0.0.1:3000".to_owned(),
            addr: "127.0.0.1:3000".parse().unwrap(),
        };
        let mix = ShopperMix {
            kinds: vec![],
            target: target.clone(),
            shoppers: vec![Shopper {
                sign_in: Template::new(&target, Method::POST, SIGN_IN_PATH).unwrap(),
                cart_get: Template::new(&target, Method::GET, CART_PATH).unwrap(),
                orders: Template::new(&target, Method::GET, ORDERS_PATH).unwrap(),
                bearer: "Bearer t".to_owned(),
                slate: [0; CART_SLATE],
            }],
            products: vec!["p".to_owned()],
            deep: vec!["d".to_owned()],
            categories: vec!["c".to_owned()],
            terms: vec!["oak".to_owned()],
            nonce: 1,
            times: SetupTimes {
                catalog_s: 0.0,
                users_s: 0.0,
            },
        };
        let mut rng = Rng::new(1);
        let a = mix.request(CHECKOUT, &mut rng).unwrap();
        let b = mix.request(CHECKOUT, &mut rng).unwrap();
        assert_ne!(
            a.headers()["idempotency-key"],
            b.headers()["idempotency-key"]
        );
        assert_eq!(a.headers()["authorization"], "Bearer t");
        let body = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(http_body_util::BodyExt::collect(a.into_body()))
            .unwrap()
            .to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["payment"]["token"], "tok_ok");
        assert_eq!(body["items"][0]["product_id"], "d");
    }
}
