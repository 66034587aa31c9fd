//! Reservations: stock held for an order, all items or none, until the orders service commits
//! (the units are sold) or releases them, or the hold lapses at `expires_at`.

use shopnow_catalog_contract as contract;
use shopnow_kernel::FieldErrors;
use shopnow_kernel::time::rfc3339;
use shopnow_money::Money;

use super::stock::Quantity;
use super::text::is_id;

/// Most items one reservation may hold.
pub const MAX_ITEMS: usize = 100;

/// An order id as the orders service names it: 1..=64 of `[A-Za-z0-9._-]` (safe in a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderId(String);

impl OrderId {
    /// Validates `raw`.
    ///
    /// # Errors
    /// `None` when it is empty, longer than 64, or has other characters.
    pub fn parse(raw: &str) -> Option<Self> {
        shopnow_kernel::RequestId::parse(raw).map(|_| Self(raw.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One validated item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationItem {
    /// Product id (UUID-shaped).
    pub product_id: String,
    /// Units.
    pub quantity: Quantity,
}

/// A validated reservation request: a sane order id, 1..=100 items, each product once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    /// The order.
    pub order_id: OrderId,
    /// Items in request order.
    pub items: Vec<ReservationItem>,
}

impl ReservationRequest {
    /// Validates the wire request, recording every bad field in `errors` (`items[2].quantity`).
    /// Returns `None` when anything was wrong.
    pub fn parse(wire: &contract::ReservationRequest, errors: &mut FieldErrors) -> Option<Self> {
        let order_id = OrderId::parse(&wire.order_id);
        if order_id.is_none() {
            errors.add(
                "order_id",
                "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
            );
        }
        if wire.items.is_empty() || wire.items.len() > MAX_ITEMS {
            errors.add("items", "must hold 1 to 100 items");
        }
        let mut items = Vec::with_capacity(wire.items.len());
        let mut seen: Vec<String> = Vec::with_capacity(wire.items.len());
        for (i, item) in wire.items.iter().enumerate() {
            let product_id = item.product_id.to_ascii_lowercase();
            let product_ok = is_id(&product_id);
            if !product_ok {
                errors.add(format!("items[{i}].product_id"), "must be a product id");
            } else if seen.contains(&product_id) {
                errors.add(
                    format!("items[{i}].product_id"),
                    "appears more than once; merge the quantities",
                );
            }
            seen.push(product_id.clone());
            let quantity = Quantity::parse(item.quantity);
            if let Err(e) = &quantity {
                errors.add(format!("items[{i}].quantity"), e.to_string());
            }
            if let (true, Ok(quantity)) = (product_ok, quantity) {
                items.push(ReservationItem {
                    product_id,
                    quantity,
                });
            }
        }
        let order_id = order_id?;
        (errors.is_empty()).then_some(Self { order_id, items })
    }

    /// Whether `lines` hold exactly these items (same products and quantities): a replay of the
    /// same request, as opposed to a different request reusing the order id.
    pub fn matches(&self, lines: &[ReservationLine]) -> bool {
        self.items.len() == lines.len()
            && self.items.iter().all(|item| {
                lines.iter().any(|line| {
                    line.product_id == item.product_id && line.quantity == item.quantity
                })
            })
    }
}

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationState {
    /// Units are held until `expires_at`.
    Held,
    /// Units were sold: they left `on_hand`.
    Committed,
    /// The orders service gave the units back.
    Released,
    /// The hold lapsed and its units were given back.
    Expired,
    /// Sold units came back on hand (the order was cancelled after commit).
    Restocked,
}

/// Why a reservation transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    /// Committing twice (the use case treats this as success: commit is idempotent).
    #[error("the reservation is already committed")]
    AlreadyCommitted,
    /// Releasing twice, or releasing a lapsed hold (idempotent success for the use case).
    #[error("the reservation is already released")]
    AlreadyReleased,
    /// Committing a released reservation.
    #[error("the reservation was released")]
    Released,
    /// Committing a hold that lapsed: its units may have been sold to someone else.
    #[error("the reservation expired")]
    Expired,
    /// Releasing sold units.
    #[error("the reservation is committed; its units are sold")]
    Committed,
    /// Expiring a hold that has not lapsed, or one that is not held.
    #[error("the reservation is not a lapsed hold")]
    NotLapsed,
    /// Restocking twice (the use case treats this as success: restock is idempotent).
    #[error("the reservation is already restocked")]
    AlreadyRestocked,
    /// Restocking units that were never sold.
    #[error("the reservation is not committed; nothing was sold")]
    NotCommitted,
    /// Committing units that were sold and then restocked.
    #[error("the reservation was restocked")]
    Restocked,
}

impl ReservationState {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Restocked => "restocked",
        }
    }

    /// Parses the storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "held" => Some(Self::Held),
            "committed" => Some(Self::Committed),
            "released" => Some(Self::Released),
            "expired" => Some(Self::Expired),
            "restocked" => Some(Self::Restocked),
            _ => None,
        }
    }

    /// The state as of `now_ms`: a hold past `expires_at_ms` counts as lapsed even before the
    /// sweep records it.
    pub fn at(self, now_ms: i64, expires_at_ms: i64) -> Self {
        match self {
            Self::Held if now_ms >= expires_at_ms => Self::Expired,
            other => other,
        }
    }

    /// `held` → `committed`, if the hold has not lapsed.
    ///
    /// # Errors
    /// [`ReservationError`] naming why not.
    pub fn commit(self, now_ms: i64, expires_at_ms: i64) -> Result<Self, ReservationError> {
        match self.at(now_ms, expires_at_ms) {
            Self::Held => Ok(Self::Committed),
            Self::Committed => Err(ReservationError::AlreadyCommitted),
            Self::Released => Err(ReservationError::Released),
            Self::Expired => Err(ReservationError::Expired),
            Self::Restocked => Err(ReservationError::Restocked),
        }
    }

    /// `held` → `released`.
    ///
    /// # Errors
    /// [`ReservationError`] naming why not.
    pub fn release(self, now_ms: i64, expires_at_ms: i64) -> Result<Self, ReservationError> {
        match self.at(now_ms, expires_at_ms) {
            Self::Held => Ok(Self::Released),
            // Restocked units are back on hand: nothing is held, so there is nothing to give.
            Self::Released | Self::Expired | Self::Restocked => {
                Err(ReservationError::AlreadyReleased)
            }
            Self::Committed => Err(ReservationError::Committed),
        }
    }

    /// `committed` → `restocked`: sold units come back on hand.
    ///
    /// # Errors
    /// [`ReservationError`] naming why not.
    pub fn restock(self, now_ms: i64, expires_at_ms: i64) -> Result<Self, ReservationError> {
        match self.at(now_ms, expires_at_ms) {
            Self::Committed => Ok(Self::Restocked),
            Self::Restocked => Err(ReservationError::AlreadyRestocked),
            Self::Held | Self::Released | Self::Expired => Err(ReservationError::NotCommitted),
        }
    }

    /// `held` → `expired`, once `expires_at` has passed.
    ///
    /// # Errors
    /// [`ReservationError::NotLapsed`] otherwise.
    pub fn expire(self, now_ms: i64, expires_at_ms: i64) -> Result<Self, ReservationError> {
        match (self, self.at(now_ms, expires_at_ms)) {
            (Self::Held, Self::Expired) => Ok(Self::Expired),
            (
                Self::Held | Self::Committed | Self::Released | Self::Expired | Self::Restocked,
                _,
            ) => Err(ReservationError::NotLapsed),
        }
    }
}

/// One held line, priced when reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationLine {
    /// Product id.
    pub product_id: String,
    /// The product's seller.
    pub seller_id: String,
    /// Title at reservation time.
    pub title: String,
    /// Unit price at reservation time.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
}

/// A stored reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Order id.
    pub order_id: OrderId,
    /// State as stored (see [`ReservationState::at`] for the effective one).
    pub state: ReservationState,
    /// Lines in request order.
    pub lines: Vec<ReservationLine>,
    /// When it was made, epoch ms.
    pub created_at_ms: i64,
    /// When an uncommitted hold lapses, epoch ms.
    pub expires_at_ms: i64,
}

impl Reservation {
    /// The contract's wire form.
    pub fn to_contract(&self) -> contract::Reservation {
        contract::Reservation {
            order_id: self.order_id.as_str().to_owned(),
            lines: self
                .lines
                .iter()
                .map(|line| contract::ReservationLine {
                    product_id: line.product_id.clone(),
                    seller_id: line.seller_id.clone(),
                    title: line.title.clone(),
                    unit_price: contract::Money {
                        amount: line.unit_price.amount(),
                        currency: line.unit_price.currency().code().to_owned(),
                    },
                    quantity: line.quantity.get(),
                })
                .collect(),
            expires_at: rfc3339(self.expires_at_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "0190a000-0000-7000-8000-000000000001";
    const P2: &str = "0190a000-0000-7000-8000-000000000002";

    fn wire(order_id: &str, items: &[(&str, u32)]) -> contract::ReservationRequest {
        contract::ReservationRequest {
            order_id: order_id.into(),
            items: items
                .iter()
                .map(|(p, q)| contract::ReservationItem {
                    product_id: (*p).into(),
                    quantity: *q,
                })
                .collect(),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let mut errors = FieldErrors::new();
        let req =
            ReservationRequest::parse(&wire("order-1", &[(P1, 2), (P2, 1)]), &mut errors).unwrap();
        assert_eq!(req.items.len(), 2);
        assert!(errors.is_empty());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut errors = FieldErrors::new();
        let req = ReservationRequest::parse(
            &wire("bad id", &[("nope", 0), (P1, 0), (P1, 2)]),
            &mut errors,
        );
        assert!(req.is_none());
        let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "order_id",
                "items[0].product_id",
                "items[0].quantity",
                "items[1].quantity",
                "items[2].product_id"
            ]
        );
        let mut errors = FieldErrors::new();
        assert!(ReservationRequest::parse(&wire("o", &[]), &mut errors).is_none());
        assert!(errors.has("items"));
    }

    #[test]
    fn holds_commit_once_and_lapse_at_expiry() {
        let held = ReservationState::Held;
        assert_eq!(held.commit(5, 10), Ok(ReservationState::Committed));
        assert_eq!(held.commit(10, 10), Err(ReservationError::Expired));
        assert_eq!(
            ReservationState::Committed.commit(5, 10),
            Err(ReservationError::AlreadyCommitted)
        );
        assert_eq!(
            ReservationState::Released.commit(5, 10),
            Err(ReservationError::Released)
        );
        assert_eq!(
            ReservationState::Expired.commit(5, 10),
            Err(ReservationError::Expired)
        );
    }

    #[test]
    fn release_is_refused_only_for_sold_units() {
        assert_eq!(
            ReservationState::Held.release(5, 10),
            Ok(ReservationState::Released)
        );
        assert_eq!(
            ReservationState::Held.release(11, 10),
            Err(ReservationError::AlreadyReleased)
        );
        assert_eq!(
            ReservationState::Released.release(5, 10),
            Err(ReservationError::AlreadyReleased)
        );
        assert_eq!(
            ReservationState::Committed.release(5, 10),
            Err(ReservationError::Committed)
        );
    }

    #[test]
    fn only_committed_reservations_restock_and_only_once() {
        assert_eq!(
            ReservationState::Committed.restock(99, 10),
            Ok(ReservationState::Restocked)
        );
        assert_eq!(
            ReservationState::Restocked.restock(5, 10),
            Err(ReservationError::AlreadyRestocked)
        );
        for state in [
            ReservationState::Held,
            ReservationState::Released,
            ReservationState::Expired,
        ] {
            assert_eq!(state.restock(5, 10), Err(ReservationError::NotCommitted));
        }
        assert_eq!(
            ReservationState::Restocked.commit(5, 10),
            Err(ReservationError::Restocked)
        );
        assert_eq!(
            ReservationState::Restocked.release(5, 10),
            Err(ReservationError::AlreadyReleased)
        );
    }

    #[test]
    fn only_lapsed_holds_expire() {
        assert_eq!(
            ReservationState::Held.expire(10, 10),
            Ok(ReservationState::Expired)
        );
        for state in [
            ReservationState::Committed,
            ReservationState::Released,
            ReservationState::Expired,
            ReservationState::Restocked,
        ] {
            assert_eq!(state.expire(99, 10), Err(ReservationError::NotLapsed));
            assert_eq!(ReservationState::parse(state.as_str()), Some(state));
        }
        assert_eq!(
            ReservationState::Held.expire(9, 10),
            Err(ReservationError::NotLapsed)
        );
    }
}
