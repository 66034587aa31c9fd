//! A seller ships its fulfilment; the order becomes `partially_shipped`, or `shipped` when it
//! was the last one. Two sellers shipping the same order at once both succeed: a concurrent
//! change is re-read and re-applied.

use shopnow_kernel::auth::{Principal, Role};

use super::change_order;
use super::views::SellerFulfilmentView;
use crate::OrdersError;
use crate::domain::fulfilment::TrackingNumber;
use crate::ports::Ports;

/// Marks fulfilment `fulfilment_id` shipped.
///
/// # Errors
/// [`OrdersError::Forbidden`] unless the caller is a seller; [`OrdersError::NotFound`] unless
/// the fulfilment is the caller's; [`OrdersError::Conflict`] unless it is awaiting shipment.
pub fn ship_fulfilment(
    ports: &Ports<'_>,
    principal: &Principal,
    fulfilment_id: &str,
    tracking_number: Option<TrackingNumber>,
) -> Result<SellerFulfilmentView, OrdersError> {
    if !principal.has_role(Role::Seller) {
        return Err(OrdersError::Forbidden);
    }
    let order = ports
        .orders
        .find_by_fulfilment(fulfilment_id)?
        .filter(|o| o.fulfilment_of(fulfilment_id, &principal.user_id).is_some())
        .ok_or(OrdersError::NotFound)?;
    let order = change_order(ports, order, |o| {
        o.ship(
            fulfilment_id,
            &principal.user_id,
            tracking_number.clone(),
            ports.clock.now_ms(),
        )
        .map_err(OrdersError::from)
    })?;
    let fulfilment = order
        .fulfilment_of(fulfilment_id, &principal.user_id)
        .ok_or(OrdersError::NotFound)?;
    Ok(SellerFulfilmentView::of(&order, fulfilment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::OrderStatus;
    use crate::testing::{Harness, principal};

    #[test]
    fn each_seller_ships_its_part_and_the_order_follows() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1), (2, "s2", 1)]);
        let (f1, f2) = (order.fulfilments[0].clone(), order.fulfilments[1].clone());
        let view = ship_fulfilment(
            &h.ports(),
            &principal("s1", Role::Seller),
            &f1.id,
            Some(TrackingNumber::parse("TRACK-1").unwrap()),
        )
        .unwrap();
        assert_eq!(view.status, "shipped");
        assert_eq!(view.tracking_number.as_deref(), Some("TRACK-1"));
        assert_eq!(
            h.orders.get(&order.id).status,
            OrderStatus::PartiallyShipped
        );
        ship_fulfilment(&h.ports(), &principal("s2", Role::Seller), &f2.id, None).unwrap();
        assert_eq!(h.orders.get(&order.id).status, OrderStatus::Shipped);
        assert!(h.orders.outbox_types().ends_with(&[
            "fulfilment.shipped".to_owned(),
            "fulfilment.shipped".to_owned(),
            "order.shipped".to_owned()
        ]));
    }

    #[test]
    fn another_sellers_fulfilment_is_not_found_and_shipping_twice_conflicts() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1), (2, "s2", 1)]);
        let f1 = order.fulfilments[0].clone();
        assert!(matches!(
            ship_fulfilment(&h.ports(), &principal("s2", Role::Seller), &f1.id, None),
            Err(OrdersError::NotFound)
        ));
        ship_fulfilment(&h.ports(), &principal("s1", Role::Seller), &f1.id, None).unwrap();
        assert!(matches!(
            ship_fulfilment(&h.ports(), &principal("s1", Role::Seller), &f1.id, None),
            Err(OrdersError::Conflict(_))
        ));
    }

    #[test]
    fn a_concurrent_change_is_reread_and_reapplied() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1), (2, "s2", 1)]);
        let f1 = order.fulfilments[0].clone();
        h.orders.conflict_next_updates(1);
        ship_fulfilment(&h.ports(), &principal("s1", Role::Seller), &f1.id, None).unwrap();
        assert_eq!(
            h.orders.get(&order.id).status,
            OrderStatus::PartiallyShipped
        );
    }

    #[test]
    fn a_cancelled_order_cannot_ship() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        crate::app::cancel_order::cancel_order(
            &h.ports(),
            &principal("buyer", Role::Customer),
            &order.id,
        )
        .unwrap();
        assert!(matches!(
            ship_fulfilment(
                &h.ports(),
                &principal("s1", Role::Seller),
                &order.fulfilments[0].id,
                None
            ),
            Err(OrdersError::Conflict(_))
        ));
    }
}
