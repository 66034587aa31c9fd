//! The storefront mix: a shopper's page views through the storefront beside the API reads each
//! page wraps, in one run, so their latencies compare under the same load. Setup reads the
//! catalog (as the shopper mix does), enrols `--users` customers through the API, puts two
//! products in each cart, and signs each in **through the storefront's sign-in form** for a
//! session cookie. The load phase sends, with equal weights:
//!
//! | kind | request |
//! | --- | --- |
//! | `page.home` | `GET /` (anonymous: categories and the newest products) |
//! | `api.home` | `GET /v1/products?limit=12` (the product read the home page wraps) |
//! | `page.search` | `GET /search?q=<term>` |
//! | `api.search` | `GET /v1/products?q=<term>&limit=20` |
//! | `page.product` | `GET /products/{id}` |
//! | `api.product` | `GET /v1/products/{id}` |
//! | `page.cart` | `GET /cart` (the session cookie) |
//! | `api.cart` | `GET /v1/cart` (bearer) |
//!
//! So at `--rate 200` the storefront serves 100 pages/s. `--weight` isolates one kind for its
//! CPU per request (`bench/storefront.sh`).

use std::time::Instant;

use anyhow::{Context as _, bail};
use http::{Method, Request, StatusCode, header};
use serde_json::json;

use super::shopper::{
    CatalogSample, PRODUCTS_PATH, encode, enrol, pick, read_products, terms_from,
};
use super::{Kind, Template, Workload};
use crate::client::{Body, SetupClient};
use crate::rng::Rng;
use crate::target::Target;

const PAGE_HOME: usize = 0;
const API_HOME: usize = 1;
const PAGE_SEARCH: usize = 2;
const API_SEARCH: usize = 3;
const PAGE_PRODUCT: usize = 4;
const API_PRODUCT: usize = 5;
const PAGE_CART: usize = 6;
const API_CART: usize = 7;

/// Products read in setup (pages of 100): enough for varied product pages and search terms.
const SETUP_PRODUCTS: usize = 2_000;
/// Items each cart holds.
const CART_ITEMS: usize = 2;

/// One customer's prepared requests.
#[derive(Debug)]
struct Visitor {
    page_cart: Template,
    api_cart: Template,
}

/// The storefront mix, ready to run.
#[derive(Debug)]
pub(crate) struct StorefrontMix {
    kinds: Vec<Kind>,
    target: Target,
    visitors: Vec<Visitor>,
    products: Vec<String>,
    terms: Vec<String>,
    setup_s: f64,
}

/// The value of cookie `name` in a response's `Set-Cookie` headers.
fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| line.split(';').next()?.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// The CSRF token of the first form in an HTML page.
fn csrf_token(html: &[u8]) -> anyhow::Result<String> {
    let text = String::from_utf8_lossy(html);
    let marker = "name=\"csrf\" value=\"";
    let start = text.find(marker).context("the page has no CSRF field")? + marker.len();
    let end = text[start..].find('"').context("unterminated CSRF value")?;
    Ok(text[start..start + end].to_owned())
}

/// Signs `email` in through the storefront's form: the session cookie.
async fn storefront_session(
    client: &mut SetupClient,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let target = client.target().clone();
    let form = Template::new(&target, Method::GET, "/sign-in")?.build()?;
    let (status, headers, body) = client.send_full(form).await?;
    if status != StatusCode::OK {
        bail!("GET /sign-in answered {status}: is the storefront in this application?");
    }
    let binding = cookie(&headers, "shopnow_csrf").context("no shopnow_csrf cookie")?;
    let token = csrf_token(&body)?;
    let fields = format!(
        "csrf={}&email={}&password={}",
        encode(&token),
        encode(email),
        encode(password)
    );
    let post = Template::new(&target, Method::POST, "/sign-in")?
        .header("content-type", "application/x-www-form-urlencoded")?
        .header("cookie", &format!("shopnow_csrf={binding}"))?
        .body(fields.into())
        .build()?;
    let (status, headers, body) = client.send_full(post).await?;
    if status != StatusCode::SEE_OTHER {
        bail!(
            "POST /sign-in answered {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    cookie(&headers, "shopnow_session").context("sign-in set no shopnow_session cookie")
}

impl StorefrontMix {
    /// Reads the catalog, then enrols `users` customers with carts and storefront sessions.
    ///
    /// Fails when the catalog is empty or a setup request fails.
    pub(crate) async fn setup(client: &mut SetupClient, users: u32) -> anyhow::Result<Self> {
        if users == 0 {
            bail!("--users must be at least 1");
        }
        let target = client.target().clone();
        let started = Instant::now();
        let CatalogSample {
            products, titles, ..
        } = read_products(client, SETUP_PRODUCTS).await?;
        if products.len() < CART_ITEMS {
            bail!("the catalog has {} products: seed it first", products.len());
        }
        let terms = terms_from(&titles);
        let mut visitors = Vec::new();
        for i in 0..users {
            let (_, token) = enrol(client, i).await?;
            let bearer = format!("Bearer {token}");
            for k in 0..CART_ITEMS {
                let id = products
                    .get((i as usize * CART_ITEMS + k * 7919) % products.len())
                    .context("no product")?;
                let put = Template::new(&target, Method::PUT, &format!("/v1/cart/items/{id}"))?
                    .header("authorization", &bearer)?
                    .json(&json!({ "quantity": 1 }))?
                    .build()?;
                client.expect(put, &[StatusCode::OK]).await?;
            }
            let session =
                storefront_session(client, &super::shopper::email(i), super::shopper::PASSWORD)
                    .await?;
            visitors.push(Visitor {
                page_cart: Template::new(&target, Method::GET, "/cart")?
                    .header("cookie", &format!("shopnow_session={session}"))?,
                api_cart: Template::new(&target, Method::GET, "/v1/cart")?
                    .header("authorization", &bearer)?,
            });
        }
        Ok(Self {
            kinds: vec![
                Kind::new("page.home", 1),
                Kind::new("api.home", 1),
                Kind::new("page.search", 1),
                Kind::new("api.search", 1),
                Kind::new("page.product", 1),
                Kind::new("api.product", 1),
                Kind::new("page.cart", 1),
                Kind::new("api.cart", 1),
            ],
            target,
            visitors,
            products,
            terms,
            setup_s: started.elapsed().as_secs_f64(),
        })
    }

    fn get(&self, path: &str) -> anyhow::Result<Request<Body>> {
        Template::new(&self.target, Method::GET, path)?.build()
    }
}

impl Workload for StorefrontMix {
    fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    fn kinds_mut(&mut self) -> &mut [Kind] {
        &mut self.kinds
    }

    fn request(&self, kind: usize, rng: &mut Rng) -> anyhow::Result<Request<Body>> {
        match kind {
            PAGE_HOME => self.get("/"),
            API_HOME => self.get(&format!("{PRODUCTS_PATH}?limit=12")),
            PAGE_SEARCH | API_SEARCH => {
                let term = encode(pick(&self.terms, rng).context("no search term")?);
                if kind == PAGE_SEARCH {
                    self.get(&format!("/search?q={term}"))
                } else {
                    self.get(&format!("{PRODUCTS_PATH}?q={term}&limit=20"))
                }
            }
            PAGE_PRODUCT | API_PRODUCT => {
                let id = pick(&self.products, rng).context("no product")?;
                if kind == PAGE_PRODUCT {
                    self.get(&format!("/products/{id}"))
                } else {
                    self.get(&format!("{PRODUCTS_PATH}/{id}"))
                }
            }
            PAGE_CART => pick(&self.visitors, rng)
                .context("no visitor")?
                .page_cart
                .build(),
            API_CART => pick(&self.visitors, rng)
                .context("no visitor")?
                .api_cart
                .build(),
            other => bail!("storefront mix has no kind {other}"),
        }
    }

    fn describe(&self) -> String {
        format!(
            "storefront mix: pages beside the API reads they wrap, {} visitors with 2-item carts \
             and storefront sessions, {} products, {} search terms; setup {:.1} s",
            self.visitors.len(),
            self.products.len(),
            self.terms.len(),
            self.setup_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_csrf_tokens_are_read_from_responses() {
        let mut headers = http::HeaderMap::new();
        headers.append(header::SET_COOKIE, "a=1; Path=/".parse().unwrap());
        headers.append(
            header::SET_COOKIE,
            "shopnow_session=abc_-1; HttpOnly".parse().unwrap(),
        );
        assert_eq!(
            cookie(&headers, "shopnow_session").as_deref(),
            Some("abc_-1")
        );
        assert_eq!(cookie(&headers, "missing"), None);
        let html = br#"<form><input type="hidden" name="csrf" value="tok-1"></form>"#;
        assert_eq!(csrf_token(html).unwrap(), "tok-1");
        assert!(csrf_token(b"<p>no form</p>").is_err());
    }
}
