//! Quantities of one product in a cart or an order line: 1..=99.

use serde::{Deserialize, Serialize};

/// Most units of one product per cart item or order line.
pub const MAX_QUANTITY: u32 = 99;

/// The quantity is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an integer from 1 to 99")]
pub struct InvalidQuantity;

/// A number of units, 1..=99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// Accepts 1..=99.
    ///
    /// # Errors
    /// [`InvalidQuantity`] otherwise.
    pub fn parse(value: i64) -> Result<Self, InvalidQuantity> {
        u32::try_from(value)
            .ok()
            .filter(|v| (1..=MAX_QUANTITY).contains(v))
            .map(Self)
            .ok_or(InvalidQuantity)
    }

    /// The number of units.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = InvalidQuantity;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::parse(i64::from(value))
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn only_1_to_99_is_a_quantity(v in -1000i64..1000) {
            prop_assert_eq!(Quantity::parse(v).is_ok(), (1..=99).contains(&v));
        }
    }
}
