//! The demo-catalog generator behind `shopnow-catalog-seed`: deterministic (a seeded xorshift,
//! so the same seed gives the same catalog), and entirely through the public API, so seeded data
//! passes the same validation as a seller's. A native tool; never a dependency of a component.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// What to seed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Base URL of the application.
    pub base_url: String,
    /// Admin address (listed in `identity_admin_emails`).
    pub admin_email: String,
    /// Password for every registered account.
    pub password: String,
    /// Sellers to register.
    pub sellers: usize,
    /// Products to create.
    pub products: usize,
    /// Requests in flight.
    pub concurrency: usize,
    /// Generator seed.
    pub seed: u64,
}

/// What was seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Categories available (created now or found).
    pub categories: usize,
    /// Sellers signed in.
    pub sellers: usize,
    /// Products created.
    pub products: usize,
}

/// The category tree: `(slug, name, parent slug)`, parents first.
pub const CATEGORIES: &[(&str, &str, Option<&str>)] = &[
    ("home", "Home", None),
    ("lighting", "Lighting", Some("home")),
    ("lamps", "Lamps", Some("lighting")),
    ("ceiling-lights", "Ceiling lights", Some("lighting")),
    ("furniture", "Furniture", Some("home")),
    ("chairs", "Chairs", Some("furniture")),
    ("tables", "Tables", Some("furniture")),
    ("kitchen", "Kitchen", Some("home")),
    ("cookware", "Cookware", Some("kitchen")),
    ("tableware", "Tableware", Some("kitchen")),
    ("garden", "Garden", None),
    ("garden-tools", "Garden tools", Some("garden")),
    ("outdoor-furniture", "Outdoor furniture", Some("garden")),
    ("electronics", "Electronics", None),
    ("audio", "Audio", Some("electronics")),
    ("cables", "Cables and chargers", Some("electronics")),
];

/// Nouns per leaf category, with a price range in cents.
const LEAVES: &[(&str, &[&str], i64, i64)] = &[
    (
        "lamps",
        &[
            "desk lamp",
            "floor lamp",
            "reading lamp",
            "bedside lamp",
            "table lamp",
        ],
        1999,
        24999,
    ),
    (
        "ceiling-lights",
        &[
            "pendant light",
            "chandelier",
            "flush mount light",
            "track light",
        ],
        2999,
        49999,
    ),
    (
        "chairs",
        &[
            "dining chair",
            "armchair",
            "office chair",
            "bar stool",
            "rocking chair",
        ],
        3999,
        59999,
    ),
    (
        "tables",
        &[
            "dining table",
            "coffee table",
            "side table",
            "desk",
            "console table",
        ],
        4999,
        129999,
    ),
    (
        "cookware",
        &[
            "frying pan",
            "saucepan",
            "stock pot",
            "wok",
            "dutch oven",
            "roasting tin",
        ],
        1499,
        29999,
    ),
    (
        "tableware",
        &[
            "dinner plate set",
            "mug",
            "serving bowl",
            "glass set",
            "cutlery set",
        ],
        599,
        14999,
    ),
    (
        "garden-tools",
        &[
            "spade",
            "pruning shears",
            "rake",
            "watering can",
            "hose reel",
        ],
        999,
        8999,
    ),
    (
        "outdoor-furniture",
        &[
            "garden bench",
            "lounger",
            "patio table",
            "parasol",
            "hammock",
        ],
        4999,
        89999,
    ),
    (
        "audio",
        &[
            "bluetooth speaker",
            "headphones",
            "soundbar",
            "turntable",
            "earbuds",
        ],
        1999,
        59999,
    ),
    (
        "cables",
        &[
            "usb-c cable",
            "wall charger",
            "hdmi cable",
            "power bank",
            "charging dock",
        ],
        499,
        7999,
    ),
];

const FALLBACK_LEAF: (&str, &[&str], i64, i64) = ("lamps", &["lamp"], 1999, 24999);

const ADJECTIVES: &[&str] = &[
    "Classic",
    "Modern",
    "Compact",
    "Vintage",
    "Nordic",
    "Industrial",
    "Handmade",
    "Premium",
    "Minimal",
    "Rustic",
    "Foldable",
    "Heavy-duty",
    "Slim",
    "Cordless",
    "Stackable",
];
const MATERIALS: &[&str] = &[
    "brass",
    "oak",
    "walnut",
    "steel",
    "cast iron",
    "ceramic",
    "bamboo",
    "linen",
    "glass",
    "aluminium",
    "copper",
    "rattan",
    "marble",
    "recycled plastic",
];
const COLOURS: &[&str] = &[
    "black", "white", "grey", "green", "blue", "natural", "red", "sand",
];

/// Xorshift64*: small, deterministic, good enough for demo data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0 is replaced: xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// An element of `items` (non-empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi.saturating_sub(lo).max(0)).unwrap_or(0) + 1;
        lo + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }
}

/// The body of product number `n` in category `category_id`, of the kind `LEAVES[leaf]`.
pub fn product_body(rng: &mut Rng, category_id: &str, leaf: usize, n: usize) -> Value {
    let &(_, nouns, lo, hi) = LEAVES.get(leaf % LEAVES.len()).unwrap_or(&FALLBACK_LEAF);
    let adjective = rng.pick(ADJECTIVES).copied().unwrap_or("Classic");
    let material = rng.pick(MATERIALS).copied().unwrap_or("oak");
    let noun = rng.pick(nouns).copied().unwrap_or("item");
    let colour = rng.pick(COLOURS).copied().unwrap_or("black");
    // Prices end in 9 or 5 like real ones; stock is mostly modest with a few deep lines.
    let amount = (rng.between(lo, hi) / 10) * 10 + if rng.below(2) == 0 { 9 } else { 5 };
    let on_hand = match rng.below(10) {
        0 => 0,
        1 => rng.between(200, 2000),
        _ => rng.between(1, 60),
    };
    json!({
        "title": format!("{adjective} {material} {noun}"),
        "description": format!(
            "A {} {noun} in {material}, finished in {colour}. Item {n}: sturdy, easy to clean \
             and covered by a two-year warranty.",
            adjective.to_lowercase()
        ),
        "category_id": category_id,
        "price": {"amount": amount, "currency": "EUR"},
        "attributes": {
            "colour": colour,
            "material": material,
            "weight_kg": rng.between(1, 400) as f64 / 10.0,
            "in_gift_box": rng.below(4) == 0,
        },
        "stock": {"on_hand": on_hand},
    })
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Registers `email` (or finds it registered) and returns an access token.
    async fn account(&self, email: &str, password: &str, role: &str) -> anyhow::Result<String> {
        let (status, body) = self
            .post(
                "/v1/users",
                None,
                &json!({"email": email, "password": password, "display_name": "Seed", "role": role}),
            )
            .await?;
        if status != 201 && status != 409 {
            bail!("registering {email}: {status} {body}");
        }
        let (status, body) = self
            .post(
                "/v1/auth/token",
                None,
                &json!({"email": email, "password": password}),
            )
            .await?;
        match body.get("access_token").and_then(Value::as_str) {
            Some(token) if status == 200 => Ok(token.to_owned()),
            _ => bail!("signing in {email}: {status} {body}"),
        }
    }
}

/// Seeds the catalog as `plan` says.
///
/// # Errors
/// When the application is unreachable, the admin is not an admin, or any request fails.
pub async fn seed(plan: &Plan) -> anyhow::Result<Summary> {
    let api = Arc::new(Api {
        http: reqwest::Client::builder().no_proxy().build()?,
        base: plan.base_url.clone(),
    });
    let admin = api
        .account(&plan.admin_email, &plan.password, "customer")
        .await?;

    // Categories: create the tree; on a second run the slugs exist, so read them back.
    let mut ids: Vec<(String, String)> = Vec::new();
    let existing = api
        .http
        .get(api.url("/v1/categories"))
        .send()
        .await?
        .json::<Value>()
        .await?;
    for (slug, name, parent) in CATEGORIES {
        let known = |slug: &str| -> Option<String> {
            existing
                .get("items")?
                .as_array()?
                .iter()
                .find(|c| c["slug"] == slug)?["id"]
                .as_str()
                .map(str::to_owned)
        };
        if let Some(id) = known(slug) {
            ids.push(((*slug).to_owned(), id));
            continue;
        }
        let parent_id =
            parent.and_then(|p| ids.iter().find(|(s, _)| s == p).map(|(_, id)| id.clone()));
        let (status, body) = api
            .post(
                "/v1/categories",
                Some(&admin),
                &json!({"slug": slug, "name": name, "parent_id": parent_id}),
            )
            .await?;
        if status != 201 {
            bail!(
                "creating category {slug}: {status} {body} (is {} in identity_admin_emails?)",
                plan.admin_email
            );
        }
        let id = body
            .get("id")
            .and_then(Value::as_str)
            .context("category id")?
            .to_owned();
        ids.push(((*slug).to_owned(), id));
    }
    // (index into LEAVES, category id) of every leaf category.
    let leaves: Vec<(usize, String)> = LEAVES
        .iter()
        .enumerate()
        .filter_map(|(i, (slug, ..))| {
            ids.iter()
                .find(|(s, _)| s == slug)
                .map(|(_, id)| (i, id.clone()))
        })
        .collect();

    let mut sellers = Vec::new();
    let host = plan
        .admin_email
        .rsplit('@')
        .next()
        .unwrap_or("example.com")
        .to_owned();
    for i in 0..plan.sellers.max(1) {
        sellers.push(
            api.account(&format!("seller-{i}@{host}"), &plan.password, "seller")
                .await?,
        );
    }

    let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut rng = Rng::new(plan.seed);
    let mut tasks = Vec::with_capacity(plan.products);
    for n in 0..plan.products {
        let (kind, category) = rng.pick(&leaves).context("no leaf categories")?.clone();
        let body = product_body(&mut rng, &category, kind, n);
        let token = sellers
            .get(n % sellers.len())
            .context("no sellers")?
            .clone();
        let (api, gate) = (api.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let (status, body) = api.post("/v1/products", Some(&token), &body).await?;
            if status != 201 {
                bail!("creating product {n}: {status} {body}");
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(Summary {
        categories: ids.len(),
        sellers: sellers.len(),
        products: plan.products,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_products() {
        let a = product_body(&mut Rng::new(7), "c", 0, 1);
        let b = product_body(&mut Rng::new(7), "c", 0, 1);
        assert_eq!(a, b);
        assert_ne!(a, product_body(&mut Rng::new(8), "c", 0, 1));
    }

    #[test]
    fn generated_products_are_within_the_api_limits() {
        let mut rng = Rng::new(1);
        for n in 0..500 {
            let body = product_body(&mut rng, "c", n, n);
            let title = body["title"].as_str().unwrap_or_default();
            assert!(!title.is_empty() && title.chars().count() <= 200, "{title}");
            let amount = body["price"]["amount"].as_i64().unwrap_or(0);
            assert!(amount > 0);
            let on_hand = body["stock"]["on_hand"].as_i64().unwrap_or(-1);
            assert!((0..=2000).contains(&on_hand));
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        for (i, (_, _, parent)) in CATEGORIES.iter().enumerate() {
            if let Some(parent) = parent {
                assert!(CATEGORIES.iter().take(i).any(|(slug, ..)| slug == parent));
            }
        }
        assert!(CATEGORIES.len() >= 10);
    }
}
