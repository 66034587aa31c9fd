//! The buyer cancels an order: allowed while it is confirmed and nothing has shipped. The order
//! becomes `cancelled` first (so no seller can ship it any more); then its stock goes back to
//! the catalog and its authorisation is voided. A compensation that fails is retried by the
//! sweep; the cancellation itself stands.

use shopnow_kernel::auth::Principal;

use super::get_order::load_visible;
use super::views::OrderView;
use super::{change_order, settle};
use crate::OrdersError;
use crate::domain::OrderId;
use crate::domain::order::OrderStatus;
use crate::ports::Ports;

/// Cancels the caller's order.
///
/// # Errors
/// [`OrdersError::NotFound`] unless the caller is the buyer (or an admin);
/// [`OrdersError::Conflict`] unless the order is `confirmed` (pending, shipped in part or in
/// full, already ended).
pub fn cancel_order(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &OrderId,
) -> Result<OrderView, OrdersError> {
    let order = load_visible(ports, principal, id)?;
    if order.status == OrderStatus::Pending {
        return Err(OrdersError::Conflict(
            "The order is still being placed; retry in a moment.".into(),
        ));
    }
    let mut order = change_order(ports, order, |o| {
        o.cancel(ports.clock.now_ms()).map_err(OrdersError::from)
    })?;
    settle(ports, &mut order)?;
    Ok(OrderView::from(&order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ship_fulfilment::ship_fulfilment;
    use crate::domain::order::{PaymentStatus, StockState};
    use crate::testing::{Harness, principal};
    use shopnow_kernel::auth::Role;

    #[test]
    fn cancelling_restocks_and_voids() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 2), (2, "s2", 1)]);
        let before = h.catalog.available(1);
        let view =
            cancel_order(&h.ports(), &principal("buyer", Role::Customer), &order.id).unwrap();
        assert_eq!(view.status, "cancelled");
        assert_eq!(h.catalog.available(1), before + 2);
        assert_eq!(
            h.payments.state(order.id.as_str()).as_deref(),
            Some("voided")
        );
        let stored = h.orders.get(&order.id);
        assert_eq!(
            (stored.stock, stored.payment),
            (StockState::Returned, PaymentStatus::Voided)
        );
        assert!(
            h.orders
                .outbox_types()
                .contains(&"order.cancelled".to_owned())
        );
    }

    #[test]
    fn only_the_buyer_may_cancel() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        assert!(matches!(
            cancel_order(&h.ports(), &principal("other", Role::Customer), &order.id),
            Err(OrdersError::NotFound)
        ));
    }

    #[test]
    fn nothing_can_be_cancelled_after_a_fulfilment_shipped_or_twice() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1), (2, "s2", 1)]);
        let f = order.fulfilments[0].clone();
        ship_fulfilment(
            &h.ports(),
            &principal(&f.seller_id, Role::Seller),
            &f.id,
            None,
        )
        .unwrap();
        assert!(matches!(
            cancel_order(&h.ports(), &principal("buyer", Role::Customer), &order.id),
            Err(OrdersError::Conflict(_))
        ));
        let other = h.confirmed_order("buyer", &[(3, "s1", 1)]);
        cancel_order(&h.ports(), &principal("buyer", Role::Customer), &other.id).unwrap();
        assert!(matches!(
            cancel_order(&h.ports(), &principal("buyer", Role::Customer), &other.id),
            Err(OrdersError::Conflict(_))
        ));
    }

    #[test]
    fn a_failed_restock_is_left_owing_for_the_sweep() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        h.catalog.set_unavailable(true);
        let view =
            cancel_order(&h.ports(), &principal("buyer", Role::Customer), &order.id).unwrap();
        assert_eq!(view.status, "cancelled");
        assert!(h.orders.get(&order.id).owes_compensation());
    }
}
