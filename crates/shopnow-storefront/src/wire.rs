//! The services' JSON as the storefront reads it. Lenient on purpose (unknown fields are
//! ignored): the services may add fields without breaking pages. Pure.

use serde::Deserialize;

/// Money in minor units.
#[derive(Debug, Clone, Deserialize)]
pub struct Money {
    /// Minor units.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl Money {
    /// As text (`12.50 EUR`).
    pub fn text(&self) -> String {
        crate::views::money(self.amount, &self.currency)
    }
}

/// Stock levels.
#[derive(Debug, Clone, Deserialize)]
pub struct Stock {
    /// Units on hand.
    pub on_hand: i64,
    /// Units that can be bought.
    pub available: i64,
}

/// A product.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    /// Id.
    pub id: String,
    /// Its seller.
    pub seller_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category_id: String,
    /// Price.
    pub price: Money,
    /// Flat attributes.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Stock.
    pub stock: Stock,
    /// `active` or `archived`.
    pub status: String,
    /// Edit counter.
    pub version: i64,
}

/// A page of products.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductPage {
    /// The products.
    pub items: Vec<Product>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// A category.
#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    /// Id.
    pub id: String,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Parent category.
    pub parent_id: Option<String>,
}

/// The category list.
#[derive(Debug, Clone, Deserialize)]
pub struct Categories {
    /// Every category by slug.
    pub items: Vec<Category>,
}

/// A user.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<String>,
}

/// A cart line.
#[derive(Debug, Clone, Deserialize)]
pub struct CartItem {
    /// Product.
    pub product_id: String,
    /// Units.
    pub quantity: i64,
    /// Current title (none when the catalog did not answer).
    pub title: Option<String>,
    /// Unit price.
    pub unit_price: Option<Money>,
    /// Line total.
    pub line_total: Option<Money>,
    /// `available`, `unavailable`, `unknown`.
    pub availability: String,
}

/// The cart.
#[derive(Debug, Clone, Deserialize)]
pub struct Cart {
    /// Lines.
    pub items: Vec<CartItem>,
    /// One total per currency.
    pub totals: Vec<Money>,
    /// Whether every line can be bought.
    pub all_available: bool,
}

/// An order line.
#[derive(Debug, Clone, Deserialize)]
pub struct Line {
    /// Product.
    pub product_id: String,
    /// Seller.
    pub seller_id: String,
    /// Title at checkout.
    pub title: String,
    /// Unit price.
    pub unit_price: Money,
    /// Units.
    pub quantity: i64,
    /// Line total.
    pub line_total: Money,
}

/// A shipping address.
#[derive(Debug, Clone, Deserialize)]
pub struct Address {
    /// Recipient.
    pub name: String,
    /// Street.
    pub line1: String,
    /// More street.
    #[serde(default)]
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO country.
    pub country: String,
}

/// One seller's part of an order.
#[derive(Debug, Clone, Deserialize)]
pub struct Fulfilment {
    /// Id.
    pub id: String,
    /// Seller.
    pub seller_id: String,
    /// Status.
    pub status: String,
    /// Tracking number once shipped.
    pub tracking_number: Option<String>,
    /// Products in it.
    #[serde(default)]
    pub product_ids: Vec<String>,
}

/// Payment state.
#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    /// Status.
    pub status: String,
}

/// An order.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Lines.
    pub items: Vec<Line>,
    /// Total.
    pub total: Money,
    /// Where it goes.
    pub shipping_address: Address,
    /// Payment.
    pub payment: Payment,
    /// Per seller.
    pub fulfilments: Vec<Fulfilment>,
    /// When placed.
    pub created_at: String,
}

/// An order in a list.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderSummary {
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Total.
    pub total: Money,
    /// Units.
    pub item_count: i64,
    /// When placed.
    pub created_at: String,
}

/// A page of orders.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderPage {
    /// Orders, newest first.
    pub orders: Vec<OrderSummary>,
    /// Next page.
    pub next_cursor: Option<String>,
}

/// A fulfilment as its seller sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct SellerFulfilment {
    /// Id.
    pub id: String,
    /// Order.
    pub order_id: String,
    /// Status.
    pub status: String,
    /// The seller's lines.
    pub items: Vec<Line>,
    /// Where it goes.
    pub shipping_address: Address,
    /// Tracking number once shipped.
    pub tracking_number: Option<String>,
}

/// A page of fulfilments.
#[derive(Debug, Clone, Deserialize)]
pub struct FulfilmentPage {
    /// Fulfilments, newest first.
    pub fulfilments: Vec<SellerFulfilment>,
    /// Next page.
    pub next_cursor: Option<String>,
}
