//! Stock: units on hand, units held by reservations, and the rules that keep availability
//! non-negative. The SQL adapters enforce the same rules atomically with conditional updates
//! (`... WHERE on_hand - reserved >= $qty`) and a `CHECK (reserved <= on_hand)`; these types
//! state the rules once, for validation and for the unit tests that pin them down.

use serde::Serialize;

/// Most units a product may have on hand.
pub const MAX_ON_HAND: i64 = 1_000_000_000;
/// Most units of one product a single reservation may hold.
pub const MAX_QUANTITY: u32 = 1_000;

/// Why a stock figure or movement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// `on_hand` outside `0..=MAX_ON_HAND`.
    #[error("must be an integer from 0 to 1000000000")]
    BadOnHand,
    /// A quantity outside `1..=MAX_QUANTITY`.
    #[error("must be an integer from 1 to 1000")]
    BadQuantity,
    /// `on_hand` would fall below the units currently reserved.
    #[error("on_hand cannot be below the {reserved} units reserved")]
    BelowReserved {
        /// Units reserved now.
        reserved: i64,
    },
    /// Not enough units available.
    #[error("only {available} units available")]
    Insufficient {
        /// Units available now.
        available: i64,
    },
}

/// Units physically on hand, `0..=MAX_ON_HAND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OnHand(i64);

impl OnHand {
    /// Validates `units`.
    ///
    /// # Errors
    /// [`StockError::BadOnHand`] outside `0..=MAX_ON_HAND`.
    pub fn parse(units: i64) -> Result<Self, StockError> {
        if (0..=MAX_ON_HAND).contains(&units) {
            Ok(Self(units))
        } else {
            Err(StockError::BadOnHand)
        }
    }

    /// The units.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Units of one product in a reservation, `1..=MAX_QUANTITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// Validates `units`.
    ///
    /// # Errors
    /// [`StockError::BadQuantity`] outside `1..=MAX_QUANTITY`.
    pub fn parse(units: u32) -> Result<Self, StockError> {
        if (1..=MAX_QUANTITY).contains(&units) {
            Ok(Self(units))
        } else {
            Err(StockError::BadQuantity)
        }
    }

    /// The units.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A product's stock: on hand, reserved by live holds, and what is left to sell.
/// Invariant: `0 <= reserved <= on_hand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    on_hand: i64,
    reserved: i64,
    available: i64,
}

impl StockLevel {
    /// Stock with `on_hand` units and nothing reserved.
    pub fn new(on_hand: OnHand) -> Self {
        Self::from_counts(on_hand.get(), 0)
    }

    /// Rebuilds stock from stored counts. Counts are clamped into the invariant, so a row that
    /// somehow broke it can never show negative availability.
    pub fn from_counts(on_hand: i64, reserved: i64) -> Self {
        let on_hand = on_hand.max(0);
        let reserved = reserved.clamp(0, on_hand);
        Self {
            on_hand,
            reserved,
            available: on_hand - reserved,
        }
    }

    /// Units on hand.
    pub fn on_hand(&self) -> i64 {
        self.on_hand
    }

    /// Units held by live reservations.
    pub fn reserved(&self) -> i64 {
        self.reserved
    }

    /// Units that can still be reserved.
    pub fn available(&self) -> i64 {
        self.available
    }

    /// Replaces the on-hand count.
    ///
    /// # Errors
    /// [`StockError::BelowReserved`] when `on_hand` is below the reserved units.
    pub fn set_on_hand(self, on_hand: OnHand) -> Result<Self, StockError> {
        if on_hand.get() < self.reserved {
            return Err(StockError::BelowReserved {
                reserved: self.reserved,
            });
        }
        Ok(Self::from_counts(on_hand.get(), self.reserved))
    }

    /// Holds `quantity` units.
    ///
    /// # Errors
    /// [`StockError::Insufficient`] when fewer are available.
    pub fn reserve(self, quantity: Quantity) -> Result<Self, StockError> {
        let q = i64::from(quantity.get());
        if self.available < q {
            return Err(StockError::Insufficient {
                available: self.available,
            });
        }
        Ok(Self::from_counts(self.on_hand, self.reserved + q))
    }

    /// Turns `quantity` held units into sold ones: they leave both `reserved` and `on_hand`.
    /// Callers commit only what they reserved, so `quantity <= reserved` holds; it is clamped
    /// anyway rather than trusted.
    pub fn commit(self, quantity: Quantity) -> Self {
        let q = i64::from(quantity.get()).min(self.reserved);
        Self::from_counts(self.on_hand - q, self.reserved - q)
    }

    /// Puts `quantity` sold units back on hand (an order cancelled after commit).
    pub fn restock(self, quantity: Quantity) -> Self {
        let on_hand = self
            .on_hand
            .saturating_add(i64::from(quantity.get()))
            .min(MAX_ON_HAND);
        Self::from_counts(on_hand, self.reserved)
    }

    /// Gives `quantity` held units back.
    pub fn release(self, quantity: Quantity) -> Self {
        let q = i64::from(quantity.get()).min(self.reserved);
        Self::from_counts(self.on_hand, self.reserved - q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn level(on_hand: i64) -> StockLevel {
        StockLevel::new(OnHand::parse(on_hand).unwrap())
    }

    fn q(n: u32) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    #[test]
    fn figures_are_bounded() {
        assert!(OnHand::parse(-1).is_err());
        assert!(OnHand::parse(MAX_ON_HAND + 1).is_err());
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(1001).is_err());
        assert_eq!(Quantity::parse(1000).unwrap().get(), 1000);
    }

    #[test]
    fn reserving_more_than_available_is_refused() {
        let stock = level(10).reserve(q(7)).unwrap();
        assert_eq!(stock.available(), 3);
        assert_eq!(
            stock.reserve(q(4)),
            Err(StockError::Insufficient { available: 3 })
        );
    }

    #[test]
    fn on_hand_cannot_drop_below_reserved() {
        let stock = level(10).reserve(q(6)).unwrap();
        assert_eq!(
            stock.set_on_hand(OnHand::parse(5).unwrap()),
            Err(StockError::BelowReserved { reserved: 6 })
        );
        let stock = stock.set_on_hand(OnHand::parse(6).unwrap()).unwrap();
        assert_eq!(stock.available(), 0);
    }

    #[test]
    fn commit_removes_units_from_on_hand_and_release_frees_them() {
        let held = level(10).reserve(q(4)).unwrap();
        let sold = held.commit(q(4));
        assert_eq!(
            (sold.on_hand(), sold.reserved(), sold.available()),
            (6, 0, 6)
        );
        assert_eq!(sold.restock(q(4)).available(), 10);
        let freed = held.release(q(4));
        assert_eq!(
            (freed.on_hand(), freed.reserved(), freed.available()),
            (10, 0, 10)
        );
    }

    #[test]
    fn stored_counts_that_break_the_invariant_never_show_negative_availability() {
        let stock = StockLevel::from_counts(3, 9);
        assert_eq!((stock.reserved(), stock.available()), (3, 0));
        assert_eq!(StockLevel::from_counts(-5, -1).available(), 0);
    }

    proptest! {
        #[test]
        fn any_sequence_of_movements_keeps_the_invariant(
            start in 0..1000_i64,
            moves in proptest::collection::vec((0..5_u8, 1..50_u32), 0..60)
        ) {
            let mut stock = level(start);
            for (kind, n) in moves {
                let n = q(n);
                stock = match kind {
                    0 => stock.reserve(n).unwrap_or(stock),
                    1 => stock.commit(n),
                    2 => stock.release(n),
                    3 => stock.restock(n),
                    _ => stock
                        .set_on_hand(OnHand::parse(i64::from(n.get())).unwrap())
                        .unwrap_or(stock),
                };
                prop_assert!(stock.reserved() >= 0);
                prop_assert!(stock.reserved() <= stock.on_hand());
                prop_assert_eq!(stock.available(), stock.on_hand() - stock.reserved());
            }
        }
    }
}
