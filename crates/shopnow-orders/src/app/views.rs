//! What the use cases return: serialisable views of carts, orders and fulfilments. The HTTP
//! layer sends them as JSON; a checkout's view is also stored with its idempotency key and
//! replayed byte for byte, so these types round-trip through serde.

use serde::{Deserialize, Serialize};
use shopnow_kernel::StockShortage;
use shopnow_kernel::time::rfc3339;
use shopnow_money::Money;

use crate::domain::order::{HistoryEntry, Order, OrderLine};
use crate::domain::{Fulfilment, ShippingAddress};
use crate::ports::{OrderSummary, SellerFulfilment};

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    /// Product id.
    pub product_id: String,
    /// Seller id.
    pub seller_id: String,
    /// Title at checkout.
    pub title: String,
    /// Unit price at checkout.
    pub unit_price: Money,
    /// Units.
    pub quantity: u32,
    /// Unit price × quantity.
    pub line_total: Money,
}

impl LineView {
    fn from_line(line: &OrderLine) -> Self {
        Self {
            product_id: line.product_id.to_string(),
            seller_id: line.seller_id.clone(),
            title: line.title.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity.get(),
            // Validated when the order was placed; an overflow cannot be stored.
            line_total: line.total().unwrap_or(line.unit_price),
        }
    }
}

/// A fulfilment inside the buyer's view of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentView {
    /// Id.
    pub id: String,
    /// The seller shipping it.
    pub seller_id: String,
    /// Status.
    pub status: String,
    /// Carrier tracking number.
    pub tracking_number: Option<String>,
    /// When it shipped (RFC 3339).
    pub shipped_at: Option<String>,
    /// The products it ships.
    pub product_ids: Vec<String>,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    /// Event type (`order.placed`, …).
    pub event: String,
    /// Order status after it.
    pub status: String,
    /// The fulfilment, for fulfilment events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment_id: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

impl HistoryView {
    fn from_entry(entry: &HistoryEntry) -> Self {
        Self {
            event: entry.event.clone(),
            status: entry.status.as_str().to_owned(),
            fulfilment_id: entry.fulfilment_id.clone(),
            at: rfc3339(entry.at_ms),
        }
    }
}

/// The payment as the buyer sees it: its status only (never a token or card detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// `authorized`, `declined`, `voided`, ….
    pub status: String,
}

/// An order as its buyer (or an admin) sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Lines.
    pub items: Vec<LineView>,
    /// Total.
    pub total: Money,
    /// Where it ships.
    pub shipping_address: ShippingAddress,
    /// The payment.
    pub payment: PaymentView,
    /// One per seller.
    pub fulfilments: Vec<FulfilmentView>,
    /// Every event, oldest first.
    pub history: Vec<HistoryView>,
    /// Creation (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

fn fulfilment_view(order: &Order, f: &Fulfilment) -> FulfilmentView {
    FulfilmentView {
        id: f.id.clone(),
        seller_id: f.seller_id.clone(),
        status: f.status.as_str().to_owned(),
        tracking_number: f.tracking_number.as_ref().map(|t| t.as_str().to_owned()),
        shipped_at: f.shipped_at_ms.map(rfc3339),
        product_ids: order
            .lines
            .iter()
            .filter(|l| l.seller_id == f.seller_id)
            .map(|l| l.product_id.to_string())
            .collect(),
    }
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id.to_string(),
            status: order.status.as_str().to_owned(),
            items: order.lines.iter().map(LineView::from_line).collect(),
            total: order.total,
            shipping_address: order.shipping_address.clone(),
            payment: PaymentView {
                status: order.payment.as_str().to_owned(),
            },
            fulfilments: order
                .fulfilments
                .iter()
                .map(|f| fulfilment_view(order, f))
                .collect(),
            history: order.history.iter().map(HistoryView::from_entry).collect(),
            created_at: rfc3339(order.created_at_ms),
            updated_at: rfc3339(order.updated_at_ms),
        }
    }
}

/// An order in the buyer's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSummaryView {
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Total.
    pub total: Money,
    /// Units over all lines.
    pub item_count: u32,
    /// Creation (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<&OrderSummary> for OrderSummaryView {
    fn from(s: &OrderSummary) -> Self {
        Self {
            id: s.id.clone(),
            status: s.status.as_str().to_owned(),
            total: s.total,
            item_count: s.item_count,
            created_at: rfc3339(s.created_at_ms),
            updated_at: rfc3339(s.updated_at_ms),
        }
    }
}

/// A fulfilment as its seller sees it: the seller's own lines and the shipping address; never
/// other sellers' lines, the order total or the payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SellerFulfilmentView {
    /// Id.
    pub id: String,
    /// The order.
    pub order_id: String,
    /// Status.
    pub status: String,
    /// The seller's lines.
    pub items: Vec<LineView>,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
    /// Carrier tracking number.
    pub tracking_number: Option<String>,
    /// When it shipped (RFC 3339).
    pub shipped_at: Option<String>,
    /// When the order was placed (RFC 3339).
    pub created_at: String,
}

impl From<&SellerFulfilment> for SellerFulfilmentView {
    fn from(s: &SellerFulfilment) -> Self {
        Self {
            id: s.fulfilment.id.clone(),
            order_id: s.order_id.clone(),
            status: s.fulfilment.status.as_str().to_owned(),
            items: s.lines.iter().map(LineView::from_line).collect(),
            shipping_address: s.shipping_address.clone(),
            tracking_number: s
                .fulfilment
                .tracking_number
                .as_ref()
                .map(|t| t.as_str().to_owned()),
            shipped_at: s.fulfilment.shipped_at_ms.map(rfc3339),
            created_at: rfc3339(s.created_at_ms),
        }
    }
}

impl SellerFulfilmentView {
    /// The seller's view of fulfilment `fulfilment_id` in `order` (the caller checked that the
    /// fulfilment is the seller's).
    pub fn of(order: &Order, fulfilment: &Fulfilment) -> Self {
        Self::from(&SellerFulfilment {
            fulfilment: fulfilment.clone(),
            order_id: order.id.to_string(),
            lines: order
                .lines
                .iter()
                .filter(|l| l.seller_id == fulfilment.seller_id)
                .cloned()
                .collect(),
            shipping_address: order.shipping_address.clone(),
            created_at_ms: order.created_at_ms,
        })
    }
}

/// One cart item with what the catalog says about it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartItemView {
    /// Product id.
    pub product_id: String,
    /// Units wanted.
    pub quantity: u32,
    /// Current title (absent when the product is gone or the catalog did not answer).
    pub title: Option<String>,
    /// Current seller.
    pub seller_id: Option<String>,
    /// Current unit price.
    pub unit_price: Option<Money>,
    /// Current unit price × quantity.
    pub line_total: Option<Money>,
    /// `available`, `unavailable` (gone, archived or out of stock) or `unknown` (the catalog
    /// did not answer in time).
    pub availability: String,
}

/// A cart total in one currency.
pub type CartTotal = Money;

/// The cart as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartView {
    /// Items in the order they were added.
    pub items: Vec<CartItemView>,
    /// Totals of the available items, one per currency.
    pub totals: Vec<CartTotal>,
    /// Whether every item is available now.
    pub all_available: bool,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// When the cart lapses unless changed (RFC 3339).
    pub expires_at: String,
}

/// The outcome of a checkout, stored with its idempotency key and replayed for retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckoutOutcome {
    /// 201: the order is confirmed.
    Created {
        /// The order as it was when confirmed.
        order: Box<OrderView>,
    },
    /// 409: items were short; nothing was reserved or charged.
    OutOfStock {
        /// Every short item.
        items: Vec<StockShortage>,
    },
    /// 402: the payment was declined; the order is `payment_failed`.
    PaymentDeclined {
        /// The order recorded as `payment_failed`.
        order_id: String,
    },
    /// 422: the lines are priced in several currencies; nothing is reserved.
    MixedCurrencies {
        /// The currencies, sorted.
        currencies: Vec<String>,
    },
}
