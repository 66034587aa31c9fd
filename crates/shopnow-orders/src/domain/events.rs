//! Domain events: what happened to an order. Each one is appended to the order's history and
//! written to the outbox in the same transaction as the change. Nothing relays the outbox yet
//! (docs/orders.md, "Outbox relay"; issue 12): the rows are the durable record a relay will
//! deliver at least once, so its consumers will have to be idempotent.

use serde::Serialize;
use shopnow_money::Money;

use super::ids::ProductId;
use super::quantity::Quantity;

/// A product and how many units of it an order holds: what sales counts are made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoldLine {
    /// The product.
    pub product_id: ProductId,
    /// Units.
    pub quantity: Quantity,
}

/// Something that happened to an order. The `type` names are stable: consumers route on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum OrderEvent {
    /// The checkout recorded the order (`pending`); stock is held.
    #[serde(rename = "order.created")]
    Created {
        /// The order.
        order_id: String,
        /// The buyer.
        buyer_id: String,
        /// The order total.
        total: Money,
    },
    /// Payment authorised and stock committed: the order is confirmed and sellers should ship.
    #[serde(rename = "order.placed")]
    Placed {
        /// The order.
        order_id: String,
        /// The buyer.
        buyer_id: String,
        /// The order total.
        total: Money,
        /// The sellers with a fulfilment in the order.
        seller_ids: Vec<String>,
        /// The units sold, per line.
        lines: Vec<SoldLine>,
    },
    /// The payment provider declined the payment.
    #[serde(rename = "order.payment_failed")]
    PaymentFailed {
        /// The order.
        order_id: String,
    },
    /// The checkout could not complete (a dependency failed or it was abandoned).
    #[serde(rename = "order.failed")]
    Failed {
        /// The order.
        order_id: String,
        /// Why, as a stable code (`catalog_unavailable`, `payment_unavailable`, `abandoned`…).
        reason: String,
    },
    /// The buyer cancelled the order (it had been placed: its units are no longer sold).
    #[serde(rename = "order.cancelled")]
    Cancelled {
        /// The order.
        order_id: String,
        /// The units no longer sold, per line (those of its `order.placed`).
        lines: Vec<SoldLine>,
    },
    /// One seller shipped its part.
    #[serde(rename = "fulfilment.shipped")]
    FulfilmentShipped {
        /// The order.
        order_id: String,
        /// The fulfilment.
        fulfilment_id: String,
        /// Its seller.
        seller_id: String,
        /// The carrier's tracking number, if given.
        tracking_number: Option<String>,
    },
    /// Every fulfilment shipped.
    #[serde(rename = "order.shipped")]
    Shipped {
        /// The order.
        order_id: String,
    },
    /// The payment authorisation was voided (nothing will be charged).
    #[serde(rename = "payment.voided")]
    PaymentVoided {
        /// The order.
        order_id: String,
    },
    /// The stock held or sold for the order went back to the catalog.
    #[serde(rename = "stock.returned")]
    StockReturned {
        /// The order.
        order_id: String,
    },
}

impl OrderEvent {
    /// The stable event type (`order.placed`, …).
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Created { .. } => "order.created",
            Self::Placed { .. } => "order.placed",
            Self::PaymentFailed { .. } => "order.payment_failed",
            Self::Failed { .. } => "order.failed",
            Self::Cancelled { .. } => "order.cancelled",
            Self::FulfilmentShipped { .. } => "fulfilment.shipped",
            Self::Shipped { .. } => "order.shipped",
            Self::PaymentVoided { .. } => "payment.voided",
            Self::StockReturned { .. } => "stock.returned",
        }
    }

    /// The fulfilment the event is about, if any.
    pub fn fulfilment_id(&self) -> Option<&str> {
        match self {
            Self::FulfilmentShipped { fulfilment_id, .. } => Some(fulfilment_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_their_type() {
        let event = OrderEvent::Cancelled {
            order_id: "o".into(),
            lines: Vec::new(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.event_type());
        assert_eq!(json["order_id"], "o");
    }
}
