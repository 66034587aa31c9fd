//! Show one order to its buyer or an admin; anyone else gets "not found" (they may not learn
//! that it exists).

use shopnow_kernel::auth::{Principal, Role};

use super::views::OrderView;
use crate::OrdersError;
use crate::domain::OrderId;
use crate::domain::order::Order;
use crate::ports::Ports;

/// The order if `principal` is its buyer or an admin.
///
/// # Errors
/// [`OrdersError::NotFound`] otherwise; [`OrdersError::Storage`].
pub fn get_order(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &OrderId,
) -> Result<OrderView, OrdersError> {
    Ok(OrderView::from(&load_visible(ports, principal, id)?))
}

/// The order if `principal` is its buyer or an admin, else [`OrdersError::NotFound`].
pub(crate) fn load_visible(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &OrderId,
) -> Result<Order, OrdersError> {
    ports
        .orders
        .find(id)?
        .filter(|o| o.buyer_id == principal.user_id || principal.has_role(Role::Admin))
        .ok_or(OrdersError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, principal};

    #[test]
    fn the_buyer_and_admins_see_an_order_and_nobody_else_does() {
        let h = Harness::new();
        let order = h.confirmed_order("buyer", &[(1, "s1", 1)]);
        assert_eq!(
            get_order(&h.ports(), &principal("buyer", Role::Customer), &order.id)
                .unwrap()
                .id,
            order.id.as_str()
        );
        assert!(get_order(&h.ports(), &principal("root", Role::Admin), &order.id).is_ok());
        for who in [
            principal("other", Role::Customer),
            principal("s1", Role::Seller),
        ] {
            assert!(matches!(
                get_order(&h.ports(), &who, &order.id),
                Err(OrdersError::NotFound)
            ));
        }
    }
}
