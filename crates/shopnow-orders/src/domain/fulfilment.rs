//! Fulfilments: the part of an order one seller ships. An order has one per seller whose
//! products it contains; each moves through its own state machine.
//!
//! ```text
//! pending ──release──▶ awaiting_shipment ──ship──▶ shipped
//!    │                        │
//!   void                    cancel
//!    ▼                        ▼
//!  void                   cancelled
//! ```

use serde::{Deserialize, Serialize};

/// Where a fulfilment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentStatus {
    /// The order is not confirmed yet; the seller does not see it.
    Pending,
    /// The order is confirmed: the seller should ship.
    AwaitingShipment,
    /// The seller shipped it.
    Shipped,
    /// The buyer cancelled the order before it shipped.
    Cancelled,
    /// The order was never confirmed (payment declined, checkout failed or abandoned).
    Void,
}

/// What can happen to a fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfilmentAction {
    /// The order was confirmed.
    Release,
    /// The seller shipped.
    Ship,
    /// The buyer cancelled.
    Cancel,
    /// The order will never be confirmed.
    Void,
}

/// A transition that is not allowed from the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} a fulfilment that is {from:?}")]
pub struct IllegalFulfilmentTransition {
    /// The current status.
    pub from: FulfilmentStatus,
    /// The refused action.
    pub action: FulfilmentAction,
}

impl FulfilmentStatus {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::AwaitingShipment => "awaiting_shipment",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
            Self::Void => "void",
        }
    }

    /// Parses a storage name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "awaiting_shipment" => Some(Self::AwaitingShipment),
            "shipped" => Some(Self::Shipped),
            "cancelled" => Some(Self::Cancelled),
            "void" => Some(Self::Void),
            _ => None,
        }
    }

    /// The status after `action`.
    ///
    /// # Errors
    /// [`IllegalFulfilmentTransition`] for every pair not drawn in the module diagram.
    pub fn apply(self, action: FulfilmentAction) -> Result<Self, IllegalFulfilmentTransition> {
        use FulfilmentAction as A;
        match (self, action) {
            (Self::Pending, A::Release) => Ok(Self::AwaitingShipment),
            (Self::Pending, A::Void) => Ok(Self::Void),
            (Self::AwaitingShipment, A::Ship) => Ok(Self::Shipped),
            (Self::AwaitingShipment, A::Cancel) => Ok(Self::Cancelled),
            (Self::Pending, A::Ship | A::Cancel)
            | (Self::AwaitingShipment, A::Release | A::Void)
            | (Self::Shipped | Self::Cancelled | Self::Void, _) => {
                Err(IllegalFulfilmentTransition { from: self, action })
            }
        }
    }

    /// Whether the seller sees it (the order was confirmed at some point).
    pub fn visible_to_seller(self) -> bool {
        match self {
            Self::AwaitingShipment | Self::Shipped | Self::Cancelled => true,
            Self::Pending | Self::Void => false,
        }
    }
}

/// A carrier's tracking number: 1..=64 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingNumber(String);

/// The tracking number is empty, too long or not visible ASCII.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 visible ASCII characters")]
pub struct InvalidTrackingNumber;

impl TrackingNumber {
    /// Accepts 1..=64 visible ASCII characters (after trimming).
    ///
    /// # Errors
    /// [`InvalidTrackingNumber`] otherwise.
    pub fn parse(raw: &str) -> Result<Self, InvalidTrackingNumber> {
        let raw = raw.trim();
        if !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidTrackingNumber)
        }
    }

    /// The tracking number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The part of an order one seller ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    /// UUIDv7.
    pub id: String,
    /// The seller who ships it.
    pub seller_id: String,
    /// Status.
    pub status: FulfilmentStatus,
    /// The carrier's tracking number, once shipped (optional even then).
    pub tracking_number: Option<TrackingNumber>,
    /// When it shipped (epoch ms).
    pub shipped_at_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [FulfilmentStatus; 5] = [
        FulfilmentStatus::Pending,
        FulfilmentStatus::AwaitingShipment,
        FulfilmentStatus::Shipped,
        FulfilmentStatus::Cancelled,
        FulfilmentStatus::Void,
    ];
    const ACTIONS: [FulfilmentAction; 4] = [
        FulfilmentAction::Release,
        FulfilmentAction::Ship,
        FulfilmentAction::Cancel,
        FulfilmentAction::Void,
    ];

    #[test]
    fn the_happy_path_is_release_then_ship() {
        let s = FulfilmentStatus::Pending
            .apply(FulfilmentAction::Release)
            .unwrap();
        assert_eq!(
            s.apply(FulfilmentAction::Ship),
            Ok(FulfilmentStatus::Shipped)
        );
    }

    #[test]
    fn shipped_cannot_be_cancelled_and_pending_cannot_ship() {
        assert!(
            FulfilmentStatus::Shipped
                .apply(FulfilmentAction::Cancel)
                .is_err()
        );
        assert!(
            FulfilmentStatus::Pending
                .apply(FulfilmentAction::Ship)
                .is_err()
        );
        assert!(
            FulfilmentStatus::Void
                .apply(FulfilmentAction::Release)
                .is_err()
        );
    }

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(FulfilmentStatus::parse(s.as_str()), Some(s));
        }
    }

    proptest! {
        #[test]
        fn final_states_accept_nothing(s in 2usize..5, a in 0usize..4) {
            prop_assert!(ALL[s].apply(ACTIONS[a]).is_err());
        }

        #[test]
        fn only_confirmed_fulfilments_are_visible_to_sellers(s in 0usize..5) {
            let status = ALL[s];
            let reachable_after_release = FulfilmentStatus::Pending
                .apply(FulfilmentAction::Release)
                .map(|r| r == status || r.apply(FulfilmentAction::Ship) == Ok(status) || r.apply(FulfilmentAction::Cancel) == Ok(status))
                .unwrap_or(false);
            prop_assert_eq!(status.visible_to_seller(), reachable_after_release);
        }
    }

    #[test]
    fn tracking_numbers_are_validated() {
        assert_eq!(TrackingNumber::parse(" 1Z999 ").unwrap().as_str(), "1Z999");
        assert!(TrackingNumber::parse("").is_err());
        assert!(TrackingNumber::parse("a b").is_err());
    }
}
