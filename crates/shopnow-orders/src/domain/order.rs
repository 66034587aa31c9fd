//! The order aggregate: lines priced by the catalog, one fulfilment per seller, the order status
//! machine, and what the order still owes the catalog and the payment provider.
//!
//! ```text
//!            confirm                 ship (some)            ship (rest)
//! pending ───────────▶ confirmed ─────────────▶ partially_shipped ─────▶ shipped
//!   │  │                  │  └───────────── ship (all) ──────────────────▲
//!   │  └─decline─▶ payment_failed            cancel
//!   └─fail──────▶ failed                      ▼
//!                                          cancelled
//! ```
//!
//! Every method that changes the order returns the events it caused and appends them to the
//! history; the use case persists both with the order in one transaction (history and outbox).

use std::fmt;

use serde::{Deserialize, Serialize};
use shopnow_kernel::ids::{IdSource, RandomError};
use shopnow_money::{Currency, Money};

use super::address::ShippingAddress;
use super::events::{OrderEvent, SoldLine};
use super::fulfilment::{
    Fulfilment, FulfilmentAction, FulfilmentStatus, IllegalFulfilmentTransition, TrackingNumber,
};
use super::ids::{OrderId, ProductId};
use super::quantity::Quantity;

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Recorded by the checkout; stock held, payment not settled yet.
    Pending,
    /// Paid (authorised) and stock committed; sellers ship.
    Confirmed,
    /// The payment was declined; stock went back.
    PaymentFailed,
    /// The checkout could not complete; nothing is held or charged once compensated.
    Failed,
    /// Cancelled by the buyer before anything shipped.
    Cancelled,
    /// Some fulfilments shipped.
    PartiallyShipped,
    /// Every fulfilment shipped.
    Shipped,
}

/// What can happen to an order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// Payment authorised and stock committed.
    Confirm,
    /// The payment was declined.
    DeclinePayment,
    /// The checkout failed or was abandoned.
    Fail,
    /// The buyer cancels.
    Cancel,
    /// A fulfilment shipped; `all` when it was the last one.
    Ship {
        /// Whether every fulfilment has now shipped.
        all: bool,
    },
}

impl OrderStatus {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::PaymentFailed => "payment_failed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
        }
    }

    /// Parses a storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "confirmed" => Some(Self::Confirmed),
            "payment_failed" => Some(Self::PaymentFailed),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            "partially_shipped" => Some(Self::PartiallyShipped),
            "shipped" => Some(Self::Shipped),
            _ => None,
        }
    }

    /// The status after `action`.
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] for every pair not drawn in the module diagram.
    pub fn apply(self, action: OrderAction) -> Result<Self, OrderError> {
        use OrderAction as A;
        match (self, action) {
            (Self::Pending, A::Confirm) => Ok(Self::Confirmed),
            (Self::Pending, A::DeclinePayment) => Ok(Self::PaymentFailed),
            (Self::Pending, A::Fail) => Ok(Self::Failed),
            (Self::Confirmed, A::Cancel) => Ok(Self::Cancelled),
            (Self::Confirmed | Self::PartiallyShipped, A::Ship { all: false }) => {
                Ok(Self::PartiallyShipped)
            }
            (Self::Confirmed | Self::PartiallyShipped, A::Ship { all: true }) => Ok(Self::Shipped),
            (Self::Pending, A::Cancel | A::Ship { .. })
            | (Self::Confirmed, A::Confirm | A::DeclinePayment | A::Fail)
            | (Self::PartiallyShipped, A::Confirm | A::DeclinePayment | A::Fail | A::Cancel)
            | (Self::PaymentFailed | Self::Failed | Self::Cancelled | Self::Shipped, _) => {
                Err(OrderError::IllegalTransition { from: self, action })
            }
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payment for an order, as far as the orders service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Not attempted yet.
    NotAttempted,
    /// Authorised for the order total.
    Authorized,
    /// Declined by the provider.
    Declined,
    /// The authorisation call failed or timed out: the provider may hold an authorisation, so
    /// it is voided before the order is left alone.
    Unknown,
    /// Voided: nothing will be charged.
    Voided,
}

impl PaymentStatus {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAttempted => "not_attempted",
            Self::Authorized => "authorized",
            Self::Declined => "declined",
            Self::Unknown => "unknown",
            Self::Voided => "voided",
        }
    }

    /// Parses a storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "not_attempted" => Some(Self::NotAttempted),
            "authorized" => Some(Self::Authorized),
            "declined" => Some(Self::Declined),
            "unknown" => Some(Self::Unknown),
            "voided" => Some(Self::Voided),
            _ => None,
        }
    }

    /// Whether the provider may hold money for the order.
    pub fn may_hold_funds(self) -> bool {
        match self {
            Self::Authorized | Self::Unknown => true,
            Self::NotAttempted | Self::Declined | Self::Voided => false,
        }
    }
}

/// The order's stock in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    /// Reserved (held until committed, released or lapsed).
    Held,
    /// Committed: the units are sold to this order.
    Committed,
    /// Given back (released, restocked), or never taken.
    Returned,
}

impl StockState {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Committed => "committed",
            Self::Returned => "returned",
        }
    }

    /// Parses a storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "held" => Some(Self::Held),
            "committed" => Some(Self::Committed),
            "returned" => Some(Self::Returned),
            _ => None,
        }
    }
}

/// Why an order change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// An order needs at least one line.
    #[error("an order needs at least one line")]
    Empty,
    /// Lines are priced in more than one currency.
    #[error("lines are priced in several currencies: {0:?}")]
    MixedCurrencies(Vec<String>),
    /// The total does not fit the money range.
    #[error("the order total is too large")]
    TotalTooLarge,
    /// The status machine refuses the action.
    #[error("cannot {action:?} an order that is {from}")]
    IllegalTransition {
        /// Current status.
        from: OrderStatus,
        /// Refused action.
        action: OrderAction,
    },
    /// A fulfilment's machine refuses the action.
    #[error(transparent)]
    Fulfilment(#[from] IllegalFulfilmentTransition),
    /// No such fulfilment in the order (or not the caller's).
    #[error("no such fulfilment")]
    UnknownFulfilment,
    /// No id could be minted.
    #[error("random source unavailable: {0}")]
    Random(String),
}

impl From<RandomError> for OrderError {
    fn from(err: RandomError) -> Self {
        Self::Random(err.0)
    }
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// Its seller.
    pub seller_id: String,
    /// Title at reservation time.
    pub title: String,
    /// Unit price at reservation time.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
}

impl OrderLine {
    /// Unit price × quantity.
    ///
    /// # Errors
    /// [`OrderError::TotalTooLarge`] on overflow of the money range.
    pub fn total(&self) -> Result<Money, OrderError> {
        self.unit_price
            .checked_mul(self.quantity.get())
            .map_err(|_| OrderError::TotalTooLarge)
    }
}

/// One entry of the order's history: an event, the status after it, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The event type (`order.placed`, …).
    pub event: String,
    /// The order status after the event.
    pub status: OrderStatus,
    /// The fulfilment concerned, for fulfilment events.
    pub fulfilment_id: Option<String>,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// What a checkout records before asking for payment.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The order id (also the reservation and payment key).
    pub id: OrderId,
    /// The buyer's user id.
    pub buyer_id: String,
    /// Lines as the catalog priced them.
    pub lines: Vec<OrderLine>,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// The buyer.
    pub buyer_id: String,
    /// Status.
    pub status: OrderStatus,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// One per seller, in the order sellers first appear in `lines`.
    pub fulfilments: Vec<Fulfilment>,
    /// Sum of line totals.
    pub total: Money,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
    /// The payment.
    pub payment: PaymentStatus,
    /// The provider's reference for the authorisation.
    pub payment_reference: Option<String>,
    /// The stock.
    pub stock: StockState,
    /// Creation (epoch ms).
    pub created_at_ms: i64,
    /// Last change (epoch ms).
    pub updated_at_ms: i64,
    /// Optimistic-concurrency version of the stored row (0 before the first insert).
    pub version: i64,
    /// Every event so far, oldest first.
    pub history: Vec<HistoryEntry>,
    /// How many history entries are already stored.
    pub history_saved: usize,
    /// The fulfilments as stored (empty before the first insert): a save writes only those
    /// that differ.
    pub fulfilments_saved: Vec<Fulfilment>,
}

/// The currency shared by every line.
///
/// # Errors
/// [`OrderError::Empty`] without lines, [`OrderError::MixedCurrencies`] listing every currency
/// (sorted) when they differ.
pub fn single_currency(prices: impl IntoIterator<Item = Money>) -> Result<Currency, OrderError> {
    let mut currencies: Vec<Currency> = prices.into_iter().map(|m| m.currency()).collect();
    currencies.sort();
    currencies.dedup();
    match currencies.as_slice() {
        [] => Err(OrderError::Empty),
        [one] => Ok(*one),
        many => Err(OrderError::MixedCurrencies(
            many.iter().map(|c| c.code().to_owned()).collect(),
        )),
    }
}

impl Order {
    /// Records a new order as `pending`: validates the lines (one currency, total in range) and
    /// creates one fulfilment per seller.
    ///
    /// # Errors
    /// [`OrderError::Empty`], [`OrderError::MixedCurrencies`], [`OrderError::TotalTooLarge`],
    /// or [`OrderError::Random`] when a fulfilment id cannot be minted.
    pub fn place(
        new: NewOrder,
        ids: &dyn IdSource,
        now_ms: i64,
    ) -> Result<(Self, Vec<OrderEvent>), OrderError> {
        let currency = single_currency(new.lines.iter().map(|l| l.unit_price))?;
        let line_totals = new
            .lines
            .iter()
            .map(OrderLine::total)
            .collect::<Result<Vec<_>, _>>()?;
        let total = Money::sum(currency, line_totals).map_err(|_| OrderError::TotalTooLarge)?;
        let mut fulfilments: Vec<Fulfilment> = Vec::new();
        for line in &new.lines {
            if !fulfilments.iter().any(|f| f.seller_id == line.seller_id) {
                fulfilments.push(Fulfilment {
                    id: ids.new_id()?,
                    seller_id: line.seller_id.clone(),
                    status: FulfilmentStatus::Pending,
                    tracking_number: None,
                    shipped_at_ms: None,
                });
            }
        }
        let mut order = Self {
            id: new.id,
            buyer_id: new.buyer_id,
            status: OrderStatus::Pending,
            lines: new.lines,
            fulfilments,
            total,
            shipping_address: new.shipping_address,
            payment: PaymentStatus::NotAttempted,
            payment_reference: None,
            stock: StockState::Held,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            version: 0,
            history: Vec::new(),
            history_saved: 0,
            fulfilments_saved: Vec::new(),
        };
        let event = OrderEvent::Created {
            order_id: order.id.to_string(),
            buyer_id: order.buyer_id.clone(),
            total,
        };
        order.record(&event, now_ms);
        Ok((order, vec![event]))
    }

    fn record(&mut self, event: &OrderEvent, now_ms: i64) {
        self.updated_at_ms = now_ms;
        self.history.push(HistoryEntry {
            event: event.event_type().to_owned(),
            status: self.status,
            fulfilment_id: event.fulfilment_id().map(str::to_owned),
            at_ms: now_ms,
        });
    }

    fn set_fulfilments(&mut self, action: FulfilmentAction) -> Result<(), OrderError> {
        let next = self
            .fulfilments
            .iter()
            .map(|f| f.status.apply(action))
            .collect::<Result<Vec<_>, _>>()?;
        for (f, status) in self.fulfilments.iter_mut().zip(next) {
            f.status = status;
        }
        Ok(())
    }

    /// Records that the order and its history up to now are stored (the stored version moved
    /// on by one).
    pub fn mark_saved(&mut self) {
        self.version = self.version.saturating_add(1);
        self.history_saved = self.history.len();
        self.fulfilments_saved.clone_from(&self.fulfilments);
    }

    /// The fulfilments that changed since the order was loaded or last saved.
    pub fn changed_fulfilments(&self) -> impl Iterator<Item = &Fulfilment> {
        self.fulfilments
            .iter()
            .filter(|f| !self.fulfilments_saved.contains(f))
    }

    /// The ids of the sellers with a fulfilment.
    pub fn seller_ids(&self) -> Vec<String> {
        self.fulfilments
            .iter()
            .map(|f| f.seller_id.clone())
            .collect()
    }

    /// Each line's product and units, for the events sales counts are made of.
    fn sold_lines(&self) -> Vec<SoldLine> {
        self.lines
            .iter()
            .map(|line| SoldLine {
                product_id: line.product_id.clone(),
                quantity: line.quantity,
            })
            .collect()
    }

    /// `pending` → `confirmed`: payment authorised under `reference` and stock committed;
    /// every fulfilment becomes `awaiting_shipment`.
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] unless `pending`.
    pub fn confirm(
        &mut self,
        reference: String,
        now_ms: i64,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let next = self.status.apply(OrderAction::Confirm)?;
        self.set_fulfilments(FulfilmentAction::Release)?;
        self.status = next;
        self.payment = PaymentStatus::Authorized;
        self.payment_reference = Some(reference);
        self.stock = StockState::Committed;
        let event = OrderEvent::Placed {
            order_id: self.id.to_string(),
            buyer_id: self.buyer_id.clone(),
            total: self.total,
            seller_ids: self.seller_ids(),
            lines: self.sold_lines(),
        };
        self.record(&event, now_ms);
        Ok(vec![event])
    }

    /// `pending` → `payment_failed`: the provider declined; fulfilments become `void`. The
    /// stock is still held until [`Order::stock_returned`].
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] unless `pending`.
    pub fn decline_payment(&mut self, now_ms: i64) -> Result<Vec<OrderEvent>, OrderError> {
        let next = self.status.apply(OrderAction::DeclinePayment)?;
        self.set_fulfilments(FulfilmentAction::Void)?;
        self.status = next;
        self.payment = PaymentStatus::Declined;
        let event = OrderEvent::PaymentFailed {
            order_id: self.id.to_string(),
        };
        self.record(&event, now_ms);
        Ok(vec![event])
    }

    /// `pending` → `failed` for `reason` (a stable code); fulfilments become `void`. When the
    /// payment outcome is not known, `payment_unknown` marks it so it is voided.
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] unless `pending`.
    pub fn fail(
        &mut self,
        reason: &str,
        payment_unknown: bool,
        now_ms: i64,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let next = self.status.apply(OrderAction::Fail)?;
        self.set_fulfilments(FulfilmentAction::Void)?;
        self.status = next;
        if payment_unknown && self.payment == PaymentStatus::NotAttempted {
            self.payment = PaymentStatus::Unknown;
        }
        let event = OrderEvent::Failed {
            order_id: self.id.to_string(),
            reason: reason.to_owned(),
        };
        self.record(&event, now_ms);
        Ok(vec![event])
    }

    /// Records that the checkout got an approval from the provider before a later step failed:
    /// the authorisation must be voided.
    pub fn payment_authorized(&mut self, reference: String) {
        self.payment = PaymentStatus::Authorized;
        self.payment_reference = Some(reference);
    }

    /// Records that the reservation was committed (the units are sold to this order).
    pub fn stock_committed(&mut self) {
        self.stock = StockState::Committed;
    }

    /// `confirmed` → `cancelled` by the buyer: allowed while nothing has shipped. Fulfilments
    /// become `cancelled`; the committed stock and the authorisation are owed back.
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] unless `confirmed`.
    pub fn cancel(&mut self, now_ms: i64) -> Result<Vec<OrderEvent>, OrderError> {
        let next = self.status.apply(OrderAction::Cancel)?;
        self.set_fulfilments(FulfilmentAction::Cancel)?;
        self.status = next;
        let event = OrderEvent::Cancelled {
            order_id: self.id.to_string(),
            lines: self.sold_lines(),
        };
        self.record(&event, now_ms);
        Ok(vec![event])
    }

    /// The fulfilment `fulfilment_id` of `seller_id`, if it exists in this order.
    pub fn fulfilment_of(&self, fulfilment_id: &str, seller_id: &str) -> Option<&Fulfilment> {
        self.fulfilments
            .iter()
            .find(|f| f.id == fulfilment_id && f.seller_id == seller_id)
    }

    /// The seller ships its fulfilment: it becomes `shipped`, and the order `shipped` when it
    /// was the last one, else `partially_shipped`.
    ///
    /// # Errors
    /// [`OrderError::UnknownFulfilment`] when the fulfilment is not this seller's in this order;
    /// [`OrderError::Fulfilment`] unless it is `awaiting_shipment`;
    /// [`OrderError::IllegalTransition`] unless the order is confirmed or partially shipped.
    pub fn ship(
        &mut self,
        fulfilment_id: &str,
        seller_id: &str,
        tracking_number: Option<TrackingNumber>,
        now_ms: i64,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let index = self
            .fulfilments
            .iter()
            .position(|f| f.id == fulfilment_id && f.seller_id == seller_id)
            .ok_or(OrderError::UnknownFulfilment)?;
        let fulfilment = self
            .fulfilments
            .get(index)
            .ok_or(OrderError::UnknownFulfilment)?;
        let shipped = fulfilment.status.apply(FulfilmentAction::Ship)?;
        let all = self
            .fulfilments
            .iter()
            .enumerate()
            .all(|(i, f)| i == index || f.status == FulfilmentStatus::Shipped);
        let next = self.status.apply(OrderAction::Ship { all })?;
        let fulfilment = self
            .fulfilments
            .get_mut(index)
            .ok_or(OrderError::UnknownFulfilment)?;
        fulfilment.status = shipped;
        fulfilment.shipped_at_ms = Some(now_ms);
        fulfilment.tracking_number = tracking_number.clone();
        self.status = next;
        let mut events = vec![OrderEvent::FulfilmentShipped {
            order_id: self.id.to_string(),
            fulfilment_id: fulfilment_id.to_owned(),
            seller_id: seller_id.to_owned(),
            tracking_number: tracking_number.map(|t| t.as_str().to_owned()),
        }];
        if all {
            events.push(OrderEvent::Shipped {
                order_id: self.id.to_string(),
            });
        }
        for event in &events {
            self.record(event, now_ms);
        }
        Ok(events)
    }

    /// Whether the order still owes the catalog stock or the provider a void: an order that
    /// ended without being fulfilled and still holds stock or funds.
    pub fn owes_compensation(&self) -> bool {
        let ended = match self.status {
            OrderStatus::PaymentFailed | OrderStatus::Failed | OrderStatus::Cancelled => true,
            OrderStatus::Pending
            | OrderStatus::Confirmed
            | OrderStatus::PartiallyShipped
            | OrderStatus::Shipped => false,
        };
        ended && (self.stock != StockState::Returned || self.payment.may_hold_funds())
    }

    /// Records that the stock went back to the catalog.
    pub fn stock_returned(&mut self, now_ms: i64) -> Vec<OrderEvent> {
        if self.stock == StockState::Returned {
            return Vec::new();
        }
        self.stock = StockState::Returned;
        let event = OrderEvent::StockReturned {
            order_id: self.id.to_string(),
        };
        self.record(&event, now_ms);
        vec![event]
    }

    /// Records that the authorisation was voided.
    pub fn payment_voided(&mut self, now_ms: i64) -> Vec<OrderEvent> {
        if !self.payment.may_hold_funds() {
            return Vec::new();
        }
        self.payment = PaymentStatus::Voided;
        let event = OrderEvent::PaymentVoided {
            order_id: self.id.to_string(),
        };
        self.record(&event, now_ms);
        vec![event]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use shopnow_kernel::ids::SequentialIds;

    pub(crate) fn money(amount: i64, currency: &str) -> Money {
        Money::parse(amount, Currency::parse(currency).unwrap()).unwrap()
    }

    fn line(product: u32, seller: &str, amount: i64, currency: &str, qty: i64) -> OrderLine {
        OrderLine {
            product_id: ProductId::parse(&format!("0190a000-0000-7000-8000-{product:012x}"))
                .unwrap(),
            seller_id: seller.into(),
            title: format!("Product {product}"),
            unit_price: money(amount, currency),
            quantity: Quantity::parse(qty).unwrap(),
        }
    }

    fn address() -> ShippingAddress {
        ShippingAddress {
            name: "Ada".into(),
            line1: "1 Road".into(),
            line2: None,
            city: "London".into(),
            region: None,
            postal_code: "N1".into(),
            country: "GB".into(),
        }
    }

    fn place(lines: Vec<OrderLine>) -> Result<(Order, Vec<OrderEvent>), OrderError> {
        Order::place(
            NewOrder {
                id: OrderId::parse("0190a000-0000-7000-8000-0000000000aa").unwrap(),
                buyer_id: "buyer".into(),
                lines,
                shipping_address: address(),
            },
            &SequentialIds::default(),
            1_000,
        )
    }

    fn two_seller_order() -> Order {
        place(vec![
            line(1, "s1", 1000, "EUR", 2),
            line(2, "s2", 500, "EUR", 1),
            line(3, "s1", 250, "EUR", 4),
        ])
        .unwrap()
        .0
    }

    #[test]
    fn placing_totals_lines_and_splits_fulfilments_by_seller() {
        let (order, events) = place(vec![
            line(1, "s1", 1000, "EUR", 2),
            line(2, "s2", 500, "EUR", 1),
            line(3, "s1", 250, "EUR", 4),
        ])
        .unwrap();
        assert_eq!(order.total, money(3500, "EUR"));
        assert_eq!(order.status, OrderStatus::Pending);
        assert_eq!(order.seller_ids(), ["s1", "s2"]);
        assert!(
            order
                .fulfilments
                .iter()
                .all(|f| f.status == FulfilmentStatus::Pending)
        );
        assert_eq!(events.len(), 1);
        assert_eq!(order.history.len(), 1);
        assert_eq!(order.history[0].event, "order.created");
    }

    #[test]
    fn mixed_currencies_are_refused_naming_each() {
        let err = place(vec![line(1, "s", 1, "USD", 1), line(2, "s", 1, "EUR", 1)]).unwrap_err();
        assert_eq!(
            err,
            OrderError::MixedCurrencies(vec!["EUR".into(), "USD".into()])
        );
        assert_eq!(place(Vec::new()).unwrap_err(), OrderError::Empty);
    }

    #[test]
    fn a_total_beyond_the_money_range_is_refused() {
        let err = place(vec![
            line(1, "s", Money::MAX_MINOR / 99, "EUR", 99),
            line(2, "s", Money::MAX_MINOR / 99, "EUR", 99),
        ])
        .unwrap_err();
        assert_eq!(err, OrderError::TotalTooLarge);
    }

    #[test]
    fn confirming_releases_every_fulfilment_to_its_seller() {
        let mut order = two_seller_order();
        let events = order.confirm("auth_1".into(), 2_000).unwrap();
        assert_eq!(events[0].event_type(), "order.placed");
        assert_eq!(order.status, OrderStatus::Confirmed);
        assert_eq!(order.payment, PaymentStatus::Authorized);
        assert_eq!(order.stock, StockState::Committed);
        assert!(
            order
                .fulfilments
                .iter()
                .all(|f| f.status == FulfilmentStatus::AwaitingShipment)
        );
        assert!(order.confirm("again".into(), 3_000).is_err());
    }

    #[test]
    fn shipping_one_then_all_moves_through_partially_shipped() {
        let mut order = two_seller_order();
        order.confirm("a".into(), 2_000).unwrap();
        let f1 = order.fulfilments[0].id.clone();
        let f2 = order.fulfilments[1].id.clone();
        // A seller cannot ship another seller's fulfilment.
        assert_eq!(
            order.ship(&f1, "s2", None, 3_000).unwrap_err(),
            OrderError::UnknownFulfilment
        );
        let events = order
            .ship(&f1, "s1", Some(TrackingNumber::parse("T1").unwrap()), 3_000)
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(order.status, OrderStatus::PartiallyShipped);
        assert!(matches!(
            order.ship(&f1, "s1", None, 3_500).unwrap_err(),
            OrderError::Fulfilment(_)
        ));
        let events = order.ship(&f2, "s2", None, 4_000).unwrap();
        assert_eq!(
            events
                .iter()
                .map(OrderEvent::event_type)
                .collect::<Vec<_>>(),
            ["fulfilment.shipped", "order.shipped"]
        );
        assert_eq!(order.status, OrderStatus::Shipped);
        assert_eq!(
            order.fulfilments[0]
                .tracking_number
                .as_ref()
                .unwrap()
                .as_str(),
            "T1"
        );
    }

    #[test]
    fn cancelling_is_allowed_only_before_anything_ships() {
        let mut pending = two_seller_order();
        assert!(pending.cancel(2_000).is_err());

        let mut confirmed = two_seller_order();
        confirmed.confirm("a".into(), 2_000).unwrap();
        let mut shipped_one = confirmed.clone();
        confirmed.cancel(3_000).unwrap();
        assert_eq!(confirmed.status, OrderStatus::Cancelled);
        assert!(confirmed.owes_compensation());
        assert!(
            confirmed
                .fulfilments
                .iter()
                .all(|f| f.status == FulfilmentStatus::Cancelled)
        );

        let f1 = shipped_one.fulfilments[0].id.clone();
        shipped_one.ship(&f1, "s1", None, 3_000).unwrap();
        assert!(matches!(
            shipped_one.cancel(4_000).unwrap_err(),
            OrderError::IllegalTransition {
                from: OrderStatus::PartiallyShipped,
                ..
            }
        ));
    }

    #[test]
    fn a_declined_order_owes_its_stock_until_returned() {
        let mut order = two_seller_order();
        order.decline_payment(2_000).unwrap();
        assert_eq!(order.status, OrderStatus::PaymentFailed);
        assert!(order.owes_compensation());
        assert_eq!(order.stock_returned(2_100).len(), 1);
        assert!(!order.owes_compensation());
        assert!(
            order.stock_returned(2_200).is_empty(),
            "returning twice records once"
        );
    }

    #[test]
    fn a_failed_checkout_with_an_unknown_payment_owes_a_void() {
        let mut order = two_seller_order();
        order.fail("payment_unavailable", true, 2_000).unwrap();
        assert_eq!(order.payment, PaymentStatus::Unknown);
        order.stock_returned(2_100);
        assert!(order.owes_compensation());
        order.payment_voided(2_200);
        assert!(!order.owes_compensation());
        assert_eq!(
            order
                .history
                .iter()
                .map(|h| h.event.as_str())
                .collect::<Vec<_>>(),
            [
                "order.created",
                "order.failed",
                "stock.returned",
                "payment.voided"
            ]
        );
    }

    const STATUSES: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::PaymentFailed,
        OrderStatus::Failed,
        OrderStatus::Cancelled,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
    ];
    const ACTIONS: [OrderAction; 6] = [
        OrderAction::Confirm,
        OrderAction::DeclinePayment,
        OrderAction::Fail,
        OrderAction::Cancel,
        OrderAction::Ship { all: false },
        OrderAction::Ship { all: true },
    ];

    #[test]
    fn status_names_round_trip() {
        for s in STATUSES {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    proptest! {
        #[test]
        fn terminal_statuses_accept_no_action(s in 2usize..5, a in 0usize..6) {
            prop_assert!(STATUSES[s].apply(ACTIONS[a]).is_err());
        }

        #[test]
        fn shipped_accepts_nothing_and_nothing_returns_to_pending(s in 0usize..7, a in 0usize..6) {
            prop_assert!(OrderStatus::Shipped.apply(ACTIONS[a]).is_err());
            if let Ok(next) = STATUSES[s].apply(ACTIONS[a]) {
                prop_assert_ne!(next, OrderStatus::Pending);
            }
        }

        #[test]
        fn any_sequence_of_actions_keeps_the_order_consistent(actions in proptest::collection::vec(0usize..6, 0..12)) {
            let mut order = two_seller_order();
            for (step, a) in actions.into_iter().enumerate() {
                let now = 2_000 + i64::try_from(step).unwrap();
                let before = order.clone();
                let result = match a {
                    0 => order.confirm("r".into(), now),
                    1 => order.decline_payment(now),
                    2 => order.fail("x", false, now),
                    3 => order.cancel(now),
                    n => {
                        let idx = n - 4;
                        match order.fulfilments.get(idx).map(|f| (f.id.clone(), f.seller_id.clone())) {
                            Some((id, seller)) => order.ship(&id, &seller, None, now),
                            None => Err(OrderError::UnknownFulfilment),
                        }
                    }
                };
                if result.is_err() {
                    // A refused transition changes nothing.
                    prop_assert_eq!(&order, &before);
                }
                // Shipped fulfilments exist only on shipped or partially shipped orders.
                let shipped = order.fulfilments.iter().filter(|f| f.status == FulfilmentStatus::Shipped).count();
                match order.status {
                    OrderStatus::Shipped => prop_assert_eq!(shipped, order.fulfilments.len()),
                    OrderStatus::PartiallyShipped => prop_assert!(shipped > 0 && shipped < order.fulfilments.len()),
                    _ => prop_assert_eq!(shipped, 0),
                }
                prop_assert_eq!(order.history.last().map(|h| h.status), Some(order.status));
            }
        }
    }
}
